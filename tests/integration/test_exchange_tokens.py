"""The OAuth2 client-credentials token endpoint, the signed token, CurrentApplication and the
rotation of signing keys (RFC 6749 §4.4, §5.2; JWT with EdDSA; JWKS)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from urllib.parse import quote

import jwt
import pytest
from sqlalchemy import select

from govshare.core.types import utcnow
from govshare.exchange import tokens
from govshare.exchange.models import SigningKey
from tests.conftest import make_test_settings
from tests.integration.exchange_support import bearer, register, request_token

TOKEN = "/api/v1/oauth/token"
WHOAMI = "/api/v1/exchange/whoami"


@pytest.fixture
def registered(session, city):
    return register(session, city.police_officer)


def _verify_with_jwks(client, token: str) -> dict:
    keys = {k["kid"]: k for k in client.get("/api/v1/oauth/jwks").json()["keys"]}
    jwk = keys[jwt.get_unverified_header(token)["kid"]]
    return jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["EdDSA"], audience=tokens.AUDIENCE)


def test_token_from_form_body_is_a_short_lived_eddsa_jwt(client, registered, city):
    app, secret = registered
    response = request_token(client, app.client_id, secret)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA" and header["kid"]
    claims = _verify_with_jwks(client, body["access_token"])
    assert claims["sub"] == app.client_id and claims["app"] == app.id
    assert claims["dept"] == city.police.code and claims["iss"] == "http://testserver"
    assert claims["exp"] - claims["iat"] == 600 and len(claims["jti"]) == 32


def test_token_with_http_basic_client_authentication(client, registered):
    app, secret = registered
    basic = base64.b64encode(f"{quote(app.client_id)}:{quote(secret, safe='')}".encode()).decode()
    response = client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200, response.text
    assert _verify_with_jwks(client, response.json()["access_token"])["sub"] == app.client_id


@pytest.mark.parametrize(
    "form, status, error",
    [
        (
            {"grant_type": "client_credentials", "client_id": "gsa_unknown", "client_secret": "gss_x"},
            401,
            "invalid_client",
        ),
        ({"grant_type": "client_credentials"}, 401, "invalid_client"),
        ({"grant_type": "password", "username": "a", "password": "b"}, 400, "unsupported_grant_type"),
        ({"client_id": "x", "client_secret": "y"}, 400, "invalid_request"),
    ],
)
def test_token_errors_follow_rfc_6749(client, form, status, error):
    response = client.post(TOKEN, data=form)
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error and body["error_description"].isascii() and body["message"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic")


def test_wrong_secret_is_an_invalid_client(client, registered):
    app, secret = registered
    response = request_token(client, app.client_id, secret[:-2] + "xx")
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_json_body_and_two_authentication_methods_are_invalid_requests(client, registered):
    app, secret = registered
    as_json = client.post(TOKEN, json={"grant_type": "client_credentials", "client_id": app.client_id})
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    basic = base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    both = client.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": app.client_id, "client_secret": secret},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert both.status_code == 400 and both.json()["error"] == "invalid_request"


def test_whoami_names_the_calling_application(client, registered, city):
    app, secret = registered
    response = client.get(WHOAMI, headers=bearer(client, app.client_id, secret))
    assert response.status_code == 200
    me = response.json()
    assert me["client_id"] == app.client_id and me["application_id"] == app.id
    assert me["department"]["code"] == city.police.code and me["channel"] == "hall"


def test_whoami_without_a_token_or_with_a_user_token_is_refused(client, city):
    missing = client.get(WHOAMI)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_access_token"
    user_token = client.get(WHOAMI, headers=city.headers("police_officer"))
    assert user_token.status_code == 401 and user_token.json()["error"]["code"] == "invalid_token"
    # RFC 6750 §3: the challenge names the scheme, and a refused token is invalid_token
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert user_token.headers["WWW-Authenticate"] == 'Bearer realm="govshare", error="invalid_token"'


def test_expired_token_is_refused(client, session, settings, registered):
    app, _ = registered
    old = tokens.issue(session, settings, app, now=utcnow() - timedelta(minutes=11))
    response = client.get(WHOAMI, headers={"Authorization": f"Bearer {old.token}"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_expired"


def _b64json(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _b64part(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_token_is_refused(client, registered, session, city):
    app, secret = registered
    other, _ = register(session, city.market_officer, name="企业开办一网通办")
    token = bearer(client, app.client_id, secret)["Authorization"][7:]
    header, payload, signature = token.split(".")
    claims = _b64json(payload) | {"app": other.id, "sub": other.client_id}
    forged = ".".join((header, _b64part(claims), signature))
    response = client.get(WHOAMI, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_token"
    unsigned = ".".join((_b64part({"alg": "none", "kid": _b64json(header)["kid"]}), _b64part(claims), ""))
    response = client.get(WHOAMI, headers={"Authorization": f"Bearer {unsigned}"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_token"


def test_token_for_another_audience_is_refused(client, session, settings, registered):
    app, _ = registered
    issued = tokens.issue(session, settings, app)
    key = tokens.signing_key(session, settings)
    foreign = jwt.encode(
        issued.claims | {"aud": "another-platform"},
        tokens._private_key(key, settings),
        algorithm="EdDSA",
        headers={"kid": key.kid},
    )
    response = client.get(WHOAMI, headers={"Authorization": f"Bearer {foreign}"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_token"


def test_key_rotation_keeps_live_tokens_and_signs_new_ones_with_the_new_key(client, registered, city):
    app, secret = registered
    before = bearer(client, app.client_id, secret)
    old_kid = jwt.get_unverified_header(before["Authorization"][7:])["kid"]
    rotated = client.post("/api/v1/exchange/signing-keys/rotate", headers=city.headers("admin"))
    assert rotated.status_code == 201
    new_kid = rotated.json()["kid"]
    assert new_kid != old_kid

    assert client.get(WHOAMI, headers=before).status_code == 200
    after = bearer(client, app.client_id, secret)
    assert jwt.get_unverified_header(after["Authorization"][7:])["kid"] == new_kid
    assert client.get(WHOAMI, headers=after).status_code == 200
    published = [k["kid"] for k in client.get("/api/v1/oauth/jwks").json()["keys"]]
    assert published[0] == new_kid and old_kid in published
    assert all(
        k["kty"] == "OKP" and k["crv"] == "Ed25519" for k in client.get("/api/v1/oauth/jwks").json()["keys"]
    )


def test_key_retired_longer_than_a_token_lifetime_ago_verifies_nothing(client, session, registered, city):
    app, secret = registered
    before = bearer(client, app.client_id, secret)
    old_kid = jwt.get_unverified_header(before["Authorization"][7:])["kid"]
    client.post("/api/v1/exchange/signing-keys/rotate", headers=city.headers("admin"))
    old = session.scalar(select(SigningKey).where(SigningKey.kid == old_kid))
    assert old is not None
    session.refresh(old)
    old.retired_at = utcnow() - timedelta(seconds=601)
    session.commit()
    refused = client.get(WHOAMI, headers=before)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_token"
    assert old_kid not in [k["kid"] for k in client.get("/api/v1/oauth/jwks").json()["keys"]]


def test_only_the_authority_rotates_signing_keys(client, city):
    refused = client.post("/api/v1/exchange/signing-keys/rotate", headers=city.headers("police_officer"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "role_not_allowed"
    assert (
        client.get("/api/v1/exchange/signing-keys", headers=city.headers("police_officer")).status_code == 403
    )


def test_private_keys_are_sealed_with_the_settings_secret(session, settings, registered):
    app, _ = registered
    key = tokens.signing_key(session, settings)
    assert tokens._private_key(key, settings)  # opens with the platform's secret
    other = make_test_settings(secret_key="another-secret-0123456789abcdefghij")
    with pytest.raises(tokens.SigningKeyUnreadable) as caught:
        tokens.issue(session, other, app)
    assert caught.value.code == "signing_key_unreadable" and caught.value.status == 503
    new_key = tokens.rotate_signing_key(session, other)  # what the operator is told to do
    assert tokens.issue(session, other, app).kid == new_key.kid


def test_openapi_offers_the_client_credentials_flow_for_the_exchange_api(client):
    schema = client.get("/openapi.json").json()
    flow = schema["components"]["securitySchemes"]["application"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == TOKEN
    assert schema["paths"][WHOAMI]["get"]["security"] == [{"application": []}]
    assert "application/x-www-form-urlencoded" in schema["paths"][TOKEN]["post"]["requestBody"]["content"]
