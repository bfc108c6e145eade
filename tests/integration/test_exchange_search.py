"""检索 (search) on searchable items: exact matches after a load's normalisation, from the term index
that every load keeps in step, a sealed cursor over the pages, the grant's items masked, every answer
and refusal audited — called as a use case and over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, select

from govshare import audit
from govshare.catalog.models import Item
from govshare.core.errors import DomainError
from govshare.data import search_index
from govshare.data import service as data
from govshare.data.models import SearchIndexedItem, SearchTerm
from govshare.exchange import query, search
from govshare.exchange.ratelimit import InProcessLimiter
from govshare.exchange.search_api import SearchPublic
from tests.conftest import TEST_SECRET
from tests.factories import publish
from tests.integration.data_exchange_support import (
    BASE,
    CASE,
    SECRET_FAITH,
    app_token,
    grant,
    in_process_settings,
    last_event,
    market_registration,
)
from tests.integration.grant_support import PEOPLE_ITEMS, publish_people
from tests.integration.test_data_load import pid

# The population of the exchange tests, with 姓名 and 出生日期 searchable too (公民身份号码, the key, is).
SEARCH_ITEMS = [
    item | {"searchable": item["name"] in ("公民身份号码", "姓名", "出生日期")} for item in PEOPLE_ITEMS
]
ZHANG = [1, 3, 5, 7, 9, 11]  # 张三; the others 李四


def row(n: int, **changes: str) -> dict[str, str]:
    values = {
        "公民身份号码": pid(n),
        "姓名": "张三" if n in ZHANG else "李四",
        "出生日期": "1980-01-02" if n % 3 else "1990-05-06",
        "宗教信仰": SECRET_FAITH,
    }
    return values | changes


def load(session, city, resource, rows: list[dict[str, str]], key: str, mode: str = "upsert") -> None:
    columns = list(rows[0])
    report = data.load(
        session, city.police_officer, resource.code, columns, list(enumerate(rows, start=2)), batch_key=key,
        mode=mode,
    )  # fmt: skip
    assert report.rejected == 0, report.rejections


@pytest.fixture
def people(session, city):
    resource = publish_people(
        session, city, items=SEARCH_ITEMS, sharing_methods=["online_query", "system_integration"]
    )
    load(session, city, resource, [row(n) for n in range(1, 13)], "b1")
    return resource


settings = pytest.fixture(in_process_settings)
registered = pytest.fixture(market_registration)
token = pytest.fixture(app_token)


def searcher(session, city, application, resource, **terms: Any):
    """Grant ``search`` on ``resource`` and return a function calling the use case directly."""
    grant(session, city, application, resource, operations=("search",), **terms)
    limiter = InProcessLimiter()

    def run(conditions, **options):
        call = query.Call(
            application=application, case_id="SZ-1", operator="cli", service_item=None, request_id="r"
        )
        return search.search(
            session, in_process_settings(), limiter, call, resource.code, conditions, **options
        )

    return run


def ids(answer) -> list[str]:
    return [hit.values["公民身份号码"] for hit in answer.records]


def test_search_finds_exactly_the_records_of_the_value_in_key_order(session, city, people, registered):
    run = searcher(session, city, registered[0], people, unmasked=("公民身份号码",))
    answer = run({"姓名": "张三"})
    assert ids(answer) == [pid(n) for n in ZHANG] and answer.next_cursor is None
    assert ids(run({"姓名": "张三", "出生日期": "1990-05-06"})) == [pid(3), pid(9)]  # ANDed
    assert ids(run({"姓名": "王五"})) == []
    event = last_event(session)
    assert (event.operation, event.outcome, event.items) == ("search", "allowed", [])  # nothing returned
    assert event.subject_key_hash is None  # a search by name is not about one subject


def test_the_index_follows_an_update_and_a_delete_batch(session, city, people, registered):
    run = searcher(session, city, registered[0], people, unmasked=("公民身份号码",))
    load(session, city, people, [row(2, 姓名="张三"), row(3, 姓名="王五"), row(13)], "b2")
    assert ids(run({"姓名": "张三"})) == [pid(n) for n in [1, 2, 5, 7, 9, 11]]
    assert ids(run({"姓名": "王五"})) == [pid(3)]
    assert pid(13) in ids(run({"姓名": "李四"})) and pid(2) not in ids(run({"姓名": "李四"}))
    load(session, city, people, [{"公民身份号码": pid(1)}, {"公民身份号码": pid(2)}], "d1", mode="delete")
    assert ids(run({"姓名": "张三"})) == [pid(n) for n in [5, 7, 9, 11]]
    load(session, city, people, [row(5), row(6)], "r1", mode="replace")  # everything else is deleted
    assert ids(run({"姓名": "张三"})) == [pid(5)] and ids(run({"姓名": "李四"})) == [pid(6)]
    terms = session.scalars(select(SearchTerm.record_key).where(SearchTerm.resource_id == people.id)).all()
    assert sorted(terms) == [pid(5), pid(5), pid(6), pid(6)]  # 姓名 and 出生日期 of the two left


def test_pages_return_every_match_once_in_key_order_with_a_stable_sealed_cursor(
    session, city, people, registered
):
    load(session, city, people, [row(n, 姓名="张三") for n in range(13, 38)], "b2")  # 31 张三 in all
    run = searcher(session, city, registered[0], people, unmasked=("公民身份号码",))
    pages, cursor = [], None
    while True:
        answer = run({"姓名": "张三"}, limit=10, cursor=cursor)
        pages.append(ids(answer))
        if answer.next_cursor is None:
            break
        assert run({"姓名": "张三"}, limit=10, cursor=cursor).next_cursor == answer.next_cursor  # stable
        cursor = answer.next_cursor
    assert [len(p) for p in pages] == [10, 10, 10, 1]
    assert sum(pages, []) == [pid(n) for n in [*ZHANG, *range(13, 38)]]
    assert pid(31) not in cursor and "4403" not in cursor  # the key is sealed, not encoded
    with pytest.raises(DomainError) as other:  # a cursor belongs to its search
        run({"姓名": "李四"}, limit=10, cursor=cursor)
    assert (other.value.code, other.value.status) == ("invalid_cursor", 400)
    assert (last_event(session).outcome, last_event(session).refusal_code) == ("refused", "invalid_cursor")


def test_items_are_masked_per_rule_and_narrowed_grants_never_leak(session, city, people, registered):
    run = searcher(session, city, registered[0], people, items=["公民身份号码", "姓名"])
    answer = run({"姓名": "张三"}, limit=2)
    first = answer.records[0]
    assert first.values == {"公民身份号码": pid(1)[:4] + "*" * 10 + pid(1)[-4:], "姓名": "张*"}
    assert first.masked == ["公民身份号码", "姓名"]
    assert (first.provenance.department_name, first.provenance.version) == ("市公安局", 1)
    assert all("出生日期" not in hit.values and "宗教信仰" not in hit.values for hit in answer.records)
    assert [hit.values for hit in run({"姓名": "张三"}, items=["姓名"]).records] == [{"姓名": "张*"}] * 6
    assert last_event(session).items == ["姓名"]
    with pytest.raises(DomainError) as refused:  # 出生日期 is searchable, but not granted
        run({"出生日期": "1980-01-02"})
    assert (refused.value.code, refused.value.details["items"]) == ("item_not_granted", ["出生日期"])


def test_an_id_condition_is_normalised_as_loads_normalise_it_and_names_the_subject(
    session, city, people, registered
):
    run = searcher(session, city, registered[0], people, unmasked=("姓名",))
    full_width = pid(3).translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    answer = run({"公民身份号码": full_width, "姓名": "张三"})
    assert [hit.values["姓名"] for hit in answer.records] == ["张三"]
    assert run({"公民身份号码": full_width, "姓名": "李四"}).records == []
    x_id = next(pid(n) for n in range(1, 13) if pid(n).endswith("X"))
    assert len(run({"公民身份号码": x_id.lower()}).records) == 1
    assert last_event(session).subject_key_hash == audit.subject_hash(TEST_SECRET, "person_id", x_id)
    assert run({"出生日期": "１９９０年5月6日"}).records  # the date layouts of a load


def test_conditions_are_refused_unless_searchable_given_once_and_valid(session, city, people, registered):
    run = searcher(session, city, registered[0], people)
    for conditions, code in [
        ({}, "conditions_required"),
        ({"宗教信仰": SECRET_FAITH}, "item_not_searchable"),
        ({"不存在": "1"}, "item_not_searchable"),
        ([("姓名", "张三"), ("姓名", "李四")], "duplicate_condition"),
        ({"公民身份号码": pid(1)[:-1] + ("1" if pid(1).endswith("0") else "0")}, "invalid_condition"),
        ({"姓名": " "}, "invalid_condition"),
    ]:
        with pytest.raises(DomainError) as refused:
            run(conditions)
        assert refused.value.code == code, conditions
        assert (last_event(session).outcome, last_event(session).refusal_code) == ("refused", code)
    with pytest.raises(DomainError) as too_many:
        run({"姓名": "张三"}, limit=101)
    assert too_many.value.code == "invalid_limit"


def test_terms_are_built_for_records_loaded_before_the_index_and_dropped_when_not_searchable(
    session, city, people, registered
):
    session.execute(delete(SearchTerm))  # as after migration 0009 on a database with records
    session.execute(delete(SearchIndexedItem))
    run = searcher(session, city, registered[0], people, unmasked=("公民身份号码",))
    assert ids(run({"姓名": "张三"})) == [pid(n) for n in ZHANG]  # built by the first search
    birth = session.scalar(select(Item).where(Item.resource_id == people.id, Item.name == "出生日期"))
    birth.searchable = False
    session.flush()
    load(session, city, people, [row(1)], "b2")  # the next load drops the item's terms
    indexed = session.scalars(
        select(SearchIndexedItem.item).where(SearchIndexedItem.resource_id == people.id)
    )
    assert list(indexed) == ["姓名"]
    assert not session.scalar(select(SearchTerm.item).where(SearchTerm.item == "出生日期"))


def test_a_composite_key_part_and_an_item_name_with_quotes_are_searchable(session, city, registered):
    items = [
        {"name": "证照编号", "data_type": "C", "is_key": True, "searchable": True},
        {"name": "年度", "data_type": "N", "is_key": True},
        {"name": '持证人"简称"', "data_type": "C", "searchable": True},
    ]
    licences = publish(
        session, city, city.police_officer, classification_code="301", name="证照年检", items=items,
        subject_key_type="none", sharing_methods=["online_query", "system_integration"],
    )  # fmt: skip
    rows = [
        {"证照编号": f"ZZ{n % 2}", "年度": str(2020 + n), '持证人"简称"': "甲" if n < 3 else "乙"}
        for n in range(5)
    ]
    load(session, city, licences, rows, "b1")
    run = searcher(session, city, registered[0], licences)
    assert [h.values["年度"] for h in run({"证照编号": "ZZ0"}).records] == ["2020", "2022", "2024"]
    assert [h.values["年度"] for h in run({'持证人"简称"': "甲", "证照编号": "ZZ1"}).records] == ["2021"]


def plan(session, stmt) -> str:
    conn = session.connection()
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        return "\n".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # the tables are tiny: is an index usable?
    try:
        return "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))
    finally:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = on")


def test_a_search_reads_the_term_index_and_never_scans_the_records(session, city, people):
    one = search_index.matching_records(people.id, [("姓名", "张三")], after=pid(1)).limit(21)
    two = search_index.matching_records(people.id, [("姓名", "张三"), ("出生日期", "1980-01-02")]).limit(21)
    for stmt in (one, two):
        shown = plan(session, stmt)
        if session.bind.dialect.name == "sqlite":
            assert (
                "SEARCH t0 USING PRIMARY KEY (resource_id=? AND item=? AND value=? AND record_key>?)" in shown
            )
            assert (
                "SEARCH data_record USING INDEX sqlite_autoindex_data_record_1 (resource_id=? AND record_key=?)"
                in shown
            )
            assert "SCAN" not in shown and "TEMP B-TREE" not in shown, shown  # no scan, no sort
        else:
            assert "Index Only Scan using pk_data_search_term on data_search_term t0" in shown, shown
            assert "uq_data_record_resource_key" in shown
            assert "Seq Scan" not in shown and "Sort" not in shown, shown


# --- over HTTP -------------------------------------------------------------------------------------


def get_search(client, token, resource, headers=CASE, **params):
    return client.get(f"{BASE}/resources/{resource.code}/search", headers=token | headers, params=params)


def test_search_over_http_answers_masked_pages_with_provenance(
    session, client, city, people, registered, token
):
    grant(
        session,
        city,
        registered[0],
        people,
        operations=("search",),
        items=["公民身份号码", "姓名", "出生日期"],
    )
    response = get_search(client, token, people, where=["姓名:张三", "出生日期:1980-01-02"], limit=2)
    assert response.status_code == 200, response.text
    body = response.json()
    SearchPublic.model_validate(body)  # the shape the OpenAPI schema documents
    assert [r["values"]["公民身份号码"] for r in body["records"]] == [pid(1)[:4] + "*" * 10 + pid(1)[-4:]] + [
        pid(5)[:4] + "*" * 10 + pid(5)[-4:]
    ]
    assert body["records"][0]["provenance"]["department_code"] == city.police.code
    assert body["next_cursor"] and response.headers["RateLimit-Remaining"]
    assert (
        pid(1) not in response.text and SECRET_FAITH not in response.text and "key" not in body["records"][0]
    )
    following = get_search(client, token, people, where=["姓名:张三", "出生日期:1980-01-02"], limit=2,
                           cursor=body["next_cursor"])  # fmt: skip
    assert [r["values"]["出生日期"] for r in following.json()["records"]] == ["1980-01-02"] * 2
    event = last_event(session)
    assert (event.operation, event.outcome, event.items) == (
        "search",
        "allowed",
        ["公民身份号码", "姓名", "出生日期"],
    )
    assert (event.case_id, event.resource_code, event.application_id) == (
        CASE["X-Case-Id"], people.code, registered[0].id,
    )  # fmt: skip
    assert event.request_id == following.headers["X-Request-Id"] and event.subject_key_hash is None


def assert_refused(session, response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"} and response.json()["error"]["code"] == code
    assert all(leaked not in response.text for leaked in ("李四", SECRET_FAITH, pid(1), pid(3)))
    event = last_event(session)
    assert (event.operation, event.outcome, event.refusal_code, event.items) == (
        "search",
        "refused",
        code,
        [],
    )


def test_search_over_http_is_refused_with_stable_codes_and_every_refusal_audited(
    session, client, city, people, registered, token
):
    assert_refused(session, get_search(client, token, people, where="姓名:张三"), 403, "no_grant")
    grant(session, city, registered[0], people, operations=("lookup",))
    assert_refused(
        session, get_search(client, token, people, where="姓名:张三"), 403, "operation_not_granted"
    )
    grant(session, city, registered[0], people, operations=("search",), items=["公民身份号码", "姓名"])
    assert_refused(session, get_search(client, token, people, where="宗教信仰:x"), 400, "item_not_searchable")
    assert_refused(
        session, get_search(client, token, people, where="出生日期:1980-01-02"), 403, "item_not_granted"
    )
    assert_refused(session, get_search(client, token, people, where="姓名"), 422, "invalid_condition")
    assert_refused(session, get_search(client, token, people), 422, "conditions_required")
    assert_refused(session, get_search(client, token, people, where="姓名:张三", cursor="bm90LWEtY3Vyc29y"), 400,
                   "invalid_cursor")  # fmt: skip
    assert_refused(session, get_search(client, token, people, {"X-Operator": "clerk01"}, where="姓名:张三"), 400,
                   "missing_case_id")  # fmt: skip
    assert_refused(
        session, get_search(client, token, people, where="姓名:张三", limit=500), 422, "invalid_request"
    )
    assert get_search(client, token, people, where="姓名:张三").status_code == 200


def test_the_search_route_is_documented_with_its_parameters(client):
    operation = client.get("/openapi.json").json()["paths"][f"{BASE}/resources/{{code}}/search"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"where", "items", "limit", "cursor", "x-case-id", "x-operator"} <= names
    assert "item_not_searchable" in operation["responses"]["400"]["description"]
