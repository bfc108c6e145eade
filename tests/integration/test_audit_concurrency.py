"""Concurrent appends never fork the chain: two sessions on two threads, committing as they go, on a
database of their own (each backend)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from govshare import audit
from govshare.audit import verify
from govshare.core.db import make_engine
from govshare.core.migrate import upgrade
from tests.conftest import BACKENDS, drop_isolated_schema, isolated_postgres_url
from tests.integration.audit_support import audit_settings, events

PER_THREAD = 40


@pytest.fixture(params=BACKENDS)
def own_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of this test's own: the appends commit, unlike the rolled-back ``session`` tests."""
    on_sqlite = request.param == "sqlite"
    engine = make_engine(
        f"sqlite:///{tmp_path / 'race.db'}" if on_sqlite else isolated_postgres_url("audit_race")
    )
    upgrade(engine)
    yield engine
    engine.dispose()
    if not on_sqlite:
        drop_isolated_schema("audit_race")


def test_concurrent_appends_keep_seq_gap_free_and_every_link_to_the_previous_hash(own_engine: Engine):
    settings = audit_settings(every=25)
    factory = sessionmaker(bind=own_engine, expire_on_commit=False)
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def worker(app_id: int) -> None:
        try:
            with factory() as session:
                start.wait()  # both race for the very first append, which also creates the chain head
                for n in range(PER_THREAD):
                    entry = audit.AuditEntry(operation="lookup", actor_kind="application", application_id=app_id,
                                             case_id=f"{app_id}-{n}")  # fmt: skip
                    audit.record(session, entry, settings)
                    session.commit()
        except BaseException as err:  # noqa: BLE001 - reported to the test thread below
            failures.append(err)

    threads = [threading.Thread(target=worker, args=(i,)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures
    with factory() as session:
        rows = events(session)
        assert [r.seq for r in rows] == list(range(1, 2 * PER_THREAD + 1))
        assert all(after.prev_hash == before.hash for before, after in zip(rows, rows[1:], strict=False))
        assert {r.application_id for r in rows} == {1, 2}
        assert verify.verify(session).ok
