"""Database engine, sessions and the declarative base.

Nothing here runs at import time: the app factory and the CLI build an engine from the settings.
SQLite is the embedded default (WAL mode, foreign keys on); PostgreSQL is production. The same
models and migrations serve both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names, so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINTs and defers BEGIN; hand transaction
    # control to SQLAlchemy (the documented recipe) so savepoints and rollbacks behave.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk before the caller hears of it — an audit entry must survive a machine
    # crash, not only a process crash (NORMAL in WAL mode can lose the last commits). 0.3 ms a commit here.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


WRITE_FIRST = "govshare_write_first"  # execution option: this unit of work will write (see below)


def _sqlite_begin(conn: Connection) -> None:
    """BEGIN, or BEGIN IMMEDIATE for work that reads and then writes under concurrency.

    A deferred transaction that has read and then writes fails at once with "database is locked" if
    another connection committed in between (WAL snapshot; the busy timeout cannot help). A data
    exchange call reads the record and then appends its audit entry, so it takes the write lock at
    BEGIN and waits its turn there instead (``WRITE_FIRST``, set by govshare.web.deps).
    """
    immediate = conn.get_execution_options().get(WRITE_FIRST)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with the pragmas/options govshare relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work that rolls back unless the service committed."""
    session = factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
