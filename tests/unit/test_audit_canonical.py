"""The canonical form of audit events and checkpoints is exactly what docs/audit.md specifies."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

from govshare.audit import chain as canon

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
