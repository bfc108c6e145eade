"""Subject profiles: merging departments' resources, equivalent items, conflicts, access and the read log."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from sqlalchemy import func, select

from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.data import profiles
from govshare.data import service as data
from govshare.data.profile_models import ConflictStatus, QualityConflict, ReadLog
from tests.conftest import TEST_SECRET
from tests.factories import publish
from tests.integration.test_data_load import pid

POLICE_COLUMNS = ["公民身份号码", "姓名", "出生日期", "户籍地址"]
MARKET_COLUMNS = ["公民身份号码", "经营者姓名", "登记住所"]


def text_item(name: str) -> dict[str, object]:
    return {"name": name, "data_type": "C"}


@pytest.fixture
def population(session, city):
    items = [
        {"name": "公民身份号码", "data_type": "C", "is_key": True, "is_basic": True, "sensitivity": 3},
        {"name": "姓名", "data_type": "C", "is_basic": True},
        {"name": "出生日期", "data_type": "D", "is_basic": True},
        text_item("户籍地址"),
    ]
    return publish(session, city, city.police_officer, items=items)


@pytest.fixture
def operators(session, city):
    """The market regulator's sole traders (个体工商户经营者), keyed by the same resident ID."""
    items = [
        {"name": "公民身份号码", "data_type": "C", "is_key": True, "sensitivity": 3},
        text_item("经营者姓名"),
        text_item("登记住所"),
    ]
    return publish(
        session,
        city,
        city.market_officer,
        name="个体工商户经营者信息",
        classification_code="213",
        items=items,
    )


def load_people(session, city, resource, rows, key="p1"):
    rows = [(n, dict(zip(POLICE_COLUMNS, r, strict=True))) for n, r in enumerate(rows, start=2)]
    return data.load(session, city.police_officer, resource.code, POLICE_COLUMNS, rows, batch_key=key)


def load_operators(session, city, resource, rows, key="m1"):
    rows = [(n, dict(zip(MARKET_COLUMNS, r, strict=True))) for n, r in enumerate(rows, start=2)]
    return data.load(session, city.market_officer, resource.code, MARKET_COLUMNS, rows, batch_key=key)


def same_concept(session, city, population, operators, concept="户籍地址"):
    return profiles.create_equivalence(
        session, city.admin, concept, [(population.code, "户籍地址"), (operators.code, "登记住所")]
    )


def read(session, user, key, kind="person_id"):
    return profiles.read_profile(session, user, kind, key, secret_key=TEST_SECRET)


def by_name(profile):
    return {f.name: f for f in profile.fields}


def test_profile_merges_two_departments_with_source_and_last_update_per_field(
    session, city, population, operators
):
    load_people(session, city, population, [(pid(1), "张三", "1980-01-02", "深圳市福田区一路1号")])
    load_operators(session, city, operators, [(pid(1), "张三", "深圳市南山区二路2号")])
    result = read(session, city.admin, pid(1))
    fields = by_name(result)
    assert set(fields) == {"姓名", "出生日期", "户籍地址", "经营者姓名", "登记住所"}
    name = fields["姓名"].values[0]
    assert (name.value, name.resource_code, name.department) == ("张三", population.code, "市公安局")
    trader = fields["登记住所"].values[0]
    assert (trader.resource_code, trader.resource_name, trader.department) == (
        operators.code,
        "个体工商户经营者信息",
        "市市场监督管理局",
    )
    police_record = data.get_record(session, population, pid(1))
    market_record = data.get_record(session, operators, pid(1))
    assert name.updated_at == police_record.valid_from
    assert trader.updated_at == market_record.valid_from
    assert result.resources == sorted([population.code, operators.code])


def test_last_update_follows_the_newest_version(session, city, population):
    load_people(session, city, population, [(pid(1), "张三", "1980-01-02", "一路1号")], key="a")
    load_people(session, city, population, [(pid(1), "张叁", "1980-01-02", "一路1号")], key="b")
    field = by_name(read(session, city.admin, pid(1)))["姓名"].values[0]
    record = data.get_record(session, population, pid(1))
    assert (field.value, field.updated_at) == ("张叁", record.valid_from) and record.version == 2


def test_subject_key_is_normalised_lower_case_x_finds_the_record(session, city, population):
    with_x = next(pid(n) for n in range(1, 400) if pid(n).endswith("X"))
    load_people(session, city, population, [(with_x, "李四", "1980-01-02", "一路1号")])
    result = read(session, city.admin, " " + with_x.lower())
    assert result.subject_key == with_x and by_name(result)["姓名"].values[0].value == "李四"


def test_equivalent_items_with_different_values_show_both_and_record_one_conflict(
    session, city, population, operators
):
    same_concept(session, city, population, operators)
    load_people(session, city, population, [(pid(1), "张三", "1980-01-02", "福田区一路1号")])
    load_operators(session, city, operators, [(pid(1), "张三", "南山区二路2号")])
    fields = by_name(read(session, city.admin, pid(1)))
    address = fields["户籍地址"]
    assert address.concept and address.conflict
    assert {(v.resource_code, v.value) for v in address.values} == {
        (population.code, "福田区一路1号"),
        (operators.code, "南山区二路2号"),
    }
    assert "登记住所" not in fields  # grouped under the concept
    first = session.scalars(select(QualityConflict)).one()
    read(session, city.admin, pid(1))
    again = session.scalars(select(QualityConflict)).one()
    assert again.id == first.id and again.status == ConflictStatus.OPEN
    assert {v["value"] for v in again.differing_values} == {"福田区一路1号", "南山区二路2号"}
    assert again.last_seen >= again.first_seen


def test_equal_values_of_equivalent_items_are_no_conflict(session, city, population, operators):
    same_concept(session, city, population, operators)
    load_people(session, city, population, [(pid(1), "张三", "1980-01-02", "一路1号")])
    load_operators(session, city, operators, [(pid(1), "张三", "一路1号")])
    address = by_name(read(session, city.admin, pid(1)))["户籍地址"]
    assert len(address.values) == 2 and not address.conflict
    assert session.scalar(select(func.count()).select_from(QualityConflict)) == 0


def test_conflict_is_resolved_when_the_values_agree_again(session, city, population, operators):
    same_concept(session, city, population, operators)
    load_people(session, city, population, [(pid(1), "张三", "1980-01-02", "一路1号")])
    load_operators(session, city, operators, [(pid(1), "张三", "二路2号")])
    read(session, city.admin, pid(1))
    load_operators(session, city, operators, [(pid(1), "张三", "一路1号")], key="m2")
    read(session, city.admin, pid(1))
    assert session.scalars(select(QualityConflict)).one().status == ConflictStatus.RESOLVED


def test_conflict_is_visible_to_both_providers_and_the_authority_only(session, city, population, operators):
    same_concept(session, city, population, operators)
    load_people(session, city, population, [(pid(1), "张三", "1980-01-02", "一路1号")])
    load_operators(session, city, operators, [(pid(1), "张三", "二路2号")])
    read(session, city.police_officer, pid(1))  # a provider's own view still records the conflict
    for user in (city.admin, city.police_officer, city.market_officer):
        assert [c.concept for c in profiles.list_conflicts(session, user)] == ["户籍地址"]
    with pytest.raises(PermissionDenied):
        profiles.list_conflicts(session, city.clerk)


def test_data_officer_reads_only_their_own_departments_fields(session, city, population, operators):
    same_concept(session, city, population, operators)
    load_people(session, city, population, [(pid(1), "张三", "1980-01-02", "一路1号")])
    load_operators(session, city, operators, [(pid(1), "张三", "二路2号")])
    own = read(session, city.market_officer, pid(1))
    assert {v.resource_code for f in own.fields for v in f.values} == {operators.code}
    assert not by_name(own)["户籍地址"].conflict and own.resources == [operators.code]


def test_data_officer_cannot_read_subjects_absent_from_their_resources(session, city, population, operators):
    load_people(session, city, population, [(pid(1), "张三", "1980-01-02", "一路1号")])
    with pytest.raises(NotFound) as err:
        read(session, city.market_officer, pid(1))
    assert err.value.code == "subject_not_found"
    assert session.scalar(select(func.count()).select_from(ReadLog)) == 0


@pytest.mark.parametrize("who", ["clerk", "auditor"])
def test_clerks_and_auditors_may_not_read_profiles_before_grants_exist(session, city, population, who):
    load_people(session, city, population, [(pid(1), "张三", "1980-01-02", "一路1号")])
    with pytest.raises(PermissionDenied):
        read(session, getattr(city, who), pid(1))


def test_every_read_is_logged_with_an_hmac_of_the_subject_key(session, city, population):
    load_people(session, city, population, [(pid(1), "张三", "1980-01-02", "一路1号")])
    read(session, city.police_officer, pid(1))
    log = session.scalars(select(ReadLog)).one()
    expected = hmac.new(TEST_SECRET.encode(), f"person_id:{pid(1)}".encode(), hashlib.sha256).hexdigest()
    assert (log.user_id, log.department_id) == (city.police_officer.id, city.police.id)
    assert log.subject_key_hash == expected and pid(1) not in log.subject_key_hash
    assert log.resources == [population.code] and log.subject_key_type.value == "person_id"


def test_subject_type_none_has_no_profile(session, city):
    with pytest.raises(ValidationFailed):
        read(session, city.admin, "x", kind="none")


def test_only_the_authority_manages_equivalences(session, city, population, operators):
    with pytest.raises(PermissionDenied):
        profiles.create_equivalence(
            session,
            city.police_officer,
            "户籍地址",
            [(population.code, "户籍地址"), (operators.code, "登记住所")],
        )
    eq = same_concept(session, city, population, operators)
    with pytest.raises(Conflict):
        same_concept(session, city, population, operators, concept="户籍地址")
    with pytest.raises(Conflict) as taken:
        same_concept(session, city, population, operators, concept="地址")
    assert taken.value.code == "item_already_equivalent"
    with pytest.raises(PermissionDenied):
        profiles.delete_equivalence(session, city.market_officer, eq.id)
    profiles.delete_equivalence(session, city.admin, eq.id)
    assert profiles.list_equivalences(session) == []


def test_equivalence_members_must_be_existing_non_key_items(session, city, population, operators):
    with pytest.raises(ValidationFailed) as err:
        profiles.create_equivalence(
            session, city.admin, "地址", [(population.code, "公民身份号码"), (operators.code, "登记住所")]
        )
    assert err.value.code == "unknown_item"


def test_profile_api_answers_fields_with_sources_and_logs_the_read(
    client, session, city, population, operators
):
    load_people(session, city, population, [(pid(1), "张三", "1980-01-02", "一路1号")])
    resp = client.get(f"/api/v1/data/profiles/person_id/{pid(1)}", headers=city.headers("admin"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    name = next(f for f in body["fields"] if f["name"] == "姓名")
    assert name["values"][0]["resource_code"] == population.code
    assert name["values"][0]["department"] == "市公安局" and name["values"][0]["updated_at"]
    assert session.scalar(select(func.count()).select_from(ReadLog)) == 1
    denied = client.get(f"/api/v1/data/profiles/person_id/{pid(1)}", headers=city.headers("clerk"))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "profile_forbidden"


def test_equivalence_and_conflict_api(client, session, city, population, operators):
    load_people(session, city, population, [(pid(1), "张三", "1980-01-02", "一路1号")])
    load_operators(session, city, operators, [(pid(1), "张三", "二路2号")])
    members = [
        {"resource_code": population.code, "item": "户籍地址"},
        {"resource_code": operators.code, "item": "登记住所"},
    ]
    body = {"concept": "户籍地址", "members": members}
    refused = client.post("/api/v1/data/equivalences", json=body, headers=city.headers("police_officer"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "authority_only"
    created = client.post("/api/v1/data/equivalences", json=body, headers=city.headers("admin"))
    assert created.status_code == 201 and created.json()["members"] == members
    listed = client.get("/api/v1/data/equivalences", headers=city.headers("market_officer")).json()
    assert [e["concept"] for e in listed] == ["户籍地址"]
    client.get(f"/api/v1/data/profiles/person_id/{pid(1)}", headers=city.headers("admin"))
    conflicts = client.get("/api/v1/data/conflicts", headers=city.headers("market_officer")).json()
    assert len(conflicts) == 1 and {v["value"] for v in conflicts[0]["values"]} == {"一路1号", "二路2号"}
    deleted = client.delete(
        f"/api/v1/data/equivalences/{created.json()['id']}", headers=city.headers("admin")
    )
    assert deleted.status_code == 204


def test_subject_type_without_resources_is_not_found_even_for_the_authority(session, city, population):
    with pytest.raises(NotFound) as err:
        read(session, city.admin, "91440300MA5XXXXXXX", kind="credit_code")
    assert err.value.code == "subject_not_found"
