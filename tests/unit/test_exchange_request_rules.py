"""Review stages from the setting, and what a request may ask for and an approval may grant (no database)."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from govshare.catalog.models import Item, Resource, ResourceStatus, SharingType, SubjectKeyType
from govshare.core.errors import ValidationFailed
from govshare.exchange import request_rules, stages
from govshare.exchange.grant_schemas import AccessRequestIn, TermsIn
from tests.conftest import make_test_settings

TODAY = date(2026, 12, 4)


def test_the_default_pipeline_is_the_provider_within_ten_working_days():
    assert stages.pipeline(make_test_settings().exchange_request_stages, has_data=True) == [
        stages.Stage("provider", "provider", 10)
    ]


def test_compliance_first_and_a_longer_provider_deadline_without_data():
    spec = "compliance:2,provider:5,provider_unpublished:10"
    assert stages.pipeline(spec, has_data=True) == [
        stages.Stage("compliance", "authority", 2),
        stages.Stage("provider", "provider", 5),
    ]
    assert stages.pipeline(spec, has_data=False)[1] == stages.Stage("provider", "provider", 10)
    assert stages.pipeline("provider:5", has_data=False) == [stages.Stage("provider", "provider", 5)]


@pytest.mark.parametrize("spec", ["compliance:2", "provider:0"])
def test_a_pipeline_needs_a_provider_stage_of_at_least_a_day(spec):
    with pytest.raises(ValueError):
        stages.pipeline(spec, has_data=True)


@pytest.mark.parametrize("spec", ["review:3", "provider", "provider:5;compliance:2", ""])
def test_the_setting_refuses_an_unreadable_pipeline(spec):
    with pytest.raises(ValidationError):
        make_test_settings(exchange_request_stages=spec)


def resource(**overrides) -> Resource:
    items = [
        Item(name="公民身份号码", is_key=True, searchable=True, shareable=True, masking_rule="id_number"),
        Item(name="姓名", searchable=False, shareable=True, masking_rule="name"),
        Item(name="宗教信仰", searchable=False, shareable=False, legal_basis="个人信息保护法"),
    ]
    values = {
        "code": "101/000001", "status": ResourceStatus.PUBLISHED, "sharing_type": SharingType.CONDITIONAL,
        "sharing_methods": ["online_query"], "subject_key_type": SubjectKeyType.PERSON_ID, "legal_basis": "",
        "items": items,
    }  # fmt: skip
    return Resource(**(values | overrides))


def asked(**overrides) -> AccessRequestIn:
    data = {"application_id": 1, "resource_code": "101/000001", "items": ["姓名"], "operations": ["verify"],
            "purpose": "核验身份"}  # fmt: skip
    return AccessRequestIn(**(data | overrides))


def check(**overrides):
    return request_rules.check_request(resource(), asked(**overrides), today=TODAY, max_days=365)


def test_no_items_means_every_shareable_item_and_the_period_defaults_to_a_year():
    terms = check(items=[])
    assert terms.items == ["公民身份号码", "姓名"]
    assert (terms.valid_from, terms.valid_to) == (TODAY, date(2027, 12, 3))


def test_search_needs_a_searchable_item_and_bulk_export_a_bulk_method():
    with pytest.raises(ValidationFailed) as err:
        check(operations=["search", "bulk_export"])
    assert [e["code"] for e in err.value.details["errors"]] == ["operation_not_allowed"] * 2
    assert check(items=["公民身份号码"], operations=["search"]).operations == ["search"]


def test_a_not_shared_resource_names_its_basis():
    with pytest.raises(ValidationFailed) as err:
        request_rules.check_request(
            resource(sharing_type=SharingType.NONE, legal_basis="保守国家秘密法"),
            asked(),
            today=TODAY,
            max_days=365,
        )
    assert err.value.code == "resource_not_shared" and "保守国家秘密法" in err.value.message


def test_an_approval_keeps_the_request_unless_narrowed():
    requested = check(items=["公民身份号码", "姓名"], operations=["lookup", "verify"])
    same = request_rules.check_narrowing(requested, TermsIn(), today=TODAY)
    assert (same.items, same.operations, same.valid_to) == (
        requested.items,
        requested.operations,
        requested.valid_to,
    )
    narrowed = request_rules.check_narrowing(
        requested, TermsIn(items=["姓名"], operations=["verify"], unmasked_items=["姓名"]), today=TODAY
    )
    assert (narrowed.items, narrowed.operations, narrowed.unmasked_items) == (["姓名"], ["verify"], ["姓名"])
    with pytest.raises(ValidationFailed) as err:
        request_rules.check_narrowing(requested, TermsIn(items=[]), today=TODAY)
    assert err.value.code == "items_required"
