"""Helpers of the audit tests: settings with frequent checkpoints, and a quick way to append entries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from govshare import audit
from govshare.audit.models import AuditEvent
from govshare.core.db import make_engine
from govshare.core.migrate import upgrade
from govshare.core.settings import Settings
from tests.conftest import drop_isolated_schema, isolated_postgres_url, make_test_settings

ID_NUMBER = "11010519491231002X"  # a valid resident ID (GB 11643 check character X)
OTHER_ID = "440305198001010011"


def audit_settings(every: int = 5) -> Settings:
    return make_test_settings(base_url="http://testserver", audit_checkpoint_every=every)


def append(session: Session, settings: Settings, n: int, **fields: object) -> list[int]:
    """``n`` allowed lookups by an application, committed; returns their seqs."""
    values: dict[str, object] = {"operation": "lookup", "actor_kind": "application", "application_id": 7, "department_id": 3, "operator": "张三",
                                 "case_id": "BJ-2026-0001", "resource_code": "R101", "items": ["姓名", "性别"]}  # fmt: skip
    values |= fields
    seqs = [
        audit.record(session, audit.AuditEntry(**values), settings)  # type: ignore[arg-type]
        for _ in range(n)
    ]
    session.commit()
    return seqs


def events(session: Session) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def allow_tampering(session: Session) -> None:
    """Play a forger with DDL rights: switch the append-only triggers off inside the test's transaction
    (rolled back with it), so the tests can show that the chain still catches the forgery."""
    if session.get_bind().dialect.name == "postgresql":
        for table in ("audit_event", "audit_checkpoint"):
            session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    else:
        for table in ("audit_event", "audit_checkpoint"):
            for action in ("update", "delete"):
                session.execute(text(f"DROP TRIGGER {table}_no_{action}"))


@contextmanager
def committed_database(backend: str, tmp_path: Path, purpose: str) -> Iterator[tuple[str, Engine]]:
    """A migrated database of ``backend`` that other connections (the CLI, verify's workers) open by URL;
    removed afterwards. Yields (url, engine)."""
    on_sqlite = backend == "sqlite"
    url = f"sqlite:///{tmp_path / f'{purpose}.db'}" if on_sqlite else isolated_postgres_url(purpose)
    engine = make_engine(url)
    upgrade(engine)
    try:
        yield url, engine
    finally:
        engine.dispose()
        if not on_sqlite:
            drop_isolated_schema(purpose)
