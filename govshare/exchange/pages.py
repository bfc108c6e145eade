"""Exchange pages (交换体系): the provider's inbox of access requests with due dates and overdue rows,
the request form, one request with its decision form and history, our department's grants (suspend,
resume, revoke) and the data demand list.

Thin, like the API: `requests`, `grants` and `demands` decide everything; this module turns their
errors into messages next to the field they concern and shows deadlines in Beijing time.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from govshare.auth.models import Role, User
from govshare.auth.service import list_departments
from govshare.catalog import service as catalog
from govshare.catalog.models import Resource
from govshare.core.errors import DomainError
from govshare.core.types import utcnow
from govshare.exchange import demands, grants, requests, service
from govshare.exchange.grant_schemas import AccessRequestIn, DecisionIn, DemandIn
from govshare.exchange.models import AccessRequest, ApplicationStatus, Operation, RequestStatus
from govshare.exchange.requests import REQUESTERS
from govshare.web.deps import CurrentUser, SessionDep, SettingsDep
from govshare.web.i18n import N_, _
from govshare.web.rendering import PageRoute, checked_form, flash, localtime, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(checked_form)]
BASE = "/exchange/requests"
REQUEST_FILED = N_("Request #%(id)s filed. The providing department must answer by %(due)s.")
REQUEST_GRANTED = N_("Request #%(id)s granted at once: the resource is shared unconditionally.")
DECIDED = N_("Your decision is recorded.")
ESCALATED = N_("The dispute is before the platform authority; its decision is final.")
GRANT_CHANGED = N_("The grant is now %(status)s; the application's next call sees it.")
DEMAND_SAVED = N_("The data demand is saved.")
# Errors that are not a list of problems → the form field they concern; others show above the form.
FIELD_OF = {
    "reason_required": "reason",
    "resource_not_found": "resource_code",
    "invalid_rate_limit": "rate_limit_per_minute",
}


def _errors(exc: DomainError) -> dict[str, str]:
    """Field → message: every problem of a ValidationFailed, or the one error above the form."""
    listed = exc.details.get("errors") if isinstance(exc.details, dict) else None
    if not listed:
        return {FIELD_OF.get(exc.code, "form"): exc.message}
    found: dict[str, str] = {}
    for problem in listed:
        found[problem["field"]] = (found.get(problem["field"], "") + " " + problem["message"]).strip()
    return found


def _texts(form: FormData, name: str) -> list[str]:
    return [str(v) for v in form.getlist(name) if str(v).strip()]


def _lines(value: str) -> list[str]:
    return [v for v in value.replace("，", ",").replace("\n", ",").split(",") if v.strip()]


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value.strip() else None
    except ValueError:
        return None


@router.get(BASE)
def request_list(
    request: Request, session: SessionDep, user: CurrentUser, box: str = "inbox", status: str = "",
    overdue: bool = False,
) -> Response:  # fmt: skip
    """待我审核 (requests for my department's resources, undecided first, soonest due first) or 我提交的."""
    which: requests.Box = "filed" if box == "filed" else "inbox"
    status = status if status in RequestStatus._value2member_map_ else ""
    now = utcnow()
    found = requests.list_requests(session, user, which, status or None, overdue_only=overdue, now=now)
    waiting = [r for r in requests.list_requests(session, user, which, now=now) if r.status in _WAITING]
    return render(
        request, "exchange/requests.html", user=user, requests=found, box=which, status=status,
        overdue=overdue, now=now, waiting_count=len(waiting), overdue_count=sum(r.is_overdue(now) for r in waiting),
        statuses=list(RequestStatus), may_file=_may_file(user),
    )  # fmt: skip


_WAITING = (RequestStatus.PENDING, RequestStatus.ESCALATED)


def _may_file(user: User) -> bool:
    return user.role in (*REQUESTERS, Role.AUTHORITY)


def _new_page(
    request: Request, session: Session, user: User, values: dict[str, Any], errors: dict[str, str],
    status: int = 200,
) -> Response:  # fmt: skip
    resource: Resource | None = None
    if values["resource"].strip():
        try:
            resource = catalog.get_resource(session, values["resource"].strip())
        except DomainError as exc:
            errors.setdefault("resource_code", exc.message)
    apps = [a for a in service.list_applications(session, user) if a.status == ApplicationStatus.ACTIVE]
    return render(
        request, "exchange/request_new.html", user=user, resource=resource, applications=apps,
        operations=list(Operation), values=values, errors=errors, may_file=_may_file(user), status_code=status,
    )  # fmt: skip


_EMPTY = {"application": "", "resource": "", "items": [], "operations": [], "purpose": "", "legal_basis": "",
          "service_items": "", "valid_from": "", "valid_to": ""}  # fmt: skip


@router.get(BASE + "/new")
def new_request(request: Request, session: SessionDep, user: CurrentUser, resource: str = "") -> Response:
    """The request form (提交共享申请); choosing a resource lists its items."""
    return _new_page(request, session, user, _EMPTY | {"resource": resource}, {})


@router.post(BASE + "/new")
def file_request(
    request: Request, session: SessionDep, user: CurrentUser, settings: SettingsDep, form: Form
) -> Response:
    """File it; problems come back next to their field, a filed request opens its page."""
    values: dict[str, Any] = {k: str(form.get(k, "")) for k in _EMPTY if k not in ("items", "operations")}
    values |= {"items": _texts(form, "items"), "operations": _texts(form, "operations")}
    try:
        data = AccessRequestIn(
            application_id=int(values["application"] or 0), resource_code=values["resource"].strip(),
            items=values["items"], operations=values["operations"], purpose=values["purpose"],
            legal_basis=values["legal_basis"], service_items=_lines(values["service_items"]),
            valid_from=_day(values["valid_from"]), valid_to=_day(values["valid_to"]),
        )  # fmt: skip
        filed = requests.submit_request(session, user, settings, data)
    except DomainError as exc:
        session.rollback()
        return _new_page(request, session, user, values, _errors(exc), exc.status)
    if filed.grant_id:
        flash(request, _(REQUEST_GRANTED) % {"id": filed.id})
    else:
        flash(request, _(REQUEST_FILED) % {"id": filed.id, "due": localtime(filed.due_at)[:10]})  # type: ignore[arg-type]
    return redirect(f"{BASE}/{filed.id}")


def _detail(
    request: Request, session: Session, user: User, item: AccessRequest, values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    may_escalate = (
        item.status in (RequestStatus.PENDING, RequestStatus.REJECTED)
        and not any(d.decision.value == "escalated" for d in item.decisions)
        and (
            (user.role in REQUESTERS and user.department_id == item.department_id)
            or (user.role == Role.DATA_OFFICER and user.department_id == item.provider_department_id)
        )
    )
    by_name = {i.name: i for i in item.resource.items}
    default = {"decision": "", "items": item.items, "operations": item.operations, "unmasked_items": item.unmasked_items,
               "conditions": "", "rate_limit": "", "valid_to": "", "reason": "", "escalation": ""}  # fmt: skip
    return render(
        request, "exchange/request_detail.html", user=user, item=item, now=utcnow(), by_name=by_name,
        may_decide=requests.may_decide(user, item), may_escalate=may_escalate, values=values or default,
        errors=errors or {}, grant=session.get(grants.Grant, item.grant_id) if item.grant_id else None,
        status_code=status,
    )  # fmt: skip


@router.get(BASE + "/{request_id}")
def request_page(request_id: int, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """One request: its terms, due date, decision history; the decision form for whoever decides now."""
    return _detail(request, session, user, requests.get_request(session, user, request_id))


@router.post(BASE + "/{request_id}/decision")
def decide(request_id: int, request: Request, session: SessionDep, user: CurrentUser, form: Form) -> Response:
    """Approve (narrowed by the unticked items and operations) or reject with a reason; on an escalated
    request, the authority's final decision."""
    values: dict[str, Any] = {
        k: str(form.get(k, "")) for k in ("decision", "conditions", "rate_limit", "valid_to", "reason")
    }
    values |= {k: _texts(form, k) for k in ("items", "operations", "unmasked_items")}
    item = requests.get_request(session, user, request_id)
    try:
        rate = int(values["rate_limit"]) if values["rate_limit"].strip() else None
        data = DecisionIn(
            decision="approve" if values["decision"] == "approve" else "reject", reason=values["reason"],
            items=values["items"], operations=values["operations"], unmasked_items=values["unmasked_items"],
            conditions=values["conditions"], rate_limit_per_minute=rate, valid_to=_day(values["valid_to"]),
        )  # fmt: skip
        if not values["decision"]:
            raise DomainError("decision_required", _("Choose approve or reject."))
        final = item.status == RequestStatus.ESCALATED
        (requests.arbitrate if final else requests.decide)(session, user, request_id, data)
    except (DomainError, ValueError) as exc:
        session.rollback()
        error = (
            exc
            if isinstance(exc, DomainError)
            else DomainError("invalid_rate_limit", _("Enter a whole number."))
        )
        item = requests.get_request(session, user, request_id)
        return _detail(request, session, user, item, values, _errors(error), error.status)
    flash(request, _(DECIDED))
    return redirect(f"{BASE}/{request_id}")


@router.post(BASE + "/{request_id}/escalation")
def escalate(
    request_id: int, request: Request, session: SessionDep, user: CurrentUser, form: Form
) -> Response:
    """Put the dispute before the platform authority, with a reason."""
    try:
        requests.escalate(session, user, request_id, str(form.get("escalation", "")))
    except DomainError as exc:
        session.rollback()
        item = requests.get_request(session, user, request_id)
        return _detail(request, session, user, item, None, {"escalation": exc.message}, exc.status)
    flash(request, _(ESCALATED))
    return redirect(f"{BASE}/{request_id}")


@router.get("/exchange/grants")
def grant_list(
    request: Request, session: SessionDep, user: CurrentUser, box: str = "mine", status: str = ""
) -> Response:
    """Grants our applications hold (本部门获得的) or grants on our resources (本部门授出的)."""
    which: grants.Box = "provided" if box == "provided" else "mine"
    status = status if status in grants.GrantStatus._value2member_map_ else ""
    found = grants.list_grants(session, user, which, status or None)
    manage = {g.id for g in found if user.role == Role.AUTHORITY or (
        user.role == Role.DATA_OFFICER and user.department_id == g.provider_department_id)}  # fmt: skip
    return render(
        request, "exchange/grants.html", user=user, grants=found, box=which, status=status,
        statuses=list(grants.GrantStatus), manageable=manage, today=grants.china_today(utcnow()),
    )  # fmt: skip


@router.post("/exchange/grants/{grant_id}/change")
def change_grant(
    grant_id: int, request: Request, session: SessionDep, user: CurrentUser, settings: SettingsDep, form: Form
) -> Response:
    """Suspend, resume or revoke with a reason, or renew to a new last day; errors come back as a
    message above the list."""
    action, reason = str(form.get("action", "")), str(form.get("reason", ""))
    try:
        if action == "renew":
            until = _day(str(form.get("valid_to", "")))
            if until is None:
                raise DomainError("invalid_period", _("Choose the new last day of the grant."))
            max_days = settings.exchange_grant_max_days
            grant = grants.renew_grant(session, user, grant_id, until, reason, max_days=max_days)
        else:
            grant = grants.change_grant(session, user, grant_id, action, reason)  # type: ignore[arg-type]
        flash(request, _(GRANT_CHANGED) % {"status": grant.status.value})
    except DomainError as exc:
        session.rollback()
        flash(request, f"#{grant_id}: {exc.message}", "error")
    return redirect("/exchange/grants?box=" + str(form.get("box", "mine")))


@router.get("/exchange/demands")
def demand_list(
    request: Request, session: SessionDep, user: CurrentUser, status: str = "", overdue: bool = False
) -> Response:
    """The data demand list (需求清单): status, responsible department, due date, overdue flag."""
    status = status if status in demands.DemandStatus._value2member_map_ else ""
    now = utcnow()
    found = demands.list_demands(session, status or None, overdue_only=overdue, now=now)
    return render(
        request, "exchange/demands.html", user=user, demands=found, status=status, overdue=overdue, now=now,
        statuses=list(demands.DemandStatus), departments=list_departments(session) if user.role == Role.AUTHORITY else [],
        may_file=user.role in demands.FILERS,
    )  # fmt: skip


@router.post("/exchange/demands")
def file_demand(request: Request, session: SessionDep, user: CurrentUser, form: Form) -> Response:
    """File a demand: what data, why, for which service items."""
    data = DemandIn(
        title=str(form.get("title", "")), reason=str(form.get("reason", "")),
        service_items=_lines(str(form.get("service_items", ""))),
    )  # fmt: skip
    return _demand_action(request, session, lambda: demands.file_demand(session, user, data))


@router.post("/exchange/demands/{demand_id}/assign")
def assign_demand(
    demand_id: int,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    form: Form,
) -> Response:
    """The authority assigns the demand to the responsible department."""
    code, days = str(form.get("department", "")), settings.exchange_demand_deadline_days
    return _demand_action(
        request, session, lambda: demands.assign_demand(session, user, demand_id, code, deadline_days=days)
    )


@router.post("/exchange/demands/{demand_id}/answer")
def answer_demand(
    demand_id: int, request: Request, session: SessionDep, user: CurrentUser, form: Form
) -> Response:
    """The responsible department answers with a published resource or a reason."""
    code, reason = str(form.get("resource", "")).strip() or None, str(form.get("reason", ""))
    return _demand_action(
        request, session, lambda: demands.answer_demand(session, user, demand_id, code, reason)
    )


def _demand_action(request: Request, session: Session, action: Any) -> Response:
    try:
        action()
        flash(request, _(DEMAND_SAVED))
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
    return redirect("/exchange/demands")
