"""Applications (接入应用) and their credentials: registration, secrets, rotation, revocation and the
client authentication behind the token endpoint. No HTTP here.

Who may do what: a department's data officer (部门数据管理员) or application operator (应用管理员) manages
its own department's applications; the platform authority manages every department's; auditors read.

Client secrets are 256 random bits, stored as SHA-256 digests like users' API tokens. A slow password
KDF (Argon2id) protects guessable passwords; against a 256-bit secret it adds no safety and would make
every token request cost tens of milliseconds of CPU, an easy way to exhaust the server.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from govshare.auth.models import Role, User
from govshare.auth.service import get_department, require_role
from govshare.core.errors import Conflict, NotFound, PermissionDenied, Unauthenticated
from govshare.core.settings import Settings
from govshare.core.types import utcnow
from govshare.exchange import rules, tokens
from govshare.exchange.models import (
    Application,
    ApplicationStatus,
    ClientSecret,
    CredentialEvent,
    CredentialEventKind,
    SigningKey,
)
from govshare.exchange.schemas import ApplicationIn

MANAGERS = (Role.AUTHORITY, Role.DATA_OFFICER, Role.APP_OPERATOR)
READERS = (*MANAGERS, Role.AUDITOR)
SECRET_PREFIX = "gss_"  # lets secret scanners recognise a leaked govshare secret


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _require_department(actor: User, department_id: int, roles: tuple[Role, ...]) -> None:
    require_role(actor, *roles)
    if actor.role in (Role.AUTHORITY, Role.AUDITOR) or actor.department_id == department_id:
        return
    raise PermissionDenied(
        "not_own_application", "只能管理本部门的接入应用", {"department_id": department_id}
    )


def _record(
    session: Session, app: Application, kind: CredentialEventKind, actor: User, **details: Any
) -> None:
    session.add(CredentialEvent(application_id=app.id, kind=kind, actor_id=actor.id, details=details))


def _new_secret(session: Session, app: Application) -> str:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    session.add(ClientSecret(application_id=app.id, secret_hash=_digest(secret)))
    return secret


def register_application(session: Session, actor: User, data: ApplicationIn) -> tuple[Application, str]:
    """Register a consuming system and issue its first secret; the clear secret is returned once."""
    values = rules.check_application(data)
    department = get_department(session, data.department_code) if data.department_code else actor.department
    _require_department(actor, department.id, MANAGERS)
    clash = select(Application).where(
        Application.department_id == department.id, Application.name == values["name"]
    )
    if session.scalar(clash) is not None:
        raise Conflict(
            "duplicate_application_name",
            f"本部门已登记名为“{values['name']}”的应用",
            {"name": values["name"]},
        )
    app = Application(
        department=department, client_id="gsa_" + secrets.token_hex(10), created_by_id=actor.id, **values
    )
    session.add(app)
    session.flush()
    secret = _new_secret(session, app)
    _record(session, app, CredentialEventKind.REGISTERED, actor, client_id=app.client_id)
    session.commit()
    return app, secret


def get_application(session: Session, actor: User, app_id: int) -> Application:
    app = session.get(Application, app_id)
    if app is None:
        raise NotFound("application_not_found", f"未找到接入应用 {app_id}", {"id": app_id})
    _require_department(actor, app.department_id, READERS)
    return app


def _manageable(session: Session, actor: User, app_id: int) -> Application:
    app = get_application(session, actor, app_id)
    _require_department(actor, app.department_id, MANAGERS)
    if app.status == ApplicationStatus.DISABLED:
        raise Conflict("application_disabled", "应用已停用，不能再变更其凭据", {"id": app_id})
    return app


def list_applications(session: Session, actor: User, department_code: str | None = None) -> list[Application]:
    """Applications the actor may see: its own department's, or any (authority, auditors)."""
    require_role(actor, *READERS)
    query = select(Application).order_by(Application.department_id, Application.id)
    if department_code:
        department = get_department(session, department_code)
        _require_department(actor, department.id, READERS)
        query = query.where(Application.department_id == department.id)
    elif actor.role not in (Role.AUTHORITY, Role.AUDITOR):
        query = query.where(Application.department_id == actor.department_id)
    return list(session.scalars(query))


def _live_secrets(session: Session, app: Application) -> list[ClientSecret]:
    now = utcnow()
    return list(
        session.scalars(
            select(ClientSecret).where(
                ClientSecret.application_id == app.id,
                ClientSecret.revoked_at.is_(None),
                or_(ClientSecret.expires_at.is_(None), ClientSecret.expires_at > now),
            )
        )
    )


def rotate_secret(
    session: Session, actor: User, settings: Settings, app_id: int, grace_minutes: int | None = None
) -> tuple[Application, str, datetime]:
    """Issue a new secret. The old ones stop after ``grace_minutes`` (default: the setting; 0 = now),
    so an integrator can roll the new secret out without an outage. Live tokens are untouched.

    Returns the application, the new clear secret and when the previous secrets stop working."""
    app = _manageable(session, actor, app_id)
    grace = settings.exchange_secret_grace_minutes if grace_minutes is None else grace_minutes
    until = utcnow() + timedelta(minutes=grace)
    for old in _live_secrets(session, app):
        old.expires_at = min(old.expires_at or until, until)
    secret = _new_secret(session, app)
    _record(
        session,
        app,
        CredentialEventKind.SECRET_ROTATED,
        actor,
        grace_minutes=grace,
        old_expire_at=until.isoformat(),
    )
    session.commit()
    return app, secret, until


def revoke_credentials(session: Session, actor: User, app_id: int, reason: str = "") -> Application:
    """Revoke every secret and every token already issued (e.g. a leaked secret). The application
    stays registered; `rotate_secret` gives it a new secret."""
    app = _manageable(session, actor, app_id)
    now = utcnow()
    revoked = _live_secrets(session, app)
    for old in revoked:
        old.revoked_at = now
    app.token_generation += 1
    _record(
        session, app, CredentialEventKind.REVOKED, actor, secrets_revoked=len(revoked), reason=reason.strip()
    )
    session.commit()
    return app


def disable_application(session: Session, actor: User, app_id: int, reason: str = "") -> Application:
    """Disable an application (停用): no new tokens, and its live tokens are refused at once."""
    app = _manageable(session, actor, app_id)
    app.status = ApplicationStatus.DISABLED
    app.disabled_at = utcnow()
    _record(session, app, CredentialEventKind.DISABLED, actor, reason=reason.strip())
    session.commit()
    return app


def credential_events(session: Session, actor: User, app_id: int) -> list[CredentialEvent]:
    app = get_application(session, actor, app_id)
    query = select(CredentialEvent).where(CredentialEvent.application_id == app.id)
    return list(session.scalars(query.order_by(CredentialEvent.at, CredentialEvent.id)))


_BAD_CLIENT = "客户端认证失败：client_id 或 client_secret 不正确，或凭据已吊销"


def authenticate_client(session: Session, client_id: str, client_secret: str) -> Application:
    """The application whose live secret this is; Unauthenticated("invalid_client") otherwise."""
    app = session.scalar(select(Application).where(Application.client_id == client_id))
    if app is None:
        raise Unauthenticated("invalid_client", _BAD_CLIENT)
    digest = _digest(client_secret)
    if not any(hmac.compare_digest(s.secret_hash, digest) for s in _live_secrets(session, app)):
        raise Unauthenticated("invalid_client", _BAD_CLIENT)
    if app.status != ApplicationStatus.ACTIVE:
        raise Unauthenticated("application_disabled", "接入应用已停用")
    return app


def issue_token(
    session: Session, settings: Settings, client_id: str, client_secret: str
) -> tokens.AccessToken:
    """OAuth2 client credentials: authenticate the client, sign a short-lived token."""
    return tokens.issue(session, settings, authenticate_client(session, client_id, client_secret))


def application_for_token(
    session: Session, settings: Settings, token: str
) -> tuple[Application, dict[str, Any]]:
    """The live application behind a bearer token, and the token's claims."""
    claims = tokens.verify(session, settings, token)
    app = session.get(Application, claims["app"])
    check_token_application(app, claims)
    assert app is not None
    return app, claims


class TokenHolder(Protocol):
    """What the token check reads of an application: an ``Application`` row or a cached view of one."""

    @property
    def client_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def token_generation(self) -> int: ...


def check_token_application(app: TokenHolder | None, claims: dict[str, Any]) -> None:
    """The application named by verified ``claims`` still exists, is enabled, and its credentials
    were not revoked since the token was issued (its ``gen`` claim)."""
    if app is None or app.client_id != claims["sub"]:
        raise Unauthenticated("invalid_token", "访问令牌无效：应用不存在")
    if app.status != ApplicationStatus.ACTIVE:
        raise Unauthenticated("application_disabled", "接入应用已停用，令牌不再有效")
    if app.token_generation != claims["gen"]:
        raise Unauthenticated("credentials_revoked", "应用凭据已吊销，令牌不再有效，请使用新密钥重新获取")


def rotate_signing_key(session: Session, settings: Settings, actor: User | None) -> SigningKey:
    """New token signing key (authority only; ``actor`` None is an operator at the console)."""
    if actor is not None:
        require_role(actor, Role.AUTHORITY)
    return tokens.rotate_signing_key(session, settings)


def list_signing_keys(session: Session, actor: User | None) -> list[SigningKey]:
    if actor is not None:
        require_role(actor, Role.AUTHORITY)
    return list(
        session.scalars(select(SigningKey).order_by(SigningKey.created_at.desc(), SigningKey.id.desc()))
    )
