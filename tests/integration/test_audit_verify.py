"""The fast verification path (SQLite and PostgreSQL): rows read through the raw driver hash to exactly
the documented bytes, and a verification walked in parallel ranges reports exactly what the sequential
walk reports — intact, or broken in the middle range, at a range boundary, or in the last partial range."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from govshare.audit import chain as canon
from govshare.audit import verify
from govshare.audit.models import AuditChainHead, AuditEvent
from tests.conftest import BACKENDS
from tests.integration.audit_support import (
    allow_tampering,
    append,
    audit_settings,
    committed_database,
    events,
)
from tests.integration.test_audit_chain import documented_hash

VARIED: list[dict[str, Any]] = [
    {"operator": "张三", "items": ["姓名", "公民身份号码"], "purpose": "办理居住证"},
    {"operator": None, "items": [], "case_id": 'a"b\\c\n\t\x01\x7f\u2028', "latency_ms": 0},
    {"items": ["😀", "", "a,b"], "occurred_at": datetime(2026, 12, 4, 18, 36, tzinfo=UTC), "user_id": 2**31 - 1},
    {"occurred_at": datetime(2026, 12, 4, 18, 36, 0, 1, tzinfo=UTC), "department_id": None, "items": ["x"]},
    {"outcome": "refused", "refusal_code": "no_grant", "items": [], "client_address": "10.0.0.1"},
]  # fmt: skip


def _rows(session: Session) -> list[verify.Row]:
    dialect = session.get_bind().dialect.name
    return [
        row for batch in verify.fetch_rows(verify._raw(session), dialect, "main", 1, None) for row in batch
    ]


def test_rows_read_by_the_driver_hash_to_the_documented_bytes(session: Session):
    settings = audit_settings(every=1000)
    for fields in VARIED:
        append(session, settings, 1, **fields)
    dialect = session.get_bind().dialect.name
    row_hash = verify.row_hasher(dialect)
    rows = _rows(session)
    assert len(rows) == len(VARIED)
    for row, model in zip(rows, events(session), strict=True):
        assert row[-1] == model.hash == documented_hash(model) == row_hash(row)
        assert row_hash(row, model.seq + 1) == canon.event_hash(
            verify.row_values(row, dialect) | {"seq": model.seq + 1}
        )


def test_a_float_stored_by_a_forger_hashes_as_the_specification_writes_it(session: Session):
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("only SQLite's loose typing stores a float in an integer column")
    append(session, audit_settings(every=1000), 2)
    allow_tampering(session)
    forged = dict(session.execute(select(AuditEvent.__table__).where(AuditEvent.seq == 2)).mappings().one())
    forged["latency_ms"] = 2.5e-05  # json.dumps writes 2.5e-05, orjson 0.000025
    forged["hash"] = hashlib.sha256(canon.canonical_event(forged)).hexdigest()
    session.execute(
        update(AuditEvent).where(AuditEvent.seq == 2).values(latency_ms=2.5e-05, hash=forged["hash"])
    )
    session.execute(update(AuditChainHead).values(last_hash=forged["hash"]))
    (row,) = [r for r in _rows(session) if r[verify._SEQ] == 2]
    assert verify.row_hasher("sqlite")(row) == forged["hash"]
    assert verify.verify(session).ok  # a consistent forgery after the last checkpoint: undetectable


# --- parallel ------------------------------------------------------------------------------------------

N = 40  # workers=3 walks 1–13 and 14–26 in child processes, 27– here


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """A committed log of N events (checkpoints every 5) in a database the workers can open."""
    monkeypatch.setattr(verify, "PARALLEL_MIN", 1)
    with (
        committed_database(request.param, tmp_path, "audit_verify") as (_, engine),
        sessionmaker(bind=engine)() as session,
    ):
        append(session, audit_settings(every=5), N)
        allow_tampering(session)
        session.commit()
        yield session


def _both(session: Session, from_seq: int = 1) -> dict[str, Any]:
    """Verify sequentially and in three ranges; the two reports must be the same."""
    session.commit()
    sequential = verify.verify(session, from_seq=from_seq).to_dict()
    session.rollback()
    seen: list[tuple[int, int]] = []
    parallel = verify.verify(
        session, from_seq=from_seq, workers=3, progress=lambda *p: seen.append(p)
    ).to_dict()
    session.rollback()
    assert parallel == sequential
    assert seen and seen[-1][1] == parallel["head_seq"] - from_seq + 1
    return parallel


def _first(report: dict[str, Any]) -> tuple[int, str]:
    return report["first_problem"]["seq"], report["first_problem"]["kind"]


def test_parallel_ranges_cover_the_chain_and_the_intact_chain_verifies(
    db: Session, monkeypatch: pytest.MonkeyPatch
):
    assert verify._ranges(1, N, 3) == [(1, 13), (14, 26), (27, None)]
    walked_here: list[int] = []
    walk_in_session = verify._walk_in_session
    monkeypatch.setattr(
        verify,
        "_walk_in_session",
        lambda s, w, part, *a: walked_here.append(part.lo) or walk_in_session(s, w, part, *a),
    )
    assert verify.verify(db, workers=3).ok
    assert walked_here == [27]  # the children walked 1–13 and 14–26
    monkeypatch.undo()
    report = _both(db)
    assert (report["ok"], report["verified_to_seq"], report["events_checked"], report["checkpoints_checked"]) == (
        True, N, N, 8,
    )  # fmt: skip
    assert _both(db, from_seq=9)["events_checked"] == N - 8


@pytest.mark.parametrize(
    ("seq", "where"),
    [(20, "middle range"), (14, "first row of a range"), (13, "last row of a range"), (38, "last")],
)
def test_a_modified_row_is_named_by_the_parallel_walk(db: Session, seq: int, where: str):
    db.execute(update(AuditEvent).where(AuditEvent.seq == seq).values(operator="李四"))
    report = _both(db)
    assert _first(report) == (seq, "modified") and report["verified_to_seq"] == seq - 1


@pytest.mark.parametrize("seq", [13, 26, 33])
def test_a_row_modified_and_rehashed_at_a_range_end_is_named_as_replaced(db: Session, seq: int):
    row = dict(db.execute(select(AuditEvent.__table__).where(AuditEvent.seq == seq)).mappings().one())
    rehashed = canon.event_hash(row | {"operator": "李四"})
    db.execute(update(AuditEvent).where(AuditEvent.seq == seq).values(operator="李四", hash=rehashed))
    assert _first(_both(db)) == (seq, "replaced")


@pytest.mark.parametrize("seqs", [(14,), (12, 13, 14, 15), (26, 27), (39, 40)], ids=str)
def test_deleted_rows_across_a_boundary_or_at_the_end_are_named(db: Session, seqs: tuple[int, ...]):
    db.execute(delete(AuditEvent).where(AuditEvent.seq.in_(seqs)))
    assert _first(_both(db)) == (seqs[0], "deleted")


def test_an_insertion_before_the_boundaries_is_named_once(db: Session):
    table = AuditEvent.__table__
    later = [dict(r) for r in db.execute(select(table).where(table.c.seq >= 12)).mappings()]
    db.execute(delete(table).where(table.c.seq >= 12))
    db.execute(insert(table), [r | {"seq": r["seq"] + 1} for r in later])  # renumbered, hashes kept
    forged = later[0] | {"operator": "伪造者"}
    forged["hash"] = canon.event_hash(forged)
    db.execute(insert(table).values(**forged))
    db.execute(text("UPDATE audit_chain_head SET last_seq = last_seq + 1"))
    report = _both(db)
    assert _first(report) == (12, "inserted")
    assert [p["kind"] for p in report["problems"]].count("inserted") == 1
