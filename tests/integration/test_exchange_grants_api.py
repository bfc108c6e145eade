"""The access request, grant and demand API under /api/v1/exchange: the flows end to end over HTTP,
errors in the one error shape, and the OpenAPI documentation."""

from __future__ import annotations

import pytest

from tests.integration.exchange_support import bearer, register
from tests.integration.grant_support import SERVICE_ITEM, publish_people

BASE = "/api/v1/exchange"

people = pytest.fixture(publish_people)


@pytest.fixture
def registered(session, city):
    return register(session, city.market_officer)


def body(application, resource, **overrides):
    data = {
        "application_id": application.id,
        "resource_code": resource.code,
        "items": ["公民身份号码", "姓名", "出生日期"],
        "operations": ["lookup", "verify"],
        "purpose": "企业开办时核验法定代表人身份",
        "service_items": [SERVICE_ITEM],
    }
    return data | overrides


def test_conditional_request_inbox_narrowed_approval_and_suspension(client, city, people, registered):
    application, secret = registered
    filed = client.post(
        f"{BASE}/requests", json=body(application, people), headers=city.headers("market_officer")
    )
    assert filed.status_code == 201, filed.text
    request = filed.json()
    assert (request["status"], request["stage"], request["overdue"]) == ("pending", "provider", False)
    assert request["due_at"] and request["decisions"][0]["decision"] == "submitted"
    inbox = client.get(f"{BASE}/requests", params={"box": "inbox"}, headers=city.headers("police_officer"))
    assert [r["id"] for r in inbox.json()] == [request["id"]]
    assert client.get(f"{BASE}/requests", headers=city.headers("market_officer")).json() == []

    decision = {
        "decision": "approve",
        "items": ["公民身份号码", "姓名"],
        "unmasked_items": ["姓名"],
        "rate_limit_per_minute": 30,
    }
    decided = client.post(
        f"{BASE}/requests/{request['id']}/decision", json=decision, headers=city.headers("police_officer")
    )
    assert decided.status_code == 200, decided.text
    assert (
        decided.json()["status"] == "approved"
        and decided.json()["decisions"][-1]["actor"] == "police_officer"
    )
    grant_id = decided.json()["grant_id"]
    grant = client.get(f"{BASE}/grants/{grant_id}", headers=city.headers("market_officer")).json()
    assert grant["items"] == [{"name": "公民身份号码", "unmasked": False}, {"name": "姓名", "unmasked": True}]
    assert grant["rate_limit_per_minute"] == 30 and grant["status"] == "active"

    token = bearer(client, application.client_id, secret)
    check = {"resource": people.id, "operation": "verify", "items": ["姓名"], "service_item": SERVICE_ITEM}
    assert client.get(f"{BASE}/grants/check", params=check, headers=token).json()["id"] == grant_id
    suspended = client.post(
        f"{BASE}/grants/{grant_id}/suspend",
        json={"reason": "核查调用"},
        headers=city.headers("police_officer"),
    )
    assert suspended.json()["status"] == "suspended"
    refused = client.get(f"{BASE}/grants/check", params=check, headers=token)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "grant_suspended"
    mine = client.get(f"{BASE}/grants", params={"box": "mine"}, headers=city.headers("market_officer")).json()
    assert [g["status"] for g in mine] == ["suspended"]


def test_errors_keep_the_one_error_shape(client, city, people, registered):
    application, _ = registered
    bad = body(application, people, items=["宗教信仰", "不存在"], purpose="")
    response = client.post(f"{BASE}/requests", json=bad, headers=city.headers("market_officer"))
    assert response.status_code == 422
    codes = {e["code"] for e in response.json()["error"]["details"]["errors"]}
    assert codes == {"item_not_shareable", "unknown_item", "purpose_required"}
    filed = client.post(
        f"{BASE}/requests", json=body(application, people), headers=city.headers("market_officer")
    )
    url = f"{BASE}/requests/{filed.json()['id']}/decision"
    foreign = client.post(url, json={"decision": "approve"}, headers=city.headers("market_officer"))
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "not_provider"
    no_reason = client.post(url, json={"decision": "reject"}, headers=city.headers("police_officer"))
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "reason_required"


def test_escalation_and_the_authoritys_final_decision(client, city, people, registered):
    application, _ = registered
    filed = client.post(
        f"{BASE}/requests", json=body(application, people), headers=city.headers("market_officer")
    )
    url = f"{BASE}/requests/{filed.json()['id']}"
    client.post(
        url + "/decision",
        json={"decision": "reject", "reason": "无依据"},
        headers=city.headers("police_officer"),
    )
    escalated = client.post(
        url + "/escalation", json={"reason": "有依据"}, headers=city.headers("market_officer")
    )
    assert escalated.json()["status"] == "escalated"
    by_provider = client.post(
        url + "/final-decision", json={"decision": "approve"}, headers=city.headers("police_officer")
    )
    assert by_provider.status_code == 403 and by_provider.json()["error"]["code"] == "authority_only"
    final = client.post(
        url + "/final-decision",
        json={"decision": "approve", "reason": "应予共享"},
        headers=city.headers("admin"),
    )
    assert (
        final.json()["status"] == "approved" and final.json()["decisions"][-1]["decision"] == "final_approved"
    )


def test_demand_filed_assigned_and_declined(client, city):
    filed = client.post(
        f"{BASE}/demands",
        json={"title": "婚姻登记信息", "reason": "公积金贷款核验"},
        headers=city.headers("market_officer"),
    )
    assert filed.status_code == 201 and filed.json()["status"] == "open"
    url = f"{BASE}/demands/{filed.json()['id']}"
    assigned = client.post(
        url + "/assignment", json={"department_code": city.police.code}, headers=city.headers("admin")
    )
    assert (
        assigned.json()["status"] == "assigned"
        and assigned.json()["due_at"]
        and not assigned.json()["overdue"]
    )
    answered = client.post(
        url + "/answer", json={"reason": "由民政局负责"}, headers=city.headers("police_officer")
    )
    assert answered.json()["status"] == "declined" and answered.json()["answer"] == "由民政局负责"
    listed = client.get(
        f"{BASE}/demands", params={"status": "declined"}, headers=city.headers("clerk")
    ).json()
    assert [d["id"] for d in listed] == [filed.json()["id"]]


def test_the_endpoints_are_documented(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/requests", "post"), ("/requests/{request_id}/decision", "post"), ("/requests/{request_id}/escalation", "post"),
        ("/requests/{request_id}/final-decision", "post"), ("/grants", "get"), ("/grants/{grant_id}/{action}", "post"),
        ("/grants/{grant_id}/renew", "post"), ("/demands", "post"), ("/demands/{demand_id}/assignment", "post"),
    ]:  # fmt: skip
        operation = paths[BASE + path][method]
        assert operation["summary"] and operation["description"], path
