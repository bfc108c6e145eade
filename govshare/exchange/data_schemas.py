"""Answers of the data exchange API (数据调用), as the OpenAPI schema documents them.

The routes serialise the service's dataclasses directly (orjson, no second validation on the hot path);
these models describe the same shapes, and the tests validate real answers against them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ProvenancePublic(BaseModel):
    department_code: str = Field(description="提供部门统一社会信用代码")
    department_name: str = Field(description="提供部门")
    updated_at: datetime = Field(description="本版本生效（最后更新）时间")
    version: int = Field(description="记录版本号")
    batch_id: int = Field(description="加载批次")


class RecordPublic(BaseModel):
    resource_code: str
    resource_name: str
    key: str = Field(description="规范化后的主键；复合主键以 | 连接")
    values: dict[str, Any] = Field(description="授权信息项的值，未获准明文的按规则脱敏")
    masked: list[str] = Field(description="已脱敏的信息项")
    provenance: ProvenancePublic


class VerifyPublic(BaseModel):
    resource_code: str
    exists: bool = Field(description="该主键是否有记录")
    match: bool = Field(description="记录存在且全部信息项一致")
    results: dict[str, Literal["match", "no_match"]] = Field(description="逐项核验结果，不含任何数据值")


class ProfileValuePublic(BaseModel):
    item: str
    value: Any = Field(description="值（按该资源授权脱敏）")
    masked: bool
    resource_code: str = Field(description="来源资源")
    resource_name: str
    department: str = Field(description="提供部门")
    updated_at: datetime = Field(description="最后更新时间")


class ProfileFieldPublic(BaseModel):
    name: str = Field(description="信息项名称，或等价信息项的概念名称")
    concept: bool
    conflict: bool = Field(description="概念下展示的值不一致")
    values: list[ProfileValuePublic]


class ProfilePublic(BaseModel):
    subject_key_type: str
    subject_key: str
    fields: list[ProfileFieldPublic]
