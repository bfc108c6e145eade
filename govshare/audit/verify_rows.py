"""Reading the log for the verification: rows through the raw driver, their hashes, and batches.

A row is the SORTED_FIELDS values as stored (``occurred_at`` and ``items`` raw), then the stored hash,
read by one streamed query with only the hashed columns (PostgreSQL: a server-side cursor). ``row_hasher``
hashes such a row with the same bytes as ``chain.event_hash``. The walk consumes ``Batch``es: what it
checks for a whole fetch at once, and the full rows it walks one by one when something in it is wrong.
SQLite reads through ``verify_sqlite`` instead, which hands the walk the same batches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from govshare.audit import chain as canon

FETCH = 10_000  # rows per fetch

_TS = canon.SORTED_FIELDS.index("occurred_at")
_ITEMS = canon.SORTED_FIELDS.index("items")
_SEQ = canon.SORTED_FIELDS.index("seq")
_PREV = canon.SORTED_FIELDS.index("prev_hash")
Row = tuple[Any, ...]  # the SORTED_FIELDS values as stored (occurred_at and items raw), then the hash
RowHash = Callable[..., str]  # row_hash(row, seq=None)


@dataclass
class Batch:
    """One fetch of consecutive rows (by seq): what the walk checks for all of them at once.

    ``hashes`` are the computed hashes, None where the reader left a row to the exact path; ``rows()``
    gives the full rows and their exact hashes, for the row-by-row walk of a batch that is not intact."""

    seqs: list[Any]
    prevs: list[Any]
    stored: list[Any]
    hashes: Sequence[str | None]
    rows: Callable[[], tuple[list[Row], list[str]]]


def select_sql(dialect: str, lo: int, hi: int | None, *, before: bool = False) -> tuple[str, tuple[Any, ...]]:
    """The SELECT of the rows of a chain (its first parameter) with lo ≤ seq ≤ hi, in seq order."""
    columns = [f'"{name}"' for name in (*canon.SORTED_FIELDS, "hash")]
    if dialect == "postgresql":  # a UTC wall time and the stored JSON text, as SQLite gives them
        columns[_TS] = "\"occurred_at\" AT TIME ZONE 'UTC'"
        columns[_ITEMS] = '"items"::text'
    mark = "%s" if dialect == "postgresql" else "?"
    sql = f"SELECT {', '.join(columns)} FROM audit_event WHERE chain = {mark} AND seq "
    if before:  # the last row before lo: the state a range starting at lo begins from
        return sql + f"< {mark} ORDER BY seq DESC LIMIT 1", (lo,)
    if hi is None:
        return sql + f">= {mark} ORDER BY seq", (lo,)
    return sql + f">= {mark} AND seq <= {mark} ORDER BY seq", (lo, hi)


def fetch_rows(conn: Any, dialect: str, chain: str, lo: int, hi: int | None) -> Iterator[list[Row]]:
    """Rows of ``chain`` with lo ≤ seq ≤ hi (no upper bound when None) in seq order, in lists of FETCH,
    streamed from one query on the DB-API connection ``conn`` (sqlite3, or psycopg with a server-side
    cursor inside the connection's transaction)."""
    sql, params = select_sql(dialect, lo, hi)
    cursor = (
        conn.cursor(name=f"govshare_audit_verify_{lo}", binary=True)
        if dialect == "postgresql"
        else conn.cursor()
    )
    try:
        cursor.execute(sql, (chain, *params))
        while batch := cursor.fetchmany(FETCH):
            yield batch
    finally:
        cursor.close()


def python_batches(
    conn: Any, dialect: str, chain: str, lo: int, hi: int | None, row_hash: RowHash
) -> Iterator[Batch]:
    """``fetch_rows`` as batches, every row hashed by ``row_hash``."""
    for rows in fetch_rows(conn, dialect, chain, lo, hi):
        hashes = [row_hash(row) for row in rows]
        yield Batch(
            [row[_SEQ] for row in rows],
            [row[_PREV] for row in rows],
            [row[-1] for row in rows],
            hashes,
            _kept(rows, hashes),
        )


def _kept(rows: list[Row], hashes: list[str]) -> Callable[[], tuple[list[Row], list[str]]]:
    return lambda: (rows, hashes)


def row_values(row: Row, dialect: str) -> dict[str, Any]:
    """A row as the SQLAlchemy model reads it (what ``canon.event_hash`` takes), with its stored hash."""
    values = dict(zip((*canon.SORTED_FIELDS, "hash"), row, strict=True))
    stamp = values["occurred_at"]
    values["occurred_at"] = (stamp if dialect == "postgresql" else datetime.fromisoformat(stamp)).replace(
        tzinfo=UTC
    )
    values["items"] = json.loads(values["items"])
    return values


def row_hasher(dialect: str) -> RowHash:
    """``row_hash(row, seq=None)``: ``canon.event_hash`` of the row (under another seq when given),
    without building model objects: the same bytes (see ``canon.canonical_doc``; the timestamp as
    ``canon.timestamp`` writes it, the items as SQLAlchemy's JSON type reads them)."""
    keys, sha256, dumps, str_only = canon.SORTED_FIELDS, hashlib.sha256, orjson.dumps, {str}
    from_text = datetime.fromisoformat
    postgres = dialect == "postgresql"
    loose = not postgres  # SQLite stores any type in any column; PostgreSQL's columns are typed

    items_of: dict[str, Any] = {}  # stored items text → its list of str (item lists repeat a lot)

    def row_hash(row: Row, seq: int | None = None) -> str:
        doc = dict(zip(keys, row, strict=False))  # stops before the stored hash
        when = row[_TS] if postgres else from_text(row[_TS])  # naive UTC (SQLite stores no offset)
        stamp = when.isoformat()  # YYYY-MM-DDTHH:MM:SS.ffffff when naive, with microseconds, year ≥ 1000
        if len(stamp) == 26 and stamp[0] != "0":
            doc["occurred_at"] = stamp + "Z"
        else:  # an offset, no microseconds, a year before 1000: as the specification writes it
            doc["occurred_at"] = canon.timestamp(when.replace(tzinfo=UTC) if when.tzinfo is None else when)
        doc["v"] = canon.FORMAT_VERSION
        if seq is not None:
            doc["seq"] = seq
        text = row[_ITEMS]
        items = items_of.get(text)
        if items is None:
            items = parse_items(text)
            if type(items) is not list or (items and {*map(type, items)} != str_only):
                doc["items"] = items  # not a list of str: the checked path
                return sha256(canon.canonical_doc(doc)).hexdigest()
            if len(items_of) < 100_000:
                items_of[text] = items
        doc["items"] = items
        # Stored values are str, int or None, except what SQLite's loose typing lets a forger store: a
        # float (or bytes, which orjson refuses) takes the checked path.
        if loose and float in map(type, row):
            return sha256(canon.canonical_doc(doc)).hexdigest()
        try:
            return sha256(dumps(doc)).hexdigest()
        except TypeError:  # bytes, or an int beyond 64 bits: as the specification writes it (or fails)
            return sha256(canon.canonical_json(doc)).hexdigest()

    return row_hash


def parse_items(text: Any) -> Any:
    """The stored ``items`` JSON text as SQLAlchemy's JSON type reads it (json.loads), orjson first."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # what only the standard library reads (NaN, a huge number …)
        return json.loads(text)
