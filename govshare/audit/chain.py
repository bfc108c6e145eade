"""The canonical form of an audit event and of a checkpoint, and their hashes.

This module is the specification an external auditor re-implements (docs/audit.md shows it in a few
lines of Python): nothing here touches the database.

Event hash, format version 1::

    hash = lowercase hex SHA-256 of UTF-8( JSON( {"v": 1, <every field in HASHED_FIELDS>} ) )

where JSON is ``json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``: keys
sorted by code point, no whitespace, non-ASCII characters as themselves (so 张 stays 张, not \\u5f20).
Values: strings as stored, integers as integers, absent values as ``null``, ``items`` as the stored list
of item names, ``occurred_at`` as UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six digits). ``prev_hash``
is the previous event's ``hash`` (64 zeros for seq 1), so changing, removing or inserting any event
breaks every later link.

``canonical_event`` is that definition, written with the standard library. ``event_hash`` writes the same
bytes faster: with orjson, whose output for strings (every code point), integers, ``null`` and lists of
strings is byte for byte that of ``json.dumps(..., ensure_ascii=False)`` with compact separators, with
the keys put in sorted order first; any other value (a float, a nested object …) goes through
``canonical_json``. tests/unit/test_audit_canonical.py proves the equality.

Checkpoint signature: Ed25519 over UTF-8( JSON( {"v": 1, "type": "govshare-audit-checkpoint",
"chain", "seq", "hash", "signed_at", "kid"} ) ) with the same JSON rules, base64url without padding.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import orjson

FORMAT_VERSION = 1
CHECKPOINT_TYPE = "govshare-audit-checkpoint"
HASHED_FIELDS: tuple[str, ...] = (
    "chain", "seq", "occurred_at", "actor_kind", "application_id", "user_id", "department_id",
    "operator", "case_id", "service_item", "purpose", "operation", "resource_code", "subject_key_type",
    "subject_key_hash", "items", "outcome", "refusal_code", "latency_ms", "request_id", "client_address",
    "prev_hash",
)  # fmt: skip
SORTED_FIELDS: tuple[str, ...] = tuple(sorted(HASHED_FIELDS))  # the order sort_keys writes them; "v" last
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def timestamp(value: datetime) -> str:
    """``2026-12-04T18:36:00.123456Z``: UTC, microseconds always written."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def canonical_json(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical_event(values: Mapping[str, Any]) -> bytes:
    """The bytes an event's hash is taken over; ``values`` holds every name of HASHED_FIELDS."""
    return canonical_json({"v": FORMAT_VERSION} | {name: _plain(values[name]) for name in HASHED_FIELDS})


_ORJSON_SAFE = frozenset({str, int, type(None)})  # written by orjson exactly as by json.dumps


def orjson_safe(doc: Mapping[str, Any]) -> bool:
    """Whether orjson writes ``doc`` (plain values) byte for byte as ``canonical_json`` does: str, int
    and None values, or lists of str. (No bool, float, Enum, nested object: those take canonical_json.)"""
    for value in doc.values():
        kind = type(value)
        if kind not in _ORJSON_SAFE and (kind is not list or any(type(v) is not str for v in value)):
            return False
    return True


def canonical_doc(doc: dict[str, Any]) -> bytes:
    """``canonical_json(doc)`` for a doc whose keys are already in sorted order (SORTED_FIELDS, then
    "v"), written by orjson when that gives the same bytes."""
    if orjson_safe(doc):
        try:
            return orjson.dumps(doc)
        except TypeError:  # an int beyond 64 bits
            pass
    return canonical_json(doc)


def event_hash(values: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of ``canonical_event(values)``, the same bytes written faster (canonical_doc)."""
    doc = {name: v if type(v := values[name]) in _ORJSON_SAFE else _plain(v) for name in SORTED_FIELDS}
    doc["v"] = FORMAT_VERSION
    return hashlib.sha256(canonical_doc(doc)).hexdigest()


def checkpoint_message(chain: str, seq: int, hash_: str, signed_at: datetime, kid: str) -> bytes:
    """The bytes a checkpoint signature covers."""
    doc = {"v": FORMAT_VERSION, "type": CHECKPOINT_TYPE, "chain": chain, "seq": seq, "hash": hash_,
           "signed_at": timestamp(signed_at), "kid": kid}  # fmt: skip
    return canonical_json(doc)


def is_key_hash(value: str) -> bool:
    return bool(_HEX64.match(value))


@dataclass(frozen=True)
class AuditEntry:
    """What a caller asks ``record`` to append; the log adds chain, seq, time and hashes.

    ``subject_key_hash`` is the keyed hash from ``audit.subject_hash`` — never the raw ID number, which
    ``record`` refuses. ``items`` are names of the items returned, never their values.
    """

    operation: str
    actor_kind: str
    outcome: str = "allowed"
    application_id: int | None = None
    user_id: int | None = None
    department_id: int | None = None
    operator: str | None = None
    case_id: str | None = None
    service_item: str | None = None
    purpose: str | None = None
    resource_code: str | None = None
    subject_key_type: str | None = None
    subject_key_hash: str | None = None
    items: Sequence[str] = field(default_factory=tuple)
    refusal_code: str | None = None
    latency_ms: int | None = None
    request_id: str | None = None
    client_address: str | None = None
    occurred_at: datetime | None = None
