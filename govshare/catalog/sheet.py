"""Reading a catalog sheet (目录表): .xlsx or CSV laid out like the national template, into ResourceIn.

One row per 信息项 (the columns: sheet_columns). The resource-level columns either repeat on every
item row of a resource or are filled only on its first row: a row whose 信息资源名称 is empty (or
repeats the name and provider of the resource above) continues that resource. Every problem is
kept against its sheet row and column, so sheet_import can report them all at once.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from govshare.catalog import vocab
from govshare.catalog.schemas import ItemIn, ResourceIn
from govshare.catalog.sheet_columns import BY_KEY, COLUMNS, IGNORED_HEADERS, Column, column_for, header_key
from govshare.core import ids
from govshare.core.errors import PayloadTooLarge, ValidationFailed

MAX_ROWS = 5000  # data rows per sheet; larger catalogs are split into several files
HEADER_SEARCH_ROWS = 10  # the national template often has a title row or two above the header
BLANK_ROWS_PER_ROW = 10  # Excel keeps formatted empty rows; past this many per allowed row, refuse

_RESOURCE_FIELDS = {c.field: c for c in COLUMNS if not c.item}
_ITEM_FIELDS = {c.field: c for c in COLUMNS if c.item}
_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "t"}
_FALSE = {"否", "n", "no", "false", "0", "×", "✗", "f"}
_LIST_SEPARATORS = re.compile(r"[；;、,，\n]+")


@dataclass
class RowProblem:
    """One problem in the sheet: sheet row (1 = first line), column title, stable code, message."""

    row: int
    column: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


@dataclass
class SheetResource:
    """One resource of the sheet, with the rows it came from so problems map back to them."""

    row: int
    data: ResourceIn
    item_rows: list[int]
    problems: list[RowProblem] = field(default_factory=list)

    def locate(self, field_path: str) -> tuple[int, str]:
        """Sheet row and column of a rules.Problem field such as ``name`` or ``items[3].data_type``."""
        m = re.fullmatch(r"items\[(\d+)\]\.(\w+)", field_path)
        if m and int(m[1]) <= len(self.item_rows):
            column = _ITEM_FIELDS.get(m[2], BY_KEY["item_name"])
            return self.item_rows[int(m[1]) - 1], column.title
        if field_path == "items":
            return self.row, BY_KEY["item_name"].title
        resource_column = _RESOURCE_FIELDS.get(field_path)
        return self.row, resource_column.title if resource_column else field_path

    def add(self, field_path: str, code: str, message: str) -> None:
        self.problems.append(RowProblem(*self.locate(field_path), code, message))


@dataclass
class Sheet:
    resources: list[SheetResource]
    problems: list[RowProblem]  # rows that belong to no resource
    rows: int  # data rows read (blank rows not counted)

    def all_problems(self) -> list[RowProblem]:
        found = self.problems + [p for r in self.resources for p in r.problems]
        order = {c.title: n for n, c in enumerate(COLUMNS)}
        return sorted(found, key=lambda p: (p.row, order.get(p.column, len(order))))


def problems_error(code: str, message: str, problems: list[RowProblem]) -> ValidationFailed:
    """The error that lists every problem as ``{row, column, code, message}`` in ``details.errors``."""
    return ValidationFailed(code, message, {"errors": [p.as_dict() for p in problems]})


def file_error(code: str, message: str, row: int = 0, column: str = "") -> ValidationFailed:
    """A problem with the file as a whole, in the same row-level shape as every other problem."""
    return problems_error(code, message, [RowProblem(row, column, code, message)])


# -- reading ---------------------------------------------------------------------------------------


def check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise PayloadTooLarge(
            "payload_too_large",
            f"文件过大：上限 {max_bytes:,} 字节（{max_bytes / 1048576:.1f} MB），请拆分后再上传",
            {"limit_bytes": max_bytes},  # the same shape as web.limits answers
        )


def decode_csv(content: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030 (which covers GBK/GB2312); anything else is refused."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise file_error(
            "invalid_encoding",
            "不支持 UTF-16 编码的文件；请在 Excel 中另存为“CSV UTF-8”或 GB18030 编码的 CSV",
            1,
        )
    bom = content.startswith(b"\xef\xbb\xbf")
    try:
        return _text_only(content[3:].decode("utf-8") if bom else content.decode("utf-8"))
    except UnicodeDecodeError as utf8_err:
        stop = utf8_err.start + (3 if bom else 0)
        if not bom:  # without a BOM it may be GB18030 (GBK); a BOM says UTF-8
            try:
                return _text_only(content.decode("gb18030"))
            except UnicodeDecodeError as gb_err:
                # Neither fits: the decoder that got further is the right one, and it stopped at the bad bytes.
                stop = max(stop, gb_err.start)
    line = content.count(b"\n", 0, stop) + 1
    raise file_error(
        "invalid_encoding",
        f"无法识别文件编码：第 {line} 行含有无效字节 0x{content[stop]:02X}，既不是 UTF-8 也不是 GB18030；"
        "请在 Excel 中另存为“CSV UTF-8”后重试",
        line,
    )


def _text_only(text: str) -> str:
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise file_error("invalid_encoding", f"第 {line} 行含有空字符（NUL）：文件不是文本 CSV", line)
    return text


def _csv_rows(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = decode_csv(content)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as err:
        raise file_error("invalid_csv", f"第 {start} 行不是有效的 CSV：{err}", start) from None


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as err:
        raise file_error("invalid_xlsx", f"无法读取 Excel 文件（文件损坏或不是 .xlsx）：{err}") from None
    try:
        for sheet in book.worksheets:  # the first sheet that has a header; others may hold instructions
            sheet.reset_dimensions()  # some writers record wrong dimensions; read what is there
            rows = enumerate(sheet.iter_rows(values_only=True), start=1)
            head = [(n, list(cells)) for n, cells in _take(rows, HEADER_SEARCH_ROWS)]
            if any(_looks_like_header(cells) for _, cells in head):
                yield from head
                for n, cells in rows:
                    yield n, list(cells)
                return
        yield from []
    finally:
        book.close()


def _take(it: Iterator[Any], n: int) -> list[Any]:
    return [x for _, x in zip(range(n), it, strict=False)]


def _looks_like_header(cells: list[Any]) -> bool:
    return sum(1 for c in cells if isinstance(c, str) and column_for(c)) >= 3


def read_rows(content: bytes, filename: str) -> Iterator[tuple[int, list[Any]]]:
    """(sheet row number, cell values) of an .xlsx or .csv file, recognised by content first."""
    if content.startswith(b"PK\x03\x04"):
        return _xlsx_rows(content)
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise file_error("unsupported_format", "不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV")
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise file_error("invalid_xlsx", "文件扩展名为 .xlsx，但内容不是 Excel 文件")
    return _csv_rows(content)


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return unicodedata.normalize("NFC", str(value)).strip()


# -- parsing ---------------------------------------------------------------------------------------


def _header(rows: Iterator[tuple[int, list[Any]]]) -> tuple[int, list[Column | None]]:
    head = _take(rows, HEADER_SEARCH_ROWS)
    found = next(((n, cells) for n, cells in head if _looks_like_header(cells)), None)
    if found is None:
        needed = "、".join(c.title for c in COLUMNS if c.required)
        raise file_error(
            "header_not_found", f"未找到表头：前 {HEADER_SEARCH_ROWS} 行中没有包含 {needed} 等列名的一行", 1
        )
    row, cells = found
    columns: list[Column | None] = []
    problems: list[RowProblem] = []
    seen: set[str] = set()
    for cell in cells:
        text = cell_text(cell)
        column = column_for(text) if text else None
        if text and column is None and header_key(text) not in IGNORED_HEADERS:
            problems.append(RowProblem(row, text, "unknown_column", f"未知的列“{text}”；请使用模板中的列名"))
        elif column is not None and column.key in seen:
            problems.append(RowProblem(row, text, "duplicate_column", f"列“{column.title}”重复出现"))
            column = None
        if column is not None:
            seen.add(column.key)
        columns.append(column)
    for column in COLUMNS:
        if column.required and column.key not in seen:
            problems.append(RowProblem(row, column.title, "missing_column", f"缺少必填列“{column.title}”"))
    if problems:
        first = problems[0]
        raise problems_error("invalid_header", f"表头有 {len(problems)} 处问题：{first.message}", problems)
    # Rows that came before the header (a title line) are skipped; the rest continue after it.
    return row, columns


def parse(content: bytes, filename: str = "", max_rows: int = MAX_ROWS) -> Sheet:
    """Read a catalog sheet into ResourceIn declarations grouped per resource (no database)."""
    rows = read_rows(content, filename)
    buffered = _take(rows, HEADER_SEARCH_ROWS)
    header_row, columns = _header(iter(buffered))
    builders: list[_Builder] = []
    orphans: list[RowProblem] = []
    current: _Builder | None = None
    count = 0
    for n, cells in itertools.chain((r for r in buffered if r[0] > header_row), rows):
        values = {c.key: cell_text(v) for c, v in zip(columns, cells, strict=False) if c is not None}
        if not any(values.values()):
            if n - header_row > max_rows * BLANK_ROWS_PER_ROW:
                raise _too_many_rows(max_rows, "（含空行）")
            continue
        count += 1
        if count > max_rows:
            raise _too_many_rows(max_rows)
        resource_cells = {k: v for k, v in values.items() if not BY_KEY[k].item and v}
        if current is not None and current.continues(resource_cells):
            current.check_consistent(n, resource_cells)
        elif resource_cells.get("name"):
            current = _Builder(n, resource_cells)
            builders.append(current)
        else:
            message = "信息资源名称为空，且上方没有可续接的资源"
            orphans.append(RowProblem(n, BY_KEY["name"].title, "name_required", message))
            continue
        item_cells = {k: v for k, v in values.items() if BY_KEY[k].item and v}
        if item_cells:
            current.add_item(n, item_cells)
    return Sheet(resources=[b.finish() for b in builders], problems=orphans, rows=count)


def _too_many_rows(max_rows: int, blank: str = "") -> PayloadTooLarge:
    return PayloadTooLarge(
        "too_many_rows",
        f"目录表超过 {max_rows} 行{blank}，请删除空行或拆分为多个文件",
        {"max_rows": max_rows},
    )


class _Builder:
    """Collects one resource's rows; converts cells to ResourceIn values, recording bad cells."""

    def __init__(self, row: int, cells: dict[str, str]) -> None:
        self.row = row
        self.cells = cells
        self.items: list[dict[str, Any]] = []
        self.item_rows: list[int] = []
        self.problems: list[RowProblem] = []

    def continues(self, cells: dict[str, str]) -> bool:
        name = cells.get("name")
        same_provider = cells.get("provider_code", "") == self.cells.get("provider_code", "")
        return not name or (name == self.cells["name"] and same_provider)

    def check_consistent(self, row: int, cells: dict[str, str]) -> None:
        for key, value in cells.items():
            if value != self.cells.get(key, ""):
                title = BY_KEY[key].title
                self.problems.append(
                    RowProblem(
                        row,
                        title,
                        "inconsistent_resource",
                        f"“{title}”与该资源首行（第 {self.row} 行）不一致；资源级字段只填首行，或每行完全相同",
                    )
                )

    def add_item(self, row: int, cells: dict[str, str]) -> None:
        values: dict[str, Any] = {"name": cells.get("item_name", "")}
        for key, text in cells.items():
            column = BY_KEY[key]
            try:
                values[column.field] = _convert_item(key, text)
            except CellError as err:
                self.problems.append(RowProblem(row, column.title, err.code, str(err)))
        self.items.append(values)
        self.item_rows.append(row)

    def finish(self) -> SheetResource:
        values: dict[str, Any] = {}
        bad_cells: list[tuple[str, CellError]] = []
        for key, text in self.cells.items():
            try:
                values[key] = _convert_resource(key, text)
            except CellError as err:
                bad_cells.append((key, err))
        values.setdefault("summary", "")
        values.setdefault("classification_code", "")
        values.setdefault("sharing_type", "")
        data = ResourceIn(**values, items=[ItemIn(**i) for i in self.items])
        result = SheetResource(row=self.row, data=data, item_rows=self.item_rows, problems=self.problems)
        for key, bad in bad_cells:  # after the item rows' problems, as before
            result.add(key, bad.code, str(bad))
        return result


class CellError(ValueError):
    """A cell that cannot be read as its column's type."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _bool(text: str, title: str) -> bool:
    key = text.strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise CellError("invalid_boolean", f"“{title}”应填 是 或 否，而不是“{text}”")


def _date(text: str) -> date:
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{4})(\d{2})(\d{2})", text.strip())
    if m:
        y, mo, d = (int(g) for g in (m.groups()[:3] if m[1] else m.groups()[3:]))
        try:
            return date(y, mo, d)
        except ValueError:
            pass
    raise CellError("invalid_date", f"发布日期“{text}”无效，应为 YYYY-MM-DD")


def _split(text: str) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


def _convert_resource(key: str, text: str) -> Any:
    if key == "open_to_public":
        return _bool(text, "是否向社会开放")
    if key == "publish_date":
        return _date(text)
    if key in ("sharing_methods", "related_codes"):
        return _split(text)
    if key == "sharing_type" and text.isdigit() and len(text) == 1:
        return text.zfill(2)  # Excel turns 01 into the number 1
    if key == "provider_code":
        return ids.normalize_credit_code(text)
    return text


_MASKING_LABELS = {label.split("（")[0]: code for code, label in vocab.MASKING_RULES.items()}
_SENSITIVITY_LABELS = {label: level for level, label in vocab.SENSITIVITY_LEVELS.items()}


def _convert_item(key: str, text: str) -> Any:
    column = BY_KEY[key]
    if key in ("is_key", "required", "searchable", "shareable", "is_basic"):
        return _bool(text, column.title)
    if key == "data_type":
        code = text.strip().upper()
        return code if code in vocab.DATA_TYPES else vocab.resolve(vocab.DATA_TYPES, text) or text
    if key == "length":
        if not text.isdigit():
            raise CellError("invalid_length", f"长度“{text}”应为正整数")
        return int(text)
    if key == "sensitivity":
        if text.isdigit():
            return int(text)
        if text in _SENSITIVITY_LABELS:
            return _SENSITIVITY_LABELS[text]
        raise CellError("invalid_sensitivity", f"敏感级别“{text}”无效，应为 1–4 或 公开/内部/敏感/高度敏感")
    if key == "masking_rule":
        return vocab.resolve(vocab.MASKING_RULES, text) or _MASKING_LABELS.get(text, text)
    return text
