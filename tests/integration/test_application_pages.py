"""Application pages (接入应用): register, the secret shown once, rotate, revoke, disable — SQLite and PostgreSQL."""

from __future__ import annotations

import re

from sqlalchemy import select

from govshare.exchange.models import Application, ClientSecret
from tests.integration.test_pages import HTML, csrf, login, visible_text

NEW = "/exchange/applications/new"
SECRET = re.compile(r'data-testid="client-secret"[^>]*>(gss_[^<]+)<')


def register(client, **overrides):
    data = {"name": "综合受理系统", "channel": "hall", "contact_name": "张三", "contact_phone": "13800138000",
            "description": "市民中心窗口", "csrf_token": csrf(client, NEW)} | overrides  # fmt: skip
    return client.post(NEW, data=data, headers=HTML, follow_redirects=False)


def test_registering_shows_the_secret_once_and_stores_only_its_digest(client, session, city):
    login(client, "police_officer")
    page = register(client)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    secret = SECRET.search(page.text).group(1)
    app = session.scalars(select(Application).where(Application.name == "综合受理系统")).one()
    assert app.client_id in page.text and app.department_id == city.police.id
    stored = session.scalars(select(ClientSecret).where(ClientSecret.application_id == app.id)).one()
    assert secret not in stored.secret_hash
    detail = client.get(f"/exchange/applications/{app.id}", headers=HTML)
    assert detail.status_code == 200 and secret not in detail.text and app.client_id in detail.text
    assert "登记应用，签发首个密钥" in visible_text(detail.text)
    listed = client.get("/exchange/applications", headers=HTML)
    assert "综合受理系统" in listed.text and secret not in listed.text
    # the secret works at the token endpoint
    token = client.post(
        "/api/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=(app.client_id, secret)
    )
    assert token.status_code == 200 and token.json()["token_type"] == "Bearer"


def test_every_problem_is_shown_next_to_its_field_and_nothing_is_stored(client, session, city):
    login(client, "police_officer")
    page = register(client, name="", channel="fax", contact_phone="12345")
    assert page.status_code == 422
    for field in ("name", "channel", "contact_phone"):
        assert f'data-error-for="{field}"' in page.text
    assert 'value="12345"' in page.text  # what was typed comes back
    assert session.scalars(select(Application)).first() is None


def test_a_duplicate_name_is_shown_at_the_name(client, city):
    login(client, "police_officer")
    register(client)
    again = register(client)
    assert again.status_code == 422 and 'data-error-for="name"' in again.text


def test_rotation_shows_the_new_secret_once_and_the_old_one_stops(client, session, city):
    login(client, "police_officer")
    first = SECRET.search(register(client).text).group(1)
    app = session.scalars(select(Application)).one()
    url = f"/exchange/applications/{app.id}"
    bad = client.post(
        url + "/rotate", data={"grace_minutes": "lots", "csrf_token": csrf(client, url)}, headers=HTML
    )
    assert bad.status_code == 422 and "整数分钟" in visible_text(bad.text)
    page = client.post(
        url + "/rotate", data={"grace_minutes": "", "csrf_token": csrf(client, url)}, headers=HTML
    )
    second = SECRET.search(page.text).group(1)
    assert second != first and page.headers["cache-control"] == "no-store"
    old = client.post(
        "/api/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=(app.client_id, first)
    )
    new = client.post(
        "/api/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=(app.client_id, second)
    )
    assert old.status_code == 401 and new.status_code == 200


def test_revoke_and_disable_need_a_reason_and_take_effect(client, session, city):
    login(client, "police_officer")
    secret = SECRET.search(register(client).text).group(1)
    app = session.scalars(select(Application)).one()
    url = f"/exchange/applications/{app.id}"
    refused = client.post(
        url + "/revoke", data={"reason": " ", "csrf_token": csrf(client, url)}, headers=HTML
    )
    assert refused.status_code == 422 and "原因" in visible_text(refused.text)
    reason = {"reason": "密钥泄露", "csrf_token": csrf(client, url)}
    done = client.post(url + "/revoke", data=reason, headers=HTML, follow_redirects=False)
    assert done.status_code == 303
    token = client.post(
        "/api/v1/oauth/token", data={"grant_type": "client_credentials"}, auth=(app.client_id, secret)
    )
    assert token.status_code == 401
    assert "密钥泄露" in visible_text(client.get(url, headers=HTML).text)
    client.post(url + "/disable", data={"reason": "系统下线", "csrf_token": csrf(client, url)}, headers=HTML)
    after = client.get(url, headers=HTML)
    assert "已停用" in visible_text(after.text) and 'data-testid="credential-actions"' not in after.text


def test_other_departments_and_auditors_cannot_manage(client, session, city):
    login(client, "police_officer")
    register(client)
    app = session.scalars(select(Application)).one()
    client.post("/logout", data={"csrf_token": csrf(client, "/catalog")})
    login(client, "market_officer")
    assert client.get(f"/exchange/applications/{app.id}", headers=HTML).status_code == 403
    assert "综合受理系统" not in client.get("/exchange/applications", headers=HTML).text
    client.post("/logout", data={"csrf_token": csrf(client, "/catalog")})
    login(client, "auditor")
    page = client.get(f"/exchange/applications/{app.id}", headers=HTML)
    assert page.status_code == 200 and 'data-testid="credential-actions"' not in page.text
    assert client.get(NEW, headers=HTML).status_code == 403
