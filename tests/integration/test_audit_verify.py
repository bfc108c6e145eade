"""The fast verification path (SQLite and PostgreSQL): rows read through the raw driver, and on SQLite
the JSON SQLite writes itself, hash to exactly the documented bytes (or are left to the exact path); a
verification walked in parallel ranges reports exactly what the sequential walk reports — intact, or
broken in the middle range, at a range boundary, or in the last partial range; and entries appended
while a verification runs are not reported as breaks."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from govshare.audit import chain as canon
from govshare.audit import verify, verify_rows, verify_sqlite, verify_walk
from govshare.audit.models import AuditChainHead, AuditEvent
from govshare.core.db import make_engine
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


def _raw(session: Session) -> Any:
    return session.connection().connection.driver_connection


def _rows(session: Session) -> list[verify_rows.Row]:
    dialect = session.get_bind().dialect.name
    return [row for batch in verify_rows.fetch_rows(_raw(session), dialect, "main", 1, None) for row in batch]


def test_rows_read_by_the_driver_hash_to_the_documented_bytes(session: Session):
    settings = audit_settings(every=1000)
    for fields in VARIED:
        append(session, settings, 1, **fields)
    dialect = session.get_bind().dialect.name
    row_hash = verify_rows.row_hasher(dialect)
    rows = _rows(session)
    assert len(rows) == len(VARIED)
    for row, model in zip(rows, events(session), strict=True):
        assert row[-1] == model.hash == documented_hash(model) == row_hash(row)
        assert row_hash(row, model.seq + 1) == canon.event_hash(
            verify_rows.row_values(row, dialect) | {"seq": model.seq + 1}
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
    (row,) = [r for r in _rows(session) if r[verify_rows._SEQ] == 2]
    assert verify_rows.row_hasher("sqlite")(row) == forged["hash"]
    assert verify.verify(session).ok  # a consistent forgery after the last checkpoint: undetectable


# --- SQLite: the JSON SQLite writes --------------------------------------------------------------------

SPECIAL: list[dict[str, Any]] = [
    *VARIED,
    {"purpose": '引号"反斜杠\\换行\n回车\r制表\t退格\b换页\f', "operator": "\u2028\u2029\x7f\x1f\x00尾"},
    {"items": ["a\"b", "c\\d", "\n", "\u2028", "😀𠀀", "\x00"], "service_item": "𝄞" * 10, "case_id": ""},
    {"occurred_at": datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "latency_ms": -(2**31)},
    {"occurred_at": datetime(2028, 2, 29, 0, 0, 0, 0, tzinfo=UTC), "operator": None, "items": ["x" * 300]},
]  # fmt: skip


def _sqlite(session: Session) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's own JSON writer")


def _sqlite_batches(session: Session) -> list[verify_rows.Batch]:
    row_hash = verify_rows.row_hasher("sqlite")
    return list(verify_sqlite.batches(_raw(session), "main", 1, None, row_hash))


def test_sqlite_writes_every_row_as_the_documented_bytes(session: Session):
    _sqlite(session)
    for fields in SPECIAL:
        append(session, audit_settings(every=1000), 1, **fields)
    assert verify_sqlite.supported(_raw(session))
    (batch,) = _sqlite_batches(session)
    models = events(session)
    assert batch.hashes == [m.hash for m in models] == [documented_hash(m) for m in models]  # none left out
    rows, exact = batch.rows()
    assert exact == batch.hashes and [r[-1] for r in rows] == batch.stored
    assert verify.verify(session).ok


def test_the_sqlite_reader_checks_every_column_that_can_hold_a_real(session: Session):
    _sqlite(session)
    sql = verify_sqlite.fast_sql(_raw(session), None)
    summed = sql.split("typeof(")[1].split(") = 'integer'")[0]
    names = {part.split('"')[1] for part in summed.split(" + ")}
    assert names == {"seq", "application_id", "user_id", "department_id", "latency_ms"}


def _forge_last(session: Session, column: str, value: Any) -> tuple[int, str | None, str]:
    """Append an entry and store ``value`` in it by raw SQL (tampering allowed); returns its seq and its
    hash as the specification writes it (None: it cannot) and as SQLite's JSON of it reads."""
    (seq,) = append(session, audit_settings(every=1000), 1)
    session.execute(text(f"UPDATE audit_event SET {column} = :v WHERE seq = :s"), {"v": value, "s": seq})
    raw = _raw(session)
    (row,) = [r for r in _rows(session) if r[verify_rows._SEQ] == seq]
    sql = verify_sqlite.fast_sql(raw, None).replace("CASE WHEN", "CASE WHEN 1 OR")
    doc = raw.execute(sql, ("main", seq)).fetchone()[4]
    items = raw.execute("SELECT items FROM audit_event WHERE seq = ?", (seq,)).fetchone()[0]
    spliced = verify_sqlite._items_json(items, {}) or b'"items":' + items.encode() + b","
    as_sqlite = hashlib.sha256(doc.replace(verify_sqlite.ITEMS_MARK, spliced, 1)).hexdigest()
    try:
        specified: str | None = verify_rows.row_hasher("sqlite")(row)
    except ValueError:  # a timestamp that names no instant
        specified = None
    return seq, specified, as_sqlite


def _rehash(session: Session, seq: int, new: str) -> None:
    session.execute(update(AuditEvent).where(AuditEvent.seq == seq).values(hash=new))
    session.execute(update(AuditChainHead).values(last_hash=new))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("latency_ms", 0.1 + 0.2),  # json_object writes 0.3, json.dumps 0.30000000000000004
        ("user_id", 1e300),  # 1.0e+300 against 1e+300
        ("application_id", 2**63 - 1),  # plus seq: a sum beyond 64 bits
        ("occurred_at", "2026-12-04 18:36:00"),  # no microseconds: the specification writes .000000
        ("occurred_at", "2026-12-04 18:36:00.123456+08:00"),  # an offset: the specification converts to UTC
        ("occurred_at", "2026-12-04T18:36:00.123456"),
        ("items", '{"姓名": 1}'),  # not a list of str
        ("items", '["a", 1]'),
    ],
)
def test_values_sqlite_writes_otherwise_take_the_exact_path(session: Session, column: str, value: Any):
    _sqlite(session)
    allow_tampering(session)
    seq, specified, as_sqlite = _forge_last(session, column, value)
    assert specified is not None
    _rehash(session, seq, specified)
    assert _sqlite_batches(session)[0].hashes[seq - 1] is None  # left to the exact path
    assert verify.verify(session).ok  # a consistent forgery after the last checkpoint, as specified
    _rehash(session, seq, as_sqlite)
    report = verify.verify(session)
    if as_sqlite == specified:
        assert report.ok  # SQLite's JSON of this one is the specification's (a big int, a "T")
    else:  # hashed over SQLite's bytes, not the specification's: named as modified
        assert (report.first_problem.seq, report.first_problem.kind) == (seq, "modified")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "stamp",
    ["2026-02-29 10:00:00.000000", "2026-04-31 10:00:00.000000", "2026-13-01 10:00:00.000000",
     "2026-00-10 10:00:00.000000", "2026-01-00 10:00:00.000000", "2026-01-01 24:00:00.000000",
     "0999-01-01 10:00:00.000000"],
)  # fmt: skip
def test_a_timestamp_that_names_no_instant_is_never_accepted_from_sqlites_json(session: Session, stamp: str):
    _sqlite(session)
    allow_tampering(session)
    seq, _, as_sqlite = _forge_last(session, "occurred_at", stamp)
    _rehash(session, seq, as_sqlite)
    assert _sqlite_batches(session)[0].hashes[seq - 1] is None
    if stamp.startswith("0999"):  # a time the specification writes as 999-01-01T…: the forgery is named
        assert verify.verify(session).first_problem.kind == "modified"  # type: ignore[union-attr]
    else:  # no instant at all: the exact path cannot read it, as SQLAlchemy cannot
        with pytest.raises(ValueError):
            verify.verify(session)


def test_a_blob_makes_the_sqlite_reader_give_way_to_the_exact_path(session: Session):
    _sqlite(session)
    (seq,) = append(session, audit_settings(every=1000), 1)
    allow_tampering(session)
    session.execute(text("UPDATE audit_event SET operator = x'ff' WHERE seq = :s"), {"s": seq})
    with pytest.raises(verify_sqlite.FastPathFailed):
        _sqlite_batches(session)
    with pytest.raises(TypeError):  # what the exact path has always said of a BLOB: not JSON serializable
        verify.verify(session)


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
    assert verify_walk.ranges(1, N, 3) == [(1, 13), (14, 26), (27, None)]
    walked_here: list[int] = []
    walk_part = verify_walk.walk_part
    monkeypatch.setattr(
        verify_walk,
        "walk_part",
        lambda conn, w, part, *a: walked_here.append(part.lo) or walk_part(conn, w, part, *a),
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


# --- entries appended while a verification runs -----------------------------------------------------------


def _append_elsewhere(session: Session, count: int) -> None:
    """``count`` entries appended and committed by another connection (checkpoint every 5)."""
    engine = session.get_bind().engine
    with sessionmaker(bind=engine)() as other:
        append(other, audit_settings(every=5), count)


@pytest.mark.parametrize("workers", [1, 3])
def test_entries_appended_during_a_verification_are_no_break(
    db: Session, monkeypatch: pytest.MonkeyPatch, workers: int
):
    """Appended after the head and checkpoints were read and before the rows (the last range) are: a walk
    reading at READ COMMITTED would find rows past the head (and a checkpoint beyond them) and report them."""
    parent, walk_part = os.getpid(), verify_walk.walk_part

    def appending_walk(conn: Any, walk: Any, part: Any, *rest: Any) -> Any:
        if os.getpid() == parent and part.hi is None:
            _append_elsewhere(db, 7)  # seqs 41–47, a checkpoint at 45
        return walk_part(conn, walk, part, *rest)

    monkeypatch.setattr(verify_walk, "walk_part", appending_walk)
    db.commit()
    report = verify.verify(db, workers=workers)
    assert report.ok, report.problems
    assert (report.head_seq, report.events_checked, report.checkpoints_checked) == (N, N, 8)
    db.rollback()
    monkeypatch.undo()
    assert verify.verify(db, workers=workers).to_dict() | {"head_seq": 0} == verify.verify(db).to_dict() | {
        "head_seq": 0
    }
    assert verify.verify(db).events_checked == N + 7


def test_workers_read_the_snapshot_the_verification_exported(db: Session):
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip(
            "PostgreSQL exports snapshots; SQLite's workers read rows up to the head, which never change"
        )
    db.commit()
    with verify._reading(db) as (conn, snapshot):
        assert snapshot is not None
        _append_elsewhere(db, 7)
        url = db.get_bind().engine.url.render_as_string(hide_password=False)
        engine = make_engine(url)
        raw = engine.raw_connection()
        try:
            verify_walk._import_snapshot(raw.driver_connection, snapshot)
            (count,) = raw.driver_connection.execute("SELECT count(*) FROM audit_event").fetchone()
        finally:
            raw.close()
            engine.dispose()
        assert count == N == conn.scalar(text("SELECT count(*) FROM audit_event"))
    db.rollback()
