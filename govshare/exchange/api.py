"""Exchange JSON API under /api/v1/exchange: applications and credentials, signing keys, whoami."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query

from govshare.auth.schemas import DepartmentPublic
from govshare.exchange import oauth, service
from govshare.exchange.deps import CurrentApplication
from govshare.exchange.models import Application, CredentialEvent
from govshare.exchange.schemas import (
    ApplicationCreated,
    ApplicationIn,
    ApplicationPublic,
    CredentialEventPublic,
    Credentials,
    ReasonIn,
    RotateSecretIn,
    SigningKeyPublic,
    WhoAmI,
)
from govshare.web.deps import CurrentUser, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/exchange", tags=["exchange 接入应用"])
APP = "/applications/{app_id}"


def _public(app: Application) -> ApplicationPublic:
    return ApplicationPublic.model_validate(app)


def _event(event: CredentialEvent) -> CredentialEventPublic:
    return CredentialEventPublic(
        kind=event.kind, at=event.at, actor=event.actor.username, details=event.details
    )


@router.post("/applications", response_model=ApplicationCreated, status_code=201)
def register_application(body: ApplicationIn, session: SessionDep, user: CurrentUser) -> ApplicationCreated:
    """Register a consuming system (登记接入应用) and get its client_id and client_secret.
    The secret is shown only in this response; the platform keeps only its digest."""
    app, secret = service.register_application(session, user, body)
    return ApplicationCreated(
        application=_public(app), credentials=Credentials(client_id=app.client_id, client_secret=secret)
    )


@router.get("/applications", response_model=list[ApplicationPublic])
def list_applications(
    session: SessionDep,
    user: CurrentUser,
    department: Annotated[str | None, Query(description="部门代码")] = None,
) -> list[ApplicationPublic]:
    """Applications of your department (the authority and auditors see every department's)."""
    return [_public(a) for a in service.list_applications(session, user, department)]


@router.get(APP, response_model=ApplicationPublic)
def show_application(app_id: int, session: SessionDep, user: CurrentUser) -> ApplicationPublic:
    return _public(service.get_application(session, user, app_id))


@router.post(APP + "/secret", response_model=Credentials)
def rotate_secret(
    app_id: int,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    body: RotateSecretIn | None = None,
) -> Credentials:
    """Issue a new client secret (更换密钥), shown once. The previous secret stops working after the
    grace period (default GOVSHARE_EXCHANGE_SECRET_GRACE_MINUTES; 0 means at once)."""
    grace = body.grace_minutes if body else None
    app, secret, until = service.rotate_secret(session, user, settings, app_id, grace)
    return Credentials(client_id=app.client_id, client_secret=secret, previous_secret_expires_at=until)


@router.post(APP + "/revoke", response_model=ApplicationPublic)
def revoke_credentials(
    app_id: int, session: SessionDep, user: CurrentUser, body: ReasonIn | None = None
) -> ApplicationPublic:
    """Revoke every secret and every live token of the application (吊销凭据); rotate the secret to
    give it a new one."""
    return _public(service.revoke_credentials(session, user, app_id, body.reason if body else ""))


@router.post(APP + "/disable", response_model=ApplicationPublic)
def disable_application(
    app_id: int, session: SessionDep, user: CurrentUser, body: ReasonIn | None = None
) -> ApplicationPublic:
    """Disable the application (停用): no new tokens, and its live tokens are refused at once."""
    return _public(service.disable_application(session, user, app_id, body.reason if body else ""))


@router.get(APP + "/events", response_model=list[CredentialEventPublic])
def credential_events(app_id: int, session: SessionDep, user: CurrentUser) -> list[CredentialEventPublic]:
    """Every credential event of the application: who registered, rotated, revoked or disabled, when."""
    return [_event(e) for e in service.credential_events(session, user, app_id)]


@router.get("/signing-keys", response_model=list[SigningKeyPublic])
def signing_keys(session: SessionDep, user: CurrentUser) -> list[SigningKeyPublic]:
    """Token signing keys, newest first (authority only)."""
    return [SigningKeyPublic.model_validate(k) for k in service.list_signing_keys(session, user)]


@router.post("/signing-keys/rotate", response_model=SigningKeyPublic, status_code=201)
def rotate_signing_key(session: SessionDep, user: CurrentUser, settings: SettingsDep) -> SigningKeyPublic:
    """Start signing tokens with a new key (authority only). Tokens signed by the previous key keep
    verifying until they expire."""
    return SigningKeyPublic.model_validate(service.rotate_signing_key(session, settings, user))


@router.get("/whoami", response_model=WhoAmI)
def whoami(caller: CurrentApplication) -> WhoAmI:
    """The application behind the access token: a first call for integrators to check their setup."""
    app = caller.application
    return WhoAmI(
        client_id=app.client_id,
        application_id=app.id,
        name=app.name,
        channel=app.channel,
        department=DepartmentPublic.model_validate(app.department),
        token_id=caller.claims["jti"],
        expires_at=datetime.fromtimestamp(caller.claims["exp"], UTC),
    )


def register(app: FastAPI) -> None:
    app.include_router(oauth.router)
    app.include_router(router)
