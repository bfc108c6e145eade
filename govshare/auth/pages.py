"""Sign-in pages (登录 / 退出): the browser's session cookie, next to the API's bearer tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from govshare.auth import service
from govshare.core.errors import Unauthenticated
from govshare.web.deps import OptionalUser, SessionDep
from govshare.web.i18n import _
from govshare.web.rendering import PageRoute, checked_form, flash, redirect, render, safe_next

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(checked_form)]


@router.get("/login")
def login_page(request: Request, user: OptionalUser, next: str = "/catalog") -> Response:
    """The sign-in form; a signed-in user goes straight on."""
    if user is not None:
        return redirect(safe_next(next))
    return render(request, "auth/login.html", next=safe_next(next), username="", error=None)


@router.post("/login")
def login(request: Request, session: SessionDep, form: Form) -> Response:
    username = str(form.get("username", ""))
    next_url = safe_next(str(form.get("next", "")))
    try:
        user = service.authenticate(session, username, str(form.get("password", "")))
    except Unauthenticated:
        error = _("Wrong username or password.")
        return render(
            request, "auth/login.html", status_code=401, next=next_url, username=username, error=error
        )
    lang = request.session.get("lang")
    # A fresh session on sign-in: nothing planted before login (fixation) survives it.
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    request.session["user_id"] = user.id
    flash(request, _("Signed in as %(name)s.") % {"name": user.display_name})
    return redirect(next_url)


@router.get("/logout")
def logout_page(request: Request, user: OptionalUser) -> Response:
    """A confirmation form: signing out is a POST, so a link on another site cannot do it."""
    if user is None:
        return redirect("/login")
    return render(request, "auth/logout.html", user=user)


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    flash(request, _("You have signed out."))
    return redirect("/login")
