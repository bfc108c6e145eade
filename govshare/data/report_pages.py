"""Data error report pages (数据纠错): file a report, the provider's inbox, what we filed, answer one.

Thin, like the API (profiles_api.py): ``error_reports.file_report``, ``list_reports`` and
``answer_report`` decide everything; this module only places their errors next to the field they
concern and shows due dates (working days, 工作日) and the overdue flag (逾期).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from govshare.auth.models import Role, User
from govshare.catalog import service as catalog
from govshare.catalog.models import Resource
from govshare.core.errors import DomainError
from govshare.core.types import utcnow
from govshare.data import error_reports, record_history
from govshare.data.api import _require_insight
from govshare.data.ingest import KEY_SEPARATOR
from govshare.data.pages import REPORT_ANSWERED, REPORT_FILED, record_url
from govshare.data.profile_models import ErrorReport, ReportStatus
from govshare.web.deps import CurrentUser, SessionDep, SettingsDep
from govshare.web.i18n import _
from govshare.web.rendering import PageRoute, checked_form, flash, localtime, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(checked_form)]
BASE = "/data/error-reports"
STATUSES = [s.value for s in ReportStatus]
# The service's error codes → the form field they concern; any other code is shown above the form.
FIELD_OF = {
    "resource_not_found": "resource", "resource_not_published": "resource", "own_resource": "resource",
    "unknown_item": "item", "record_not_found": "key", "invalid_key": "key",
    "proposed_value_required": "proposed_value", "reason_required": "reason", "invalid_decision": "decision",
}  # fmt: skip


def _errors(exc: DomainError) -> dict[str, str]:
    return {FIELD_OF.get(exc.code, "form"): exc.message}


@router.get(BASE)
def report_list(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    box: str = "inbox",
    status: str = "",
    overdue: bool = False,
) -> Response:
    """待我答复 (reports about my department's data, open first, soonest due first) or 我提交的."""
    which: error_reports.Box = "filed" if box == "filed" else "inbox"
    status = status if status in STATUSES else ""
    now = utcnow()
    found = error_reports.list_reports(session, user, which, status or None, overdue_only=overdue, now=now)
    still_open = error_reports.list_reports(session, user, which, ReportStatus.OPEN.value, now=now)
    return render(
        request, "data/reports.html", user=user, reports=found, box=which, status=status, overdue=overdue,
        now=now, open_count=len(still_open), overdue_count=sum(r.is_overdue(now) for r in still_open),
        statuses=STATUSES,
    )  # fmt: skip


def _resource(session: Session, code: str) -> tuple[Resource | None, str]:
    """The resource named on the form, or why there is none (an empty field is no error yet)."""
    if not code.strip():
        return None, ""
    try:
        return catalog.get_resource(session, code), ""
    except DomainError as exc:
        return None, exc.message


def _new_page(
    request: Request, session: Session, user: User, values: dict[str, Any], errors: dict[str, str],
    deadline_days: int, status: int = 200,
) -> Response:  # fmt: skip
    resource, problem = _resource(session, values["resource"])
    keys = record_history.key_items(resource) if resource is not None else []
    if problem:
        errors.setdefault("resource", problem)
    return render(
        request, "data/report_new.html", user=user, resource=resource, key_items=keys, values=values,
        errors=errors, deadline_days=deadline_days, may_file=user.role in (Role.DATA_OFFICER, Role.CLERK),
        status_code=status,
    )  # fmt: skip


@router.get(BASE + "/new")
def new_report(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    resource: str = "",
    key: str = "",
    item: str = "",
) -> Response:
    """The report form (提交纠错), prefilled from a record page's link."""
    values = {"resource": resource, "parts": key.split(KEY_SEPARATOR), "item": item, "proposed_value": "",
              "evidence": ""}  # fmt: skip
    return _new_page(request, session, user, values, {}, settings.error_report_deadline_days)


@router.post(BASE + "/new")
def file_report(
    request: Request, session: SessionDep, user: CurrentUser, settings: SettingsDep, form: Form
) -> Response:
    """File the report; errors come back next to their field, a filed report opens its page."""
    fields = ("resource", "item", "proposed_value", "evidence")
    values: dict[str, Any] = {name: str(form.get(name, "")) for name in fields}
    values["parts"] = [str(v) for v in form.getlist("key")]
    days = settings.error_report_deadline_days
    try:
        resource = catalog.get_resource(session, values["resource"])
        typed = dict(zip(record_history.key_items(resource), values["parts"], strict=False))
        key = record_history.lookup_key(resource, typed)
        report = error_reports.file_report(
            session, user, resource.code, key, values["item"], values["proposed_value"], values["evidence"],
            deadline_days=days,
        )  # fmt: skip
    except DomainError as exc:
        return _new_page(request, session, user, values, _errors(exc), days, exc.status)
    flash(request, _(REPORT_FILED) % {"id": report.id, "due": localtime(report.due_at)[:10]})
    return redirect(f"{BASE}/{report.id}")


def _detail(
    request: Request, session: Session, user: User, report: ErrorReport, values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    try:
        _require_insight(user, report.provider_department_id)
        history = record_url(report.resource.code, report.record_key)
    except DomainError:
        history = ""  # the reporting department does not see the provider's record history
    may_answer = (
        report.status == ReportStatus.OPEN
        and user.role == Role.DATA_OFFICER
        and user.department_id == report.provider_department_id
    )
    return render(
        request, "data/report_detail.html", user=user, report=report, now=utcnow(), history_url=history,
        may_answer=may_answer, values=values or {"decision": "", "reason": "", "corrected_value": ""},
        errors=errors or {}, status_code=status,
    )  # fmt: skip


@router.get(BASE + "/{report_id}")
def report_page(report_id: int, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """One report with its due date, status and answer; the provider's data officer answers here."""
    return _detail(request, session, user, record_history.readable_report(session, user, report_id))


@router.post(BASE + "/{report_id}/answer")
def answer(report_id: int, request: Request, session: SessionDep, user: CurrentUser, form: Form) -> Response:
    """Confirm (with the corrected value, if known) or reject with a reason."""
    report = record_history.readable_report(session, user, report_id)
    values = {name: str(form.get(name, "")) for name in ("decision", "reason", "corrected_value")}
    try:
        error_reports.answer_report(
            session, user, report.id, values["decision"], values["reason"], values["corrected_value"] or None
        )
    except DomainError as exc:
        session.rollback()
        report = record_history.readable_report(session, user, report_id)
        return _detail(request, session, user, report, values, _errors(exc), exc.status)
    flash(request, _(REPORT_ANSWERED))
    return redirect(f"{BASE}/{report.id}")
