"""Applications (接入应用) and their credentials through the API: registration, the secret shown
once, rotation, revocation, disabling, the credential log and department ownership."""

from __future__ import annotations

from sqlalchemy import select

from govshare.exchange.models import ClientSecret, CredentialEvent
from tests.integration.exchange_support import application_in, bearer, register, request_token

BASE = "/api/v1/exchange/applications"


def _body(**overrides):
    return application_in(**overrides).model_dump(exclude_none=True)


def test_officer_registers_an_application_and_sees_the_secret_once(client, city, session):
    response = client.post(BASE, json=_body(), headers=city.headers("police_officer"))
    assert response.status_code == 201, response.text
    created = response.json()
    secret = created["credentials"]["client_secret"]
    client_id = created["credentials"]["client_id"]
    assert secret.startswith("gss_") and len(secret) > 40
    assert created["application"]["department"]["code"] == city.police.code
    assert created["application"]["channel"] == "hall"

    app_id = created["application"]["id"]
    shown = client.get(f"{BASE}/{app_id}", headers=city.headers("police_officer"))
    assert shown.status_code == 200 and secret not in shown.text and shown.json()["client_id"] == client_id
    listed = client.get(BASE, headers=city.headers("police_officer"))
    assert secret not in listed.text
    request_token(client, client_id, secret).raise_for_status()


def test_secret_is_never_stored_in_clear(session, city):
    app, secret = register(session, city.police_officer)
    stored = session.scalars(select(ClientSecret).where(ClientSecret.application_id == app.id)).all()
    assert len(stored) == 1 and stored[0].secret_hash != secret
    events = session.scalars(select(CredentialEvent).where(CredentialEvent.application_id == app.id)).all()
    rows = [vars(r) for r in (app, *stored, *events)]
    assert not any(secret in str(value) for row in rows for value in row.values())
    assert secret[4:] not in str([e.details for e in events])


def test_registration_errors_carry_their_codes(client, city):
    headers = city.headers("police_officer")
    bad_phone = client.post(BASE, json=_body(contact_phone="12345"), headers=headers)
    assert bad_phone.status_code == 422
    assert bad_phone.json()["error"]["code"] == "invalid_phone"
    bad_channel = client.post(BASE, json=_body(channel="fax", name=""), headers=headers)
    assert bad_channel.json()["error"]["code"] == "invalid_name"
    codes = [e["code"] for e in bad_channel.json()["error"]["details"]["errors"]]
    assert codes == ["invalid_name", "invalid_channel"]


def test_a_department_cannot_register_two_applications_with_one_name(client, city):
    headers = city.headers("police_officer")
    assert client.post(BASE, json=_body(), headers=headers).status_code == 201
    again = client.post(BASE, json=_body(), headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_application_name"
    # another department may use the same name
    assert client.post(BASE, json=_body(), headers=city.headers("market_officer")).status_code == 201


def test_officers_cannot_manage_other_departments_applications(client, session, city):
    app, _ = register(session, city.police_officer)
    other = city.headers("market_officer")
    for method, path in [
        ("get", f"{BASE}/{app.id}"),
        ("post", f"{BASE}/{app.id}/secret"),
        ("post", f"{BASE}/{app.id}/revoke"),
        ("post", f"{BASE}/{app.id}/disable"),
        ("get", f"{BASE}/{app.id}/events"),
    ]:
        response = client.request(method, path, headers=other)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["code"] == "not_own_application"
    foreign = client.post(BASE, json=_body(department_code=city.police.code), headers=other)
    assert foreign.status_code == 403
    assert app.id not in [a["id"] for a in client.get(BASE, headers=other).json()]
    assert client.get(BASE, params={"department": city.police.code}, headers=other).status_code == 403


def test_authority_manages_every_department_and_auditors_only_read(client, session, city):
    created = client.post(
        BASE, json=_body(department_code=city.market.code), headers=city.headers("admin")
    ).json()
    app_id = created["application"]["id"]
    assert created["application"]["department"]["code"] == city.market.code
    police_app, _ = register(session, city.police_officer)
    every = {a["id"] for a in client.get(BASE, headers=city.headers("auditor")).json()}
    assert {app_id, police_app.id} <= every
    refused = client.post(f"{BASE}/{app_id}/secret", headers=city.headers("auditor"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "role_not_allowed"
    clerk = client.post(BASE, json=_body(name="窗口自助机"), headers=city.headers("clerk"))
    assert clerk.status_code == 403 and clerk.json()["error"]["code"] == "role_not_allowed"
    assert client.post(f"{BASE}/{app_id}/revoke", headers=city.headers("admin")).status_code == 200


def test_rotating_the_secret_stops_the_old_one_and_keeps_live_tokens(client, session, city):
    app, old = register(session, city.police_officer)
    live = bearer(client, app.client_id, old)
    rotated = client.post(f"{BASE}/{app.id}/secret", headers=city.headers("police_officer"))
    assert rotated.status_code == 200
    new = rotated.json()["client_secret"]
    assert new != old and rotated.json()["client_id"] == app.client_id
    refused = request_token(client, app.client_id, old)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert request_token(client, app.client_id, new).status_code == 200
    assert client.get("/api/v1/exchange/whoami", headers=live).status_code == 200


def test_a_rotation_grace_period_keeps_the_old_secret_working(client, session, city):
    app, old = register(session, city.police_officer)
    rotated = client.post(
        f"{BASE}/{app.id}/secret", json={"grace_minutes": 30}, headers=city.headers("police_officer")
    )
    assert rotated.json()["previous_secret_expires_at"] is not None
    assert request_token(client, app.client_id, old).status_code == 200
    assert request_token(client, app.client_id, rotated.json()["client_secret"]).status_code == 200


def test_revoking_kills_every_secret_and_live_token_until_a_new_secret(client, session, city):
    app, secret = register(session, city.police_officer)
    live = bearer(client, app.client_id, secret)
    headers = city.headers("police_officer")
    assert (
        client.post(f"{BASE}/{app.id}/revoke", json={"reason": "密钥泄露"}, headers=headers).status_code
        == 200
    )
    assert request_token(client, app.client_id, secret).json()["error"] == "invalid_client"
    refused = client.get("/api/v1/exchange/whoami", headers=live)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "credentials_revoked"
    fresh = client.post(f"{BASE}/{app.id}/secret", headers=headers).json()["client_secret"]
    whoami = client.get("/api/v1/exchange/whoami", headers=bearer(client, app.client_id, fresh))
    assert whoami.status_code == 200


def test_a_disabled_application_gets_no_token_and_its_live_tokens_fail(client, session, city):
    app, secret = register(session, city.police_officer)
    live = bearer(client, app.client_id, secret)
    headers = city.headers("police_officer")
    disabled = client.post(f"{BASE}/{app.id}/disable", json={"reason": "系统下线"}, headers=headers)
    assert disabled.json()["status"] == "disabled" and disabled.json()["disabled_at"]
    refused = request_token(client, app.client_id, secret)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    whoami = client.get("/api/v1/exchange/whoami", headers=live)
    assert whoami.status_code == 401 and whoami.json()["error"]["code"] == "application_disabled"
    again = client.post(f"{BASE}/{app.id}/secret", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "application_disabled"


def test_every_credential_event_names_who_and_when(client, session, city):
    app, _ = register(session, city.police_officer)
    client.post(f"{BASE}/{app.id}/secret", json={"grace_minutes": 5}, headers=city.headers("admin"))
    client.post(
        f"{BASE}/{app.id}/revoke", json={"reason": "密钥泄露"}, headers=city.headers("police_officer")
    )
    client.post(f"{BASE}/{app.id}/disable", headers=city.headers("admin"))
    events = client.get(f"{BASE}/{app.id}/events", headers=city.headers("police_officer")).json()
    assert [(e["kind"], e["actor"]) for e in events] == [
        ("registered", "police_officer"),
        ("secret_rotated", "admin"),
        ("revoked", "police_officer"),
        ("disabled", "admin"),
    ]
    assert events[1]["details"]["grace_minutes"] == 5
    assert events[2]["details"] == {"secrets_revoked": 2, "reason": "密钥泄露"}
    assert all(e["at"] for e in events)
    session.refresh(app)  # the API changed it through its own session
    assert app.token_generation == 1
