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

import orjson
from sqlalchemy.orm import Session

COLUMNS: tuple[str, ...] = (
    "chain", "seq", "occurred_at", "actor_kind", "application_id", "user_id", "department_id",
    "operator", "case_id", "service_item", "purpose", "operation", "resource_code", "subject_key_type",
    "subject_key_hash", "items", "outcome", "refusal_code", "latency_ms", "request_id", "client_address",
    "prev_hash", "hash",
)  # fmt: skip
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's SQLite DateTime stores a value
# PostgreSQL: the whole batch is one JSON document, unpacked by the server (json_to_recordset) into
# one INSERT. orjson writes it in C; psycopg's per-row executemany and then its array dumpers (one
# array a column, adapted element by element in Python: 16% of a lookup's CPU in the benchmark's
# profile) cost far more than the server's parse. ``items`` travels as the text json.dumps writes,
# cast to json by the server, so the column holds exactly what the ORM would store.
_PG_TYPES = {"seq": "bigint", "occurred_at": "timestamptz", "application_id": "integer", "user_id": "integer",
             "department_id": "integer", "latency_ms": "integer"}  # fmt: skip
_PG_INSERT = (
    f"INSERT INTO audit_event ({', '.join(COLUMNS)}) SELECT "
    + ", ".join('x."items"::json' if c == "items" else f'x."{c}"' for c in COLUMNS)
    + " FROM json_to_recordset(%s::json) AS x("
    + ", ".join(f'"{c}" {_PG_TYPES.get(c, "text")}' for c in COLUMNS)
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

    if sqlite:

        def stored(row: dict[str, Any]) -> tuple[Any, ...]:
            at: datetime = row["occurred_at"].astimezone(UTC)
            values = dict(row, occurred_at=at.strftime(_SQLITE_TIME), items=json.dumps(row["items"]))
            return tuple(values[c] for c in COLUMNS)

        cursor.executemany(_STATEMENTS[dialect][1], [stored(row) for row in rows])
    else:
        document = [
            {c: row[c] for c in COLUMNS} | {"occurred_at": row["occurred_at"].astimezone(UTC),
                                            "items": json.dumps(row["items"])}
            for row in rows
        ]  # fmt: skip
        cursor.execute(_PG_INSERT, (orjson.dumps(document).decode(),))
    cursor.execute(_STATEMENTS[dialect][2], (last_hash, rows[0]["chain"]))
