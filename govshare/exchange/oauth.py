"""The OAuth2 endpoints: POST /api/v1/oauth/token (client credentials, RFC 6749 §4.4) and the JWKS.

This router is the one exception to the project's error shape: OAuth2 clients and libraries expect
RFC 6749 §5.2 errors, ``{"error": "invalid_client", "error_description": "..."}``, so that is what the
token endpoint answers. ``error_description`` stays ASCII as §5.2 requires; ``message`` carries the
Chinese text the rest of the API gives.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote_plus

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData

from govshare.core.errors import Unauthenticated
from govshare.exchange import service, tokens
from govshare.exchange.schemas import TokenOut
from govshare.web.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/oauth", tags=["oauth 应用令牌"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1
_FORM = "application/x-www-form-urlencoded"


class OAuthError(Exception):
    def __init__(self, error: str, description: str, message: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.message, self.status = error, description, message, status

    def response(self) -> JSONResponse:
        headers = dict(NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="govshare"'
        body = {"error": self.error, "error_description": self.description, "message": self.message}
        return JSONResponse(body, status_code=self.status, headers=headers)


async def _form(request: Request) -> FormData | None:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != _FORM:
        return None
    return await request.form()


def _basic_credentials(header: str) -> tuple[str, str] | None:
    """client_id and secret from HTTP Basic (RFC 6749 §2.3.1: each form-urlencoded first)."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as err:
        raise OAuthError("invalid_request", "malformed Basic credentials", "Basic 认证头格式不正确") from err
    if not sep:
        raise OAuthError("invalid_request", "malformed Basic credentials", "Basic 认证头格式不正确")
    return unquote_plus(client_id), unquote_plus(secret)


def _client_credentials(request: Request, form: FormData) -> tuple[str, str]:
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required", "缺少 grant_type")
    if grant_type != "client_credentials":
        raise OAuthError(
            "unsupported_grant_type", "only client_credentials is supported", "仅支持 client_credentials"
        )
    basic = _basic_credentials(request.headers.get("authorization", ""))
    in_body = (str(form.get("client_id") or ""), str(form.get("client_secret") or ""))
    if basic and in_body[1]:
        raise OAuthError(
            "invalid_request",
            "use one client authentication method, not both",
            "客户端认证只能用一种方式：HTTP Basic 或请求体",
        )
    client_id, secret = basic or in_body
    if not client_id or not secret:
        raise OAuthError(
            "invalid_client", "client authentication required", "缺少 client_id 或 client_secret", 401
        )
    return client_id, secret


_TOKEN_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            _FORM: {
                "schema": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_id": {"type": "string", "description": "或用 HTTP Basic 传递"},
                        "client_secret": {"type": "string", "description": "或用 HTTP Basic 传递"},
                    },
                }
            }
        },
    }
}


@router.post(
    "/token",
    response_model=TokenOut,
    openapi_extra=_TOKEN_FORM,
    responses={400: {"description": "RFC 6749 §5.2 error"}, 401: {"description": "invalid_client"}},
)
def token(
    request: Request,
    form: Annotated[FormData | None, Depends(_form)],
    session: SessionDep,
    settings: SettingsDep,
) -> JSONResponse:
    """Exchange an application's client_id and client_secret for a short-lived access token
    (应用令牌, OAuth2 client credentials). Send the form in the body, or the credentials with HTTP
    Basic. Errors follow RFC 6749 §5.2, not the platform's error shape."""
    try:
        if form is None:
            raise OAuthError("invalid_request", f"body must be {_FORM}", f"请求体须为 {_FORM} 表单")
        client_id, secret = _client_credentials(request, form)
        try:
            issued = service.issue_token(session, settings, client_id, secret)
        except Unauthenticated as err:
            raise OAuthError("invalid_client", err.code.replace("_", " "), err.message, 401) from err
    except OAuthError as err:
        return err.response()
    body = TokenOut(access_token=issued.token, expires_in=issued.expires_in)
    return JSONResponse(body.model_dump(), headers=NO_STORE)


@router.get("/jwks")
def jwks(session: SessionDep, settings: SettingsDep) -> dict[str, list[dict[str, str]]]:
    """The public keys that verify access tokens (JWKS, Ed25519 OKP keys); a retired key stays listed
    until the last token it signed has expired."""
    return tokens.jwks(session, settings)
