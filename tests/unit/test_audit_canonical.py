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
