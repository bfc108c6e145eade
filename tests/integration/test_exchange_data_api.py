"""The data exchange API (/api/v1/exchange/data): lookup, verify, profile and export under a grant —
only granted items, masked unless approved, every refusal with its code and without data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from govshare import audit
from govshare.core.types import utcnow
from govshare.data import service as data
from govshare.exchange import grants
from govshare.exchange.data_schemas import RecordPublic, VerifyPublic
from tests.conftest import TEST_SECRET
from tests.factories import dept_code, publish
from tests.integration.data_exchange_support import (
    BASE,
    CASE,
    SECRET_FAITH,
    app_token,
    grant,
    in_process_settings,
    last_event,
    market_registration,
    population,
)
from tests.integration.grant_support import SERVICE_ITEM
from tests.integration.test_data_load import pid


@pytest.fixture
def people(session, city):
    return population(session, city)


settings = pytest.fixture(in_process_settings)
registered = pytest.fixture(market_registration)
token = pytest.fixture(app_token)


def get_record(client, token, resource, key, headers=CASE, **params):
    return client.get(
        f"{BASE}/resources/{resource.code}/records/{key}", headers=token | headers, params=params
    )


def assert_no_data(response):
    """A refusal carries the error only: no value of any record."""
    assert set(response.json()) == {"error"}
    for leaked in ("张", "李四", SECRET_FAITH, pid(1)[6:14], "1980-01-02"):
        assert leaked not in response.text


def test_lookup_answers_only_granted_items_masked_with_provenance(
    session, client, city, people, registered, token
):
    grant(session, city, registered[0], people, items=["公民身份号码", "姓名"])
    response = get_record(client, token, people, pid(1))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["values"] == {"公民身份号码": pid(1)[:4] + "*" * 10 + pid(1)[-4:], "姓名": "张*"}
    assert body["masked"] == ["公民身份号码", "姓名"]
    RecordPublic.model_validate(body)  # the answer has the shape the OpenAPI schema documents
    assert body["key"] == pid(1) and body["resource_code"] == people.code
    provenance = body["provenance"]
    assert provenance["department_name"] == "市公安局" and provenance["department_code"] == city.police.code
    assert provenance["version"] == 1 and provenance["batch_id"] and provenance["updated_at"]
    assert "出生日期" not in response.text and SECRET_FAITH not in response.text
    assert response.headers["RateLimit-Remaining"] and response.headers["X-Request-Id"]
    event = last_event(session)  # committed with the answer: the durable record of this read
    assert (event.operation, event.outcome, event.items) == ("lookup", "allowed", ["公民身份号码", "姓名"])
    assert (event.case_id, event.operator, event.application_id) == (
        CASE["X-Case-Id"],
        "clerk01",
        registered[0].id,
    )
    assert event.purpose == "企业开办时核验法定代表人身份" and event.resource_code == people.code
    assert event.subject_key_hash == audit.subject_hash(TEST_SECRET, "person_id", pid(1))
    assert event.request_id == response.headers["X-Request-Id"] and pid(1) not in str(vars(event))


def test_lookup_shows_an_item_in_clear_only_when_the_grant_approves_it(
    session, client, city, people, registered, token
):
    grant(session, city, registered[0], people, unmasked=("姓名",))
    body = get_record(client, token, people, pid(1)).json()
    assert body["values"]["姓名"] == "张三" and body["values"]["公民身份号码"] != pid(1)
    assert body["masked"] == ["公民身份号码"] and body["values"]["出生日期"] == "1980-01-02"
    assert "宗教信仰" not in body["values"]  # never shareable, never granted


def test_lookup_asks_for_fewer_items_but_never_an_ungranted_one(
    session, client, city, people, registered, token
):
    grant(session, city, registered[0], people, items=["公民身份号码", "姓名"])
    fewer = get_record(client, token, people, pid(2), items="姓名")
    assert fewer.json()["values"] == {"姓名": "李*"}
    refused = get_record(client, token, people, pid(2), items="姓名,出生日期")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "item_not_granted"
    assert refused.json()["error"]["details"]["items"] == ["出生日期"]
    assert_no_data(refused)


def test_lookup_key_is_normalised_as_loads_normalise_it(session, client, city, people, registered, token):
    grant(session, city, registered[0], people, unmasked=("姓名",))
    full_width = pid(1).translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    assert get_record(client, token, people, full_width).json()["values"]["姓名"] == "张三"


def test_unknown_key_is_404_record_not_found_and_audited_as_a_read_attempt(
    session, client, city, people, registered, token
):
    grant(session, city, registered[0], people)
    response = get_record(client, token, people, pid(9))
    assert response.status_code == 404 and response.json()["error"]["code"] == "record_not_found"
    event = last_event(session)
    assert (event.outcome, event.refusal_code, event.items) == ("refused", "record_not_found", [])
    assert event.subject_key_hash == audit.subject_hash(TEST_SECRET, "person_id", pid(9))


# --- refusals --------------------------------------------------------------------------------------


def _suspend(session, city, g):
    grants.change_grant(session, city.police_officer, g.id, "suspend", "核查调用")


def _revoke(session, city, g):
    grants.change_grant(session, city.police_officer, g.id, "revoke", "停止合作")


def _expire(session, city, g):
    g.valid_to = (utcnow() - timedelta(days=2)).date()
    session.commit()


REFUSALS = [
    # (case, grant terms, change after granting, headers, status, code)
    ("no_token", {}, None, "no_token", 401, "missing_access_token"),
    ("no_grant", None, None, {}, 403, "no_grant"),
    ("suspended", {}, _suspend, {}, 403, "grant_suspended"),
    ("revoked", {}, _revoke, {}, 403, "grant_revoked"),
    ("expired", {}, _expire, {}, 403, "grant_expired"),
    ("operation", {"operations": ("verify",)}, None, {}, 403, "operation_not_granted"),
    ("no_case", {}, None, {"X-Case-Id": ""}, 400, "missing_case_id"),
    ("no_operator", {}, None, {"X-Operator": ""}, 400, "missing_operator"),
    ("long_case", {}, None, {"X-Case-Id": "x" * 65}, 400, "invalid_case_id"),
    ("service_item", {"service_items": (SERVICE_ITEM,)}, None, {}, 403, "service_item_required"),
    ("other_item", {"service_items": (SERVICE_ITEM,)}, None, {"X-Service-Item": "1144030000"}, 403,
     "service_item_not_covered"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "terms", "change", "headers", "status", "code"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_refusals_answer_their_code_and_no_data(
    session, client, city, people, registered, token, case, terms, change, headers, status, code
):
    if terms is not None:
        g = grant(session, city, registered[0], people, **terms)
        if change:
            change(session, city, g)
    sent = {} if headers == "no_token" else token
    case_headers = CASE | ({} if headers == "no_token" else headers)
    case_headers = {k: v for k, v in case_headers.items() if v}
    response = get_record(client, sent, people, pid(1), headers=case_headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert_no_data(response)
    event = last_event(session)  # the refusal is audited, in its own transaction
    assert (event.operation, event.outcome, event.refusal_code, event.items) == (
        "lookup",
        "refused",
        code,
        [],
    )
    assert event.application_id == (None if case == "no_token" else registered[0].id)
    assert event.resource_code == (None if status in (400, 401) else people.code)


def test_a_bound_grant_answers_for_its_service_item(session, client, city, people, registered, token):
    grant(session, city, registered[0], people, service_items=(SERVICE_ITEM,))
    response = get_record(client, token, people, pid(1), headers=CASE | {"X-Service-Item": SERVICE_ITEM})
    assert response.status_code == 200, response.text


def test_utf8_operator_names_are_accepted(session, client, city, people, registered, token):
    grant(session, city, registered[0], people)
    headers = {"X-Case-Id": "SZ-1", "X-Operator": "窗口张三".encode()}
    assert get_record(client, token, people, pid(1), headers=headers).status_code == 200
    assert last_event(session).operator == "窗口张三"


# --- verify ----------------------------------------------------------------------------------------


def verify(client, token, resource, key, claims, headers=CASE):
    return client.post(
        f"{BASE}/resources/{resource.code}/verify",
        json={"key": key, "claims": claims},
        headers=token | headers,
    )


def test_verify_answers_match_per_item_after_normalising_and_returns_no_values(
    session, client, city, people, registered, token
):
    grant(session, city, registered[0], people, operations=("verify",))
    assert pid(4).endswith("X")
    response = verify(client, token, people, pid(4).lower(), {"姓名": "王4", "出生日期": "１９８０年1月2日"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "resource_code": people.code, "exists": True, "match": True,
        "results": {"姓名": "match", "出生日期": "match"},
    }  # fmt: skip
    VerifyPublic.model_validate(response.json())
    wrong = verify(client, token, people, pid(1), {"姓名": "张四", "出生日期": "1980-01-02"}).json()
    assert wrong["results"] == {"姓名": "no_match", "出生日期": "match"} and wrong["match"] is False
    assert "张三" not in str(wrong) and "张四" not in str(wrong)
    event = last_event(session)
    assert (event.operation, event.outcome, event.items) == ("verify", "allowed", ["姓名", "出生日期"])


def test_verify_of_an_unknown_key_says_it_does_not_exist(session, client, city, people, registered, token):
    grant(session, city, registered[0], people, operations=("verify",))
    body = verify(client, token, people, pid(9), {"姓名": "张三"}).json()
    assert body == {
        "resource_code": people.code,
        "exists": False,
        "match": False,
        "results": {"姓名": "no_match"},
    }


def test_verify_needs_the_operation_and_the_claimed_items_granted(
    session, client, city, people, registered, token
):
    grant(session, city, registered[0], people, items=["公民身份号码", "姓名"], operations=("lookup",))
    refused = verify(client, token, people, pid(1), {"姓名": "张三"})
    assert refused.json()["error"]["code"] == "operation_not_granted"
    assert_no_data(refused)


def test_verify_of_an_ungranted_item_is_refused(session, client, city, people, registered, token):
    grant(session, city, registered[0], people, items=["公民身份号码", "姓名"], operations=("verify",))
    refused = verify(client, token, people, pid(1), {"出生日期": "1980-01-02"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "item_not_granted"


def test_a_malformed_request_is_refused_and_audited_too(session, client, city, people, registered, token):
    grant(session, city, registered[0], people, operations=("verify", "bulk_export"))
    broken = client.post(f"{BASE}/resources/{people.code}/verify", content=b"{not json", headers=token | CASE)
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "invalid_request"
    event = last_event(session)
    assert (event.operation, event.outcome, event.refusal_code) == ("verify", "refused", "invalid_request")
    assert (event.application_id, event.case_id, event.resource_code) == (
        registered[0].id, CASE["X-Case-Id"], people.code,
    )  # fmt: skip
    wrong_format = client.get(f"{BASE}/resources/{people.code}/export?format=xml", headers=token | CASE)
    assert wrong_format.status_code == 422
    assert (last_event(session).operation, last_event(session).refusal_code) == (
        "bulk_export",
        "invalid_request",
    )


# --- rate limit ------------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after_once_the_grants_limit_is_spent(
    session, client, city, people, registered, token
):
    grant(session, city, registered[0], people, rate=3)
    remaining = [get_record(client, token, people, pid(1)).headers["RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = get_record(client, token, people, pid(1))
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1 and refused.headers["RateLimit-Limit"] == "3"
    assert_no_data(refused)


# --- OpenAPI ---------------------------------------------------------------------------------------


def test_openapi_documents_the_data_endpoints_and_their_case_headers(client):
    paths = client.get("/openapi.json").json()["paths"]
    lookup = paths[BASE + "/resources/{code}/records/{key}"]["get"]
    assert lookup["summary"] and "masked" in lookup["description"]
    assert lookup["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/RecordPublic"
    )
    headers = {p["name"] for p in lookup["parameters"] if p["in"] == "header"}
    assert {"x-case-id", "x-operator", "x-service-item"} <= {h.lower() for h in headers}
    for path in (
        "/resources/{code}/verify",
        "/profiles/{subject_key_type}/{key}",
        "/resources/{code}/export",
    ):
        operation = next(iter(paths[BASE + path].values()))
        assert operation["summary"] and operation["description"] and "429" in operation["responses"]


# --- composite keys --------------------------------------------------------------------------------

TAX_ITEMS = [
    {"name": "统一社会信用代码", "data_type": "C", "is_key": True},
    {"name": "年度", "data_type": "C", "is_key": True},
    {"name": "纳税信用等级", "data_type": "C"},
]


def test_a_composite_key_joins_its_parts_with_a_bar_in_catalog_order(
    session, client, city, registered, token
):
    ratings = publish(
        session, city, city.police_officer, name="纳税信用等级", subject_key_type="none",
        sharing_type="conditional", sharing_condition="仅限办理政务服务事项时使用", items=TAX_ITEMS,
    )  # fmt: skip
    company = dept_code(7)
    rows = [(2, {"统一社会信用代码": company, "年度": "2025", "纳税信用等级": "A"})]
    data.load(
        session, city.police_officer, ratings.code, [i["name"] for i in TAX_ITEMS], rows, batch_key="t1"
    )
    grant(session, city, registered[0], ratings)
    answer = get_record(client, token, ratings, f"{company.lower()}|2025")
    assert answer.status_code == 200, answer.text
    assert answer.json()["values"]["纳税信用等级"] == "A" and answer.json()["key"] == f"{company}|2025"
    assert last_event(session).subject_key_hash is None  # not keyed by a subject: nothing to hash
    wrong = get_record(client, token, ratings, company)
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "invalid_key"
    assert wrong.json()["error"]["details"]["key_items"] == ["统一社会信用代码", "年度"]


def test_calls_are_counted_in_metrics_by_resource_application_outcome_and_reason(
    session, client, city, people, registered, token
):
    from tests.integration.test_metrics import sample

    app = str(registered[0].id)
    labels = {"operation": "lookup", "resource": people.code, "application": app}
    before = client.get("/metrics").text
    get_record(client, token, people, pid(1))  # no grant yet: refused
    grant(session, city, registered[0], people, items=["公民身份号码", "姓名"])
    get_record(client, token, people, pid(1))
    get_record(client, token, people, pid(2))
    after = client.get("/metrics").text
    name = "govshare_exchange_calls_total"

    def delta(**extra: str) -> float:
        return sample(after, name, **labels, **extra) - sample(before, name, **labels, **extra)

    assert delta(outcome="allowed", reason="") == 2
    assert delta(outcome="refused", reason="no_grant") == 1
    assert sample(after, "govshare_exchange_call_duration_seconds_count", operation="lookup") >= 3


def test_a_call_that_fails_unexpectedly_is_audited_as_internal_error(
    session, client, city, people, registered, token, monkeypatch
):
    from govshare.exchange import query

    grant(session, city, registered[0], people, items=["公民身份号码", "姓名"])

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(query, "mask_record", broken)
    with pytest.raises(RuntimeError):
        get_record(client, token, people, pid(1))
    event = last_event(session)
    assert (event.outcome, event.refusal_code, event.operation) == ("refused", "internal_error", "lookup")
    assert event.items in ([], ()) and event.resource_code == people.code
