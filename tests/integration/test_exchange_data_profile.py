"""The subject profile through the exchange: only resources with a live `profile` grant show, each value
masked per its own grant, with its source; the others are invisible."""

from __future__ import annotations

import pytest

from govshare.data import service as data
from govshare.exchange import grants
from govshare.exchange.data_schemas import ProfilePublic
from tests.factories import publish
from tests.integration.data_exchange_support import (
    BASE,
    CASE,
    app_token,
    grant,
    in_process_settings,
    last_event,
    market_registration,
    population,
)
from tests.integration.test_data_load import pid

HOUSEHOLD_ITEMS = [
    {"name": "公民身份号码", "data_type": "C", "is_key": True, "sensitivity": 3, "masking_rule": "id_number"},
    {"name": "户籍地址", "data_type": "C", "masking_rule": "address"},
    {"name": "户主姓名", "data_type": "C", "masking_rule": "name"},
]


@pytest.fixture
def people(session, city):
    return population(session, city)


@pytest.fixture
def households(session, city):
    """A second police resource keyed by the same resident ID (户籍信息)."""
    resource = publish(
        session, city, city.police_officer, name="户籍登记信息", sharing_type="conditional",
        sharing_condition="仅限办理政务服务事项时使用", items=HOUSEHOLD_ITEMS,
    )  # fmt: skip
    row = {"公民身份号码": pid(1), "户籍地址": "深圳市南山区粤海街道科技园1号", "户主姓名": "张大山"}
    data.load(session, city.police_officer, resource.code, list(row), [(2, row)], batch_key="h1")
    return resource


settings = pytest.fixture(in_process_settings)
registered = pytest.fixture(market_registration)
token = pytest.fixture(app_token)


def read_profile(client, token, key=None, kind="person_id"):
    return client.get(f"{BASE}/profiles/{kind}/{key or pid(1)}", headers=token | CASE)


def by_item(body):
    return {v["item"]: v for f in body["fields"] for v in f["values"]}


def test_profile_shows_only_resources_granted_for_profile(
    session, client, city, people, households, registered, token
):
    grant(session, city, registered[0], people, operations=("profile",), unmasked=("姓名",))
    response = read_profile(client, token)
    assert response.status_code == 200, response.text
    ProfilePublic.model_validate(response.json())
    values = by_item(response.json())
    assert set(values) == {"姓名", "出生日期"}  # the key is the subject, not a field
    assert values["姓名"]["value"] == "张三" and values["姓名"]["masked"] is False
    assert values["姓名"]["resource_code"] == people.code and values["姓名"]["department"] == "市公安局"
    assert values["姓名"]["updated_at"]
    assert (
        households.code not in response.text and "户籍" not in response.text and "粤海" not in response.text
    )
    event = last_event(session)
    assert (event.operation, event.outcome) == ("profile", "allowed")
    assert event.items == [f"{people.code}.出生日期", f"{people.code}.姓名"]


def test_profile_masks_each_resources_values_by_its_own_grant(
    session, client, city, people, households, registered, token
):
    grant(session, city, registered[0], people, operations=("profile",), unmasked=("姓名",))
    grant(
        session, city, registered[0], households, items=["公民身份号码", "户籍地址"], operations=("profile",)
    )
    values = by_item(read_profile(client, token).json())
    assert values["姓名"]["value"] == "张三"
    assert values["户籍地址"] == values["户籍地址"] | {
        "value": "深圳市南山区***", "masked": True, "resource_code": households.code,
    }  # fmt: skip
    assert "户主姓名" not in values  # not among the granted items of that resource


def test_a_lookup_grant_does_not_open_the_profile_and_no_grant_is_no_grant(
    session, client, city, people, registered, token
):
    nothing = read_profile(client, token)
    assert nothing.status_code == 403 and nothing.json()["error"]["code"] == "no_grant"
    grant(session, city, registered[0], people, operations=("lookup",))
    refused = read_profile(client, token)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "operation_not_granted"
    assert "张" not in refused.text


def test_a_suspended_profile_grant_answers_its_own_refusal(session, client, city, people, registered, token):
    g = grant(session, city, registered[0], people, operations=("profile",))
    grants.change_grant(session, city.police_officer, g.id, "suspend", "核查调用")
    refused = read_profile(client, token)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "grant_suspended"


def test_profile_of_an_absent_subject_is_404(session, client, city, people, households, registered, token):
    grant(session, city, registered[0], households, operations=("profile",))
    missing = read_profile(client, token, key=pid(2))  # only in the population, which is not granted
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "subject_not_found"
    assert "李" not in missing.text
