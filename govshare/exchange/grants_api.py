"""Exchange JSON API under /api/v1/exchange: access requests (共享申请) and their decisions,
escalations, grants (授权) and data demands (需求清单). Thin: the services decide everything."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from govshare.core.types import utcnow
from govshare.exchange import demands, grants, requests
from govshare.exchange.deps import CurrentApplication
from govshare.exchange.grant_schemas import (
    AccessRequestIn,
    AccessRequestPublic,
    AssignIn,
    DecisionIn,
    DemandAnswerIn,
    DemandIn,
    DemandPublic,
    GrantPublic,
    ReasonIn,
    RenewIn,
    demand_public,
    grant_public,
    request_public,
)
from govshare.web.deps import CurrentUser, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/exchange", tags=["exchange 共享申请与授权"])
REQUEST = "/requests/{request_id}"
GRANT = "/grants/{grant_id}"
DEMAND = "/demands/{demand_id}"
Overdue = Annotated[bool, Query(description="只列逾期未办结的")]


@router.post("/requests", response_model=AccessRequestPublic, status_code=201, summary="提交共享申请")
def submit_request(
    body: AccessRequestIn, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> AccessRequestPublic:
    """File an access request for one of your department's applications. An unconditional resource
    (无条件共享) comes back `approved` with its `grant_id`; a conditional one is `pending` at its first
    review stage with `due_at`, the end of the last working day (工作日) to answer. Every problem is
    reported at once in `details.errors` (codes such as `unknown_item`, `item_not_shareable`,
    `resource_not_shared`, `operation_not_allowed`, `purpose_required`, `period_too_long`)."""
    return request_public(requests.submit_request(session, user, settings, body), utcnow())


@router.get("/requests", response_model=list[AccessRequestPublic], summary="共享申请列表")
def list_requests(
    session: SessionDep,
    user: CurrentUser,
    box: Annotated[
        Literal["inbox", "filed"], Query(description="inbox 待我审核（本部门资源）/ filed 我提交的")
    ] = "inbox",
    status: Annotated[str | None, Query(description="pending / escalated / approved / rejected")] = None,
    overdue: Overdue = False,
) -> list[AccessRequestPublic]:
    """The provider's inbox (requests for your department's resources, undecided first, soonest due
    first; the authority sees every request) or the requests your department filed. `overdue` marks a
    pending request past its due date."""
    now = utcnow()
    found = requests.list_requests(session, user, box, status, overdue_only=overdue, now=now)
    return [request_public(r, now) for r in found]


@router.get(REQUEST, response_model=AccessRequestPublic, summary="查看共享申请")
def show_request(request_id: int, session: SessionDep, user: CurrentUser) -> AccessRequestPublic:
    """One request with its decision history (each stage: who, when, what, why)."""
    return request_public(requests.get_request(session, user, request_id), utcnow())


@router.post(REQUEST + "/decision", response_model=AccessRequestPublic, summary="审核共享申请")
def decide(request_id: int, body: DecisionIn, session: SessionDep, user: CurrentUser) -> AccessRequestPublic:
    """Decide the current stage. Compliance review (符合性审查, the authority): `approve` passes it on
    to the provider. Provider stage (the provider's data officer): `approve` grants, optionally
    narrowed — fewer `items` or `operations`, `unmasked_items`, `conditions`, `rate_limit_per_minute`,
    an earlier `valid_to`; `reject` needs a `reason`."""
    return request_public(requests.decide(session, user, request_id, body), utcnow())


@router.post(REQUEST + "/escalation", response_model=AccessRequestPublic, summary="提请协调")
def escalate(request_id: int, body: ReasonIn, session: SessionDep, user: CurrentUser) -> AccessRequestPublic:
    """Either side (the requesting department or the provider) puts a pending or rejected request
    before the platform authority, with a reason. Once; the authority's decision is final."""
    return request_public(requests.escalate(session, user, request_id, body.reason), utcnow())


@router.post(REQUEST + "/final-decision", response_model=AccessRequestPublic, summary="协调终局决定")
def arbitrate(
    request_id: int, body: DecisionIn, session: SessionDep, user: CurrentUser
) -> AccessRequestPublic:
    """The platform authority's final decision on an escalated request: `approve` with terms (as a
    provider's approval) or `reject` with a reason."""
    return request_public(requests.arbitrate(session, user, request_id, body), utcnow())


@router.get("/grants", response_model=list[GrantPublic], summary="授权列表")
def list_grants(
    session: SessionDep,
    user: CurrentUser,
    box: Annotated[
        Literal["mine", "provided"], Query(description="mine 本部门应用获得的 / provided 本部门资源的")
    ] = "mine",
    status: Annotated[str | None, Query(description="active / suspended / revoked / expired")] = None,
    application_id: Annotated[int | None, Query(description="接入应用编号")] = None,
) -> list[GrantPublic]:
    """Grants held by your department's applications, or granted on your department's resources."""
    return [grant_public(g) for g in grants.list_grants(session, user, box, status, application_id)]


@router.get("/grants/check", response_model=GrantPublic, summary="核对本应用的授权")
def check_own_grant(
    caller: CurrentApplication,
    session: SessionDep,
    resource: Annotated[int, Query(description="资源编号")],
    operation: Annotated[str, Query(description="调用方式")],
    items: Annotated[list[str], Query(description="信息项，可重复")] = [],  # noqa: B006  (FastAPI query list)
    service_item: Annotated[str | None, Query(description="政务服务事项编码")] = None,
) -> GrantPublic:
    """For integrators (application token): the grant that would let this call through, or the
    403 refusal the data API would answer (`no_grant`, `grant_suspended`, `grant_revoked`,
    `grant_expired`, `operation_not_granted`, `item_not_granted`, `service_item_required`,
    `service_item_not_covered`)."""
    grant = grants.check_grant(session, caller.application, resource, operation, items, service_item)
    return grant_public(grant)


@router.get(GRANT, response_model=GrantPublic, summary="查看授权")
def show_grant(grant_id: int, session: SessionDep, user: CurrentUser) -> GrantPublic:
    """One grant with its history (granted, suspended, resumed, revoked, renewed, expired)."""
    return grant_public(grants.get_grant(session, user, grant_id))


@router.post(GRANT + "/renew", response_model=GrantPublic, summary="授权续期")
def renew(
    grant_id: int, body: RenewIn, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> GrantPublic:
    """A new last day for an active or expired grant (the provider's data officer or the authority);
    the old and new dates are recorded."""
    renewed = grants.renew_grant(
        session, user, grant_id, body.valid_to, body.reason, max_days=settings.exchange_grant_max_days
    )
    return grant_public(renewed)


@router.post(GRANT + "/{action}", response_model=GrantPublic, summary="暂停、恢复或撤销授权")
def change_grant(
    grant_id: int, action: grants.Action, body: ReasonIn, session: SessionDep, user: CurrentUser
) -> GrantPublic:
    """`suspend` (暂停), `resume` (恢复) or `revoke` (撤销, final) a grant, with a required reason, as
    the provider's data officer or the authority. Effective at the application's next call."""
    return grant_public(grants.change_grant(session, user, grant_id, action, body.reason))


@router.post("/demands", response_model=DemandPublic, status_code=201, summary="提出数据需求")
def file_demand(body: DemandIn, session: SessionDep, user: CurrentUser) -> DemandPublic:
    """File a demand for data nobody has registered (需求清单): what, why, for which service items."""
    return demand_public(demands.file_demand(session, user, body), utcnow())


@router.get("/demands", response_model=list[DemandPublic], summary="数据需求清单")
def list_demands(
    session: SessionDep,
    user: CurrentUser,
    status: Annotated[str | None, Query(description="open / assigned / fulfilled / declined")] = None,
    mine: Annotated[bool, Query(description="只列本部门提出或负责的")] = False,
    overdue: Overdue = False,
) -> list[DemandPublic]:
    """Every demand with its status and due date, waiting ones first; `overdue` marks an assigned
    demand unanswered past its due date."""
    now = utcnow()
    department = user.department_id if mine else None
    found = demands.list_demands(session, status, department_id=department, overdue_only=overdue, now=now)
    return [demand_public(d, now) for d in found]


@router.get(DEMAND, response_model=DemandPublic, summary="查看数据需求")
def show_demand(demand_id: int, session: SessionDep, user: CurrentUser) -> DemandPublic:
    """One demand with its responsible department, due date and answer."""
    return demand_public(demands.get_demand(session, demand_id), utcnow())


@router.post(DEMAND + "/assignment", response_model=DemandPublic, summary="分派数据需求")
def assign_demand(
    demand_id: int, body: AssignIn, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> DemandPublic:
    """The authority assigns the demand to the responsible department, due
    GOVSHARE_EXCHANGE_DEMAND_DEADLINE_DAYS working days later."""
    days = settings.exchange_demand_deadline_days
    demand = demands.assign_demand(session, user, demand_id, body.department_code, deadline_days=days)
    return demand_public(demand, utcnow())


@router.post(DEMAND + "/answer", response_model=DemandPublic, summary="答复数据需求")
def answer_demand(
    demand_id: int, body: DemandAnswerIn, session: SessionDep, user: CurrentUser
) -> DemandPublic:
    """The responsible department's data officer answers with the code of a resource it registered
    and published, or explains (`reason`) why it cannot provide the data."""
    demand = demands.answer_demand(session, user, demand_id, body.resource_code, body.reason)
    return demand_public(demand, utcnow())
