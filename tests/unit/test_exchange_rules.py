"""Application registration rules: names, channels, contacts and Chinese phone numbers."""

import pytest

from govshare.core.errors import ValidationFailed
from govshare.exchange import rules
from govshare.exchange.schemas import ApplicationIn


def _in(**overrides):
    data = {"name": "i深圳", "channel": "app", "contact_name": "李四", "contact_phone": "0755-88880000"}
    return ApplicationIn(**(data | overrides))


@pytest.mark.parametrize(
    "phone, normalized",
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("0755-88880000", "0755-88880000"),
        ("010 12345678", "01012345678"),
        ("0755-88880000-123", "0755-88880000-123"),
        ("400-123-4567", "400-123-4567"),
    ],
)
def test_chinese_mobile_landline_and_400_numbers_are_accepted(phone, normalized):
    assert rules.normalize_phone(phone) == normalized


@pytest.mark.parametrize("phone", ["", "12345", "12800138000", "1380013800", "88880000", "abc", "0755-888"])
def test_implausible_phone_numbers_are_refused(phone):
    assert rules.normalize_phone(phone) is None


def test_valid_registration_is_normalised():
    values = rules.check_application(_in(name="  i深圳  ", contact_phone="138 0013 8000"))
    assert values["name"] == "i深圳"
    assert values["contact_phone"] == "13800138000"
    assert values["channel"] == "app"


def test_every_problem_is_reported_with_its_code():
    with pytest.raises(ValidationFailed) as caught:
        rules.check_application(
            _in(name="", channel="fax", contact_name="", contact_phone="123", description="说" * 501)
        )
    err = caught.value
    assert err.code == "invalid_name"
    assert [p["code"] for p in err.details["errors"]] == [
        "invalid_name",
        "invalid_channel",
        "invalid_contact_name",
        "invalid_phone",
        "invalid_description",
    ]
    assert "wechat（微信小程序）" in err.details["errors"][1]["message"]
