"""Writing audit rows through the database driver, for the append path that every data call takes.

The ORM's bulk insert spent more time preparing each entry's parameters (type processors, JSON, the
statement cache key) than the database spent storing it — about a third of a data call's CPU in the
exchange lookup benchmark. These statements write exactly what the ORM would (the same column
values: UTC times in SQLAlchemy's SQLite text layout, ``items`` as ``json.dumps`` writes it), in the
caller's transaction on the session's own connection.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

COLUMNS: tuple[str, ...] = (
    "chain", "seq", "occurred_at", "actor_kind", "application_id", "user_id", "department_id",
    "operator", "case_id", "service_item", "purpose", "operation", "resource_code", "subject_key_type",
    "subject_key_hash", "items", "outcome", "refusal_code", "latency_ms", "request_id", "client_address",
    "prev_hash", "hash",
)  # fmt: skip
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's SQLite DateTime stores a value
# PostgreSQL: one array a column and one statement for the whole batch (executemany went through
# psycopg's per-row Python, 12% of a lookup's CPU in the benchmark's profile).
_PG_TYPES = {"seq": "bigint", "occurred_at": "timestamptz", "application_id": "integer", "user_id": "integer",
             "department_id": "integer", "latency_ms": "integer", "items": "json"}  # fmt: skip
_PG_INSERT = (
    f"INSERT INTO audit_event ({', '.join(COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"%s::{_PG_TYPES.get(c, 'text')}[]" for c in COLUMNS)
    + ")"
)


def _sql(dialect: str) -> tuple[str, str, str]:
    mark = "?" if dialect == "sqlite" else "%s"
    values = ", ".join(f"{mark}::json" if c == "items" and dialect != "sqlite" else mark for c in COLUMNS)
    return (
        f"UPDATE audit_chain_head SET last_seq = last_seq + {mark} WHERE chain = {mark} "
        "RETURNING last_seq, last_hash",
        f"INSERT INTO audit_event ({', '.join(COLUMNS)}) VALUES ({values})",
        f"UPDATE audit_chain_head SET last_hash = {mark} WHERE chain = {mark}",
    )


_STATEMENTS = {dialect: _sql(dialect) for dialect in ("sqlite", "postgresql")}


def _cursor(session: Session) -> tuple[Any, str]:
    connection = session.connection()
    return connection.connection.cursor(), connection.dialect.name


def advance_head(session: Session, chain: str, count: int) -> tuple[int, str] | None:
    """Take ``count`` seqs under the head row's lock: (the first, its prev_hash); None without a head."""
    cursor, dialect = _cursor(session)
    cursor.execute(_STATEMENTS[dialect][0], (count, chain))
    row = cursor.fetchone()
    return None if row is None else (int(row[0]) - count + 1, str(row[1]))


def insert_events(session: Session, rows: Sequence[dict[str, Any]], last_hash: str) -> None:
    """INSERT the events and move the head's hash to ``last_hash`` (the chain of ``rows[0]``)."""
    cursor, dialect = _cursor(session)
    sqlite = dialect == "sqlite"

    def stored(row: dict[str, Any]) -> tuple[Any, ...]:
        at: datetime = row["occurred_at"].astimezone(UTC)
        values = dict(
            row, occurred_at=at.strftime(_SQLITE_TIME) if sqlite else at, items=json.dumps(row["items"])
        )
        return tuple(values[c] for c in COLUMNS)

    values = [stored(row) for row in rows]
    if sqlite:
        cursor.executemany(_STATEMENTS[dialect][1], values)
    else:
        cursor.execute(_PG_INSERT, [list(column) for column in zip(*values, strict=True)])
    cursor.execute(_STATEMENTS[dialect][2], (last_hash, rows[0]["chain"]))
