"""Catalog input/output schemas (Pydantic): ``ResourceIn`` to register or change, ``ResourcePublic`` out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ItemIn(BaseModel):
    """信息项 as declared by the provider."""

    name: str = Field(description="信息项名称, e.g. 公民身份号码")
    data_type: str = Field("C", description="数据类型代码 C/N/Y/D/T/L/M/G/B/I/F")
    length: int | None = Field(None, description="长度 (optional)")
    is_key: bool = Field(False, description="是否主键 (records are keyed by it)")
    required: bool = Field(False, description="是否必填")
    sensitivity: int = Field(1, description="敏感级别 1 公开 · 2 内部 · 3 敏感 · 4 高度敏感")
    masking_rule: str = Field("none", description="脱敏规则: none, id_number, mobile, name, address, full")
    searchable: bool = Field(False, description="可作为检索条件")
    shareable: bool = Field(True, description="False: this item is not shared (needs a legal basis)")
    legal_basis: str = Field("", description="不予共享的法律依据 (required when shareable is false)")
    is_basic: bool = Field(False, description="基础信息项 (base-class resources: shared unless approved)")
    description: str = ""


class ResourceIn(BaseModel):
    """信息资源 registration / change. Rules are checked by the service, which reports every problem."""

    classification_code: str = Field(description="信息资源分类, e.g. 101 (基础/人口) or 213 (主题/市场监管)")
    name: str = Field(description="信息资源名称, at most 50 characters")
    summary: str = Field(description="信息资源摘要, at most 256 characters")
    provider_code: str | None = Field(None, description="提供方代码; defaults to the user's department")
    format: str = Field("database", description="信息资源格式: database, spreadsheet, electronic_file, …")
    sharing_type: str = Field(description="共享类型: unconditional / conditional / none (or 01/02/03)")
    sharing_condition: str = Field("", description="共享条件 (required for conditional)")
    sharing_methods: list[str] = Field(default_factory=list, description="共享方式 codes or labels")
    legal_basis: str = Field("", description="不予共享的法律依据 (required for none)")
    open_to_public: bool = Field(False, description="是否向社会开放")
    open_condition: str = ""
    update_cycle: str = Field("daily", description="更新周期: realtime, daily, weekly, monthly, …")
    publish_date: date | None = None
    related_codes: list[str] = Field(default_factory=list, description="关联资源代码")
    subject_key_type: str = Field(
        "none", description="person_id, credit_code, house_code, certificate_id, none"
    )
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    items: list[ItemIn] = Field(default_factory=list)


class ItemPublic(ItemIn):
    model_config = ConfigDict(from_attributes=True)
    position: int


class DepartmentRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str


class ResourcePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    classification_code: str
    name: str
    summary: str
    provider: DepartmentRef
    format: str
    sharing_type: str
    sharing_condition: str
    sharing_methods: list[str]
    legal_basis: str
    open_to_public: bool
    open_condition: str
    update_cycle: str
    publish_date: date | None
    related_codes: list[str]
    subject_key_type: str
    status: str
    version: int
    contact_name: str
    contact_phone: str
    contact_email: str
    created_at: datetime
    updated_at: datetime
    items: list[ItemPublic]


class ResourceSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    summary: str
    provider: DepartmentRef
    classification_code: str
    sharing_type: str
    update_cycle: str
    open_to_public: bool
    status: str
    version: int


class SearchPage(BaseModel):
    total: int
    page: int
    page_size: int
    results: list[ResourceSummary]


class VersionPublic(BaseModel):
    version: int
    action: str
    note: str
    actor: str | None
    created_at: datetime


class FieldChange(BaseModel):
    field: str
    before: Any
    after: Any


class VersionDiff(BaseModel):
    code: str
    from_version: int
    to_version: int
    changes: list[FieldChange]


class Reason(BaseModel):
    reason: str = Field("", description="理由 / note")


class ReviewDecision(BaseModel):
    accept: bool = Field(description="true: keep it non-shared (列入负面清单); false: reject")
    reason: str = Field("", description="理由 (required when rejecting)")


class NegativeEntryPublic(BaseModel):
    id: int
    resource_code: str
    resource_name: str
    provider: DepartmentRef
    item_name: str | None
    legal_basis: str
    basic_item: bool
    status: str
    submitted_at: datetime
    decided_at: datetime | None
    decision_reason: str
