"""Reading providers' data files as a stream of rows (数据文件读取): CSV/TSV, JSON Lines, Excel, Parquet.

Every reader yields ``(row_number, {column: text or None})`` in constant memory, however many millions
of rows the file has. Row numbers are what the provider sees in their editor: the line where a CSV
record starts (the header is row 1), the line of a JSON Lines object, the sheet row in Excel, and
the record's position (from 1) in a Parquet file, which has no lines.

Text files come from Excel on Chinese Windows as often as from databases, so CSV and JSON Lines are
read as UTF-8, UTF-8 with a BOM, or GB18030 (a superset of GBK and GB2312), detected from the first
megabyte; ``encoding=`` overrides the guess. A byte that does not decode is an error naming its
line: silently replacing it would store corrupted names and addresses.
"""

from __future__ import annotations

import base64
import codecs
import csv
import io
import itertools
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from govshare.core.errors import ValidationFailed

Row = dict[str, str | None]
RowErrorHandler = Callable[["ReaderError"], None]

FORMATS = ("csv", "tsv", "jsonl", "xlsx", "parquet")
HEAD_BYTES = 1 << 20  # encoding detection reads this much; text is then decoded in blocks of this size
MAX_BAD_LEADING_LINES = 1000  # JSON Lines: give up when this many lines come before the first object

_EXTENSIONS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".json": "jsonl", ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet", ".pq": "parquet",
}  # fmt: skip
_DELIMITERS = ",\t;|"


class ReaderError(ValidationFailed):
    """A file or one of its rows cannot be read.

    ``code``: ``unsupported_format``, ``empty_file``, ``invalid_encoding``, ``invalid_header``,
    ``duplicate_column``, ``malformed_row`` (wrong number of fields), ``invalid_json``, ``invalid_csv``
    (a broken quote: the rest of the file cannot be split into rows), ``sheet_not_found``,
    ``invalid_xlsx``, ``invalid_parquet``. ``row`` is the row number (see the module docstring), or None for the file
    as a whole. ``malformed_row`` and ``invalid_json`` concern one row: :meth:`Source.rows` can hand
    them to a callback and read on; the others end the reading.
    """

    def __init__(self, code: str, message: str, row: int | None = None) -> None:
        super().__init__(code, message, {"row": row})
        self.row = row


def open_source(
    path: str | os.PathLike[str] | IO[bytes],
    *,
    format: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
) -> Source:
    """Open a data file (a path, or a binary file object such as an upload) for streaming its rows.

    ``format`` (csv, tsv, jsonl, xlsx, parquet) defaults to what the content and the extension say;
    ``encoding`` forces the text encoding of CSV/TSV/JSON Lines; ``sheet`` names the Excel sheet
    (default: the first). Raises :class:`ReaderError` when the file cannot be read at all.
    """
    closers: list[Callable[[], None]] = []  # what this call opened, closed last
    stream: IO[bytes]
    if isinstance(path, str | os.PathLike):
        name, stream = os.fspath(path), open(path, "rb")  # noqa: SIM115 (the Source closes it)
        closers.append(stream.close)
    else:
        name, stream = str(getattr(path, "name", "") or ""), path
    try:
        source = _open(stream, name, format, encoding, sheet, closers)
    except BaseException:
        while closers:
            closers.pop()()
        raise
    source._closers[:0] = closers
    return source


class Source:
    """An opened data file: ``columns`` (header names, in file order) and its rows when iterated.

    Iterating raises :class:`ReaderError` at the first unreadable row; :meth:`rows` with ``on_error``
    reports row-level errors to the callback instead and goes on. A Source is read once; use it as a
    context manager (or call :meth:`close`) to release the file.
    """

    def __init__(
        self, format: str, columns: list[str], rows: Iterator[tuple[int, Row]], encoding: str | None
    ):
        self.format = format
        self.columns = columns
        self.encoding = encoding
        self._rows = rows
        self._on_error: RowErrorHandler | None = None
        self._closers: list[Callable[[], None]] = []

    def rows(self, on_error: RowErrorHandler | None = None) -> Iterator[tuple[int, Row]]:
        """The rows; ``on_error`` receives each ``malformed_row`` / ``invalid_json`` instead of a raise."""
        self._on_error = on_error
        return self._rows

    def __iter__(self) -> Iterator[tuple[int, Row]]:
        return self.rows()

    def row_error(self, error: ReaderError) -> None:
        if self._on_error is None:
            raise error
        self._on_error(error)

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def format_for_name(name: str) -> str | None:
    """The format a file name's extension suggests (``人口.CSV`` → csv), or None."""
    return _EXTENSIONS.get(Path(name).suffix.lower())


# -- choosing the reader -----------------------------------------------------------------------------


def _open(
    stream: IO[bytes],
    name: str,
    format: str | None,
    encoding: str | None,
    sheet: str | None,
    closers: list[Callable[[], None]],
) -> Source:
    if format is not None and format not in FORMATS:
        raise ReaderError("unsupported_format", f"不支持的格式“{format}”；可用：{'、'.join(FORMATS)}")
    head = stream.read(HEAD_BYTES)
    if not head.strip():
        raise ReaderError("empty_file", "文件为空")
    by_name = format_for_name(name) if name else None
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReaderError("unsupported_format", "不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV")
    if format is None and (head.startswith(b"PK\x03\x04") or by_name == "xlsx"):
        format = "xlsx"
    elif format is None and (head.startswith(b"PAR1") or by_name == "parquet"):
        format = "parquet"
    if format == "xlsx":
        return _open_xlsx(_seekable(stream, head, closers), sheet)
    if format == "parquet":
        return _open_parquet(_seekable(stream, head, closers))
    if head.startswith(b"\x1f\x8b") or head.startswith(b"PK\x03\x04"):
        raise ReaderError(
            "unsupported_format", "文件是压缩包或 Excel 文件，不是文本文件；请解压或指定正确格式"
        )
    text = _TextStream(stream, head, encoding)
    if format is None:
        format = by_name or ("jsonl" if head.lstrip().startswith((b"{", b"\xef\xbb\xbf{")) else "csv")
    if format == "jsonl":
        return _open_jsonl(text)
    return _open_csv(text, "\t" if format == "tsv" else None)


def _seekable(stream: IO[bytes], head: bytes, closers: list[Callable[[], None]]) -> IO[bytes]:
    """Excel and Parquet need random access: rewind, or spool a one-way stream to a temporary file."""
    if stream.seekable():
        stream.seek(stream.tell() - len(head))
        return stream
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the Source)
    closers.append(spool.close)
    spool.write(head)
    shutil.copyfileobj(stream, spool, HEAD_BYTES)
    spool.seek(0)
    return spool


# -- text: encodings, CSV/TSV, JSON Lines ------------------------------------------------------------


class _TextStream:
    """Decodes a byte stream block by block (cut at line ends), knowing the line of any bad byte."""

    def __init__(self, stream: IO[bytes], head: bytes, encoding: str | None) -> None:
        self.stream = stream
        self.guessed = encoding is None
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (encoding is None and b"\x00" in head):
            raise ReaderError(
                "invalid_encoding",
                "不支持 UTF-16 或二进制文件；请在 Excel 中另存为“CSV UTF-8”或 GB18030 编码的 CSV",
                1,
            )
        if encoding is not None:
            self.encoding = _codec_name(encoding)
            self.name = encoding
        elif head.startswith(b"\xef\xbb\xbf"):
            self.encoding, self.name = "utf-8", "utf-8-sig"
        else:
            self.encoding = self.name = _guess_encoding(head, whole=len(head) < HEAD_BYTES)
        if head.startswith(b"\xef\xbb\xbf") and self.encoding in ("utf-8", "utf_8"):
            head = head[3:]
        self.head = head
        self.line = 0  # lines fully decoded so far
        self.all_ascii = True  # so far; an all-ASCII start may still turn out to be GB18030

    def lines(self) -> Iterator[str]:
        """Decoded lines, with their line ends, in order; raises ``invalid_encoding`` at a bad byte."""
        # chain.from_iterable walks each block's lines in C; a generator step per line costs far more.
        return itertools.chain.from_iterable(self._blocks())

    def _blocks(self) -> Iterator[Iterable[str]]:
        pending = self.head
        while True:
            data = self.stream.read(HEAD_BYTES)
            if data:
                pending += data
                cut = pending.rfind(b"\n") + 1
                if cut == 0:
                    continue
            else:
                cut = len(pending)
            block, pending = pending[:cut], pending[cut:]
            try:
                text = self._decode(block)
            except UnicodeDecodeError as err:
                # The lines before the bad one are fine: hand them out first, so the error comes in order.
                good = block.rfind(b"\n", 0, err.start) + 1
                yield io.StringIO(block[:good].decode(self.encoding), newline="")
                raise self._bad_byte(block, err) from None
            yield io.StringIO(text, newline="")
            self.line += block.count(b"\n")
            if not data:
                return

    def _decode(self, block: bytes) -> str:
        try:
            text = block.decode(self.encoding)
        except UnicodeDecodeError:
            if not (self.guessed and self.all_ascii and self.encoding == "utf-8"):
                raise
            # Everything before was ASCII, which both encodings read alike: switching loses nothing.
            text = block.decode("gb18030")
            self.encoding = self.name = "gb18030"
        if self.all_ascii:
            self.all_ascii = block.isascii()
        return text

    def _bad_byte(self, block: bytes, err: UnicodeDecodeError) -> ReaderError:
        line = self.line + block.count(b"\n", 0, err.start) + 1
        bad = block[err.start : err.end].hex(" ").upper()
        hint = (
            "请用 encoding 参数（命令行 --encoding）指定文件的实际编码"
            if self.guessed
            else "请检查指定的编码是否正确"
        )
        return ReaderError(
            "invalid_encoding",
            f"第 {line} 行含有无法按 {self.name.upper()} 解码的字节（{bad}）；文件可能损坏或混用了编码，{hint}",
            line,
        )


def _guess_encoding(head: bytes, whole: bool) -> str:
    """UTF-8 if the head decodes as UTF-8, else GB18030 — unless UTF-8 gets at least as far before its
    first bad byte: a UTF-8 file with one corrupt byte is then reported at that line, not misread as
    GB18030 (which accepts most byte pairs, so it often decodes UTF-8 Chinese into nonsense)."""
    reached = {}
    for encoding in ("utf-8", "gb18030"):
        try:  # not final unless this is the whole file: the head may end inside a character
            codecs.getincrementaldecoder(encoding)().decode(head, final=whole)
            return encoding
        except UnicodeDecodeError as err:
            reached[encoding] = err.start
    return "utf-8" if reached["utf-8"] >= reached["gb18030"] else "gb18030"


def _codec_name(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ReaderError("invalid_encoding", f"未知的编码“{encoding}”；常用：utf-8、gb18030") from None
    # GBK and GB2312 files written by Excel often carry GB18030-only characters (生僻字 in names).
    return "gb18030" if name in ("gbk", "gb2312") else name


def _open_csv(text: _TextStream, delimiter: str | None) -> Source:
    lines = text.lines()
    skipped = 0  # blank lines above the header
    first = ""
    for line in lines:
        if line.strip():
            first = line
            break
        skipped += 1
    if not first:
        raise ReaderError("empty_file", "文件为空：没有表头行")
    if delimiter is None:
        delimiter = max(_DELIMITERS, key=lambda d: (first.count(d), d == ","))
    # strict: text after a closing quote ("a"b) is an error rather than silently glued on
    reader = csv.reader(itertools.chain((first,), lines), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as err:
        raise ReaderError(
            "invalid_header", f"第 {skipped + 1} 行（表头）不是有效的 CSV：{err}", skipped + 1
        ) from None
    columns, keep = _header([c.strip() for c in header], skipped + 1)
    source = Source("tsv" if delimiter == "\t" else "csv", columns, iter(()), text.name)
    source._rows = _csv_rows(source, reader, columns, keep, len(header), skipped)
    return source


def _header(names: list[str], row: int) -> tuple[list[str], list[int] | None]:
    """Column names and, when some header cells are empty, the positions of the named ones."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ReaderError("duplicate_column", f"第 {row} 行（表头）列名“{name}”重复出现", row)
        if name:
            seen.add(name)
    keep = [n for n, name in enumerate(names) if name]
    if not keep:
        raise ReaderError("invalid_header", f"第 {row} 行（表头）没有列名", row)
    return [names[n] for n in keep], (None if len(keep) == len(names) else keep)


def _csv_rows(
    source: Source,
    reader: Any,
    columns: list[str],
    keep: list[int] | None,
    width: int,
    skipped: int,
) -> Iterator[tuple[int, Row]]:
    # reader.line_num counts the lines csv has consumed, so a record starts on the line after the last
    # one's end; ``skipped`` adds the blank lines above the header that csv never saw.
    last = reader.line_num
    unnamed = [n for n in range(width) if n not in set(keep or ())]
    try:
        for cells in reader:
            number = skipped + last + 1
            last = reader.line_num
            if len(cells) != width:
                if len(cells) > width and not any(cells[width:]):
                    cells = cells[:width]  # a trailing delimiter on the line
                elif any(cells):
                    message = (
                        f"第 {number} 行有 {len(cells)} 个字段，而表头有 {width} 列（请检查分隔符和引号）"
                    )
                    source.row_error(ReaderError("malformed_row", message, number))
                    continue
            if not (cells and cells[0]) and not any(cells):
                continue  # a blank line, or a line of empty fields that Excel leaves behind
            if keep is None:
                yield number, dict(zip(columns, cells, strict=False))  # the width is checked above
            elif any(cells[n] for n in unnamed):
                source.row_error(ReaderError("malformed_row", f"第 {number} 行在没有列名的列中有值", number))
            else:
                yield number, {name: cells[n] for name, n in zip(columns, keep, strict=True)}
    except csv.Error as err:
        number = skipped + last + 1
        message = f"第 {number} 行起不是有效的 CSV（常见原因：引号未闭合，或引号后紧跟其他字符）：{err}"
        raise ReaderError("invalid_csv", message, number) from None


def _open_jsonl(text: _TextStream) -> Source:
    lines = enumerate(text.lines(), start=1)
    early_errors: list[ReaderError] = []  # bad lines above the first object, replayed when reading
    for number, line in lines:
        if not line.strip():
            continue
        try:
            record = _json_object(line, number)
        except ReaderError as err:
            early_errors.append(err)
            if len(early_errors) >= MAX_BAD_LEADING_LINES:
                raise ReaderError(
                    "invalid_json", f"前 {number} 行中没有一个 JSON 对象：文件不是 JSON Lines", 1
                ) from None
            continue
        source = Source("jsonl", list(record), iter(()), text.name)
        source._rows = _jsonl_rows(source, early_errors, number, record, lines)
        return source
    if early_errors:
        raise early_errors[0]
    raise ReaderError("empty_file", "文件为空：没有 JSON 对象")


def _json_object(line: str, number: int) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError as err:
        raise ReaderError("invalid_json", f"第 {number} 行不是有效的 JSON：{err}", number) from None
    if not isinstance(value, dict):
        hint = (
            "；整个文件是一个 JSON 数组时，请改为每行一个对象（JSON Lines）"
            if isinstance(value, list)
            else ""
        )
        raise ReaderError(
            "invalid_json", f"第 {number} 行应为 JSON 对象 {{…}}，而不是 {type(value).__name__}{hint}", number
        )
    return value


def _jsonl_rows(
    source: Source,
    early_errors: list[ReaderError],
    first_number: int,
    first: dict[str, Any],
    lines: Iterator[tuple[int, str]],
) -> Iterator[tuple[int, Row]]:
    for err in early_errors:
        source.row_error(err)
    yield first_number, {k: cell_text(v) for k, v in first.items()}
    for number, line in lines:
        if not line.strip():
            continue
        try:
            record = _json_object(line, number)
        except ReaderError as err:
            source.row_error(err)
            continue
        yield number, {k: cell_text(v) for k, v in record.items()}


def cell_text(value: Any) -> str | None:
    """A cell of Excel, JSON or Parquet as the text a CSV export would show.

    Whole numbers lose Excel's ".0", midnight datetimes become dates (Excel stores every date as a
    datetime), booleans become ``true``/``false``, binary becomes base64 and nested JSON stays JSON.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None and value.time() == time():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time | Decimal):
        return value.isoformat() if not isinstance(value, Decimal) else format(value, "f")
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


# -- Excel -------------------------------------------------------------------------------------------


def _open_xlsx(stream: IO[bytes], sheet: str | None) -> Source:
    import openpyxl

    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as err:
        raise ReaderError("invalid_xlsx", f"无法读取 Excel 文件（文件损坏或不是 .xlsx）：{err}") from None
    try:
        if sheet is None:
            worksheet = book.worksheets[0]
        elif sheet in book.sheetnames:
            worksheet = book[sheet]
        else:
            names = "、".join(book.sheetnames)
            raise ReaderError("sheet_not_found", f"工作簿中没有名为“{sheet}”的工作表；现有：{names}")
        worksheet.reset_dimensions()  # some writers record wrong dimensions; read what is there
        rows = enumerate(worksheet.iter_rows(values_only=True), start=1)
        header = next(
            ((n, cells) for n, cells in rows if any(c is not None and c != "" for c in cells)), None
        )
        if header is None:
            raise ReaderError("empty_file", "工作表为空：没有表头行")
        columns, keep = _header([(cell_text(c) or "").strip() for c in header[1]], header[0])
    except BaseException:
        book.close()
        raise
    source = Source("xlsx", columns, iter(()), None)
    source._rows = _xlsx_rows(source, rows, columns, keep or list(range(len(columns))))
    source._closers.append(book.close)
    return source


def _xlsx_rows(
    source: Source, rows: Iterable[tuple[int, tuple[Any, ...]]], columns: list[str], keep: list[int]
) -> Iterator[tuple[int, Row]]:
    kept = set(keep)
    for number, cells in rows:
        values = [cell_text(cells[n]) if n < len(cells) else None for n in keep]
        if not any(values):
            continue
        if any(c is not None and c != "" for n, c in enumerate(cells) if n not in kept):
            source.row_error(ReaderError("malformed_row", f"第 {number} 行在没有列名的列中有值", number))
            continue
        yield number, dict(zip(columns, values, strict=True))


# -- Parquet -----------------------------------------------------------------------------------------


def _open_parquet(stream: IO[bytes]) -> Source:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(stream)
    except (pa.ArrowException, OSError, ValueError) as err:
        raise ReaderError(
            "invalid_parquet", f"无法读取 Parquet 文件（文件损坏或不是 Parquet）：{err}"
        ) from None
    columns = list(parquet.schema_arrow.names)
    _header(columns, 1)
    source = Source("parquet", columns, _parquet_rows(parquet, columns), None)
    source._closers.append(parquet.close)
    return source


def _parquet_rows(parquet: Any, columns: list[str]) -> Iterator[tuple[int, Row]]:
    import pyarrow as pa

    number = 0
    for batch in parquet.iter_batches(batch_size=10_000):
        values = []
        for column in batch.columns:
            cells = column.to_pylist()
            if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
                cells = [cell_text(c) for c in cells]
            values.append(cells)
        for cells in zip(*values, strict=True):
            number += 1
            yield number, dict(zip(columns, cells, strict=True))
