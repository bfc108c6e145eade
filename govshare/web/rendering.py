"""Server-rendered HTML: the Jinja2 environment, CSRF tokens, flash messages and error pages.

Every page goes through ``render``; every page route uses ``PageRoute`` so that domain errors become
an HTML error page (never the API's JSON) and an anonymous visitor is sent to the login page.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.datastructures import FormData

from govshare.auth.models import User
from govshare.core.errors import DomainError, PermissionDenied
from govshare.web import i18n

BEIJING = timezone(timedelta(hours=8), "CST")
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
CSRF_FIELD = "csrf_token"


@lru_cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["label"] = i18n.vocab_label
    env.filters["classification"] = i18n.classification_label
    env.filters["highlight"] = highlight
    env.filters["localtime"] = localtime
    env.tests["startingwith"] = lambda value, prefix: str(value).startswith(prefix)
    env.globals["vocab_choices"] = i18n.vocab_choices
    env.globals["LOCALES"] = i18n.LOCALES
    return env


def localtime(value: datetime) -> str:
    """Stored times are UTC; the platform's users read Beijing time (UTC+8, no daylight saving)."""
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def highlight(text: str, query: str) -> Markup:
    """Escape ``text`` and mark each whitespace-separated word of ``query`` in it."""
    out = str(escape(text))
    for word in sorted({w for w in query.split() if w}, key=len, reverse=True):
        safe = str(escape(word))
        out = out.replace(safe, f"<mark>{safe}</mark>")
    return Markup(out)


# --- CSRF: one random token per session, sent back as a hidden field by every POST form -------------


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def checked_form(request: Request) -> FormData:
    """Dependency for POST pages: the parsed form, once its CSRF token matches the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise PermissionDenied(
            "csrf_failed", i18n.gettext("The form has expired. Reload the page and try again.")
        )
    return form


# --- flash messages: shown once on the next page ---------------------------------------------------


def flash(request: Request, message: str, category: str = "success") -> None:
    request.session["flash"] = [*request.session.get("flash", []), [category, message]]


def pop_flashes(request: Request) -> list[tuple[str, str]]:
    if "session" not in request.scope:
        return []
    return [(c, m) for c, m in request.session.pop("flash", [])]


def redirect(url: str) -> RedirectResponse:
    """After a successful POST: 303 so the browser follows with GET (no resubmission on reload)."""
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None, default: str = "/catalog") -> str:
    """Only same-site paths: ``//evil.example`` or ``https://…`` would make a redirect open."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(target, safe="/")


# --- rendering --------------------------------------------------------------------------------------


def render(
    request: Request, template: str, *, user: User | None = None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    locale = i18n.activate(request)
    has_session = "session" in request.scope
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            user=user,
            locale=locale,
            html_lang=i18n.HTML_LANG[locale],
            csrf_token=csrf_token(request) if has_session else "",
            flashes=pop_flashes(request),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code)


def _layout_user(request: Request) -> User | None:
    """The signed-in user for an error page's header; error handlers run outside any page route."""
    from govshare.auth.service import get_user

    user_id = request.session.get("user_id") if "session" in request.scope else None
    if user_id is None:
        return None
    with request.app.state.session_factory() as session:
        user = get_user(session, int(user_id))
        return user if user is not None and user.is_active else None


def render_error(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    """The HTML error page (errors.py uses it for browser requests)."""
    try:
        user = _layout_user(request)
    except Exception:  # an error page must render even when the database is what failed
        user = None
    return render(
        request, "error.html", user=user, status_code=status, status=status, code=code, message=message
    )


class PageRoute(APIRoute):
    """Route class of HTML pages: locale per request, domain errors as HTML, anonymous → login."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            # Set here, in the request's task, so the sync endpoint's worker thread inherits it.
            i18n.activate(request)
            try:
                return await handler(request)
            except DomainError as exc:
                if exc.code == "not_authenticated" and request.method == "GET":
                    return RedirectResponse(login_url(request), status_code=303)
                return render_error(request, exc.status, exc.code, exc.message)

        return page_handler
