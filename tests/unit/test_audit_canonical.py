"""The canonical form of audit events and checkpoints is exactly what docs/audit.md specifies, and the
SQLite verification reader (SQLite's own json_object) writes exactly those bytes for what it accepts."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

from govshare.audit import chain as canon
from govshare.audit import verify_sqlite

EVENT = {name: None for name in canon.HASHED_FIELDS} | {
    "chain": "main", "seq": 1, "occurred_at": datetime(2026, 12, 4, 18, 36, 0, 5, tzinfo=UTC),
    "actor_kind": "application", "application_id": 7, "operation": "lookup", "items": ["姓名"],
    "outcome": "allowed", "prev_hash": "0" * 64,
}  # fmt: skip


def test_the_canonical_event_is_sorted_compact_utf8_json_with_microsecond_utc_times():
    text = canon.canonical_event(EVENT).decode()
    assert text.startswith('{"actor_kind":"application","application_id":7,"case_id":null,"chain":"main",')
    assert '"items":["姓名"]' in text and '"occurred_at":"2026-12-04T18:36:00.000005Z"' in text
    assert '"v":1' in text and " " not in text
    assert canon.event_hash(EVENT) == hashlib.sha256(text.encode()).hexdigest()


def test_the_same_instant_in_another_zone_hashes_the_same_and_any_field_change_does_not():
    beijing = EVENT["occurred_at"].astimezone(timezone(timedelta(hours=8)))  # type: ignore[union-attr]
    assert canon.event_hash(EVENT | {"occurred_at": beijing}) == canon.event_hash(EVENT)
    for name, value in (("operator", "张三"), ("seq", 2), ("items", []), ("prev_hash", "1" * 64)):
        assert canon.event_hash(EVENT | {name: value}) != canon.event_hash(EVENT)


def test_the_checkpoint_message_names_its_type_chain_seq_hash_time_and_key():
    message = canon.checkpoint_message(
        "main", 1000, "ab" * 32, datetime(2026, 12, 4, tzinfo=UTC), "20261204-0a1b"
    )
    assert message == (
        b'{"chain":"main","hash":"' + b"ab" * 32 + b'","kid":"20261204-0a1b","seq":1000,'
        b'"signed_at":"2026-12-04T00:00:00.000000Z","type":"govshare-audit-checkpoint","v":1}'
    )


def _documented(values: dict[str, object]) -> bytes:
    """The specification: json.dumps of the plain values (docs/audit.md)."""
    return canon.canonical_event(values)


EVERY_CODE_POINT = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
VARIED = [
    EVENT,
    EVENT
    | {
        "operator": "张三",
        "purpose": "办理居住证（\u2028换行\u2029）",
        "case_id": 'a"b\\c\n\t\r\x00\x1f\x7f',
    },
    EVENT | {"items": [], "outcome": "refused", "refusal_code": "no_grant", "latency_ms": 0},
    EVENT | {"items": ["姓名", "公民身份号码", "😀", ""], "user_id": -(2**63), "department_id": 2**64 - 1},
    EVENT | {"occurred_at": datetime(2026, 12, 4, 18, 36, tzinfo=UTC), "seq": 10_000_000},
    EVENT | {"occurred_at": datetime(2026, 1, 1, 7, 59, 59, 999999, tzinfo=timezone(timedelta(hours=8)))},
    EVENT | {"operator": EVERY_CODE_POINT, "items": [EVERY_CODE_POINT[::-1]]},
    # values orjson writes differently from json.dumps, or not at all: these take canonical_json
    EVENT | {"latency_ms": 1e16, "application_id": float("nan")},
    EVENT | {"items": [{"z": 1, "é": [1.5, None, True]}, 2**70], "user_id": True},
    EVENT | {"items": ("姓名", "性别"), "application_id": 2**64},
]


def test_the_fast_event_hash_writes_exactly_the_documented_bytes():
    for values in VARIED:
        doc = {name: canon._plain(values[name]) for name in canon.SORTED_FIELDS} | {"v": 1}
        assert canon.canonical_doc(doc) == _documented(values)
        assert canon.event_hash(values) == hashlib.sha256(_documented(values)).hexdigest()
    assert not canon.orjson_safe({"a": 1.0}) and not canon.orjson_safe({"a": ["x", 1]})
    assert canon.orjson_safe({"a": ["x"], "b": None, "c": 1, "d": "张"})


# --- SQLite's JSON (govshare/audit/verify_sqlite.py): the linked library, no database ------------------

SPECIAL_STRINGS = [
    'a"b',
    "c\\d",
    "\n\r\t\b\f",
    "\x00mid\x00",
    "\x01\x1f\x7f",
    "\u2028\u2029",
    "😀𠀀",
    "",
    "姓名",
]


def _sqlite() -> sqlite3.Connection:
    return sqlite3.connect(":memory:")


def test_sqlites_json_object_writes_every_string_and_integer_as_json_dumps():
    db = _sqlite()
    assert "".join(verify_sqlite.code_point_chunks()) == EVERY_CODE_POINT
    assert verify_sqlite.writes_like_json_dumps(db)  # every code point, 64-bit bounds, null
    for value in [*SPECIAL_STRINGS, "".join(SPECIAL_STRINGS), 0, -1, 2**63 - 1, None]:
        (written,) = db.execute("SELECT CAST(json_object('k', ?) AS BLOB)", (value,)).fetchone()
        assert written == canon.canonical_json({"k": value}), repr(value)


def _sqlite_stamp(db: sqlite3.Connection, stored: object) -> str | None:
    """The timestamp as the SQLite reader writes it, or None when it leaves the row to the exact path."""
    sql = f"SELECT typeof(?1) = 'text' AND ?1 GLOB '{verify_sqlite.STAMP_GLOB}', replace(?1, ' ', 'T') || 'Z'"
    plain, written = db.execute(sql, (stored,)).fetchone()
    return written if plain and verify_sqlite._hour_exists(written[:13].encode()) else None


def _specified_stamp(stored: str) -> str | None:
    """As the specification writes what SQLAlchemy reads from SQLite's text (None: it reads no instant)."""
    try:
        when = datetime.fromisoformat(stored)
    except ValueError:
        return None
    return canon.timestamp(when if when.tzinfo else when.replace(tzinfo=UTC))


def _stamps() -> list[str]:
    days = [f"{y}-{m:02d}-{d:02d}" for y in ("2024", "2026", "2100", "0999", "1000", "9999")
            for m in range(0, 20) for d in range(0, 40)]  # fmt: skip
    times = ["00:00:00.000000", "23:59:59.999999", "12:34:56.000001", "24:00:00.000000", "29:00:00.000000",
             "23:60:00.000000", "23:00:60.000000", "12:34:56", "12:34:56.12345", "12:34:56.1234567",
             "12:34:56.123456Z", "12:34:56.123456+08:00", "12:34"]  # fmt: skip
    return [f"{day}{sep}{time}" for day in days for sep in (" ", "T") for time in times]


def test_the_sqlite_reader_writes_a_timestamp_only_where_it_writes_the_specifications():
    db = _sqlite()
    accepted = 0
    for stored in _stamps():
        written = _sqlite_stamp(db, stored)
        if written is not None:
            assert written == _specified_stamp(stored), stored
            accepted += 1
    assert (
        accepted == (366 + 4 * 365) * 3
    )  # every day of 2024, 2026, 2100, 1000 and 9999 at the 3 valid times
    for when in (
        datetime(2024, 2, 29, 23, 59, 59, 999999),
        datetime(1000, 1, 1),
        datetime(2026, 12, 4, 18, 36, 0, 1),
    ):
        stored = when.isoformat(" ", "microseconds")  # what SQLAlchemy stores
        assert (
            _sqlite_stamp(db, stored) == _specified_stamp(stored) == canon.timestamp(when.replace(tzinfo=UTC))
        )
    for other in (20261204, 2026.5, b"2026-12-04 18:36:00.000000", None):
        assert _sqlite_stamp(db, other) is None


def test_the_sqlite_reader_writes_item_lists_as_the_specification():
    known: dict[object, bytes] = {}
    for items in (["姓名", "公民身份号码"], [], SPECIAL_STRINGS, [EVERY_CODE_POINT]):
        stored = json.dumps(items)  # as SQLAlchemy's JSON type stores it (ASCII, ", ")
        assert verify_sqlite._items_json(stored, known) == b'"items":' + canon.canonical_json(items) + b","  # type: ignore[arg-type]
    for stored in ('{"a": 1}', '["a", 1]', "5", "not json", '["\\ud800"]', 5, None):
        assert verify_sqlite._items_json(stored, known) == b""
