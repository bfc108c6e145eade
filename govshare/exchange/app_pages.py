"""Application pages (接入应用): register a consuming system, see its secret once, rotate, revoke, disable.

Thin, like the API: `service` decides everything. A client secret appears only in the answer to the
POST that created it, never in a redirect, the session or a later page, and that answer is marked
``Cache-Control: no-store`` so the browser does not keep it either.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from govshare.auth.models import Role, User
from govshare.auth.service import require_role
from govshare.core.errors import DomainError
from govshare.exchange import service
from govshare.exchange.models import CHANNEL_LABELS, Application, ApplicationStatus
from govshare.exchange.schemas import ApplicationIn
from govshare.web.deps import CurrentUser, SessionDep, SettingsDep
from govshare.web.i18n import N_, _
from govshare.web.rendering import PageRoute, checked_form, flash, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(checked_form)]
BASE = "/exchange/applications"
REVOKED = N_("Every secret and every token of this application is revoked. Rotate to issue a new secret.")
DISABLED = N_("The application is disabled: no new tokens, and its live tokens are refused.")
FIELDS = ("name", "channel", "contact_name", "contact_phone", "description")


def _may_manage(user: User) -> bool:
    return user.role in service.MANAGERS


def _errors(exc: DomainError) -> dict[str, str]:
    listed = exc.details.get("errors") if isinstance(exc.details, dict) else None
    if not listed:
        return {"name" if exc.code == "duplicate_application_name" else "form": exc.message}
    found: dict[str, str] = {}
    for problem in listed:
        found[problem["field"]] = (found.get(problem["field"], "") + " " + problem["message"]).strip()
    return found


def _secret_page(
    request: Request, user: User, app: Application, secret: str, old_until: datetime | None = None
) -> Response:
    page = render(
        request, "exchange/application_secret.html", user=user, app=app, secret=secret, old_until=old_until,
        channels=CHANNEL_LABELS,
    )  # fmt: skip
    page.headers["Cache-Control"] = "no-store"
    return page


@router.get(BASE)
def application_list(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """Our department's applications (the authority and auditors: every department's)."""
    apps = service.list_applications(session, user)
    return render(
        request, "exchange/applications.html", user=user, apps=apps, channels=CHANNEL_LABELS,
        may_manage=_may_manage(user), box="applications", may_file=False,
    )  # fmt: skip


def _form_page(request: Request, user: User, values: dict[str, Any], errors: dict[str, str]) -> Response:
    return render(
        request, "exchange/application_new.html", user=user, values=values, errors=errors,
        channels=CHANNEL_LABELS, box="applications", may_file=False,
        status_code=422 if errors else 200,
    )  # fmt: skip


@router.get(BASE + "/new")
def new_application(request: Request, user: CurrentUser) -> Response:
    require_role(user, *service.MANAGERS)
    return _form_page(request, user, dict.fromkeys(FIELDS, ""), {})


@router.post(BASE + "/new")
def register(request: Request, session: SessionDep, user: CurrentUser, form: Form) -> Response:
    """Register; the answer shows the client secret, once."""
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    try:
        app, secret = service.register_application(session, user, ApplicationIn(**values))
    except DomainError as exc:
        session.rollback()
        return _form_page(request, user, values, _errors(exc))
    return _secret_page(request, user, app, secret)


def _detail(request: Request, session: Session, user: User, app_id: int, error: str = "") -> Response:
    app = service.get_application(session, user, app_id)
    events = service.credential_events(session, user, app_id)
    manageable = _may_manage(user) and user.role != Role.AUDITOR and app.status == ApplicationStatus.ACTIVE
    return render(
        request, "exchange/application_detail.html", user=user, app=app, events=events,
        channels=CHANNEL_LABELS, manageable=manageable, error=error, box="applications", may_file=False,
        status_code=422 if error else 200,
    )  # fmt: skip


@router.get(BASE + "/{app_id}")
def application_page(app_id: int, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return _detail(request, session, user, app_id)


@router.post(BASE + "/{app_id}/rotate")
def rotate(
    app_id: int, request: Request, session: SessionDep, user: CurrentUser, settings: SettingsDep, form: Form
) -> Response:
    """A new secret, shown once; the old ones stop now or after the grace asked for."""
    raw = str(form.get("grace_minutes", "")).strip()
    if raw and not (raw.isdigit() and int(raw) <= 7 * 24 * 60):
        return _detail(
            request,
            session,
            user,
            app_id,
            _("The grace period is a whole number of minutes, at most 10080 (7 days)."),
        )
    try:
        app, secret, until = service.rotate_secret(session, user, settings, app_id, int(raw) if raw else None)
    except DomainError as exc:
        session.rollback()
        return _detail(request, session, user, app_id, exc.message)
    return _secret_page(request, user, app, secret, old_until=until)


@router.post(BASE + "/{app_id}/revoke")
def revoke(app_id: int, request: Request, session: SessionDep, user: CurrentUser, form: Form) -> Response:
    return _change(request, session, user, app_id, form, service.revoke_credentials, REVOKED)


@router.post(BASE + "/{app_id}/disable")
def disable(app_id: int, request: Request, session: SessionDep, user: CurrentUser, form: Form) -> Response:
    return _change(request, session, user, app_id, form, service.disable_application, DISABLED)


def _change(
    request: Request, session: Session, user: User, app_id: int, form: FormData, action: Any, done: str
) -> Response:
    """Revoke or disable: a reason is required here (the audit trail of a credential must say why)."""
    reason = str(form.get("reason", "")).strip()
    if not reason:
        return _detail(
            request, session, user, app_id, _("Give the reason: it is kept with the application's history.")
        )
    try:
        action(session, user, app_id, reason)
    except DomainError as exc:
        session.rollback()
        return _detail(request, session, user, app_id, exc.message)
    flash(request, _(done))
    return redirect(f"{BASE}/{app_id}")
