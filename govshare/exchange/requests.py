"""Access requests (共享申请): filed for an application, reviewed in stages, decided, escalated.

- An application's department (its data officer or application operator; the authority for anyone)
  files the request. An unconditional resource (无条件共享) is granted at once, still recorded with
  its purpose; a conditional one (有条件共享) waits in the review stages of the
  ``exchange_request_stages`` setting (`govshare.exchange.stages`), each due a number of working days
  (工作日, Chinese calendar) after it starts.
- At each stage the stage's actor decides: the authority passes or rejects a compliance review
  (符合性审查); the provider's data officer approves — possibly narrowing items and operations,
  setting conditions, a rate limit, an earlier expiry, and which sensitive items come unmasked — or
  rejects with a required reason. Every step is kept in the decision history.
- Either side may escalate a dispute (a pending or rejected request) to the platform authority, whose
  decision is final.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import case, exists, select
from sqlalchemy.orm import Session

from govshare.auth.models import Role, User
from govshare.catalog import service as catalog
from govshare.catalog.models import SharingType
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.core.settings import Settings
from govshare.core.types import utcnow
from govshare.core.workdays import add_working_days
from govshare.data.models import Record
from govshare.exchange import grants, request_rules, stages
from govshare.exchange.grant_schemas import AccessRequestIn, DecisionIn, TermsIn
from govshare.exchange.grants import china_today, create_grant, is_party
from govshare.exchange.models import (
    AccessRequest,
    Application,
    ApplicationStatus,
    DecisionKind,
    GrantStatus,
    RequestDecision,
    RequestStatus,
)
from govshare.exchange.request_rules import Terms

Box = Literal["inbox", "filed"]
REQUESTERS = (Role.DATA_OFFICER, Role.APP_OPERATOR)


def _record(
    request: AccessRequest, stage: str, decision: DecisionKind, actor: User, at: datetime, reason: str = "",
    **details: object,
) -> None:  # fmt: skip
    request.decisions.append(
        RequestDecision(
            stage=stage,
            decision=decision,
            actor_id=actor.id,
            actor_department_id=actor.department_id,
            at=at,
            reason=reason,
            details=details,
        )  # fmt: skip
    )


def _has_data(session: Session, resource_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Record.resource_id == resource_id))))


def _terms(request: AccessRequest) -> Terms:
    return Terms(
        items=request.items, operations=request.operations, valid_from=request.valid_from,
        valid_to=request.valid_to, unmasked_items=request.unmasked_items, service_items=request.service_items,
        purpose=request.purpose, legal_basis=request.legal_basis,
    )  # fmt: skip


def submit_request(
    session: Session, actor: User, settings: Settings, data: AccessRequestIn, now: datetime | None = None
) -> AccessRequest:
    """File a request (提交共享申请); an unconditional resource comes back approved with its grant."""
    now = now or utcnow()
    app = session.get(Application, data.application_id)
    if app is None:
        raise NotFound("application_not_found", f"未找到接入应用 {data.application_id}")
    if actor.role != Role.AUTHORITY and not (
        actor.role in REQUESTERS and actor.department_id == app.department_id
    ):
        raise PermissionDenied("not_own_application", "只能为本部门的接入应用提交共享申请")
    if app.status != ApplicationStatus.ACTIVE:
        raise Conflict("application_disabled", "接入应用已停用")
    resource = catalog.get_resource(session, data.resource_code)
    terms = request_rules.check_request(
        resource, data, today=china_today(now), max_days=settings.exchange_grant_max_days
    )
    latest = grants.latest_grant(session, app.id, resource.id)
    if latest is not None and latest.status == GrantStatus.SUSPENDED:
        raise Conflict(
            "grant_suspended",
            f"该应用对此资源的授权 #{latest.id} 已暂停，须由提供方或数据管理部门恢复，不能另行申请",
        )
    # After a revocation even an unconditional resource is reviewed again: re-applying must not undo it.
    automatic = resource.sharing_type == SharingType.UNCONDITIONAL and not (
        latest is not None and latest.status == GrantStatus.REVOKED
    )
    request = AccessRequest(
        application_id=app.id, department_id=app.department_id, resource_id=resource.id,
        provider_department_id=resource.provider_id, items=terms.items, unmasked_items=terms.unmasked_items,
        operations=terms.operations, purpose=terms.purpose, legal_basis=terms.legal_basis,
        service_items=terms.service_items, valid_from=terms.valid_from, valid_to=terms.valid_to,
        status=RequestStatus.PENDING, stages=[], stage_index=0, submitted_at=now, submitted_by_id=actor.id,
        decisions=[],
    )  # fmt: skip
    session.add(request)
    session.flush()
    request.resource, request.application = resource, app
    _record(request, "submission", DecisionKind.SUBMITTED, actor, now)
    if automatic:
        request.status, request.decided_at = RequestStatus.APPROVED, now
        grant = create_grant(session, request, terms, actor, now, auto=True)
        _record(request, "submission", DecisionKind.AUTO_GRANTED, actor, now, "无条件共享", grant_id=grant.id)
    else:
        pipeline = stages.pipeline(settings.exchange_request_stages, has_data=_has_data(session, resource.id))
        request.stages = [s.as_dict() for s in pipeline]
        _enter_stage(request, 0, now)
    session.commit()
    return request


def _enter_stage(request: AccessRequest, index: int, now: datetime) -> None:
    deadline = add_working_days(now, request.stages[index]["days"])
    request.stage_index, request.due_at, request.due_estimated = index, deadline.due_at, deadline.estimated


def get_request(session: Session, actor: User, request_id: int) -> AccessRequest:
    """A request the actor may see: either side's department, the authority, auditors."""
    request = session.get(AccessRequest, request_id)
    if request is None:
        raise NotFound("request_not_found", f"未找到共享申请 {request_id}", {"id": request_id})
    if is_party(actor, request) and not _hidden(actor, request):
        return request
    raise PermissionDenied("not_party", "只能查看本部门提交或本部门资源的共享申请", {"id": request_id})


def _hidden(actor: User, request: AccessRequest) -> bool:
    """A request still in (or stopped at) the authority's compliance review has not reached the
    provider yet: the provider's department neither sees nor lists it."""
    if actor.role in (Role.AUTHORITY, Role.AUDITOR) or actor.department_id == request.department_id:
        return False
    stage = request.stage
    if stage is not None:
        return bool(stage["actor"] == stages.AUTHORITY)
    stopped = [d for d in request.decisions if d.decision == DecisionKind.REJECTED]
    reached = any(d.stage == "provider" or d.decision == DecisionKind.ESCALATED for d in request.decisions)
    return bool(stopped) and not reached


def may_decide(actor: User, request: AccessRequest) -> bool:
    """Whether ``actor`` decides the request's current stage (or the escalation)."""
    if request.status == RequestStatus.ESCALATED:
        return actor.role == Role.AUTHORITY
    stage = request.stage
    if stage is None:
        return False
    if stage["actor"] == stages.AUTHORITY:
        return actor.role == Role.AUTHORITY
    return actor.role == Role.DATA_OFFICER and actor.department_id == request.provider_department_id


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationFailed("reason_required", "不予同意或提请协调须说明理由")
    return reason.strip()


def decide(
    session: Session, actor: User, request_id: int, data: DecisionIn, now: datetime | None = None
) -> AccessRequest:
    """Decide the current stage: ``approve`` (pass a compliance review; grant at the provider stage,
    narrowed by the terms) or ``reject`` with a reason."""
    now = now or utcnow()
    request = get_request(session, actor, request_id)
    if request.status != RequestStatus.PENDING:
        raise Conflict("request_not_pending", f"共享申请 {request.id} 不在审核中（{request.status.value}）")
    stage = request.stage or {}
    if not may_decide(actor, request):
        if stage.get("actor") == stages.AUTHORITY:
            raise PermissionDenied("authority_only", "符合性审查由数据管理部门办理")
        raise PermissionDenied("not_provider", "只有提供方部门的数据管理员可以审核该申请")
    if data.decision == "reject":
        _finish(request, stage["name"], DecisionKind.REJECTED, actor, now, _reason(data.reason))
    elif stage["actor"] == stages.AUTHORITY:
        _record(request, stage["name"], DecisionKind.PASSED, actor, now, data.reason.strip())
        _enter_stage(request, request.stage_index + 1, now)
    else:
        _approve(session, request, stage["name"], DecisionKind.APPROVED, actor, now, data)
    session.commit()
    return request


def _finish(
    request: AccessRequest,
    stage: str,
    kind: DecisionKind,
    actor: User,
    now: datetime,
    reason: str,
    **details: object,
) -> None:
    request.status = (
        RequestStatus.APPROVED
        if kind in (DecisionKind.APPROVED, DecisionKind.FINAL_APPROVED)
        else RequestStatus.REJECTED
    )
    request.decided_at, request.due_at = now, None
    _record(request, stage, kind, actor, now, reason, **details)


def _approve(
    session: Session, request: AccessRequest, stage: str, kind: DecisionKind, actor: User, now: datetime,
    data: TermsIn, reason: str = "",
) -> None:  # fmt: skip
    terms = request_rules.check_narrowing(_terms(request), data, today=china_today(now))
    grant = create_grant(session, request, terms, actor, now)
    narrowed = {
        "grant_id": grant.id, "items": grant.items, "operations": grant.operations,
        "unmasked_items": grant.unmasked_items, "conditions": grant.conditions,
        "rate_limit_per_minute": grant.rate_limit_per_minute, "valid_to": str(grant.valid_to),
    }  # fmt: skip
    _finish(request, stage, kind, actor, now, reason or data.conditions.strip(), **narrowed)


def escalate(
    session: Session, actor: User, request_id: int, reason: str, now: datetime | None = None
) -> AccessRequest:
    """提请协调: either side puts a pending or rejected request before the platform authority."""
    now = now or utcnow()
    request = get_request(session, actor, request_id)
    requester = actor.role in REQUESTERS and actor.department_id == request.department_id
    provider = actor.role == Role.DATA_OFFICER and actor.department_id == request.provider_department_id
    if not (requester or provider):
        raise PermissionDenied("not_party", "只有申请方或提供方部门可以提请协调")
    if any(d.decision == DecisionKind.ESCALATED for d in request.decisions):
        raise Conflict("decision_final", "该申请已经协调，数据管理部门的决定为终局决定")
    if request.status not in (RequestStatus.PENDING, RequestStatus.REJECTED):
        raise Conflict(
            "not_disputable", f"共享申请 {request.id} 当前状态为 {request.status.value}，不能提请协调"
        )
    reason = _reason(reason)
    request.status, request.due_at = RequestStatus.ESCALATED, None
    _record(
        request,
        "escalation",
        DecisionKind.ESCALATED,
        actor,
        now,
        reason,
        side="requester" if requester else "provider",
    )
    session.commit()
    return request


def arbitrate(
    session: Session, actor: User, request_id: int, data: DecisionIn, now: datetime | None = None
) -> AccessRequest:
    """The authority's final decision on an escalated request: grant with terms, or refuse with reason."""
    now = now or utcnow()
    request = get_request(session, actor, request_id)
    if actor.role != Role.AUTHORITY:
        raise PermissionDenied("authority_only", "协调事项由数据管理部门作出终局决定")
    if request.status != RequestStatus.ESCALATED:
        raise Conflict("not_escalated", f"共享申请 {request.id} 未提请协调")
    if data.decision == "reject":
        _finish(request, "escalation", DecisionKind.FINAL_REJECTED, actor, now, _reason(data.reason))
    else:
        _approve(
            session, request, "escalation", DecisionKind.FINAL_APPROVED, actor, now, data, data.reason.strip()
        )
    session.commit()
    return request


def list_requests(
    session: Session, actor: User, box: Box = "inbox", status: str | None = None, *,
    overdue_only: bool = False, now: datetime | None = None, limit: int = 500,
) -> list[AccessRequest]:  # fmt: skip
    """``inbox``: requests for my department's resources (the authority: every request), undecided
    first, soonest due first; ``filed``: my department's requests, newest first."""
    stmt = select(AccessRequest)
    everyone = actor.role in (Role.AUTHORITY, Role.AUDITOR)
    if box == "inbox":
        if not everyone:
            stmt = stmt.where(AccessRequest.provider_department_id == actor.department_id)
        waiting = case(
            (AccessRequest.status.in_([RequestStatus.PENDING, RequestStatus.ESCALATED]), 0), else_=1
        )
        stmt = stmt.order_by(waiting, AccessRequest.due_at, AccessRequest.id)
    elif box == "filed":
        if not everyone:
            stmt = stmt.where(AccessRequest.department_id == actor.department_id)
        stmt = stmt.order_by(AccessRequest.submitted_at.desc(), AccessRequest.id.desc())
    else:
        raise ValidationFailed("invalid_box", "box 须为 inbox（待我审核）或 filed（我提交的）")
    if status:
        if status not in RequestStatus._value2member_map_:
            raise ValidationFailed("invalid_status", "状态须为 pending / escalated / approved / rejected")
        stmt = stmt.where(AccessRequest.status == RequestStatus(status))
    if overdue_only:
        stmt = stmt.where(
            AccessRequest.status == RequestStatus.PENDING, AccessRequest.due_at < (now or utcnow())
        )
    return [r for r in session.scalars(stmt.limit(limit)) if not _hidden(actor, r)]


def overdue_requests(
    session: Session, now: datetime | None = None, provider_department_id: int | None = None
) -> list[AccessRequest]:
    """Pending requests past their stage's due date (逾期未答复), most overdue first — for oversight
    and the yearly evaluation."""
    stmt = select(AccessRequest).where(
        AccessRequest.status == RequestStatus.PENDING, AccessRequest.due_at < (now or utcnow())
    )
    if provider_department_id is not None:
        stmt = stmt.where(AccessRequest.provider_department_id == provider_department_id)
    return list(session.scalars(stmt.order_by(AccessRequest.due_at, AccessRequest.id)))
