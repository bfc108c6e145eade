"""Catalog rules that need no database (govshare.catalog.rules)."""

from __future__ import annotations

import pytest

from govshare.catalog import classification
from govshare.catalog.rules import check_resource
from govshare.core.errors import ValidationFailed
from tests.factories import resource_in


def codes(**overrides) -> list[str]:
    return [p.code for p in check_resource(resource_in(**overrides)).problems]


def test_valid_declaration_has_no_problems():
    assert codes() == []


def test_name_over_fifty_characters_is_rejected():
    assert codes(name="人" * 51) == ["name_too_long"]
    assert codes(name="人" * 50) == []


def test_summary_over_256_characters_is_rejected():
    assert codes(summary="摘" * 257) == ["summary_too_long"]


def test_blank_name_and_summary_are_required():
    assert set(codes(name="  ", summary="")) == {"name_required", "summary_required"}


def test_unknown_data_type_code_is_rejected():
    out = codes(items=[{"name": "公民身份号码", "data_type": "Z", "is_key": True}])
    assert out == ["invalid_data_type"]


@pytest.mark.parametrize("code", list("CNYDTLMGBIF"))
def test_every_national_data_type_code_is_accepted(code):
    assert codes(items=[{"name": "公民身份号码", "data_type": code, "is_key": True}]) == []


def test_conditional_resource_must_state_its_conditions():
    assert codes(sharing_type="conditional", sharing_condition="") == ["sharing_condition_required"]
    assert codes(sharing_type="conditional", sharing_condition="仅限办理社保事项") == []


def test_none_resource_must_cite_legal_basis():
    assert "legal_basis_required" in codes(sharing_type="none", sharing_methods=[])
    assert codes(sharing_type="none", sharing_methods=[], legal_basis="《保守国家秘密法》") == []


def test_non_shareable_item_in_shareable_resource_needs_legal_basis():
    items = [
        {"name": "公民身份号码", "is_key": True},
        {"name": "宗教信仰", "shareable": False},
    ]
    assert codes(items=items) == ["legal_basis_required"]
    items[1]["legal_basis"] = "《个人信息保护法》第二十八条"
    assert codes(items=items) == []


def test_sharing_type_accepts_national_codes_and_labels():
    for raw, expected in (("01", "unconditional"), ("有条件共享", "conditional"), ("03", "none")):
        checked = check_resource(resource_in(sharing_type=raw, sharing_condition="x", legal_basis="依据"))
        assert checked.values["sharing_type"] == expected


def test_key_item_cannot_be_non_shareable():
    items = [{"name": "公民身份号码", "is_key": True, "shareable": False, "legal_basis": "x"}]
    assert "key_item_not_shareable" in codes(items=items)


def test_subject_keyed_resource_needs_a_key_item():
    assert codes(items=[{"name": "姓名"}]) == ["key_item_required"]


def test_duplicate_item_names_are_rejected():
    items = [{"name": "公民身份号码", "is_key": True}, {"name": "公民身份号码"}]
    assert codes(items=items) == ["duplicate_item_name"]


def test_resource_without_items_is_rejected():
    assert codes(items=[]) == ["items_required"]


def test_open_data_cannot_be_non_shared():
    assert "open_but_not_shared" in codes(
        sharing_type="none", legal_basis="依据", sharing_methods=[], open_to_public=True
    )


def test_shareable_resource_needs_a_sharing_method():
    assert codes(sharing_methods=[]) == ["sharing_method_required"]


def test_sharing_methods_accept_labels_and_reject_unknown():
    checked = check_resource(resource_in(sharing_methods=["联机查询", "download"]))
    assert checked.values["sharing_methods"] == ["online_query", "download"]
    assert codes(sharing_methods=["传真"]) == ["invalid_sharing_method"]


def test_unknown_vocabulary_values_are_reported_with_the_allowed_ones():
    problems = check_resource(resource_in(update_cycle="hourly", format="paper")).problems
    assert {p.code for p in problems} == {"invalid_update_cycle", "invalid_format"}
    assert "每日" in next(p.message for p in problems if p.code == "invalid_update_cycle")


def test_malformed_related_codes_are_rejected():
    assert codes(related_codes=["abc"]) == ["invalid_related_code"]


def test_sensitivity_must_be_one_to_four():
    assert codes(items=[{"name": "公民身份号码", "is_key": True, "sensitivity": 5}]) == [
        "invalid_sensitivity"
    ]


def test_every_problem_is_reported_at_once():
    checked = check_resource(resource_in(name="", summary="x" * 300, update_cycle="?"))
    with pytest.raises(ValidationFailed) as err:
        checked.raise_if_invalid()
    assert err.value.code == "name_required"
    assert len(err.value.details["errors"]) == 3


def test_invalid_classification_code_is_rejected():
    assert codes(classification_code="199") == ["invalid_classification"]
    assert codes(classification_code="9") == ["invalid_classification"]


def test_classification_tree_knows_base_and_theme_classes():
    assert classification.parse("101").subclass_name == "人口"
    assert classification.parse("101").is_base
    assert not classification.parse("213").is_base
    assert classification.parse("301002").class_name == "部门信息资源"
    assert classification.parse("1x1") is None
