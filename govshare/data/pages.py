"""Shared-data pages (共享数据): a resource's data tab, the upload form, each load's report and a record's
version history (记录版本历史).

Thin, like the catalog pages: the same service functions as /api/v1/data, the same visibility rule
(``api._require_insight``: the provider's data officers, the authority and auditors).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from govshare.auth.models import Role, User
from govshare.catalog import service as catalog
from govshare.catalog.models import Resource
from govshare.core.errors import DomainError, NotFound, ValidationFailed
from govshare.data import quality, record_history, service
from govshare.data.api import _require_insight
from govshare.data.ingest import KEY_SEPARATOR
from govshare.data.models import Batch
from govshare.web.deps import CurrentUser, SessionDep
from govshare.web.i18n import N_, _
from govshare.web.rendering import PageRoute, checked_form, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(checked_form)]
CODE = "/data/resources/{code:path}"
HISTORY = 50

MODES = {
    "upsert": N_("Add new records and update existing ones; records not in the file stay."),
    "replace": N_("The file is the full current set: records missing from it are deleted."),
    "delete": N_("Delete the records whose keys are in the file."),
}
MODE_LABELS = {"upsert": N_("Add or update"), "replace": N_("Replace all"), "delete": N_("Delete by key")}
ENCODINGS = {"": N_("Automatic"), "utf-8": "UTF-8", "gb18030": "GB18030"}
FRESHNESS_LABELS = {
    "on_time": N_("On time"),
    "stale": N_("Stale"),
    "never_loaded": N_("Never loaded"),
}
STATUS_LABELS = {"applied": N_("Stored"), "rejected": N_("Refused (strict)")}
# Flash messages of the error-report pages (report_pages.py), here where the msgid extraction looks.
REPORT_FILED = N_("Report #%(id)s filed. The providing department must answer by %(due)s.")
REPORT_ANSWERED = N_("Your answer is recorded; the reporting department sees it on the report.")


def data_url(code: str) -> str:
    return f"/data/resources/{code}"


def _insight(session: Session, user: User, code: str) -> Resource:
    resource = catalog.get_resource(session, code)
    _require_insight(user, resource.provider_id)
    return resource


def trend_chart(trend: list[quality.BatchFigures], width: int = 900, height: int = 200) -> dict[str, Any]:
    """Coordinates of the completeness and validity lines (percent, oldest load on the left)."""
    left, right, top, bottom = 44, 12, 12, 28
    n = len(trend)
    step = (width - left - right) / max(1, n - 1)

    def x(i: int) -> float:
        return round(left + (i * step if n > 1 else (width - left - right) / 2), 1)

    def y(share: float | None) -> float:
        return round(top + (1 - (share or 0)) * (height - top - bottom), 1)

    lines = {}
    for name in ("completeness", "validity"):
        points = [(x(i), y(getattr(f, name))) for i, f in enumerate(trend)]
        lines[name] = {"points": points, "path": " ".join(f"{px},{py}" for px, py in points)}
    ticks = [{"label": f"{p}%", "y": y(p / 100)} for p in (0, 50, 100)]
    labels = [{"x": x(i), "text": f"#{f.batch.id}"} for i, f in enumerate(trend)]
    return {"width": width, "height": height, "left": left, "right": width - right, "bottom": height - bottom,
            "lines": lines, "ticks": ticks, "labels": labels}  # fmt: skip


def _upload_page(
    request: Request,
    user: User,
    resource: Resource,
    values: dict[str, Any],
    error: str = "",
    status: int = 200,
) -> Response:
    return render(
        request, "data/upload.html", user=user, resource=resource, modes=MODES, encodings=ENCODINGS,
        mode_labels=MODE_LABELS,
        values=values, error=error, status_code=status,
    )  # fmt: skip


@router.get(CODE + "/upload")
def upload_form(code: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """The upload form (上传数据): the provider's data officers only."""
    resource = service.loadable_resource(session, user, code)
    return _upload_page(request, user, resource, {"mode": "upsert", "encoding": "", "strict": False})


@router.post(CODE + "/upload")
def upload(code: str, request: Request, session: SessionDep, user: CurrentUser, form: Form) -> Response:
    """Load the file, then show its report (a plain POST; the page's script adds upload progress)."""
    resource = service.loadable_resource(session, user, code)
    mode, encoding = str(form.get("mode", "upsert")), str(form.get("encoding", ""))
    strict = form.get("strict") is not None
    values = {"mode": mode, "encoding": encoding, "strict": strict}
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return _upload_page(request, user, resource, values, _("Choose a file to upload."), 422)
    if mode not in MODES or encoding not in ENCODINGS:
        return _upload_page(
            request, user, resource, values, _("Choose a mode and an encoding from the lists."), 422
        )
    try:
        report = service.load_upload(
            session, user, resource.code, file.filename, file.file,
            mode=mode, strict=strict, encoding=encoding,
        )  # fmt: skip
    except DomainError as exc:
        return _upload_page(request, user, resource, values, exc.message, exc.status)
    return redirect(f"{data_url(resource.code)}/batches/{report.batch_id}")


@router.get(CODE + "/batches/{batch_id}")
def batch_report(
    code: str, batch_id: int, request: Request, session: SessionDep, user: CurrentUser
) -> Response:
    """One load's report: counts, the first rejections, the full rejection file to download."""
    resource = _insight(session, user, code)
    batch = session.get(Batch, batch_id)
    if batch is None or batch.resource_id != resource.id:
        raise NotFound("batch_not_found", _("No load %(id)s for this resource.") % {"id": batch_id})
    return render(
        request, "data/report.html", user=user, resource=resource, batch=batch,
        report=service.report_for(session, batch), status_labels=STATUS_LABELS, mode_labels=MODE_LABELS,
        can_load=catalog.can_edit(user, resource.provider_id),
    )  # fmt: skip


@router.get(CODE + "/records")
def find_record(code: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """按主键查找记录: one field per key item; a valid key opens the record's version history."""
    resource = _insight(session, user, code)
    typed = {
        name: request.query_params.get(f"key-{n}", "")
        for n, name in enumerate(record_history.key_items(resource))
    }
    try:
        key = record_history.lookup_key(resource, typed)
    except ValidationFailed as exc:
        return _data_tab(request, session, user, resource, {"values": typed, "errors": exc.details}, 422)
    return redirect(record_url(resource.code, key))


@router.get(CODE + "/records/{key:path}")
def record_page(
    code: str, key: str, request: Request, session: SessionDep, user: CurrentUser, on: str = ""
) -> Response:
    """记录版本历史: the current version, every earlier one with changed items marked, the record on a date."""
    resource = _insight(session, user, code)
    parts = dict(zip(record_history.key_items(resource), key.split(KEY_SEPARATOR), strict=False))
    context: dict[str, Any] = {"user": user, "resource": resource, "key": key, "parts": parts}
    try:
        found = record_history.versions(session, resource, key)
    except NotFound as exc:
        return render(request, "data/record.html", status_code=404, missing=exc.message, **context)
    day, as_of, as_of_error = _day(on), None, ""
    if on and day is None:
        as_of_error = _("Enter a date such as 2026-12-04.")
    elif day is not None:
        as_of = record_history.as_of(session, resource, key, day)
    names = list(dict.fromkeys([i.name for i in resource.items] + [k for v in found for k in v.data]))
    return render(
        request, "data/record.html", versions=found, names=names, on=on, day=day, as_of=as_of,
        as_of_error=as_of_error, reports=record_history.reports_about(session, resource, key),
        can_report=may_report(user, resource), report_link=report_link(resource.code, key), **context,
    )  # fmt: skip


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def may_report(user: User, resource: Resource) -> bool:
    """Whether the "report a data error" link leads anywhere (error_reports.file_report has the rule)."""
    return user.role in (Role.DATA_OFFICER, Role.CLERK) and user.department_id != resource.provider_id


def report_link(code: str, key: str, item: str = "") -> str:
    query = {"resource": code, "key": key} | ({"item": item} if item else {})
    return "/data/error-reports/new?" + urlencode(query)


def record_url(code: str, key: str) -> str:
    return f"{data_url(code)}/records/{quote(key, safe='')}"


@router.get(CODE)
def data_tab(code: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """A resource's data (数据): record count, freshness, quality per item, trend and load history."""
    return _data_tab(request, session, user, _insight(session, user, code))


def _data_tab(
    request: Request,
    session: Session,
    user: User,
    resource: Resource,
    lookup: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    summary = quality.resource_data_summary(session, resource)
    return render(
        request, "data/resource.html", user=user, resource=resource, summary=summary,
        history=_history(session, resource), chart=trend_chart(summary.trend),
        freshness_labels=FRESHNESS_LABELS, status_labels=STATUS_LABELS, mode_labels=MODE_LABELS,
        can_load=catalog.can_edit(user, resource.provider_id), key_items=record_history.key_items(resource),
        lookup=lookup or {"values": {}, "errors": {}}, status_code=status,
    )  # fmt: skip


def _history(session: Session, resource: Resource) -> list[Batch]:
    """Every load, refused ones too, newest first."""
    return list(
        session.scalars(
            select(Batch).where(Batch.resource_id == resource.id).order_by(Batch.id.desc()).limit(HISTORY)
        )
    )
