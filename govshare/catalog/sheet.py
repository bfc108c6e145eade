"""Catalog sheets (目录表): bulk registration from an Excel/CSV sheet laid out like the national template.

One row per 信息项. The resource-level columns either repeat on every item row of a resource or are
filled only on its first row: a row whose 信息资源名称 is empty (or repeats the name and provider of
the resource above) continues that resource. Cells take codes or Chinese labels (01 / 有条件共享,
C / 字符型, 是 / 否); headers are the template's Chinese titles or their English aliases.

Importing is all or nothing: every problem is reported against its sheet row and column, and a
sheet with any problem stores nothing.
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

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.auth.models import Department, User
from govshare.catalog import rules, service, vocab
from govshare.catalog.models import Resource, ResourceStatus
from govshare.catalog.schemas import ItemIn, ResourceIn
from govshare.core import ids
from govshare.core.errors import DomainError, PayloadTooLarge, ValidationFailed

MAX_ROWS = 5000  # data rows per sheet; larger catalogs are split into several files
HEADER_SEARCH_ROWS = 10  # the national template often has a title row or two above the header
BLANK_ROWS_PER_ROW = 10  # Excel keeps formatted empty rows; past this many per allowed row, refuse


@dataclass(frozen=True)
class Column:
    key: str  # unique key of the column
    title: str  # the template's Chinese header
    field: str  # the ResourceIn / ItemIn attribute it fills
    item: bool = False  # an 信息项 column (else resource-level)
    required: bool = False
    aliases: tuple[str, ...] = ()
    example: str = ""
    help: str = ""


def _labels(vocabulary: dict[Any, str]) -> str:
    return "、".join(label.split("（")[0] for label in vocabulary.values())


RES, ITEM = False, True  # resource-level / 信息项 column
# fmt: off
# key, Chinese header (the template's), ResourceIn/ItemIn field, level, required, more aliases, example, help
_TABLE: tuple[tuple[Any, ...], ...] = (
    ("classification_code", "信息资源分类", "classification_code", RES, True, ("classification", "分类代码"), "102",
     "类(1位)+项(2位)[+目(3位)[+细目]]，如 101 人口、102 法人单位、213 市场监管"),
    ("name", "信息资源名称", "name", RES, True, ("resource_name", "资源名称"), "企业登记基本信息（示例）",
     "不超过50个字；为空表示续接上一资源"),
    ("summary", "信息资源摘要", "summary", RES, True, ("资源摘要", "摘要"), "全市企业的登记基本信息，用于办事核验。",
     "不超过256个字"),
    ("provider_code", "信息资源提供方代码", "provider_code", RES, False, ("provider", "提供方代码"), "",
     "提供方部门的统一社会信用代码；为空表示登记人所在部门"),
    ("format", "信息资源格式", "format", RES, False, (), "数据库", _labels(vocab.FORMATS)),
    ("sharing_type", "共享类型", "sharing_type", RES, True, (), "01", "01 无条件共享、02 有条件共享、03 不予共享"),
    ("sharing_condition", "共享条件", "sharing_condition", RES, False, (), "无条件", "有条件共享须写明条件"),
    ("sharing_methods", "共享方式", "sharing_methods", RES, False, (), "系统对接；联机查询",
     "可多选，用；或、分隔：" + _labels(vocab.SHARING_METHODS)),
    ("legal_basis", "不予共享依据", "legal_basis", RES, False, (), "", "不予共享须写明法律、行政法规或国家政策依据"),
    ("open_to_public", "是否向社会开放", "open_to_public", RES, False, ("open",), "否", "是 / 否"),
    ("open_condition", "开放条件", "open_condition", RES, False, (), "", ""),
    ("update_cycle", "更新周期", "update_cycle", RES, False, (), "每日", _labels(vocab.UPDATE_CYCLES)),
    ("publish_date", "发布日期", "publish_date", RES, False, (), "", "YYYY-MM-DD"),
    ("related_codes", "关联资源代码", "related_codes", RES, False, (), "", "如 101/000001，多个用；分隔"),
    ("subject_key_type", "主体标识类型", "subject_key_type", RES, False, (), "统一社会信用代码",
     _labels(vocab.SUBJECT_KEY_TYPES)),
    ("contact_name", "联系人", "contact_name", RES, False, (), "张三", ""),
    ("contact_phone", "联系电话", "contact_phone", RES, False, (), "0755-88880000", ""),
    ("contact_email", "联系邮箱", "contact_email", RES, False, (), "data@example.gov.cn", ""),
    ("item_name", "信息项名称", "name", ITEM, True, (), "统一社会信用代码", "不超过50个字"),
    ("data_type", "数据类型", "data_type", ITEM, True, ("type",), "C",
     "、".join(f"{code} {label}" for code, label in vocab.DATA_TYPES.items())),
    ("length", "长度", "length", ITEM, False, ("数据长度",), "18", "正整数"),
    ("is_key", "是否主键", "is_key", ITEM, False, ("key", "主键"), "是", "是 / 否"),
    ("required", "是否必填", "required", ITEM, False, ("必填",), "是", "是 / 否"),
    ("sensitivity", "敏感级别", "sensitivity", ITEM, False, (), "1",
     "、".join(f"{level} {label}" for level, label in vocab.SENSITIVITY_LEVELS.items())),
    ("masking_rule", "脱敏规则", "masking_rule", ITEM, False, ("masking",), "不脱敏", _labels(vocab.MASKING_RULES)),
    ("searchable", "可检索", "searchable", ITEM, False, ("是否可检索",), "是", "是 / 否"),
    ("shareable", "是否共享", "shareable", ITEM, False, ("item_shareable", "信息项是否共享"), "是", "是 / 否"),
    ("item_legal_basis", "信息项不予共享依据", "legal_basis", ITEM, False, (), "", "信息项不予共享时必填"),
    ("is_basic", "基础信息项", "is_basic", ITEM, False, ("是否基础信息项",), "是", "是 / 否"),
    ("item_description", "信息项描述", "description", ITEM, False, ("description",), "", ""),
)
# fmt: on
COLUMNS: tuple[Column, ...] = tuple(
    Column(key, title, fld, item, req, (key, *aliases), example, help_)
    for key, title, fld, item, req, aliases, example, help_ in _TABLE
)
# Row numbers and export-only columns (an export re-imported registers new drafts; codes are assigned).
IGNORED_HEADERS = frozenset({"序号", "no", "备注", "remarks", "信息资源代码", "code", "状态", "status"})
_BY_KEY = {c.key: c for c in COLUMNS}
_RESOURCE_FIELDS = {c.field: c for c in COLUMNS if not c.item}
_ITEM_FIELDS = {c.field: c for c in COLUMNS if c.item}
_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "t"}
_FALSE = {"否", "n", "no", "false", "0", "×", "✗", "f"}
_LIST_SEPARATORS = re.compile(r"[；;、,，\n]+")


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().strip("*").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


_BY_HEADER = {_header_key(alias): c for c in COLUMNS for alias in (c.title, *c.aliases)}


def column_for(header: str) -> Column | None:
    """The column a header names (Chinese title or English alias, ignoring case, spaces, a trailing (…))."""
    key = _header_key(header)
    return _BY_HEADER.get(key) or _BY_HEADER.get(re.sub(r"\(.*\)$", "", key).strip("_"))


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
            column = _ITEM_FIELDS.get(m[2], _BY_KEY["item_name"])
            return self.item_rows[int(m[1]) - 1], column.title
        if field_path == "items":
            return self.row, _BY_KEY["item_name"].title
        column = _RESOURCE_FIELDS.get(field_path)
        return self.row, column.title if column else field_path

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


def file_error(code: str, message: str, row: int = 0, column: str = "") -> ValidationFailed:
    """A problem with the file as a whole, in the same row-level shape as every other problem."""
    return ValidationFailed(code, message, {"errors": [RowProblem(row, column, code, message).as_dict()]})


# -- reading ---------------------------------------------------------------------------------------


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
        if text and column is None and _header_key(text) not in IGNORED_HEADERS:
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
        raise ValidationFailed(
            "invalid_header",
            f"表头有 {len(problems)} 处问题：{first.message}",
            {"errors": [p.as_dict() for p in problems]},
        )
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
        resource_cells = {k: v for k, v in values.items() if not _BY_KEY[k].item and v}
        if current is not None and current.continues(resource_cells):
            current.check_consistent(n, resource_cells)
        elif resource_cells.get("name"):
            current = _Builder(n, resource_cells)
            builders.append(current)
        else:
            message = "信息资源名称为空，且上方没有可续接的资源"
            orphans.append(RowProblem(n, _BY_KEY["name"].title, "name_required", message))
            continue
        item_cells = {k: v for k, v in values.items() if _BY_KEY[k].item and v}
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
        self.cells = cells
        self.items: list[dict[str, Any]] = []
        self.result = SheetResource(row=row, data=ResourceIn.model_construct(), item_rows=[])

    def continues(self, cells: dict[str, str]) -> bool:
        name = cells.get("name")
        same_provider = cells.get("provider_code", "") == self.cells.get("provider_code", "")
        return not name or (name == self.cells["name"] and same_provider)

    def check_consistent(self, row: int, cells: dict[str, str]) -> None:
        for key, value in cells.items():
            if value != self.cells.get(key, ""):
                title = _BY_KEY[key].title
                self.result.problems.append(
                    RowProblem(
                        row,
                        title,
                        "inconsistent_resource",
                        f"“{title}”与该资源首行（第 {self.result.row} 行）不一致；资源级字段只填首行，或每行完全相同",
                    )
                )

    def add_item(self, row: int, cells: dict[str, str]) -> None:
        values: dict[str, Any] = {"name": cells.get("item_name", "")}
        for key, text in cells.items():
            column = _BY_KEY[key]
            try:
                values[column.field] = _convert_item(key, text)
            except CellError as err:
                self.result.problems.append(RowProblem(row, column.title, err.code, str(err)))
        self.items.append(values)
        self.result.item_rows.append(row)

    def finish(self) -> SheetResource:
        values: dict[str, Any] = {}
        for key, text in self.cells.items():
            try:
                values[key] = _convert_resource(key, text)
            except CellError as err:
                self.result.add(key, err.code, str(err))
        values.setdefault("summary", "")
        values.setdefault("classification_code", "")
        values.setdefault("sharing_type", "")
        self.result.data = ResourceIn(**values, items=[ItemIn(**i) for i in self.items])
        return self.result


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
    column = _BY_KEY[key]
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


# -- import ----------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    codes: list[str]  # created resource codes (dry run: the codes they would get)
    resources: int
    items: int
    dry_run: bool


def check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise PayloadTooLarge(
            "payload_too_large",
            f"文件过大：上限 {max_bytes:,} 字节（{max_bytes / 1048576:.1f} MB），请拆分后再上传",
            {"limit_bytes": max_bytes},  # the same shape as web.limits answers
        )


def import_sheet(
    session: Session,
    actor: User,
    content: bytes,
    filename: str = "",
    *,
    max_bytes: int,
    dry_run: bool = False,
    max_rows: int = MAX_ROWS,
) -> ImportResult:
    """Register every resource of a catalog sheet as a draft, all or nothing (批量登记).

    Raises ValidationFailed ``sheet_invalid`` whose details list every problem as
    ``{row, column, code, message}``; nothing is stored then. ``dry_run`` checks everything,
    including what only the database knows, and stores nothing.
    """
    check_size(len(content), max_bytes)
    sheet = parse(content, filename, max_rows)
    if not sheet.resources and not sheet.problems:
        raise file_error("empty_sheet", "目录表中没有任何信息资源", 1)
    for res in sheet.resources:
        for problem in rules.check_resource(res.data).problems:
            res.add(problem.field, problem.code, problem.message)
        _check_provider_code(res)
    _check_duplicates(session, actor, sheet.resources)
    try:
        codes = _register(session, actor, sheet.resources)
        problems = sheet.all_problems()
        if problems or dry_run:
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    if problems:
        first = problems[0]
        raise ValidationFailed(
            "sheet_invalid",
            f"目录表有 {len(problems)} 处问题，未登记任何资源（第 {first.row} 行“{first.column}”：{first.message}）",
            {"errors": [p.as_dict() for p in problems]},
        )
    items = sum(len(r.data.items) for r in sheet.resources)
    return ImportResult(codes=codes, resources=len(codes), items=items, dry_run=dry_run)


def _check_provider_code(res: SheetResource) -> None:
    if res.data.provider_code:
        try:
            ids.validate_credit_code(res.data.provider_code)
        except ids.IdCheckError as err:
            res.add(
                "provider_code",
                "invalid_credit_code",
                f"提供方代码“{res.data.provider_code}”无效：{err.message}",
            )


def _check_duplicates(session: Session, actor: User, resources: list[SheetResource]) -> None:
    """Same provider, same name: twice in the file, or already registered (retired entries aside)."""
    first_row: dict[tuple[str, str], int] = {}
    for res in resources:
        key = ((res.data.provider_code or actor.department.code), res.data.name.strip())
        if key in first_row:
            res.add("name", "duplicate_resource", f"与第 {first_row[key]} 行的资源同名（同一提供方）")
        else:
            first_row[key] = res.row
    names = sorted({name for _, name in first_row})
    registered: dict[tuple[str, str], str] = {}
    for start in range(0, len(names), 500):
        rows = session.execute(
            select(Department.code, Resource.name, Resource.code)
            .join(Department, Department.id == Resource.provider_id)
            .where(Resource.name.in_(names[start : start + 500]), Resource.status != ResourceStatus.RETIRED)
        )
        registered.update({(provider, name): code for provider, name, code in rows})
    for key, row in first_row.items():
        if key in registered:
            res = next(r for r in resources if r.row == row)
            res.add("name", "duplicate_resource", f"提供方已登记同名资源 {registered[key]}")


def _register(session: Session, actor: User, resources: list[SheetResource]) -> list[str]:
    """Create the clean resources through the catalog service inside the caller's transaction.

    The service commits each resource; a session joined to our connection with
    ``create_savepoint`` turns those commits into savepoint releases, so the whole sheet stays in
    one transaction that the caller commits or rolls back. Resources with problems are skipped, the
    others are still created so the report also lists what only the database knows (permissions,
    unknown providers and related resources).
    """
    nested = Session(
        bind=session.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    codes: list[str] = []
    try:
        me = nested.get(User, actor.id)
        assert me is not None, "the actor is a stored user"
        for res in resources:
            if res.problems:
                continue
            try:
                codes.append(service.create_resource(nested, me, res.data).code)
            except DomainError as err:
                nested.rollback()
                if err.code == "role_not_allowed":
                    raise  # about the user, not the sheet
                _add_service_error(res, err)
    finally:
        nested.close()
    return codes


def _add_service_error(res: SheetResource, err: DomainError) -> None:
    listed = err.details.get("errors") if isinstance(err.details, dict) else None
    if listed:
        for problem in listed:
            res.add(problem["field"], problem["code"], problem["message"])
    else:  # department_not_found, other_department: the provider is the problem
        res.add("provider_code", err.code, err.message)


# -- template --------------------------------------------------------------------------------------


def template_rows() -> list[list[str]]:
    """Header and one example row: a resource with one item (more items: rows with an empty name)."""
    return [[c.title for c in COLUMNS], [c.example for c in COLUMNS]]


def template_csv() -> bytes:
    """The blank template as CSV in UTF-8 with a BOM, which Excel opens with the right encoding."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(template_rows())
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    """The blank template as .xlsx: the sheet to fill, and a 填写说明 sheet explaining every column."""
    import openpyxl
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "信息资源目录"
    for row in template_rows():
        sheet.append(row)
    required = PatternFill("solid", fgColor="FDE9D9")
    for n, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=n)
        cell.font = Font(bold=True)
        if column.required:
            cell.fill = required
        sheet.column_dimensions[get_column_letter(n)].width = max(12, len(column.title) * 2 + 2)
    sheet.freeze_panes = "A2"
    guide = book.create_sheet("填写说明")
    guide.append(["列名", "必填", "层级", "英文列名", "说明"])
    for column in COLUMNS:
        level = "信息项" if column.item else "信息资源"
        guide.append([column.title, "是" if column.required else "", level, column.key, column.help])
    guide.append([])
    guide.append(["一行一个信息项；信息资源名称为空的行续接上一资源（资源级各列只填首行即可）。"])
    for letter, width in zip("ABCDE", (20, 6, 10, 22, 80), strict=True):
        guide.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- export ----------------------------------------------------------------------------------------

_SHARING_TYPE_NUMBERS = {name: number for number, name in vocab.SHARING_TYPE_CODES.items()}
EXPORT_PREFIX = ("信息资源代码", "状态")  # import ignores these: it registers new drafts


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _resource_cells(r: Resource) -> dict[str, str]:
    return {
        "classification_code": r.classification_code,
        "name": r.name,
        "summary": r.summary,
        "provider_code": r.provider.code,
        "format": vocab.FORMATS.get(r.format, r.format),
        "sharing_type": _SHARING_TYPE_NUMBERS[r.sharing_type.value],
        "sharing_condition": r.sharing_condition,
        "sharing_methods": "；".join(vocab.SHARING_METHODS.get(m, m) for m in r.sharing_methods),
        "legal_basis": r.legal_basis,
        "open_to_public": _yes(r.open_to_public),
        "open_condition": r.open_condition,
        "update_cycle": vocab.UPDATE_CYCLES.get(r.update_cycle, r.update_cycle),
        "publish_date": r.publish_date.isoformat() if r.publish_date else "",
        "related_codes": "；".join(r.related_codes),
        "subject_key_type": vocab.SUBJECT_KEY_TYPES.get(r.subject_key_type.value, ""),
        "contact_name": r.contact_name,
        "contact_phone": r.contact_phone,
        "contact_email": r.contact_email,
    }


def _item_cells(i: Any) -> dict[str, str]:
    return {
        "item_name": i.name,
        "data_type": i.data_type,
        "length": "" if i.length is None else str(i.length),
        "is_key": _yes(i.is_key),
        "required": _yes(i.required),
        "sensitivity": str(i.sensitivity),
        "masking_rule": vocab.MASKING_RULES.get(i.masking_rule, i.masking_rule).split("（")[0],
        "searchable": _yes(i.searchable),
        "shareable": _yes(i.shareable),
        "item_legal_basis": i.legal_basis,
        "is_basic": _yes(i.is_basic),
        "item_description": i.description,
    }


def export_csv(resources: list[Resource]) -> bytes:
    """Resources in the sheet layout, one row per item with the resource columns repeated (UTF-8, BOM).

    信息资源代码 and 状态 lead each row; importing the file again registers new drafts, which the
    duplicate check refuses while the originals exist.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*EXPORT_PREFIX, *(c.title for c in COLUMNS)])
    for r in resources:
        cells = _resource_cells(r)
        status = vocab.STATUS_LABELS.get(r.status.value, r.status.value)
        for item in r.items or [None]:
            row = cells | (_item_cells(item) if item is not None else {})
            writer.writerow([r.code, status, *(row.get(c.key, "") for c in COLUMNS)])
    return out.getvalue().encode("utf-8-sig")
