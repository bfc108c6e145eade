"""Reading catalog sheets (目录表): encodings, .xlsx, continuation rows, labels, headers — no database."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest

from govshare.catalog import rules, sheet, sheet_columns, sheet_template
from govshare.core.errors import PayloadTooLarge, ValidationFailed

HEADER = ["信息资源分类", "信息资源名称", "信息资源摘要", "共享类型", "共享条件", "共享方式", "不予共享依据",
          "信息项名称", "数据类型", "是否主键"]  # fmt: skip
POPULATION = ["101", "人口基础信息", "全市户籍人口基础信息", "01", "无条件", "联机查询", ""]


def csv_bytes(rows: list[list[object]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def errors_of(err: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[int, str, str]]:
    return [(e["row"], e["column"], e["code"]) for e in err.value.details["errors"]]


ROWS = [
    HEADER,
    [*POPULATION, "公民身份号码", "C", "是"],
    ["", "", "", "", "", "", "", "姓名", "字符型", "否"],
]


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8-sig", "utf-8"])
def test_csv_in_every_accepted_encoding_reads_the_same_chinese_text(encoding):
    parsed = sheet.parse(csv_bytes(ROWS, encoding), "catalog.csv")
    assert parsed.all_problems() == []
    [resource] = parsed.resources
    assert resource.data.name == "人口基础信息"
    assert [i.name for i in resource.data.items] == ["公民身份号码", "姓名"]


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_undecodable_bytes_are_refused_naming_their_line(encoding):
    content = csv_bytes(ROWS, encoding) + "101,户籍".encode(encoding.replace("-sig", "")) + b"\x81\xff\xfe\n"
    with pytest.raises(ValidationFailed) as err:
        sheet.parse(content, "catalog.csv")
    assert err.value.code == "invalid_encoding"
    assert "第 4 行" in err.value.message
    assert errors_of(err) == [(4, "", "invalid_encoding")]


def test_utf16_is_refused_with_a_hint():
    with pytest.raises(ValidationFailed) as err:
        sheet.parse(csv_bytes(ROWS, "utf-16"), "catalog.csv")
    assert err.value.code == "invalid_encoding"
    assert "UTF-8" in err.value.message


def test_xlsx_with_title_row_numbers_and_dates():
    content = xlsx_bytes(
        [
            ["深圳市政务信息资源目录（2024）"],
            [*HEADER, "长度", "发布日期", "是否向社会开放"],
            [
                101,
                "人口基础信息",
                "全市户籍人口基础信息",
                1,
                "无条件",
                "系统对接、联机查询",
                None,
                "公民身份号码",
                "C",
                "是",
                18.0,
                datetime(2024, 3, 1),
                True,
            ],  # fmt: skip
            [None, None, None, None, None, None, None, "出生日期", "D", "否", 8],
        ]
    )
    parsed = sheet.parse(content, "目录.xlsx")
    assert parsed.all_problems() == []
    [resource] = parsed.resources
    assert (resource.row, resource.item_rows) == (3, [3, 4])
    data = resource.data
    assert (data.classification_code, data.sharing_type, data.publish_date) == ("101", "01", date(2024, 3, 1))
    assert data.sharing_methods == ["系统对接", "联机查询"]
    assert data.open_to_public is True
    assert [(i.name, i.data_type, i.length, i.is_key) for i in data.items] == [
        ("公民身份号码", "C", 18, True),
        ("出生日期", "D", 8, False),
    ]
    assert rules.check_resource(data).problems == []


def test_xlsx_header_is_found_on_a_later_sheet_after_an_instructions_sheet():
    book = openpyxl.Workbook()
    book.active.append(["填写说明：一行一个信息项"])
    data_sheet = book.create_sheet("目录")
    for row in ROWS:
        data_sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    assert len(sheet.parse(out.getvalue(), "x.xlsx").resources) == 1


def test_repeated_resource_columns_and_first_row_only_layouts_group_the_same_way():
    repeated = [HEADER, [*POPULATION, "公民身份号码", "C", "是"], [*POPULATION, "姓名", "C", "否"]]
    first_only = [
        HEADER,
        [*POPULATION, "公民身份号码", "C", "是"],
        ["", "", "", "", "", "", "", "姓名", "C", "否"],
    ]
    a, b = (sheet.parse(csv_bytes(rows)).resources for rows in (repeated, first_only))
    assert len(a) == len(b) == 1
    assert a[0].data == b[0].data
    assert a[0].item_rows == [2, 3]


def test_a_new_name_starts_a_new_resource():
    rows = [HEADER, [*POPULATION, "公民身份号码", "C", "是"],
            ["102", "法人单位基础信息", "企业登记信息", "02", "仅限办事核验", "联机查询", "", "统一社会信用代码", "C", "是"],
            ["", "", "", "", "", "", "", "企业名称", "C", "否"]]  # fmt: skip
    parsed = sheet.parse(csv_bytes(rows))
    assert [(r.data.name, r.row, r.item_rows) for r in parsed.resources] == [
        ("人口基础信息", 2, [2]),
        ("法人单位基础信息", 3, [3, 4]),
    ]
    assert parsed.resources[1].data.sharing_type == "02"


def test_repeated_row_that_disagrees_with_the_first_row_is_reported():
    changed = [*POPULATION[:2], "另一段摘要", *POPULATION[3:]]
    parsed = sheet.parse(
        csv_bytes([HEADER, [*POPULATION, "公民身份号码", "C", "是"], [*changed, "姓名", "C", "否"]])
    )
    assert [(p.row, p.column, p.code) for p in parsed.all_problems()] == [
        (3, "信息资源摘要", "inconsistent_resource")
    ]


def test_item_row_before_any_resource_is_reported():
    parsed = sheet.parse(csv_bytes([HEADER, ["", "", "", "", "", "", "", "姓名", "C", "否"]]))
    assert [(p.row, p.column, p.code) for p in parsed.all_problems()] == [
        (2, "信息资源名称", "name_required")
    ]


def test_labels_and_codes_mean_the_same():
    header = [*HEADER, "敏感级别", "脱敏规则", "是否共享", "更新周期", "主体标识类型"]
    by_label = ["101", "人口", "摘要", "有条件共享", "限办事", "联机查询", "", "身份证", "字符型", "是",
                "敏感", "证件号码", "是", "每日", "公民身份号码"]  # fmt: skip
    by_code = ["101", "人口", "摘要", "02", "限办事", "online_query", "", "身份证", "c", "Y",
               "3", "id_number", "1", "daily", "person_id"]  # fmt: skip
    a = rules.check_resource(sheet.parse(csv_bytes([header, by_label])).resources[0].data)
    b = rules.check_resource(sheet.parse(csv_bytes([header, by_code])).resources[0].data)
    assert a.problems == b.problems == []
    assert a.values == b.values
    assert a.items == b.items
    assert a.items[0]["masking_rule"] == "id_number" and a.items[0]["sensitivity"] == 3


def test_english_header_aliases_are_accepted():
    header = ["classification", "name", "Summary", "sharing_type", "sharing condition", "sharing-methods",
              "legal_basis", "item_name", "DATA_TYPE", "is_key"]  # fmt: skip
    parsed = sheet.parse(csv_bytes([header, [*POPULATION, "公民身份号码", "C", "是"]]))
    assert parsed.resources[0].data.name == "人口基础信息"
    assert parsed.resources[0].data.sharing_condition == "无条件"


def test_required_marks_and_parenthesised_notes_in_headers_are_ignored():
    header = [
        "*信息资源分类",
        "*信息资源名称",
        "*信息资源摘要",
        "*共享类型（01/02/03）",
        "序号",
        "信息项名称",
        "数据类型",
    ]
    parsed = sheet.parse(csv_bytes([header, ["101", "人口", "摘要", "03", "1", "姓名", "C"]]))
    assert parsed.resources[0].data.sharing_type == "03"


def test_unknown_duplicate_and_missing_headers_are_reported_together():
    header = [
        "信息资源分类",
        "信息资源名称",
        "信息资源名称",
        "共享类型",
        "信息项名称",
        "数据类型",
        "数据来源",
    ]
    with pytest.raises(ValidationFailed) as err:
        sheet.parse(csv_bytes([header, ["101"] * len(header)]))
    assert err.value.code == "invalid_header"
    assert errors_of(err) == [
        (1, "信息资源名称", "duplicate_column"),
        (1, "数据来源", "unknown_column"),
        (1, "信息资源摘要", "missing_column"),
    ]


def test_a_file_without_a_header_is_refused():
    with pytest.raises(ValidationFailed) as err:
        sheet.parse(csv_bytes([["a", "b", "c"], ["1", "2", "3"]]))
    assert err.value.code == "header_not_found"


def test_unreadable_cells_are_reported_at_their_row_and_column():
    header = [*HEADER, "长度", "敏感级别", "发布日期"]
    rows = [header, [*POPULATION, "公民身份号码", "C", "也许", "十八", "很高", "2024-02-30"]]
    parsed = sheet.parse(csv_bytes(rows))
    assert [(p.row, p.column, p.code) for p in parsed.all_problems()] == [
        (2, "发布日期", "invalid_date"),
        (2, "长度", "invalid_length"),
        (2, "是否主键", "invalid_boolean"),
        (2, "敏感级别", "invalid_sensitivity"),
    ]


def test_rule_problems_map_back_to_item_rows():
    rows = [
        HEADER,
        [*POPULATION, "公民身份号码", "C", "是"],
        ["", "", "", "", "", "", "", "婚姻状况", "Z", "否"],
    ]
    resource = sheet.parse(csv_bytes(rows)).resources[0]
    for problem in rules.check_resource(resource.data).problems:
        resource.add(problem.field, problem.code, problem.message)
    assert [(p.row, p.column, p.code) for p in resource.problems] == [(3, "数据类型", "invalid_data_type")]


def test_too_many_rows_is_refused():
    rows = [HEADER] + [[*POPULATION, f"信息项{n}", "C", "否"] for n in range(11)]
    with pytest.raises(PayloadTooLarge) as err:
        sheet.parse(csv_bytes(rows), max_rows=10)
    assert err.value.code == "too_many_rows"


def test_blank_rows_are_skipped_but_never_hide_later_rows():
    rows = [HEADER, [*POPULATION, "公民身份号码", "C", "是"], *[[""] * 10] * 50, ["101", "户籍信息", "摘要", "01", "无条件", "联机查询", "", "户号", "C", "是"]]  # fmt: skip
    assert [r.row for r in sheet.parse(csv_bytes(rows), max_rows=10).resources] == [2, 53]
    with pytest.raises(PayloadTooLarge) as err:
        sheet.parse(csv_bytes(rows + [[""] * 10] * 60), max_rows=10)
    assert err.value.code == "too_many_rows"


def test_oversized_upload_is_refused_before_reading():
    with pytest.raises(PayloadTooLarge) as err:
        sheet.check_size(2048, max_bytes=1024)
    assert err.value.code == "payload_too_large" and err.value.status == 413


def test_legacy_xls_and_fake_xlsx_are_refused():
    with pytest.raises(ValidationFailed) as err:
        sheet.parse(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls")
    assert err.value.code == "unsupported_format"
    with pytest.raises(ValidationFailed) as err:
        sheet.parse(b"PK\x03\x04 not really a zip", "broken.xlsx")
    assert err.value.code == "invalid_xlsx"


@pytest.mark.parametrize("make", [sheet_template.template_csv, sheet_template.template_xlsx])
def test_templates_hold_every_column_and_an_example_that_passes_the_rules(make):
    parsed = sheet.parse(make(), "template")
    assert parsed.all_problems() == []
    [resource] = parsed.resources
    assert rules.check_resource(resource.data).problems == []
    assert len(sheet_template.template_rows()[0]) == len(sheet_columns.COLUMNS)
