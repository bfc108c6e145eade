"""脱敏: each rule keeps exactly what it promises, and a record shows only granted items."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from govshare.catalog.vocab import MASKING_RULES
from govshare.exchange.masking import HIDDEN, MASKS, mask_record, mask_value, rule_for


@dataclass
class Item:
    name: str
    masking_rule: str = "none"
    sensitivity: int = 1


@pytest.mark.parametrize(
    ("rule", "value", "masked"),
    [
        ("id_number", "440305198001011234", "4403**********1234"),
        ("id_number", "91440300MA5DXXXX1X", "9144**********XX1X"),
        ("mobile", "13812345678", "138****5678"),
        ("mobile", "138-1234-5678", "138****5678"),
        ("mobile", "0755 8888 6666", "075*****6666"),
        ("name", "张三", "张*"),
        ("name", "欧阳明月", "欧***"),
        ("name", "李", "*"),
        ("address", "广东省深圳市南山区粤海街道科技园路1号", "广东省深圳市南山区***"),
        ("address", "福田区一路1号", "福田区***"),
        ("address", "宝安县新安镇", "宝安县***"),
        ("address", "阳光小区3栋", "阳光小***"),  # no district (小区 is a compound): the first 3 characters
        ("address", "南山区", "南山区"),  # nothing after the district, nothing to hide
        ("full", "任何内容", HIDDEN),
        ("none", "原样", "原样"),
    ],
)
def test_each_rule(rule, value, masked):
    assert mask_value(value, rule) == masked


def test_address_skips_residential_compounds_and_communities():
    assert mask_value("深圳市南山区阳光小区3栋", "address") == "深圳市南山区***"
    assert mask_value("某某社区工作站", "address") == "某某社***"


def test_short_values_never_show_more_than_they_hide():
    assert mask_value("1234", "id_number") == HIDDEN
    assert mask_value("12345", "id_number") == "1****"
    assert mask_value("5678", "mobile") == HIDDEN


def test_empty_values_stay_empty_and_unknown_rules_hide():
    assert mask_value(None, "name") is None and mask_value("", "mobile") == ""
    assert mask_value("秘密", "no_such_rule") == HIDDEN


def test_every_catalog_rule_has_a_mask():
    assert set(MASKING_RULES) - {"none"} == set(MASKS)


def test_highly_sensitive_items_without_a_rule_are_hidden():
    assert rule_for(Item("病史", sensitivity=4)) == "full"
    assert rule_for(Item("备注", sensitivity=3)) == "none"
    assert rule_for(Item("手机", "mobile", sensitivity=4)) == "mobile"


def test_record_keeps_only_given_items_masked_unless_approved_in_clear():
    values = {"公民身份号码": "440305198001011234", "姓名": "张三", "联系电话": "13812345678", "民族": "汉"}
    items = [Item("公民身份号码", "id_number", 3), Item("姓名", "name", 2), Item("联系电话", "mobile", 3)]
    assert mask_record(values, items) == {
        "公民身份号码": "4403**********1234",
        "姓名": "张*",
        "联系电话": "138****5678",
    }  # 民族 was not among the items: dropped
    assert mask_record(values, items, unmasked={"姓名"})["姓名"] == "张三"
