"""SQLite under concurrency: work that reads and then writes (a data call and its audit entry) begins
as a writer, so it waits its turn instead of failing with "database is locked"."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from govshare.core.db import WRITE_FIRST, make_engine
from govshare.web.deps import WRITE_FIRST_PATHS


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (0)"))
    yield engine
    engine.dispose()


def read_then_write(engine, options, between):  # type: ignore[no-untyped-def]
    """Read, let ``between`` run (another connection's commit), then write — like a lookup and its audit entry."""
    with Session(engine) as session:
        session.connection(execution_options=options)
        session.execute(text("SELECT count(*) FROM t")).scalar()
        between()
        session.execute(text("INSERT INTO t VALUES (1)"))
        session.commit()


def other_commit(engine):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (2)"))


def test_a_deferred_reader_that_writes_after_another_commit_fails(engine):
    """The failure the write-first transactions avoid (SQLite's WAL snapshot rule)."""
    with pytest.raises(OperationalError, match="locked"):
        read_then_write(engine, {}, lambda: other_commit(engine))


def test_write_first_work_waits_for_the_other_writer_and_both_succeed(engine):
    other = threading.Thread(target=other_commit, args=(engine,))
    read_then_write(engine, {WRITE_FIRST: True}, lambda: (other.start(), other.join(0.3)))
    other.join(15)  # it waited for our commit (busy timeout), then committed
    assert not other.is_alive()
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT x FROM t")).scalars()) == [0, 1, 2]


def test_data_calls_and_audit_reads_are_write_first():
    assert "/api/v1/exchange/data/resources/101/000001/records/x".startswith(WRITE_FIRST_PATHS)
    assert "/data/profiles/person_id/x".startswith(WRITE_FIRST_PATHS)
    assert not "/catalog".startswith(WRITE_FIRST_PATHS)
