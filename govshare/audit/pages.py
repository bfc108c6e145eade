"""Audit pages (调用日志): the auditors' search with filters and CSV export, the chain status (last
checkpoint, verified up to which seq, verify or sign now), and the staff-assisted citizen access log
(数据使用记录) at /audit/my-data.

Thin, like the API: `queries` and `status` check roles and do the work. The citizen page posts the ID
number in the form body, so it never appears in a URL, the browser history or an access log. The clerk
can also hand the citizen a signed link (/audit/subject/<token>, no account needed) that names them only
by the keyed hash.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from govshare.audit import queries, status
from govshare.audit.models import AuditOperation, Outcome
from govshare.audit.verify import summary
from govshare.auth.service import list_departments
from govshare.core.errors import DomainError, PermissionDenied, ValidationFailed
from govshare.web.deps import CurrentUser, OptionalUser, SessionDep, SettingsDep
from govshare.web.i18n import N_, _
from govshare.web.rendering import PageRoute, checked_form, flash, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(checked_form)]
FILTERS = ("department", "application_id", "resource", "operation", "outcome", "case_id", "since", "until")
KINDS = ("person_id", "credit_code")
VERIFIED = N_("Verification finished. %(summary)s")
CHECKPOINT_SIGNED = N_("Checkpoint signed at entry %(seq)s.")
LOG_EMPTY = N_("The audit log is empty: nothing to sign.")


@router.get("/audit")
def search_page(
    request: Request, session: SessionDep, user: CurrentUser, cursor: str | None = None
) -> Response:
    """调用日志查询: events filtered by department, application, resource, operation, outcome, case and
    time, newest first, a page at a time; the same filters export as CSV."""
    values = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    errors: dict[str, str] = {}
    try:
        app_id = int(values["application_id"]) if values["application_id"] else None
    except ValueError:
        app_id, errors["application_id"] = None, _("Enter the application's number.")
    try:
        filt = queries.EventFilter(
            department=values["department"] or None, application_id=app_id, resource_code=values["resource"] or None,
            operation=values["operation"] or None, outcome=values["outcome"] or None, case_id=values["case_id"] or None,
            since=queries.parse_time(values["since"]), until=queries.parse_time(values["until"], end=True),
        )  # fmt: skip
        page = queries.search(session, user, filt, cursor, 50)
    except ValidationFailed as exc:
        errors["form"] = exc.message
        page = queries.search(session, user, queries.EventFilter(), None, 50)
    query = urlencode({k: v for k, v in values.items() if v})
    return render(
        request, "audit/events.html", user=user, page=page, values=values, errors=errors, query=query,
        departments=list_departments(session), operations=[o.value for o in AuditOperation],
        outcomes=[o.value for o in Outcome], status_code=422 if errors else 200,
    )  # fmt: skip


@router.get("/audit/chain")
def chain_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """链状态: the chain's head, its last signed checkpoint and the last verification run."""
    return render(request, "audit/chain.html", user=user, state=status.chain_status(session, user),
                  checkpoints=status.list_checkpoints(session, user, limit=10))  # fmt: skip


@router.post("/audit/chain/verify")
def verify_now(request: Request, session: SessionDep, user: CurrentUser, form: Form) -> Response:
    """Verify the whole chain now and show the result."""
    report = status.run_verification(session, user)
    message = _(VERIFIED) % {"summary": summary(report)}
    flash(request, message, "success" if report.ok else "error")
    return redirect("/audit/chain")


@router.post("/audit/chain/checkpoint")
def checkpoint_now(
    request: Request, session: SessionDep, user: CurrentUser, settings: SettingsDep, form: Form
) -> Response:
    """Sign a checkpoint at the chain's end now (the platform authority)."""
    cp = status.checkpoint_now(session, settings, user)
    flash(request, _(CHECKPOINT_SIGNED) % {"seq": cp.seq} if cp else _(LOG_EMPTY))
    return redirect("/audit/chain")


def _may_open_citizen_log(user: CurrentUser) -> None:
    if user.role not in queries.CITIZEN_LOG_USERS:
        raise PermissionDenied(
            "role_not_allowed",
            _("Only service clerks, auditors and the platform authority open a citizen's access log."),
        )


@router.get("/audit/my-data")
def citizen_form(request: Request, user: CurrentUser) -> Response:
    """数据使用记录: the form a hall clerk fills in for a citizen whose identity card they have checked."""
    _may_open_citizen_log(user)
    return render(
        request,
        "audit/my_data.html",
        user=user,
        kinds=KINDS,
        values={"type": "person_id"},
        errors={},
        log=None,
    )


@router.post("/audit/my-data")
def citizen_log(
    request: Request, session: SessionDep, user: CurrentUser, settings: SettingsDep, form: Form
) -> Response:
    """Who read this citizen's (or company's) data; the look-up is recorded in the audit log."""
    _may_open_citizen_log(user)
    values = {name: str(form.get(name, "")).strip() for name in ("type", "key", "case_id")}
    try:
        log = queries.citizen_log(
            session, settings, user, values["type"], values["key"],
            identity_checked=form.get("identity_checked") == "yes", case_id=values["case_id"] or None,
        )  # fmt: skip
    except ValidationFailed as exc:
        field = "identity_checked" if exc.code == "identity_not_checked" else "key"
        values["key"] = ""  # never echo the ID number back into the page
        return render(request, "audit/my_data.html", user=user, kinds=KINDS, values=values,
                      errors={field: exc.message}, log=None, status_code=422)  # fmt: skip
    link = None
    if form.get("issue_link") == "yes":
        link = queries.subject_link(
            session, settings, user, values["type"], values["key"], identity_checked=True
        )
    return render(request, "audit/my_data.html", user=user, kinds=KINDS, values={"type": values["type"]}, errors={},
                  log=log, link_url=settings.base_url + link.path if link else None,
                  link_expires=link.expires_at if link else None)  # fmt: skip


@router.get("/audit/subject/{token}")
def subject_page(
    request: Request, token: str, session: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    """The access log a signed link opens, for the citizen, without an account; each view is recorded."""
    try:
        log = queries.citizen_log_by_link(session, settings, token)
    except DomainError as exc:
        return render(
            request, "audit/subject.html", user=user, error=exc.message, log=None, status_code=exc.status
        )
    return render(request, "audit/subject.html", user=user, error=None, log=log)
