"""Identifier rules: GB 11643 resident IDs, GB 32100 credit codes, GB 11714 and GB/T 2260 codes."""

from __future__ import annotations

import datetime
import random
from pathlib import Path

import pytest
from stdnum.cn import uscc
from typer.testing import CliRunner

from govshare.core import ids
from govshare.core.ids import (
    IdCheckError,
    check,
    credit_code_check_character,
    division_name,
    make_credit_code,
    make_resident_id,
    normalize_resident_id,
    organisation_code_check_digit,
    resident_id_check_character,
    validate_credit_code,
    validate_division_code,
    validate_resident_id,
)
from govshare.core.ids_cli import app

# Independent transcriptions of the standards, so a broken rule in the module cannot hide behind stdnum.
RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ORG_VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def reference_ric_check(body: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, RIC_WEIGHTS, strict=True)) % 11]


def reference_org_check(body: str) -> str:
    check_value = 11 - sum(ORG_VALUES.index(c) * w for c, w in zip(body, ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(check_value, str(check_value))


def raises_code(code: str, func, *args, **kwargs) -> IdCheckError:
    with pytest.raises(IdCheckError) as info:
        func(*args, **kwargs)
    assert info.value.code == code, info.value.message
    return info.value


def with_ric_check(body: str) -> str:
    return body + reference_ric_check(body)


# --- resident ID numbers (GB 11643) -------------------------------------------------------------------


@pytest.mark.parametrize("division", ["440305", "440300", "440000", "110101", "110103", "810000"])
def test_made_resident_ids_are_valid_for_county_prefecture_province_and_abolished_codes(
    division: str,
) -> None:
    number = make_resident_id(division, datetime.date(1985, 6, 15), 42)
    assert number[:6] == division
    assert number[6:14] == "19850615"
    assert number[14:17] == "042"
    assert validate_resident_id(number) == number


def test_known_real_format_resident_id_is_valid() -> None:
    assert validate_resident_id("360426199101010071") == "360426199101010071"


def test_resident_id_check_character_matches_the_standard_for_many_bodies() -> None:
    rng = random.Random(11643)
    bodies = ["".join(rng.choice("0123456789") for _ in range(17)) for _ in range(500)]
    assert {reference_ric_check(b) for b in bodies} == set("0123456789X")
    for body in bodies:
        assert resident_id_check_character(body) == reference_ric_check(body)


def test_resident_id_with_wrong_check_character_names_expected_one() -> None:
    err = raises_code("invalid_check_character", validate_resident_id, "360426199101010072")
    assert err.expected == "1"
    assert "应为 1" in err.message
    assert "实际为 2" in err.message


def test_resident_id_with_x_check_character_accepts_lower_case_and_normalizes_it() -> None:
    number = make_resident_id("440305", datetime.date(1990, 1, 1), 123)
    assert number.endswith("X")
    assert validate_resident_id(number.lower()) == number
    assert normalize_resident_id(number.lower()) == number


def test_resident_id_with_full_width_digits_and_spaces_is_normalized() -> None:
    full_width = "３６０４２６　１９９１０１０１ ００７１"
    assert validate_resident_id(full_width) == "360426199101010071"


@pytest.mark.parametrize("value", ["36042619910101007", "3604261991010100711", "360426910101007", ""])
def test_resident_id_of_wrong_length_is_rejected_with_actual_length(value: str) -> None:
    err = raises_code("invalid_length", validate_resident_id, value)
    assert "18" in err.message
    assert f"实际为 {len(value)} 位" in err.message


def test_resident_id_with_letter_is_rejected_naming_position() -> None:
    err = raises_code("invalid_character", validate_resident_id, "3604A6199101010071")
    assert "第 5 位" in err.message and "A" in err.message


def test_resident_id_with_x_before_last_position_is_rejected() -> None:
    err = raises_code("invalid_format", validate_resident_id, "36042619910101X071")
    assert "第 15 位" in err.message


def test_resident_id_with_impossible_birth_date_19990230_is_rejected() -> None:
    err = raises_code("invalid_birth_date", validate_resident_id, with_ric_check("44030519990230123"))
    assert "19990230" in err.message


def test_resident_id_birth_date_is_reported_before_check_character() -> None:
    # A typo in the date usually breaks the check too; the reason must point at the date.
    raises_code("invalid_birth_date", validate_resident_id, "440305199902301230")


def test_resident_id_with_birth_date_in_future_is_rejected() -> None:
    number = with_ric_check("44030520300101123")
    err = raises_code("birth_date_in_future", validate_resident_id, number, today=datetime.date(2025, 1, 1))
    assert "20300101" in err.message
    raises_code("birth_date_in_future", validate_resident_id, with_ric_check("44030529990101123"))


def test_resident_id_born_today_is_valid() -> None:
    today = datetime.date(2025, 3, 1)
    assert validate_resident_id(with_ric_check("44030520250301123"), today=today)


@pytest.mark.parametrize("prefix", ["999999", "449900", "000000"])
def test_resident_id_with_unknown_address_prefix_is_rejected(prefix: str) -> None:
    err = raises_code("unknown_division_code", validate_resident_id, with_ric_check(prefix + "19900101123"))
    assert prefix in err.message


def test_taiwan_residence_permit_number_with_830000_is_valid() -> None:
    number = with_ric_check("83000019900101123")
    assert validate_resident_id(number) == number


def test_resident_id_rejects_non_string_input() -> None:
    raises_code("invalid_format", validate_resident_id, 360426199101010071)


def test_make_resident_id_refuses_unknown_division_and_bad_sequence() -> None:
    raises_code("unknown_division_code", make_resident_id, "999999", datetime.date(1990, 1, 1), 1)
    with pytest.raises(ValueError):
        make_resident_id("440305", datetime.date(1990, 1, 1), 1000)


def test_resident_id_check_character_refuses_non_digits() -> None:
    raises_code("invalid_format", resident_id_check_character, "4403051990010112X")
    raises_code("invalid_length", resident_id_check_character, "440305")


# --- organisation codes (GB 11714) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [("60003734", "1"), ("00001312", "7"), ("40000000", "X"), ("00000000", "0"), ("A0000000", "3")],
)
def test_organisation_code_check_digit_maps_10_to_x_and_11_to_0(body: str, expected: str) -> None:
    assert organisation_code_check_digit(body) == expected


def test_organisation_code_check_digit_matches_the_standard_for_many_bodies() -> None:
    rng = random.Random(11714)
    bodies = ["".join(rng.choice(ORG_VALUES) for _ in range(8)) for _ in range(500)]
    for body in bodies:
        assert organisation_code_check_digit(body) == reference_org_check(body)


def test_organisation_code_check_digit_refuses_wrong_length_and_symbols() -> None:
    raises_code("invalid_length", organisation_code_check_digit, "6000373")
    raises_code("invalid_character", organisation_code_check_digit, "6000-734")


# --- unified social credit codes (GB 32100) ---------------------------------------------------------------


@pytest.mark.parametrize("code", ["91110000600037341L", "11100000000013127D"])
def test_known_real_format_credit_codes_are_valid(code: str) -> None:
    assert validate_credit_code(code) == code


@pytest.mark.parametrize(
    ("authority", "org_type", "division"),
    [
        ("9", "1", "440300"),
        ("1", "1", "440305"),
        ("5", "2", "440000"),
        ("N", "2", "440306"),
        ("Y", "1", "100000"),
    ],
)
def test_made_credit_codes_are_valid_including_letter_authorities(
    authority: str, org_type: str, division: str
) -> None:
    code = make_credit_code(authority, org_type, division, "MA5F0000")
    assert code[:8] == authority + org_type + division
    assert code[16] == "X"
    assert validate_credit_code(code) == code


def test_credit_code_check_character_matches_stdnum_example() -> None:
    assert credit_code_check_character("91110000600037341") == "L"


def test_credit_code_lower_case_full_width_and_spaces_are_normalized() -> None:
    assert validate_credit_code(" 9111 0000 6000 3734 1l ") == "91110000600037341L"
    assert validate_credit_code("９１１１００００６０００３７３４１Ｌ") == "91110000600037341L"


@pytest.mark.parametrize("value", ["91110000600037341", "91110000600037341LL", ""])
def test_credit_code_of_wrong_length_is_rejected(value: str) -> None:
    raises_code("invalid_length", validate_credit_code, value)


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_credit_code_with_letter_outside_alphabet_is_rejected(letter: str) -> None:
    value = "911100006" + letter + "0037341L"
    err = raises_code("invalid_character", validate_credit_code, value)
    assert "第 10 位" in err.message and letter in err.message


def test_credit_code_with_letter_in_division_part_is_rejected() -> None:
    err = raises_code("invalid_format", validate_credit_code, "9111A000600037341L")
    assert "第 5 位" in err.message


def test_credit_code_with_unknown_division_is_rejected_even_with_correct_checks() -> None:
    body = "91999999MA5F0000X"
    err = raises_code("unknown_division_code", validate_credit_code, body + credit_code_check_character(body))
    assert "999999" in err.message


def test_credit_code_with_bad_embedded_organisation_code_is_detected_despite_recomputed_check() -> None:
    body = "9111000060003734" + "2"
    forged = body + credit_code_check_character(body)
    assert uscc.is_valid(forged)  # the final check alone cannot see it
    err = raises_code("invalid_organisation_code", validate_credit_code, forged)
    assert err.expected == "1"
    assert "应为 1" in err.message


def test_credit_code_with_wrong_check_character_names_expected_one() -> None:
    err = raises_code("invalid_check_character", validate_credit_code, "91110000600037341M")
    assert err.expected == "L"
    assert "应为 L" in err.message


def test_make_credit_code_refuses_unknown_division() -> None:
    raises_code("unknown_division_code", make_credit_code, "9", "1", "999999", "MA5F0000")


# --- division codes (GB/T 2260) ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["440305", "440300", "440000", "110000", "110103"])
def test_county_prefecture_province_and_abolished_division_codes_are_known(code: str) -> None:
    assert validate_division_code(code) == code


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("999999", "unknown_division_code"),
        ("449900", "unknown_division_code"),
        ("100000", "unknown_division_code"),
        ("44030", "invalid_length"),
        ("4403051", "invalid_length"),
        ("44030A", "invalid_format"),
    ],
)
def test_bad_division_codes_are_rejected(value: str, code: str) -> None:
    raises_code(code, validate_division_code, value)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("440300", "深圳市"),
        ("440303", "罗湖区"),
        ("440304", "福田区"),
        ("440305", "南山区"),
        ("440306", "宝安区"),
        ("440307", "龙岗区"),
        ("440308", "盐田区"),
        ("440309", "龙华区"),
        ("440310", "坪山区"),
        ("440311", "光明区"),
        ("440000", "广东省"),
        ("110103", "崇文区"),
    ],
)
def test_division_name_gives_latest_name(code: str, name: str) -> None:
    assert division_name(code) == name


@pytest.mark.parametrize("code", ["999999", "449900", "44", "abcdef"])
def test_division_name_of_unknown_code_is_none(code: str) -> None:
    assert division_name(code) is None


# --- error type and check() ---------------------------------------------------------------------------------


def test_id_check_error_is_a_value_error_whose_str_is_the_message() -> None:
    err = raises_code("invalid_check_character", validate_resident_id, "360426199101010072")
    assert isinstance(err, ValueError)
    assert str(err) == err.message == "校验码错误：应为 1，实际为 2"


def test_check_reports_valid_and_invalid_with_reason() -> None:
    assert check("id", "360426199101010071") == (True, "valid")
    assert check("credit_code", "91110000600037341L") == (True, "valid")
    assert check("division", "440305") == (True, "valid")
    assert check("id", "360426199101010072") == (False, "invalid: 校验码错误：应为 1，实际为 2")
    ok, verdict = check("credit_code", "91110000600037341M")
    assert not ok and verdict.startswith("invalid: ")


def test_check_with_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown identifier kind"):
        check("passport", "E12345678")


def test_module_does_not_import_web_frameworks() -> None:
    source = Path(ids.__file__).read_text(encoding="utf-8")
    assert "fastapi" not in source and "typer" not in source


# --- CLI ---------------------------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_id_with_all_valid_values_exits_0_and_prints_one_line_each() -> None:
    result = runner.invoke(app, ["id", "360426199101010071", "44030519900101123x"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["360426199101010071  valid", "44030519900101123x  valid"]


def test_cli_id_with_an_invalid_value_exits_1_and_gives_reason() -> None:
    result = runner.invoke(app, ["id", "360426199101010071", "360426199101010072"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "360426199101010071  valid",
        "360426199101010072  invalid: 校验码错误：应为 1，实际为 2",
    ]


def test_cli_credit_code_exit_codes_and_lines() -> None:
    ok = runner.invoke(app, ["credit-code", "91110000600037341L"])
    assert ok.exit_code == 0
    assert ok.output.splitlines() == ["91110000600037341L  valid"]
    bad = runner.invoke(app, ["credit-code", "91110000600037341L", "911100006I0037341L"])
    assert bad.exit_code == 1
    lines = bad.output.splitlines()
    assert lines[0] == "91110000600037341L  valid"
    assert lines[1].startswith("911100006I0037341L  invalid: 第 10 位“I”")


def test_cli_division_exit_codes_and_lines() -> None:
    ok = runner.invoke(app, ["division", "440305", "440300", "440000"])
    assert ok.exit_code == 0
    assert ok.output.splitlines() == ["440305  valid", "440300  valid", "440000  valid"]
    bad = runner.invoke(app, ["division", "999999"])
    assert bad.exit_code == 1
    assert bad.output.startswith("999999  invalid: ")


def test_cli_help_is_chinese_first_then_english() -> None:
    result = runner.invoke(app, ["id", "--help"])
    assert result.exit_code == 0
    text = result.output
    assert "核验居民身份证号码" in text and "Check resident ID numbers" in text
    assert text.index("核验居民身份证号码") < text.index("Check resident ID numbers")


def test_cli_command_without_values_fails() -> None:
    assert runner.invoke(app, ["id"]).exit_code != 0
