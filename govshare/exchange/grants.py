"""Grants (授权): what an application may read, and the one check every data call goes through.

Deny by default: without a live grant there is no data. A grant binds the application, the resource,
the items (each masked unless approved unmasked), the operations, the purpose, the service items
(政务服务事项, when given), the validity and the rate limit. Grants come from access requests
(`govshare.exchange.requests`); the provider's data officer or the platform authority suspends,
resumes, revokes (each with a required reason, effective at the next call) and renews them.

At most one grant per (application, resource) is active or suspended: a newer grant revokes the older,
so :func:`check_grant` needs only the newest row, read by the ``ix_exchange_grant_lookup`` index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from govshare.auth.models import Role, User
from govshare.catalog.models import Resource
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.core.types import utcnow
from govshare.core.workdays import CHINA_TZ
from govshare.exchange.models import (
    AccessRequest,
    Application,
    Grant,
    GrantEvent,
    GrantEventKind,
    GrantStatus,
)
from govshare.exchange.request_rules import Terms

Box = Literal["mine", "provided"]
LIVE = (GrantStatus.ACTIVE, GrantStatus.SUSPENDED)


def china_today(now: datetime) -> date:
    return now.astimezone(CHINA_TZ).date()


def check_grant(
    session: Session,
    application: Application | int,
    resource: Resource | int,
    operation: str,
    items: Iterable[str],
    service_item: str | None = None,
    now: datetime | None = None,
) -> Grant:
    """The live grant that lets ``application`` perform ``operation`` on ``items`` of ``resource``.

    Called by the data API for every request. One indexed query (the newest grant of the pair); a
    suspension, revocation or expiry takes effect at the next call. Refusals raise PermissionDenied
    with a stable code and the grant id in ``details``:

    ``no_grant`` (never granted, or not valid yet) · ``grant_suspended`` · ``grant_revoked`` ·
    ``grant_expired`` (past its last day, China date) · ``operation_not_granted`` · ``item_not_granted``
    (details list the items) · ``service_item_required`` (the grant is bound to service items and the
    call names none) · ``service_item_not_covered``.
    """
    app_id = application if isinstance(application, int) else application.id
    resource_id = resource if isinstance(resource, int) else resource.id
    grant = latest_grant(session, app_id, resource_id)
    evaluate_grant(grant, resource_id, operation, items, service_item, now)
    assert grant is not None
    return grant


class GrantTerms(Protocol):
    """What :func:`evaluate_grant` reads of a grant: a ``Grant`` row, or a cached view of one."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def status_reason(self) -> str: ...
    @property
    def valid_from(self) -> date: ...
    @property
    def valid_to(self) -> date: ...
    @property
    def operations(self) -> Sequence[str]: ...
    @property
    def items(self) -> Sequence[str]: ...
    @property
    def service_items(self) -> Sequence[str] | None: ...


def evaluate_grant(
    grant: GrantTerms | None, resource_id: int, operation: str, items: Iterable[str],
    service_item: str | None = None, now: datetime | None = None,
) -> None:  # fmt: skip
    """The rules of :func:`check_grant` on the newest grant of the pair (None: there is none)."""
    if grant is None:
        raise PermissionDenied(
            "no_grant", "该应用没有此资源的授权，请先提交共享申请", {"resource_id": resource_id}
        )
    details: dict[str, Any] = {"grant_id": grant.id}
    today = china_today(now or utcnow())
    if grant.status == GrantStatus.REVOKED:
        raise PermissionDenied("grant_revoked", f"授权已撤销：{grant.status_reason}", details)
    if grant.status == GrantStatus.EXPIRED or grant.valid_to < today:
        raise PermissionDenied("grant_expired", f"授权已于 {grant.valid_to} 到期", details)
    if grant.status == GrantStatus.SUSPENDED:
        raise PermissionDenied("grant_suspended", f"授权已暂停：{grant.status_reason}", details)
    if grant.valid_from > today:
        raise PermissionDenied("no_grant", f"授权自 {grant.valid_from} 起生效", details)
    if operation not in grant.operations:
        raise PermissionDenied(
            "operation_not_granted", f"授权不含调用方式 {operation}", details | {"operation": operation}
        )
    missing = [name for name in items if name not in grant.items]
    if missing:
        raise PermissionDenied(
            "item_not_granted", "授权不含信息项：" + "、".join(missing), details | {"items": missing}
        )
    if grant.service_items:
        if not service_item:
            raise PermissionDenied(
                "service_item_required", "该授权绑定政务服务事项，请在 X-Service-Item 中说明所办事项", details
            )
        if service_item not in grant.service_items:
            raise PermissionDenied(
                "service_item_not_covered",
                f"政务服务事项 {service_item} 不在授权范围内",
                details | {"service_item": service_item},
            )


def latest_grant(session: Session, application_id: int, resource_id: int) -> Grant | None:
    """The newest grant of the pair, the only one that can be live (by ``ix_exchange_grant_lookup``)."""
    return session.scalar(
        select(Grant)
        .where(Grant.application_id == application_id, Grant.resource_id == resource_id)
        .order_by(Grant.id.desc())
        .limit(1)
        .options(lazyload("*"))  # the grant row only: no joins, no event history
    )


def _event(
    grant: Grant, kind: GrantEventKind, actor: User | None, at: datetime, reason: str = "", **details: Any
) -> None:
    grant.events.append(
        GrantEvent(kind=kind, actor_id=actor.id if actor else None, at=at, reason=reason, details=details)
    )


def create_grant(
    session: Session, request: AccessRequest, terms: Terms, actor: User, now: datetime, *, auto: bool = False
) -> Grant:
    """Record the grant a decision made (no commit); a live older grant of the pair is revoked."""
    shareable = {item.name for item in request.resource.items if item.shareable}
    items = [name for name in terms.items if name in shareable]  # never a non-shareable item
    older = list(
        session.scalars(
            select(Grant).where(
                Grant.application_id == request.application_id,
                Grant.resource_id == request.resource_id,
                Grant.status.in_(LIVE),
            )
        )
    )
    grant = Grant(
        application_id=request.application_id, resource_id=request.resource_id,
        department_id=request.department_id, provider_department_id=request.provider_department_id,
        request_id=request.id, items=items, unmasked_items=[n for n in terms.unmasked_items if n in items],
        operations=terms.operations, purpose=terms.purpose, legal_basis=terms.legal_basis,
        service_items=terms.service_items, valid_from=terms.valid_from, valid_to=terms.valid_to,
        rate_limit_per_minute=terms.rate_limit_per_minute, conditions=terms.conditions,
        status=GrantStatus.ACTIVE, status_reason="", granted_at=now, granted_by_id=actor.id, events=[],
    )  # fmt: skip
    session.add(grant)
    session.flush()
    for old in older:
        old.status, old.status_reason = GrantStatus.REVOKED, f"由授权 #{grant.id} 取代"
        _event(old, GrantEventKind.REVOKED, actor, now, old.status_reason, superseded_by=grant.id)
    _event(grant, GrantEventKind.GRANTED, actor, now, "", auto=auto, request_id=request.id)
    request.grant_id = grant.id
    return grant


def is_party(actor: User, row: Grant | AccessRequest) -> bool:
    """Whether ``actor`` sees ``row``: its department is either side, or it oversees (authority, auditor)."""
    sides = (row.department_id, row.provider_department_id)
    return actor.role in (Role.AUTHORITY, Role.AUDITOR) or actor.department_id in sides


def get_grant(session: Session, actor: User, grant_id: int) -> Grant:
    """A grant the actor may see: its department's (either side), or any for the authority and auditors."""
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound("grant_not_found", f"未找到授权 {grant_id}", {"id": grant_id})
    if is_party(actor, grant):
        return grant
    raise PermissionDenied("not_party", "只能查看本部门作为申请方或提供方的授权", {"id": grant_id})


def _manageable(session: Session, actor: User, grant_id: int) -> Grant:
    grant = get_grant(session, actor, grant_id)
    provider = actor.role == Role.DATA_OFFICER and actor.department_id == grant.provider_department_id
    if not (provider or actor.role == Role.AUTHORITY):
        raise PermissionDenied("not_provider", "只有提供方部门的数据管理员或数据管理部门可以变更授权")
    return grant


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationFailed("reason_required", "须说明理由")
    return reason.strip()


Action = Literal["suspend", "resume", "revoke"]
# action → (new status, the statuses it applies to, the event recorded)
TRANSITIONS: dict[str, tuple[GrantStatus, tuple[GrantStatus, ...], GrantEventKind]] = {
    "suspend": (GrantStatus.SUSPENDED, (GrantStatus.ACTIVE,), GrantEventKind.SUSPENDED),  # 暂停，可恢复
    "resume": (GrantStatus.ACTIVE, (GrantStatus.SUSPENDED,), GrantEventKind.RESUMED),  # 恢复
    "revoke": (GrantStatus.REVOKED, LIVE, GrantEventKind.REVOKED),  # 撤销，须重新申请
}


def change_grant(
    session: Session, actor: User, grant_id: int, action: Action, reason: str, now: datetime | None = None
) -> Grant:
    """Suspend (暂停), resume (恢复) or revoke (撤销) a grant, with a required reason. It takes effect at
    the next call: :func:`check_grant` reads the status on every request."""
    if action not in TRANSITIONS:
        raise ValidationFailed("invalid_action", "操作须为 suspend（暂停）/ resume（恢复）/ revoke（撤销）")
    to, allowed, kind = TRANSITIONS[action]
    grant = _manageable(session, actor, grant_id)
    reason = _reason(reason)
    if grant.status not in allowed:
        raise Conflict(
            "invalid_grant_status",
            f"授权 {grant.id} 当前状态为 {grant.status.value}，不能{action}",
            {"id": grant.id},
        )
    grant.status, grant.status_reason = to, reason
    _event(grant, kind, actor, now or utcnow(), reason)
    session.commit()
    return grant


def renew_grant(
    session: Session, actor: User, grant_id: int, valid_to: date, reason: str = "", *,
    max_days: int, now: datetime | None = None,
) -> Grant:  # fmt: skip
    """续期: a new last day (recorded with the old one); an expired grant becomes active again."""
    grant = _manageable(session, actor, grant_id)
    now = now or utcnow()
    if grant.status not in (GrantStatus.ACTIVE, GrantStatus.EXPIRED):
        raise Conflict("invalid_grant_status", f"授权 {grant.id} 当前状态为 {grant.status.value}，不能续期")
    today = china_today(now)
    if valid_to < today or valid_to <= grant.valid_to:
        raise ValidationFailed("invalid_period", "新的截止日期须晚于原截止日期且不早于今天")
    if (valid_to - today).days + 1 > max_days:
        raise ValidationFailed("period_too_long", f"续期自今天起最长 {max_days} 天")
    old = grant.valid_to
    grant.valid_to, grant.status = valid_to, GrantStatus.ACTIVE
    _event(
        grant,
        GrantEventKind.RENEWED,
        actor,
        now,
        reason.strip(),
        old_valid_to=str(old),
        new_valid_to=str(valid_to),
    )
    session.commit()
    return grant


def expire_grants(session: Session, now: datetime | None = None) -> list[Grant]:
    """Mark active grants past their last day as expired (the check refuses them anyway)."""
    now = now or utcnow()
    due = list(
        session.scalars(
            select(Grant).where(Grant.status == GrantStatus.ACTIVE, Grant.valid_to < china_today(now))
        )
    )
    for grant in due:
        grant.status = GrantStatus.EXPIRED
        _event(grant, GrantEventKind.EXPIRED, None, now)
    session.commit()
    return due


def list_grants(
    session: Session, actor: User, box: Box = "mine", status: str | None = None,
    application_id: int | None = None, limit: int = 500,
) -> list[Grant]:  # fmt: skip
    """``mine``: grants held by my department's applications; ``provided``: grants on my department's
    resources. The authority and auditors see every department's."""
    stmt = select(Grant)
    everyone = actor.role in (Role.AUTHORITY, Role.AUDITOR)
    if box == "mine":
        stmt = stmt if everyone else stmt.where(Grant.department_id == actor.department_id)
    elif box == "provided":
        stmt = stmt if everyone else stmt.where(Grant.provider_department_id == actor.department_id)
    else:
        raise ValidationFailed("invalid_box", "box 须为 mine（本部门应用获得的）或 provided（本部门资源的）")
    if status:
        if status not in GrantStatus._value2member_map_:
            raise ValidationFailed("invalid_status", "状态须为 active / suspended / revoked / expired")
        stmt = stmt.where(Grant.status == GrantStatus(status))
    if application_id is not None:
        stmt = stmt.where(Grant.application_id == application_id)
    return list(session.scalars(stmt.order_by(Grant.id.desc()).limit(limit)))
