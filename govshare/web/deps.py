"""FastAPI dependencies shared by every router: the session, the current user, the settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from govshare.auth import service as auth_service
from govshare.auth.models import User
from govshare.core.db import WRITE_FIRST
from govshare.core.errors import Unauthenticated
from govshare.core.settings import Settings

# Requests that read and then always write (an audit entry, a read log) begin their transaction as
# writers on SQLite (see govshare.core.db._sqlite_begin); PostgreSQL needs nothing of the kind.
WRITE_FIRST_PATHS = ("/api/v1/exchange/data/", "/api/v1/audit/", "/audit/", "/data/profiles")


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; anything the service did not commit is rolled back."""
    session = request.app.state.session_factory()
    if request.url.path.startswith(WRITE_FIRST_PATHS) and session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={WRITE_FIRST: True})
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def optional_user(request: Request, session: SessionDep) -> User | None:
    """The caller: a bearer token (API clients) or the signed session cookie (browser)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return auth_service.user_for_token(session, header[7:].strip())
    user_id = request.session.get("user_id") if "session" in request.scope else None
    if user_id is not None:
        user = auth_service.get_user(session, int(user_id))
        if user is not None and user.is_active:
            return user
    return None


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise Unauthenticated("not_authenticated", "请先登录（Authorization: Bearer <token>）")
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
