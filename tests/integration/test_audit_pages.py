"""Audit pages through the app (SQLite and PostgreSQL): the auditors' search with filters and pages,
the chain status with verify / checkpoint buttons, and the clerk's citizen access log page."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from govshare.audit.models import AuditEvent
from tests.factories import City
from tests.integration.audit_support import ID_NUMBER, allow_tampering
from tests.integration.test_audit_queries import seed
from tests.integration.test_pages import HTML, csrf, login, visible_text


@pytest.fixture
def seeded(session: Session, city: City) -> City:
    seed(session, city)
    return city


def test_the_auditor_filters_the_log_and_pages_through_it(client: TestClient, seeded: City):
    login(client, "auditor")
    page = client.get("/audit", params={"outcome": "refused"}, headers=HTML)
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "调用日志查询" in text and "CASE-C" in text and "no_grant" in text and "CASE-A" not in text
    assert 'href="/api/v1/audit/events.csv?outcome=refused"' in page.text
    assert client.get("/audit", params={"since": "not-a-date"}, headers=HTML).status_code == 422
    assert 'data-seq="5"' in client.get("/audit", headers=HTML).text
    older = client.get("/audit", params={"cursor": "3"}, headers=HTML).text
    assert 'data-seq="2"' in older and 'data-seq="3"' not in older


@pytest.mark.parametrize("who", ["clerk", "market_officer"])
def test_others_may_not_open_the_audit_search_or_chain_status(client: TestClient, seeded: City, who: str):
    login(client, who)
    assert client.get("/audit", headers=HTML).status_code == 403
    assert client.get("/audit/chain", headers=HTML).status_code == 403


def test_the_chain_page_verifies_and_names_a_tampered_entry(
    client: TestClient, session: Session, seeded: City
):
    login(client, "admin")
    assert "尚未核验" in visible_text(client.get("/audit/chain", headers=HTML).text)
    token = csrf(client, "/audit/chain")
    done = client.post("/audit/chain/verify", data={"csrf_token": token}, headers=HTML)
    assert "核验完成。完好" in visible_text(done.text)
    allow_tampering(session)
    session.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(refusal_code="allowed_really"))
    broken = visible_text(client.post("/audit/chain/verify", data={"csrf_token": token}, headers=HTML).text)
    assert "核验完成。发现 1 处问题" in broken and "首个在第 3 条（modified）" in broken
    signed = client.post("/audit/chain/checkpoint", data={"csrf_token": token}, headers=HTML)
    assert "已在第 5 条签署检查点" in visible_text(signed.text)


def test_a_clerk_opens_a_citizens_access_log_after_checking_the_identity_card(
    client: TestClient, session: Session, seeded: City
):
    login(client, "clerk")
    form = client.get("/audit/my-data", headers=HTML)
    assert form.status_code == 200 and "群众看到的是" in visible_text(form.text)
    token = csrf(client, "/audit/my-data")
    data = {"csrf_token": token, "type": "person_id", "key": ID_NUMBER, "case_id": "窗口-7"}
    unchecked = client.post("/audit/my-data", data=data, headers=HTML)
    assert unchecked.status_code == 422 and "请先核对本人有效身份证件" in visible_text(unchecked.text)
    assert ID_NUMBER not in unchecked.text
    shown = client.post("/audit/my-data", data=data | {"identity_checked": "yes"}, headers=HTML)
    text = visible_text(shown.text)
    assert shown.status_code == 200 and "1101**********002X" in text and ID_NUMBER not in shown.text
    assert text.count("CASE-A") == 2 and "CASE-D" in text and "CASE-B" not in text and "CASE-C" not in text
    looked_up = session.scalar(select(AuditEvent).where(AuditEvent.operation == "citizen_log"))
    assert looked_up is not None and looked_up.case_id == "窗口-7" and looked_up.user_id == seeded.clerk.id


def test_a_data_officer_may_not_open_the_citizen_access_log(client: TestClient, seeded: City):
    login(client, "police_officer")
    assert client.get("/audit/my-data", headers=HTML).status_code == 403


def test_the_navigation_links_clerks_to_the_citizen_log_and_auditors_to_the_search(
    client: TestClient, seeded: City
):
    login(client, "clerk")
    assert 'href="/audit/my-data"' in client.get("/catalog", headers=HTML).text
    login(client, "auditor")
    assert 'href="/audit" ' in client.get("/catalog", headers=HTML).text


def test_the_clerk_hands_the_citizen_a_link_that_opens_without_signing_in(client: TestClient, seeded: City):
    login(client, "clerk")
    data = {"csrf_token": csrf(client, "/audit/my-data"), "type": "person_id", "key": ID_NUMBER,
            "identity_checked": "yes", "issue_link": "yes"}  # fmt: skip
    shown = client.post("/audit/my-data", data=data, headers=HTML).text
    match = re.search(r"http://testserver(/audit/subject/[A-Za-z0-9_\-.]+)", shown)
    assert match, "no link on the page"
    client.cookies.clear()  # the citizen has no account
    page = client.get(match.group(1), headers=HTML)
    text = visible_text(page.text)
    assert page.status_code == 200 and "1101**********002X" in text and text.count("CASE-A") == 2
    broken = client.get(match.group(1)[:-4] + "AAAA", headers=HTML)
    assert broken.status_code == 401 and "链接无效" in visible_text(broken.text)
