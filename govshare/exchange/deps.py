"""`CurrentApplication`: the calling application, from its bearer access token (exchange API only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2

from govshare.core.errors import Unauthenticated
from govshare.exchange import service
from govshare.exchange.models import Application
from govshare.web.deps import SessionDep, SettingsDep


@dataclass(frozen=True)
class CallingApplication:
    """A verified caller: the application and the claims of the token it presented."""

    application: Application
    claims: dict[str, Any]


# Declares the client-credentials flow in the OpenAPI schema, so /docs can fetch a token itself
# ("Authorize" → client_id and client_secret). auto_error=False: refusals keep our error shape.
_oauth2 = OAuth2(
    flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(tokenUrl="/api/v1/oauth/token")),
    scheme_name="application",
    description="接入应用令牌：用 client_id 与 client_secret 换取（OAuth2 client credentials）",
    auto_error=False,
)


def current_application(
    authorization: Annotated[str | None, Depends(_oauth2)], session: SessionDep, settings: SettingsDep
) -> CallingApplication:
    """Verify ``Authorization: Bearer <access token>`` (signature, expiry, audience, issuer) and that
    the application is still enabled and its credentials not revoked; 401 with a stable code if not."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "missing_access_token",
            "请携带应用访问令牌：Authorization: Bearer <access_token>（由 POST /api/v1/oauth/token 获取）",
        )
    app, claims = service.application_for_token(session, settings, token.strip())
    return CallingApplication(app, claims)


CurrentApplication = Annotated[CallingApplication, Depends(current_application)]
