"""The SQLite reader of the verification: SQLite writes each row's canonical JSON, Python only hashes it.

Turning a row's 23 values into Python objects costs SQLite's sqlite3 module about as much as SQLite's
own ``json_object`` over them, and hashing them in Python then costs as much again. So here one query
returns, per row, ``seq``, ``prev_hash``, ``hash``, the stored ``items`` text and the row's canonical
JSON as bytes, written by ``json_object`` with the keys in SORTED_FIELDS order, ``"v":1`` last, the
timestamp as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` and ``"items":0`` in place of the items; Python puts the
item list in (repeated lists canonicalised once) and takes the SHA-256. A batch whose rows are all
intact needs nothing more; otherwise its full rows are read again and walked by the exact path.

Why the bytes are the specification's (``chain.canonical_event``), value by value:

- strings: ``json_object`` escapes exactly what ``json.dumps(..., ensure_ascii=False)`` escapes (``"``,
  ``\\``, U+0000–U+001F, the same short forms and lowercase ``\\u00xx``) and writes every other code
  point as its UTF-8 — checked at run time (``supported``) by one string holding every code point, once
  per process and SQLite library, and in tests/unit/test_audit_canonical.py. If the linked SQLite
  writes anything differently, or the database is not UTF-8, every row takes the exact path;
- integers: decimal, as both write them. A REAL, which SQLite's loose typing lets a forger store in a
  column of INTEGER or NUMERIC affinity (json_object writes 0.1 as ``0.1`` but 1e16 as ``1.0e+16``), or
  a sum beyond 64 bits, makes the row's ``CASE`` give NULL: that row takes the exact path;
- the timestamp: only a TEXT value of the form the platform stores (``YYYY-MM-DD HH:MM:SS.ffffff``,
  year 1000 or later, minutes and seconds below 60: a GLOB in SQL) whose date and hour exist (a
  per-hour cache in Python) is written as its text with ``T`` and ``Z``, which is what
  ``canon.timestamp`` writes for it; any other value takes the exact path;
- ``items``: a stored text that parses to a list of str is written by orjson, whose bytes for lists
  of str are json.dumps's (the same unit test); anything else takes the exact path;
- a BLOB anywhere makes ``json_object`` fail: the range is then walked again by the exact path.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from array import array
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import Any

import orjson

from govshare.audit import chain as canon
from govshare.audit.verify_rows import FETCH, Batch, Row, RowHash, parse_items, python_batches, select_sql

ITEMS_MARK = b'"items":0,'  # json_object writes it; never inside a string value (its quotes are escaped)
STAMP_KEY = b'"occurred_at":"'
STAMP_GLOB = "[1-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-5][0-9]:[0-5][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]"
_NOT_SPECIAL = frozenset({"occurred_at", "items"})


class FastPathFailed(Exception):
    """SQLite refused to write a row's JSON (a BLOB value): walk the range again by the exact path."""


# --- is this SQLite's JSON the specification's? -----------------------------------------------------

_supported: dict[tuple[str, str], bool] = {}


def supported(conn: sqlite3.Connection) -> bool:
    """Whether ``json_object`` of the linked SQLite, on this database's text encoding, writes strings (every
    code point, NUL inside included) and 64-bit integers byte for byte as the specification's json.dumps."""
    encoding = conn.execute("PRAGMA encoding").fetchone()[0]
    key = (sqlite3.sqlite_version, encoding)
    if key not in _supported:
        _supported[key] = encoding == "UTF-8" and writes_like_json_dumps(conn)
    return _supported[key]


def code_point_chunks(size: int = 0x10000) -> Iterator[str]:
    """Every code point (no surrogates: no str that reaches the database holds one), ``size`` at a time."""
    codec = f"utf-32-{sys.byteorder[0]}e"  # array("I") holds 4-byte unsigned ints in the machine's order
    for start in range(0, 0x110000, size):
        stop = start + size
        low, high = range(start, min(stop, 0xD800)), range(max(start, 0xE000), stop)
        yield array("I", low).tobytes().decode(codec) + array("I", high).tobytes().decode(codec)


def writes_like_json_dumps(conn: sqlite3.Connection) -> bool:
    """Both escape character by character, so equal output for strings holding every code point (in
    chunks, to keep the memory small) means equal output for every string."""
    sql = "SELECT CAST(json_object('a', ?, 'b', ?, 'c', ?, 'd', ?, 'e', ?) AS BLOB)"
    for chunk in code_point_chunks():
        values: dict[str, Any] = {"a": "x" + chunk + "y", "b": -(2**63), "c": 2**63 - 1, "d": None, "e": ""}
        try:
            (written,) = conn.execute(sql, tuple(values.values())).fetchone()
        except sqlite3.Error:  # no JSON functions in this build
            return False
        if written != json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode():
            return False
    return True


# --- the query ---------------------------------------------------------------------------------------


def _affinity(declared: str) -> str:
    """SQLite's column affinity of a declared type (https://sqlite.org/datatype3.html, 3.1)."""
    kind = declared.upper()
    if "INT" in kind:
        return "INTEGER"
    if "CHAR" in kind or "CLOB" in kind or "TEXT" in kind:
        return "TEXT"
    if "BLOB" in kind or not kind:
        return "BLOB"
    return "REAL" if "REAL" in kind or "FLOA" in kind or "DOUB" in kind else "NUMERIC"


def fast_sql(conn: sqlite3.Connection, hi: int | None) -> str:
    """The query (parameters: chain, lo[, hi]). Columns that can hold a REAL (every affinity but TEXT,
    read from the database's own schema) are summed: an integer sum means no REAL and no overflow."""
    declared = {row[1]: row[2] for row in conn.execute("PRAGMA table_info(audit_event)")}
    numeric = [
        n for n in canon.SORTED_FIELDS if n not in _NOT_SPECIAL and _affinity(declared.get(n, "")) != "TEXT"
    ]
    integers = " + ".join(f'ifnull("{name}", 0)' for name in numeric) or "0"
    pairs = []
    for name in canon.SORTED_FIELDS:
        value = {"items": "0", "occurred_at": "replace(\"occurred_at\", ' ', 'T') || 'Z'"}.get(
            name, f'"{name}"'
        )
        pairs.append(f"'{name}', {value}")
    doc = f"json_object({', '.join(pairs)}, 'v', {canon.FORMAT_VERSION})"
    plain = f"typeof({integers}) = 'integer' AND typeof(\"occurred_at\") = 'text' AND \"occurred_at\" GLOB '{STAMP_GLOB}'"
    upper = " AND seq <= ?" if hi is not None else ""
    return (
        f'SELECT seq, prev_hash, "hash", items, CASE WHEN {plain} THEN CAST({doc} AS BLOB) END '
        f"FROM audit_event WHERE chain = ? AND seq >= ?{upper} ORDER BY seq"
    )


# --- the batches -------------------------------------------------------------------------------------


def batches(
    conn: sqlite3.Connection, chain: str, lo: int, hi: int | None, row_hash: RowHash
) -> Iterator[Batch]:
    """The rows of ``chain`` with lo ≤ seq ≤ hi in seq order as batches (see ``verify_rows.Batch``), hashed
    from SQLite's JSON; by ``row_hash`` over the full rows when this SQLite's JSON is not the spec's.
    Raises FastPathFailed (before or after some batches) when SQLite refuses a row's JSON."""
    if not supported(conn):
        yield from python_batches(conn, "sqlite", chain, lo, hi, row_hash)
        return
    hashed = Hasher()
    cursor = conn.cursor()
    try:
        while True:
            try:  # SQLite steps to the first row in execute, to the others in fetchmany
                if cursor.description is None:
                    cursor.execute(fast_sql(conn, hi), (chain, lo) if hi is None else (chain, lo, hi))
                rows = cursor.fetchmany(FETCH)
            except sqlite3.OperationalError as error:  # "JSON cannot hold BLOB values"
                raise FastPathFailed(str(error)) from error
            if not rows:
                return
            hashes = hashed(rows)
            seqs = [row[0] for row in rows]
            yield Batch(
                seqs,
                [row[1] for row in rows],
                [row[2] for row in rows],
                hashes,
                partial(_full_rows, conn, chain, seqs[0], seqs[-1], row_hash),
            )
    finally:
        cursor.close()


class Hasher:
    """``hasher(rows)``: the hash of each row of the query (None: left to the exact path), with the item
    lists and the hours seen so far remembered."""

    def __init__(self) -> None:
        self.items_json: dict[Any, bytes] = {}  # stored items → b'"items":[…],', or b"" for the exact path
        self.hours: dict[bytes, bool] = {}  # b"YYYY-MM-DDTHH" → whether that hour exists

    def __call__(self, rows: list[Row]) -> list[str | None]:
        items_json, hours, sha256, find = self.items_json, self.hours, hashlib.sha256, bytes.find
        hashes: list[str | None] = []
        for _, _, _, items, doc in rows:
            if doc is None:
                hashes.append(None)
                continue
            spliced = items_json.get(items)
            if spliced is None:
                spliced = _items_json(items, items_json)
            at = find(doc, STAMP_KEY) + len(STAMP_KEY)
            hour = doc[at : at + 13]
            valid = hours.get(hour)
            if valid is None:
                valid = hours[hour] = _hour_exists(hour)
            hashes.append(
                sha256(doc.replace(ITEMS_MARK, spliced, 1)).hexdigest() if spliced and valid else None
            )
        return hashes


def _items_json(items: Any, known: dict[Any, bytes]) -> bytes:
    """``"items":[…],`` as the specification writes a stored items text that is a list of str; b"" (the
    exact path) for anything else."""
    spliced = b""
    if type(items) is str:
        try:
            parsed = parse_items(items)
            if type(parsed) is list and all(type(name) is str for name in parsed):
                spliced = b'"items":' + orjson.dumps(parsed) + b","
        except (ValueError, TypeError):  # not JSON, or a lone surrogate: the exact path says what it is
            pass
    if len(known) < 100_000:
        known[items] = spliced
    return spliced


def _hour_exists(hour: bytes) -> bool:
    """``YYYY-MM-DDTHH`` (digits, as the GLOB let through) names an hour of the calendar."""
    try:
        datetime.strptime(hour.decode(), "%Y-%m-%dT%H")
    except ValueError:
        return False
    return len(hour) == 13


def _full_rows(
    conn: sqlite3.Connection, chain: str, first: Any, last: Any, row_hash: RowHash
) -> tuple[list[Row], list[str]]:
    """The batch's rows again (first ≤ seq ≤ last, the same snapshot: the batch's query is still open on
    this connection), as the exact path reads and hashes them."""
    sql, params = select_sql("sqlite", first, last)
    rows: list[Row] = conn.execute(sql, (chain, *params)).fetchall()
    return rows, [row_hash(row) for row in rows]
