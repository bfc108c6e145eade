"""The audit API (/api/v1/audit) through the app: who may call what, filters and pages, CSV, verify,
status, checkpoints, public keys and the citizen's access log (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from govshare.audit.models import AuditEvent
from govshare.core.settings import Settings
from tests.factories import City
from tests.integration.audit_support import ID_NUMBER, allow_tampering
from tests.integration.test_audit_queries import seed

API = "/api/v1/audit"


@pytest.fixture
def seeded(session: Session, city: City) -> City:
    seed(session, city)
    return city


@pytest.mark.parametrize("who", ["clerk", "police_officer"])
def test_only_auditors_and_the_authority_read_events_verify_and_status(
    client: TestClient, seeded: City, who: str
):
    for path in ("/events", "/events.csv", "/verify", "/status", "/checkpoints"):
        response = client.get(API + path, headers=seeded.headers(who))
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "role_not_allowed"
    assert client.get(API + "/events").status_code == 401


def test_events_are_filtered_and_paged_by_cursor(client: TestClient, seeded: City):
    headers = seeded.headers("auditor")
    first = client.get(API + "/events", params={"limit": 3}, headers=headers).json()
    assert [e["seq"] for e in first["events"]] == [5, 4, 3] and first["next_cursor"] == "3"
    rest = client.get(
        API + "/events", params={"limit": 3, "cursor": first["next_cursor"]}, headers=headers
    ).json()
    assert [e["seq"] for e in rest["events"]] == [2, 1] and rest["next_cursor"] is None
    refused = client.get(API + "/events", params={"outcome": "refused"}, headers=headers).json()["events"]
    assert [(e["case_id"], e["refusal_code"], e["department_name"]) for e in refused] == [
        ("CASE-C", "no_grant", "市市场监督管理局")
    ]
    by_dept = client.get(
        API + "/events", params={"department": seeded.police.code, "since": "2000-01-01"}, headers=headers
    )
    assert {e["case_id"] for e in by_dept.json()["events"]} == {"CASE-A"}
    assert client.get(API + "/events", params={"since": "yesterday"}, headers=headers).status_code == 422


def test_events_export_as_csv(client: TestClient, seeded: City):
    response = client.get(API + "/events.csv", params={"case_id": "CASE-A"}, headers=seeded.headers("admin"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.text.count("CASE-A") == 2


def test_verify_reports_a_tampered_row_and_status_keeps_the_last_run(
    client: TestClient, session: Session, seeded: City
):
    headers = seeded.headers("auditor")
    assert client.get(API + "/verify", headers=headers).json()["ok"] is True
    allow_tampering(session)
    session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(items=["姓名", "户籍地址"]))
    report = client.get(API + "/verify", headers=headers).json()
    assert report["ok"] is False and report["first_problem"]["seq"] == 2
    assert report["first_problem"]["kind"] == "modified" and report["verified_to_seq"] == 1
    state = client.get(API + "/status", headers=headers).json()
    assert state["head_seq"] == 5 and state["last_verification"]["ok"] is False


def test_the_authority_signs_a_checkpoint_that_the_public_keys_verify(
    client: TestClient, seeded: City, settings: Settings
):
    assert client.post(API + "/checkpoints", headers=seeded.headers("auditor")).status_code == 403
    cp = client.post(API + "/checkpoints", headers=seeded.headers("admin")).json()
    assert cp["seq"] == 5
    keys = client.get(API + "/keys").json()["keys"]  # public: no credentials needed
    assert [k["kid"] for k in keys] == [cp["kid"]] and keys[0]["pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert (
        client.get(API + "/checkpoints", headers=seeded.headers("auditor")).json()[0]["signature"]
        == cp["signature"]
    )


def test_a_clerk_opens_the_citizen_log_after_checking_the_identity_card(client: TestClient, seeded: City):
    body = {
        "subject_key_type": "person_id",
        "subject_key": ID_NUMBER,
        "identity_checked": True,
        "case_id": "窗口-1",
    }
    response = client.post(API + "/my-data", json=body, headers=seeded.headers("clerk"))
    assert response.status_code == 200
    log = response.json()
    assert log["masked_key"] == "1101**********002X"
    assert [r["case_id"] for r in log["reads"]] == ["CASE-D", "CASE-A", "CASE-A"]
    assert "operator" not in log["reads"][0] and ID_NUMBER not in response.text
    unchecked = client.post(
        API + "/my-data", json=body | {"identity_checked": False}, headers=seeded.headers("clerk")
    )
    assert unchecked.status_code == 422 and unchecked.json()["error"]["code"] == "identity_not_checked"
    assert (
        client.post(API + "/my-data", json=body, headers=seeded.headers("police_officer")).status_code == 403
    )


def test_an_external_auditor_recomputes_the_chain_and_checks_a_checkpoint_from_the_api_alone(
    client: TestClient, seeded: City
):
    """docs/audit.md's few lines of Python, run on what the API returns."""
    headers = seeded.headers("auditor")
    client.post(API + "/checkpoints", headers=seeded.headers("admin"))
    events = client.get(API + "/events", params={"limit": 200}, headers=headers).json()["events"]
    prev = "0" * 64
    for e in sorted(events, key=lambda e: e["seq"]):
        doc = {"v": 1} | {k: e[k] for k in FIELDS}
        digest = hashlib.sha256(
            json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        )
        assert e["prev_hash"] == prev and digest.hexdigest() == e["hash"], e["seq"]
        prev = e["hash"]
    cp = client.get(API + "/checkpoints", headers=headers).json()[0]
    key = next(k for k in client.get(API + "/keys").json()["keys"] if k["kid"] == cp["kid"])
    assert cp["hash"] == prev and json.loads(cp["message"])["hash"] == cp["hash"]
    public = load_pem_public_key(key["pem"].encode())
    public.verify(base64.urlsafe_b64decode(cp["signature"] + "=="), cp["message"].encode())  # type: ignore[union-attr]


FIELDS = (
    "chain", "seq", "occurred_at", "actor_kind", "application_id", "user_id", "department_id", "operator", "case_id",
    "service_item", "purpose", "operation", "resource_code", "subject_key_type", "subject_key_hash", "items",
    "outcome", "refusal_code", "latency_ms", "request_id", "client_address", "prev_hash",
)  # fmt: skip


def test_a_clerk_issues_a_subject_link_that_opens_the_log_without_credentials(
    client: TestClient, seeded: City
):
    body = {"subject_key_type": "person_id", "subject_key": ID_NUMBER, "identity_checked": True, "days": 2}
    issued = client.post(API + "/subject-links", json=body, headers=seeded.headers("clerk")).json()
    assert (
        issued["url"].startswith("http://testserver/audit/subject/")
        and issued["masked_key"] == "1101**********002X"
    )
    token = issued["url"].rsplit("/", 1)[1]
    log = client.get(f"{API}/subject/{token}").json()
    assert [r["case_id"] for r in log["reads"]] == ["CASE-D", "CASE-A", "CASE-A"]
    bad = client.get(f"{API}/subject/{token[:-3]}xyz")
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_subject_link"
    too_long = client.post(API + "/subject-links", json=body | {"days": 31}, headers=seeded.headers("clerk"))
    assert too_long.status_code == 422
