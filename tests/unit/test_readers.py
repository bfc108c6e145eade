"""Streaming data-file readers: encodings, CSV/TSV, JSON Lines, Excel, Parquet, row numbers, errors."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from govshare.core.errors import ValidationFailed
from govshare.data.readers import HEAD_BYTES, ReaderError, Source, open_source

HEADER = ["公民身份号码", "姓名", "住址"]
# 𠀀 (U+20000) and 䶮 exist in GB18030 only, not in GBK: real names use such characters.
PEOPLE = [["440305199001010122", "张𠀀", "深圳市南山区"], ["440304198512120036", "刘䶮", "深圳市福田区"]]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue().encode(encoding)


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def read_all(source: Source) -> list[tuple[int, dict[str, str | None]]]:
    with source:
        return list(source)


def test_gb18030_csv_is_detected_and_reads_chinese_text_exactly(tmp_path):
    source = open_source(write(tmp_path, "people.csv", csv_bytes([HEADER, *PEOPLE], "gb18030")))
    assert source.encoding == "gb18030"
    assert source.columns == HEADER
    assert read_all(source) == [
        (2, dict(zip(HEADER, PEOPLE[0], strict=True))),
        (3, dict(zip(HEADER, PEOPLE[1], strict=True))),
    ]


def test_gbk_file_from_excel_reads_as_gb18030(tmp_path):
    rows = [HEADER, ["440305199001010122", "王芳", "深圳市南山区"]]
    source = open_source(write(tmp_path, "people.csv", csv_bytes(rows, "gbk")))
    assert source.encoding == "gb18030"
    assert read_all(source)[0][1]["姓名"] == "王芳"


def test_utf8_bom_is_detected_and_kept_out_of_the_first_column_name(tmp_path):
    source = open_source(write(tmp_path, "people.csv", csv_bytes([HEADER, *PEOPLE], "utf-8-sig")))
    assert source.encoding == "utf-8-sig"
    assert source.columns[0] == "公民身份号码"
    assert read_all(source)[1][1]["姓名"] == "刘䶮"


def test_plain_utf8_is_detected(tmp_path):
    source = open_source(write(tmp_path, "people.csv", csv_bytes([HEADER, *PEOPLE])))
    assert source.encoding == "utf-8"
    assert [row["住址"] for _, row in read_all(source)] == ["深圳市南山区", "深圳市福田区"]


def test_explicit_encoding_overrides_detection_and_a_wrong_one_names_the_line(tmp_path):
    path = write(tmp_path, "people.csv", csv_bytes([["id", "name"], ["1", "张三"]], "gb18030"))
    assert read_all(open_source(path, encoding="gbk"))[0][1]["name"] == "张三"
    with pytest.raises(ReaderError) as err:
        read_all(open_source(path, encoding="utf-8"))
    assert (err.value.code, err.value.row) == ("invalid_encoding", 2)
    assert "第 2 行" in err.value.message


@pytest.mark.parametrize("padding", [0, 400], ids=["inside the detected head", "past the first megabyte"])
@pytest.mark.parametrize("encoding", ["gb18030", "utf-8"])
def test_undecodable_byte_on_line_5000_is_reported_with_its_line_after_the_rows_before_it(
    tmp_path, padding, encoding
):
    lines = [",".join(HEADER)] + [
        f"44030519900101{n:04d},张三{n},{'深圳市南山区' + 'x' * padding}" for n in range(2, 6001)
    ]
    raw = "\n".join(lines).encode(encoding).split(b"\n")
    raw[4999] += b"\xff"  # line 5000 (the header is line 1)
    path = write(tmp_path, "people.csv", b"\n".join(raw))
    assert (path.stat().st_size > HEAD_BYTES) == bool(padding)
    seen = []
    with pytest.raises(ReaderError) as err, open_source(path) as source:
        assert source.encoding == encoding
        for number, _ in source:
            seen.append(number)
    assert err.value.code == "invalid_encoding"
    assert err.value.row == 5000
    assert "第 5000 行" in err.value.message and "FF" in err.value.message
    assert seen == list(range(2, 5000))


def test_ascii_start_then_gb18030_later_switches_encoding_without_losing_text(tmp_path):
    ascii_rows = [[f"4403051990{n:08d}", f"name{n}", "x" * 100] for n in range(15_000)]  # > 1 MiB of ASCII
    content = csv_bytes([["id", "name", "note"], *ascii_rows, ["1", "张三", "深圳"]], "gb18030")
    assert len(content) > HEAD_BYTES
    rows = read_all(open_source(write(tmp_path, "late.csv", content)))
    assert rows[-1] == (15_002, {"id": "1", "name": "张三", "note": "深圳"})


def test_utf16_is_refused_with_a_hint(tmp_path):
    with pytest.raises(ReaderError) as err:
        open_source(write(tmp_path, "people.csv", csv_bytes([HEADER, *PEOPLE], "utf-16")))
    assert err.value.code == "invalid_encoding"
    assert "UTF-8" in err.value.message


def test_tsv_is_read_by_extension(tmp_path):
    source = open_source(write(tmp_path, "people.tsv", csv_bytes([HEADER, *PEOPLE], delimiter="\t")))
    assert source.format == "tsv"
    assert read_all(source)[0][1]["姓名"] == "张𠀀"


def test_tab_delimiter_is_sniffed_from_the_header_of_an_unnamed_upload():
    content = csv_bytes([["id", "amount"], ["1", "1,234.50"]], delimiter="\t")
    source = open_source(io.BytesIO(content))
    assert (source.format, source.columns) == ("tsv", ["id", "amount"])
    assert read_all(source) == [(2, {"id": "1", "amount": "1,234.50"})]


def test_wrong_field_count_raises_malformed_row_naming_the_line(tmp_path):
    content = b"a,b,c\n1,2,3\n4,5\n6,7,8\n"
    with pytest.raises(ReaderError) as err:
        read_all(open_source(write(tmp_path, "short.csv", content)))
    assert (err.value.code, err.value.row) == ("malformed_row", 3)
    assert "2 个字段" in err.value.message and "3 列" in err.value.message


def test_row_errors_go_to_on_error_and_reading_goes_on(tmp_path):
    content = b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n"
    errors: list[ReaderError] = []
    with open_source(write(tmp_path, "bad.csv", content)) as source:
        rows = list(source.rows(on_error=errors.append))
    assert [n for n, _ in rows] == [2, 5]
    assert [(e.code, e.row) for e in errors] == [("malformed_row", 3), ("malformed_row", 4)]


def test_quoted_line_breaks_keep_row_numbers_on_the_line_where_each_record_starts():
    content = 'id,address\n1,"深圳市\n南山区"\n2,福田区\n'.encode()
    assert read_all(open_source(io.BytesIO(content))) == [
        (2, {"id": "1", "address": "深圳市\n南山区"}),
        (4, {"id": "2", "address": "福田区"}),
    ]


def test_blank_lines_and_lines_of_empty_fields_are_skipped_and_numbering_follows_the_file():
    content = b"\na,b\n1,2\n\n,\n3,4\n"
    source = open_source(io.BytesIO(content), format="csv")
    assert source.columns == ["a", "b"]
    assert read_all(source) == [(3, {"a": "1", "b": "2"}), (6, {"a": "3", "b": "4"})]


def test_a_trailing_delimiter_on_every_line_is_tolerated():
    assert read_all(open_source(io.BytesIO(b"a,b,\n1,2,\n"))) == [(2, {"a": "1", "b": "2"})]


def test_unclosed_quote_is_reported_from_the_line_where_the_record_starts():
    with pytest.raises(ReaderError) as err:
        read_all(open_source(io.BytesIO(b'a,b\n1,2\n3,"unclosed\n' + b"x\n" * 10)))
    assert (err.value.code, err.value.row) == ("invalid_csv", 3)


def test_text_after_a_closing_quote_is_refused_rather_than_glued_on():
    with pytest.raises(ReaderError) as err:
        read_all(open_source(io.BytesIO(b'a,b\n1,"2"x\n')))
    assert (err.value.code, err.value.row) == ("invalid_csv", 2)


def test_duplicate_column_names_are_refused():
    with pytest.raises(ReaderError) as err:
        open_source(io.BytesIO("姓名,姓名\n张三,李四\n".encode()))
    assert (err.value.code, err.value.row) == ("duplicate_column", 1)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file_is_refused(content):
    with pytest.raises(ReaderError) as err:
        open_source(io.BytesIO(content))
    assert err.value.code == "empty_file"


def test_header_only_csv_has_columns_and_no_rows():
    source = open_source(io.BytesIO(b"a,b\n"))
    assert (source.columns, read_all(source)) == (["a", "b"], [])


def test_jsonl_rows_are_numbered_by_line_and_a_bad_line_is_reported_without_stopping(tmp_path):
    content = '{"姓名": "张三", "年龄": 30}\n\n{bad json\n[1, 2]\n{"姓名": "李四", "年龄": null}\n'.encode()
    errors: list[ReaderError] = []
    with open_source(write(tmp_path, "people.jsonl", content)) as source:
        assert (source.format, source.columns) == ("jsonl", ["姓名", "年龄"])
        rows = list(source.rows(on_error=errors.append))
    assert rows == [(1, {"姓名": "张三", "年龄": "30"}), (5, {"姓名": "李四", "年龄": None})]
    assert [(e.code, e.row) for e in errors] == [("invalid_json", 3), ("invalid_json", 4)]


def test_jsonl_bad_line_raises_invalid_json_when_no_handler_is_given():
    with pytest.raises(ReaderError) as err:
        read_all(open_source(io.BytesIO(b'{"a": 1}\n{"a": \n')))
    assert (err.value.code, err.value.row) == ("invalid_json", 2)


def test_jsonl_values_become_the_text_a_csv_would_hold():
    line = b'{"i": 12, "f": 2.0, "g": 1.5, "t": true, "n": null, "s": " x ", "o": {"k": "\xe5\x80\xbc"}, "l": [1]}\n'
    [(_, row)] = read_all(open_source(io.BytesIO(line)))
    assert row == {
        "i": "12",
        "f": "2",
        "g": "1.5",
        "t": "true",
        "n": None,
        "s": " x ",
        "o": '{"k": "值"}',
        "l": "[1]",
    }


def xlsx_path(tmp_path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "people.xlsx"
    book.save(path)
    return path


def test_xlsx_header_is_the_first_non_empty_row_and_cells_become_text(tmp_path):
    rows: list[list[object]] = [
        [],
        [None, "公民身份号码", "出生日期", "登记时间", "人数", "金额", "在册"],
        [None, "440305199001010122", date(1990, 1, 1), datetime(2024, 5, 1, 8, 30), 3, 1200.0, True],
        [],
        [None, "440304198512120036", datetime(1985, 12, 12), None, 4.5, 0.1, False],
    ]
    source = open_source(xlsx_path(tmp_path, {"人口": rows}))
    assert source.format == "xlsx"
    assert source.columns == ["公民身份号码", "出生日期", "登记时间", "人数", "金额", "在册"]
    assert read_all(source) == [
        (3, {"公民身份号码": "440305199001010122", "出生日期": "1990-01-01", "登记时间": "2024-05-01T08:30:00",
             "人数": "3", "金额": "1200", "在册": "true"}),
        (5, {"公民身份号码": "440304198512120036", "出生日期": "1985-12-12", "登记时间": None,
             "人数": "4.5", "金额": "0.1", "在册": "false"}),
    ]  # fmt: skip


def test_xlsx_named_sheet_is_read_and_an_unknown_one_is_refused(tmp_path):
    path = xlsx_path(tmp_path, {"说明": [["本表说明"]], "数据": [["a", "b"], [1, 2]]})
    assert read_all(open_source(path, sheet="数据")) == [(2, {"a": "1", "b": "2"})]
    assert open_source(path).columns == ["本表说明"]  # the first sheet by default
    with pytest.raises(ReaderError) as err:
        open_source(path, sheet="人口")
    assert err.value.code == "sheet_not_found"
    assert "说明、数据" in err.value.message


def test_xlsx_value_under_no_column_name_is_a_malformed_row(tmp_path):
    path = xlsx_path(tmp_path, {"数据": [["a", "b"], [1, 2, "stray"], [3, 4]]})
    errors: list[ReaderError] = []
    with open_source(path) as source:
        assert list(source.rows(on_error=errors.append)) == [(3, {"a": "3", "b": "4"})]
    assert [(e.code, e.row) for e in errors] == [("malformed_row", 2)]


def test_xlsx_upload_from_a_one_way_stream_is_spooled_and_read(tmp_path):
    content = xlsx_path(tmp_path, {"数据": [["a"], ["x"]]}).read_bytes()

    class OneWay(io.RawIOBase):
        def __init__(self) -> None:
            self.data = io.BytesIO(content)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
            chunk = self.data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    stream = io.BufferedReader(OneWay())
    assert not stream.seekable()
    assert read_all(open_source(stream)) == [(2, {"a": "x"})]


def test_parquet_rows_are_numbered_from_one_across_batches_and_typed_values_become_text(tmp_path):
    count = 25_000  # more than one 10,000-row batch
    table = pa.table(
        {
            "公民身份号码": pa.array([f"44030519900101{n:04d}" for n in range(count)]),
            "人数": pa.array(list(range(count)), pa.int64()),
            "金额": pa.array([1.5] * (count - 1) + [None], pa.float64()),
            "出生日期": pa.array([date(1990, 1, 1)] * count, pa.date32()),
            "在册": pa.array([True] * count),
        }
    )
    path = tmp_path / "people.parquet"
    pq.write_table(table, path)
    source = open_source(path)
    assert (source.format, source.columns) == (
        "parquet",
        ["公民身份号码", "人数", "金额", "出生日期", "在册"],
    )
    rows = read_all(source)
    assert [n for n, _ in rows] == list(range(1, count + 1))
    assert rows[0][1] == {
        "公民身份号码": "440305199001010000",
        "人数": "0",
        "金额": "1.5",
        "出生日期": "1990-01-01",
        "在册": "true",
    }
    assert rows[-1][1]["金额"] is None


@pytest.mark.parametrize("kind", ["csv", "jsonl", "xlsx", "parquet"])
def test_an_unnamed_upload_is_recognised_by_its_content(tmp_path, kind):
    if kind == "csv":
        content = b"a,b\n1,2\n"
    elif kind == "jsonl":
        content = b'{"a": "1", "b": "2"}\n'
    elif kind == "xlsx":
        content = xlsx_path(tmp_path, {"s": [["a", "b"], [1, 2]]}).read_bytes()
    else:
        out = io.BytesIO()
        pq.write_table(pa.table({"a": ["1"], "b": ["2"]}), out)
        content = out.getvalue()
    source = open_source(io.BytesIO(content))
    assert source.format == kind
    assert [row for _, row in read_all(source)] == [{"a": "1", "b": "2"}]


def test_old_xls_and_unknown_formats_are_unsupported(tmp_path):
    with pytest.raises(ReaderError) as err:
        open_source(write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100))
    assert err.value.code == "unsupported_format"
    with pytest.raises(ReaderError) as err:
        open_source(io.BytesIO(b"a\n1\n"), format="dbf")
    assert err.value.code == "unsupported_format"


def test_reading_streams_instead_of_loading_the_whole_file():
    rows = b"".join(b"%d,name%d\n" % (n, n) for n in range(400_000))  # ~6 MB

    class Counting(io.BytesIO):
        consumed = 0

        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            self.consumed += len(data)
            return data

    stream = Counting(b"id,name\n" + rows)
    source = open_source(stream)
    next(iter(source))
    assert stream.consumed <= 2 * HEAD_BYTES < len(rows)


def test_reader_error_is_a_validation_failure_with_the_row_in_its_details():
    with pytest.raises(ValidationFailed) as err:
        read_all(open_source(io.BytesIO(b"a,b\n1\n")))
    assert err.value.to_dict() == {
        "error": {"code": "malformed_row", "message": err.value.message, "details": {"row": 2}}
    }
