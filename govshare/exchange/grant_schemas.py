"""Input/output schemas of access requests (共享申请), decisions, grants (授权) and data demands, and
the functions that turn rows into them (shared by the API and the CLI's --json)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from govshare.auth.schemas import DepartmentPublic
from govshare.exchange.models import AccessRequest, DataDemand, Grant

OPERATIONS_HELP = (
    "调用方式: lookup 查询, search 检索（仅限可检索信息项）, verify 核验, profile 主体画像, "
    "bulk_export 批量导出, subscribe 订阅"
)


class AccessRequestIn(BaseModel):
    application_id: int = Field(description="申请的接入应用编号（本部门的应用）")
    resource_code: str = Field(description="信息资源代码")
    items: list[str] = Field(
        default_factory=list, description="所需信息项名称；留空表示该资源全部可共享的信息项"
    )
    operations: list[str] = Field(description=OPERATIONS_HELP)
    purpose: str = Field(description="使用用途（必填），记入授权与每次调用的日志")
    legal_basis: str = Field("", description="申请依据（法律法规、政策文件）")
    service_items: list[str] = Field(
        default_factory=list, description="服务的政务服务事项编码；填写后授权绑定这些事项"
    )
    unmasked_items: list[str] = Field(
        default_factory=list, description="申请不脱敏使用的信息项（须在所需信息项中，由提供方审核）"
    )
    valid_from: date | None = Field(None, description="使用期限起（默认今天，北京时间）")
    valid_to: date | None = Field(None, description="使用期限止（含当日；默认一年，最长见设置）")


class TermsIn(BaseModel):
    """What an approval grants: only ever a narrowing of what was requested."""

    items: list[str] | None = Field(None, description="同意的信息项（默认申请的全部）")
    operations: list[str] | None = Field(None, description="同意的调用方式（默认申请的全部）")
    unmasked_items: list[str] = Field(
        default_factory=list, description="同意不脱敏的信息项（敏感信息项默认脱敏）"
    )
    conditions: str = Field("", description="使用条件")
    rate_limit_per_minute: int | None = Field(None, ge=1, le=100_000, description="每分钟调用上限")
    valid_to: date | None = Field(None, description="授权截止日期（默认申请的期限）")


class DecisionIn(TermsIn):
    decision: Literal["approve", "reject"] = Field(
        description="approve 同意（符合性审查环节为通过）/ reject 不予同意（须说明理由）"
    )
    reason: str = Field("", description="理由；不予同意时必填")


class ReasonIn(BaseModel):
    reason: str = Field(description="理由（必填）")


class RenewIn(BaseModel):
    valid_to: date = Field(description="新的截止日期（含当日）")
    reason: str = Field("", description="说明")


class DecisionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    stage: str
    decision: str
    actor: str = Field(description="决定人登录名")
    department: str
    at: datetime
    reason: str
    details: dict[str, Any]


class _SharedTerms(BaseModel):
    """What a request asks for and a grant binds: who, which resource, how, why, when."""

    id: int
    application_id: int
    application_name: str
    provider_department: DepartmentPublic
    resource_code: str
    resource_name: str
    operations: list[str]
    purpose: str
    legal_basis: str
    service_items: list[str]
    valid_from: date
    valid_to: date


class AccessRequestPublic(_SharedTerms):
    department: DepartmentPublic = Field(description="申请部门")
    items: list[str]
    unmasked_items: list[str]
    status: str = Field(description="pending 审核中 / escalated 协调中 / approved 已同意 / rejected 不予同意")
    stage: str | None = Field(description="当前审核环节：compliance 符合性审查 / provider 提供方审核")
    due_at: datetime | None = Field(description="当前环节的答复期限（该工作日结束，北京时间）")
    due_estimated: bool
    overdue: bool
    submitted_at: datetime
    decided_at: datetime | None
    grant_id: int | None
    decisions: list[DecisionPublic]


class GrantEventPublic(BaseModel):
    kind: str
    actor: str | None
    at: datetime
    reason: str
    details: dict[str, Any]


class GrantItem(BaseModel):
    name: str
    unmasked: bool = Field(description="是否同意不脱敏")


class GrantPublic(_SharedTerms):
    request_id: int | None
    items: list[GrantItem]
    rate_limit_per_minute: int | None
    conditions: str
    status: str = Field(description="active 有效 / suspended 暂停 / revoked 撤销 / expired 已到期")
    status_reason: str
    granted_at: datetime
    events: list[GrantEventPublic]


class DemandIn(BaseModel):
    title: str = Field(description="所需数据（名称与内容）")
    reason: str = Field(description="需求理由：用于什么业务")
    service_items: list[str] = Field(default_factory=list, description="服务的政务服务事项编码")


class AssignIn(BaseModel):
    department_code: str = Field(description="责任部门代码")


class DemandAnswerIn(BaseModel):
    resource_code: str | None = Field(None, description="已登记并发布的信息资源代码")
    reason: str = Field("", description="不能提供时说明理由（必填）；提供资源时可附说明")


class DemandPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    reason: str
    service_items: list[str]
    department: DepartmentPublic
    filed_at: datetime
    status: str = Field(description="open 待分派 / assigned 待答复 / fulfilled 已提供 / declined 不能提供")
    assigned_department: DepartmentPublic | None
    assigned_at: datetime | None
    due_at: datetime | None
    due_estimated: bool
    overdue: bool
    resource_code: str | None
    answer: str
    answered_at: datetime | None


def request_public(request: AccessRequest, now: datetime) -> AccessRequestPublic:
    stage = request.stage
    return AccessRequestPublic(
        id=request.id, application_id=request.application_id, application_name=request.application.name,
        department=DepartmentPublic.model_validate(request.department),
        provider_department=DepartmentPublic.model_validate(request.provider_department),
        resource_code=request.resource.code, resource_name=request.resource.name, items=request.items,
        unmasked_items=request.unmasked_items, operations=request.operations, purpose=request.purpose,
        legal_basis=request.legal_basis, service_items=request.service_items, valid_from=request.valid_from,
        valid_to=request.valid_to, status=request.status.value, stage=stage["name"] if stage else None,
        due_at=request.due_at, due_estimated=request.due_estimated, overdue=request.is_overdue(now),
        submitted_at=request.submitted_at, decided_at=request.decided_at, grant_id=request.grant_id,
        decisions=[
            DecisionPublic(
                stage=d.stage, decision=d.decision.value, actor=d.actor.username,
                department=d.actor_department.name, at=d.at, reason=d.reason, details=d.details,
            )
            for d in request.decisions
        ],
    )  # fmt: skip


def grant_public(grant: Grant) -> GrantPublic:
    return GrantPublic(
        id=grant.id, application_id=grant.application_id, application_name=grant.application.name,
        provider_department=DepartmentPublic.model_validate(grant.provider_department),
        resource_code=grant.resource.code, resource_name=grant.resource.name, request_id=grant.request_id,
        items=[GrantItem(name=n, unmasked=n in grant.unmasked_items) for n in grant.items],
        operations=grant.operations, purpose=grant.purpose, legal_basis=grant.legal_basis,
        service_items=grant.service_items, valid_from=grant.valid_from, valid_to=grant.valid_to,
        rate_limit_per_minute=grant.rate_limit_per_minute, conditions=grant.conditions,
        status=grant.status.value, status_reason=grant.status_reason, granted_at=grant.granted_at,
        events=[
            GrantEventPublic(
                kind=e.kind.value, actor=e.actor.username if e.actor else None, at=e.at, reason=e.reason,
                details=e.details,
            )
            for e in grant.events
        ],
    )  # fmt: skip


def demand_public(demand: DataDemand, now: datetime) -> DemandPublic:
    assigned = demand.assigned_department
    return DemandPublic(
        id=demand.id, title=demand.title, reason=demand.reason, service_items=demand.service_items,
        department=DepartmentPublic.model_validate(demand.department), filed_at=demand.filed_at,
        status=demand.status.value,
        assigned_department=DepartmentPublic.model_validate(assigned) if assigned else None,
        assigned_at=demand.assigned_at, due_at=demand.due_at, due_estimated=demand.due_estimated,
        overdue=demand.is_overdue(now), resource_code=demand.resource.code if demand.resource else None,
        answer=demand.answer, answered_at=demand.answered_at,
    )  # fmt: skip
