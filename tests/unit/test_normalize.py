"""Value normalisation by item type and the compiled row check: layouts accepted, canonical forms, codes."""

from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace

import pytest

from govshare.catalog.schemas import ItemIn
from govshare.core import ids
from govshare.data import normalize as n
from govshare.data.normalize import Problem, ValueProblem, compile_row_normaliser

ID_ENDING_IN_X = "44030519900101000X"  # ids.make_resident_id("440305", date(1990, 1, 1), 0)
ID = ids.make_resident_id("440305", dt.date(1990, 1, 1), 12)
CREDIT_CODE = ids.make_credit_code("9", "1", "440300", "MA5F0000")


def problem_code(check, value: str) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueProblem) as err:
        check(value)
    return err.value.code


# -- dates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["2024-05-01", "2024/5/1", "2024/05/01", "2024.5.1", "2024-5-1", "2024年5月1日", "2024年05月01日",
     "2024 年 5 月 1 日", "20240501", " 2024-05-01 ", "２０２４年５月１日", "2024-05-01 00:00:00", "2024/5/1 0:00"],
)  # fmt: skip
def test_every_common_chinese_date_layout_becomes_iso(text):
    assert n.normalize_date(text) == "2024-05-01"


@pytest.mark.parametrize("text", ["2024-02-30", "2023-02-29", "2024-13-01", "20240431", "2024年4月31日"])
def test_impossible_dates_are_refused_as_nonexistent(text):
    assert problem_code(n.normalize_date, text) == "nonexistent_date"


def test_leap_day_of_a_leap_year_is_a_date():
    assert n.normalize_date("2024/2/29") == "2024-02-29"


@pytest.mark.parametrize(
    "text", ["2024-05", "05/01/2024", "2024-5/1", "2024-05-01 08:30", "yesterday", "2024-05-01x"]
)
def test_unrecognised_date_layouts_and_times_other_than_midnight_are_invalid_dates(text):
    assert problem_code(n.normalize_date, text) == "invalid_date"


@pytest.mark.parametrize("text", [None, "", "   ", "\u3000"])
def test_empty_values_become_none_for_every_type(text):
    checks = [n.normalize_date, n.normalize_datetime, n.normalize_number, n.normalize_integer, n.normalize_currency,
              n.normalize_logical, n.normalize_text, n.normalize_division_code, n.normalize_credit_code,
              n.resident_id_normaliser()]  # fmt: skip
    assert [check(text) for check in checks] == [None] * len(checks)


# -- datetimes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["2024-05-01 08:30", "2024-05-01 08:30:00", "2024-05-01T08:30:00", "2024/5/1 8:30", "2024.5.1 8:30:00",
     "2024年5月1日 8时30分", "2024年5月1日8时30分", "2024年5月1日 8点30分0秒", "2024年5月1日 08:30",
     "20240501083000", "2024-05-01T08:30:00+08:00", "2024-05-01T00:30:00Z", "2024-05-01T09:30:00+09:00",
     "2024-05-01T08:30:00+0800", "２０２４－０５－０１　０８：３０"],
)  # fmt: skip
def test_datetime_layouts_become_iso_8601_in_china_standard_time(text):
    assert n.normalize_datetime(text) == "2024-05-01T08:30:00+08:00"


def test_datetime_keeps_fractions_of_a_second_and_a_bare_date_means_midnight():
    assert n.normalize_datetime("2024-05-01 08:30:00.25") == "2024-05-01T08:30:00.250000+08:00"
    assert n.normalize_datetime("2024/5/1") == "2024-05-01T00:00:00+08:00"


@pytest.mark.parametrize(("text", "code"), [("2024-05-01 24:00", "nonexistent_time"), ("2024-05-01 08:60", "nonexistent_time"),
                                            ("2024-02-30 08:00", "nonexistent_date"), ("2024-05-01 8", "invalid_datetime"),
                                            ("2024-05-018:30", "invalid_datetime"), ("08:30", "invalid_datetime")])  # fmt: skip
def test_impossible_or_unrecognised_datetimes_are_refused(text, code):
    assert problem_code(n.normalize_datetime, text) == code


# -- numbers and currency ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1,234.50", "1234.5"), ("1，234", "1234"), ("12,345,678", "12345678"), ("１２３４．５", "1234.5"),
     ("-0.0", "0"), ("007", "7"), ("+3.10", "3.1"), (".5", "0.5"), ("1.5e3", "1500"), ("−5", "-5"), (" 42 ", "42")],
)  # fmt: skip
def test_numbers_with_thousands_separators_and_full_width_digits_become_canonical_decimals(text, expected):
    assert n.normalize_number(text) == expected


@pytest.mark.parametrize("text", ["12abc", "1,23", "1,2345", "--1", "1.2.3", "NaN", "inf", "1 234", "十二"])
def test_text_that_is_not_a_number_is_refused(text):
    assert problem_code(n.normalize_number, text) == "invalid_number"


def test_integer_accepts_separators_and_zero_fractions_but_not_fractions():
    assert n.normalize_integer("1,200") == "1200"
    assert n.normalize_integer("12.00") == "12"
    assert problem_code(n.normalize_integer, "12.5") == "not_integer"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("¥1,200.00", "1200.00"), ("1200元", "1200.00"), ("￥１，２００", "1200.00"), ("RMB 12.5", "12.50"),
     ("人民币100元整", "100.00"), ("-¥3.5", "-3.50"), ("12", "12.00"), ("1.500", "1.50"), ("0.01", "0.01")],
)  # fmt: skip
def test_currency_in_yuan_becomes_a_two_decimal_amount(text, expected):
    assert n.normalize_currency(text) == expected


@pytest.mark.parametrize("text", ["1.005", "¥0.001", "abc元", "12e3", "元"])
def test_currency_with_fractions_of_a_fen_or_no_number_is_refused(text):
    assert problem_code(n.normalize_currency, text) == "invalid_currency"


# -- logical, text, pass-through -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("是", "true"), ("否", "false"), ("true", "true"), ("FALSE", "false"), ("1", "true"), ("0", "false"),
     ("Y", "true"), ("n", "false"), ("T", "true"), ("f", "false"), ("１", "true"), (" 是 ", "true")],
)  # fmt: skip
def test_logical_values_in_chinese_english_and_digits_become_true_or_false(text, expected):
    assert n.normalize_logical(text) == expected


def test_other_logical_text_is_refused():
    assert problem_code(n.normalize_logical, "2") == "invalid_logical"


def test_text_is_trimmed_and_full_width_letters_and_digits_fold_while_chinese_punctuation_stays():
    assert (
        n.normalize_text("\u3000 Ａ座１２０３室（南山区），电话０７５５－１２３４ ")
        == "A座1203室（南山区），电话0755-1234"
    )
    assert n.normalize_text("张三") == "张三"


def test_text_length_counts_characters_after_folding():
    check = n.text_normaliser(4)
    assert check("１２３４") == "1234"
    assert check("深圳南山") == "深圳南山"
    assert problem_code(check, "深圳市南山") == "too_long"


def test_general_type_passes_values_through_untouched():
    assert n.normalize_passthrough("  aGVsbG8=\n") == "  aGVsbG8=\n"
    assert n.normalize_passthrough("") is None


# -- identifiers ---------------------------------------------------------------------------------------


def test_valid_resident_id_is_accepted_as_is():
    assert n.resident_id_normaliser()(ID) == ID


def test_lower_case_x_spaces_and_full_width_digits_in_resident_ids_are_normalised():
    check = n.resident_id_normaliser()
    assert check(ID_ENDING_IN_X.lower()) == ID_ENDING_IN_X
    assert check(" 440305 19900101 000x ") == ID_ENDING_IN_X
    assert check(ID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))) == ID


@pytest.mark.parametrize(
    ("text", "code"),
    [(ID[:17] + ("1" if ID[17] != "1" else "2"), "invalid_check_character"),
     ("440305199002300011", "invalid_birth_date"),
     ("999999199001010011", "unknown_division_code"),
     (ID[:17], "invalid_length"),
     ("44030519900101001A", "invalid_character")],
)  # fmt: skip
def test_resident_id_problems_keep_the_identifier_check_code(text, code):
    assert problem_code(n.resident_id_normaliser(), text) == code


def test_resident_id_born_after_today_is_refused():
    check = n.resident_id_normaliser(today=dt.date(1989, 12, 31))
    assert problem_code(check, ID) == "birth_date_in_future"


def test_resident_id_fast_path_agrees_with_the_identifier_module_on_every_value():
    rng = random.Random(11643)
    check, today = n.resident_id_normaliser(dt.date(2024, 5, 1)), dt.date(2024, 5, 1)
    divisions = ["440305", "440300", "110101", "830000", "999999", "110103"]
    values = []
    for _ in range(3000):
        body = (
            rng.choice(divisions)
            + f"{rng.randrange(1880, 2030)}{rng.randrange(1, 14):02d}{rng.randrange(1, 32):02d}"
        )
        body += f"{rng.randrange(1000):03d}"
        values.append(body + rng.choice([ids.resident_id_check_character(body), "X", "0", "x"]))
    for value in values:
        try:
            expected: tuple[str, str] = ("ok", ids.validate_resident_id(value, today=today))
        except ids.IdCheckError as err:
            expected = ("error", err.code)
        try:
            got: tuple[str, str] = ("ok", check(value) or "")
        except ValueProblem as err:
            got = ("error", err.code)
        assert got == expected, value
    assert sum(_accepted(check, v) for v in values) > 300  # the sample holds plenty of valid numbers


def _accepted(check, value: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        check(value)
    except ValueProblem:
        return False
    return True


def test_credit_codes_are_checked_and_their_problems_keep_the_code():
    assert n.normalize_credit_code(CREDIT_CODE.lower()) == CREDIT_CODE
    bad = CREDIT_CODE[:17] + ("0" if CREDIT_CODE[17] != "0" else "1")
    assert problem_code(n.normalize_credit_code, bad) == "invalid_check_character"


def test_division_codes_are_checked_against_gb_t_2260():
    assert n.normalize_division_code(" 440305 ") == "440305"
    assert problem_code(n.normalize_division_code, "440399") == "unknown_division_code"
    assert problem_code(n.normalize_division_code, "44030") == "invalid_length"


# -- compiled row check --------------------------------------------------------------------------------


def item(name: str, data_type: str = "C", **kw: object) -> SimpleNamespace:
    return SimpleNamespace(name=name, data_type=data_type, length=kw.get("length"),
                           is_key=kw.get("is_key", False), required=kw.get("required", False))  # fmt: skip


POPULATION = [
    item("证件号码", is_key=True),
    item("姓名", length=50, required=True),
    item("出生日期", "D"),
    item("户籍地行政区划代码"),
    item("月收入", "Y"),
    item("是否在册", "L"),
]


def test_valid_row_is_normalised_with_no_problems():
    check = compile_row_normaliser(POPULATION, "person_id")
    row = {"证件号码": ID_ENDING_IN_X.lower(), "姓名": " 张三 ", "出生日期": "1990年1月1日", "户籍地行政区划代码": "440305",
           "月收入": "¥8,000", "是否在册": "是", "其他列": "ignored"}  # fmt: skip
    assert check(row) == (
        {"证件号码": ID_ENDING_IN_X, "姓名": "张三", "出生日期": "1990-01-01", "户籍地行政区划代码": "440305",
         "月收入": "8000.00", "是否在册": "true"},
        [],
    )  # fmt: skip


def test_every_bad_cell_of_a_row_is_reported_with_its_column_and_code():
    check = compile_row_normaliser(POPULATION, "person_id")
    row = {"证件号码": ID[:17] + "X" if ID[17] != "X" else ID[:17] + "0", "姓名": "", "出生日期": "2024-02-30",
           "户籍地行政区划代码": "999999", "月收入": "1.005", "是否在册": "也许"}  # fmt: skip
    values, problems = check(row)
    assert [(p.column, p.code) for p in problems] == [
        ("证件号码", "invalid_check_character"),
        ("姓名", "required"),
        ("出生日期", "nonexistent_date"),
        ("户籍地行政区划代码", "unknown_division_code"),
        ("月收入", "invalid_currency"),
        ("是否在册", "invalid_logical"),
    ]
    assert set(values.values()) == {None}


def test_problems_are_column_code_message_triples():
    _, [problem] = compile_row_normaliser([item("出生日期", "D")])({"出生日期": "2024-02-30"})
    column, code, message = problem
    assert problem == Problem("出生日期", "nonexistent_date", message)
    assert (column, code) == ("出生日期", "nonexistent_date") and "2024-02-30" in message


def test_missing_or_empty_key_is_required():
    check = compile_row_normaliser(POPULATION, "person_id")
    _, problems = check({"姓名": "张三"})
    assert [(p.column, p.code) for p in problems] == [("证件号码", "required")]


def test_subject_key_type_makes_the_single_key_item_an_identifier_whatever_its_name():
    items = [item("编号", is_key=True)]
    assert compile_row_normaliser(items, "credit_code")({"编号": CREDIT_CODE})[1] == []
    assert compile_row_normaliser(items, "credit_code")({"编号": "A1"})[1][0].code == "invalid_length"
    assert compile_row_normaliser(items, "house_code")({"编号": "A1"})[1] == []


def test_composite_keys_are_not_taken_for_the_subject_key():
    items = [item("编号", is_key=True), item("年度", "I", is_key=True)]
    assert compile_row_normaliser(items, "person_id")({"编号": "A1", "年度": "2024"}) == (
        {"编号": "A1", "年度": "2024"},
        [],
    )


def test_identifier_items_are_recognised_by_name_and_an_explicit_mapping_overrides():
    items = [item("法定代表人身份证号码"), item("统一社会信用代码"), item("所在区划代码")]
    row = {"法定代表人身份证号码": "1", "统一社会信用代码": "2", "所在区划代码": "3"}
    assert [p.code for p in compile_row_normaliser(items)(row)[1]] == ["invalid_length"] * 3
    overridden = compile_row_normaliser(
        items, identifiers={"法定代表人身份证号码": None, "所在区划代码": None}
    )
    assert [p.column for p in overridden(row)[1]] == ["统一社会信用代码"]


def test_catalog_item_declarations_can_be_compiled_directly():
    items = [ItemIn(name="公民身份号码", data_type="C", is_key=True), ItemIn(name="人数", data_type="I")]
    assert compile_row_normaliser(items, "person_id")({"公民身份号码": ID, "人数": "1,200"}) == (
        {"公民身份号码": ID, "人数": "1200"},
        [],
    )


def test_item_names_are_data_to_the_generated_row_check_never_code():
    names = ['a"}, __import__("os").system("exit 1"), {"', "n0", "{x}\n", "值"]
    check = compile_row_normaliser([item(name, "I", required=True) for name in names])
    assert check(dict.fromkeys(names, "1")) == (dict.fromkeys(names, "1"), [])
    assert [p.column for p in check({})[1]] == names


def test_a_row_without_required_items_never_reports_required():
    check = compile_row_normaliser([item("备注", "M"), item("附件", "G")])
    assert check({"备注": "", "附件": None}) == ({"备注": None, "附件": None}, [])


def test_unknown_data_type_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown item data type"):
        compile_row_normaliser([item("x", "Z")])
