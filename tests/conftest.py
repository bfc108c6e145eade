"""Test fixtures: every database test runs on SQLite **and** PostgreSQL.

Migrations are applied once per backend per session; each test runs inside a transaction that is
rolled back at the end (services' commits become savepoint releases through
``join_transaction_mode="create_savepoint"``), so tests are isolated and fast.

PostgreSQL: GOVSHARE_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
Set GOVSHARE_TEST_BACKENDS=sqlite to run SQLite only on a machine without PostgreSQL; CI runs both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from govshare.core.db import make_engine
from govshare.core.migrate import upgrade
from govshare.core.settings import Settings
from tests import factories

POSTGRES_URL = os.environ.get(
    "GOVSHARE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = os.environ.get("GOVSHARE_TEST_BACKENDS", "sqlite,postgresql").split(",")


RUN_ID = f"{os.getpid()}"
TEST_SECRET = "govshare-test-secret-0123456789abcdef"


def make_test_settings(**overrides: object) -> Settings:
    """Settings for the test environment, which like production refuses the development secret."""
    values: dict[str, object] = {
        "environment": "test",
        "database_url": "sqlite://",
        "secret_key": TEST_SECRET,
    }
    return Settings(**(values | overrides))


def isolated_postgres_url(purpose: str) -> str:
    """A URL whose connections live in a fresh schema of their own (``t<pid>_<purpose>``).

    Each test run and each purpose (unit of work tests, live server, CLI) gets its own schema in the
    one ``test`` database, so concurrent runs on a developer machine never drop each other's tables.
    """
    schema = f"t{RUN_ID}_{purpose}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def drop_isolated_schema(purpose: str) -> None:
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "t{RUN_ID}_{purpose}" CASCADE'))
    admin.dispose()


@contextmanager
def demo_database(backend: str, purpose: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database of ``backend`` holding the demo city, for clients that open their own
    connections (the CLI, a live server); yields its URL and removes it afterwards."""
    from govshare.demo.seed import load_demo

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp(purpose) / 'govshare.db'}"
    else:
        url = isolated_postgres_url(purpose)
    engine = make_engine(url)
    upgrade(engine)
    with sessionmaker(bind=engine)() as s:
        load_demo(s, catalog_only=True)  # the catalog: CLI tests count what they load
    engine.dispose()
    try:
        yield url
    finally:
        if backend == "postgresql":
            drop_isolated_schema(purpose)


def cli_demo_db(purpose: str):  # type: ignore[no-untyped-def]
    """A module's ``demo_db`` fixture: one demo database per backend for the CLI tests of a module."""

    @pytest.fixture(scope="module", params=BACKENDS)
    def demo_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
        with demo_database(request.param, purpose, tmp_path_factory) as url:
            yield url

    return demo_db


@contextmanager
def database_env(monkeypatch: pytest.MonkeyPatch, url: str) -> Iterator[str]:
    """Point GOVSHARE_DATABASE_URL at ``url`` for a CLI command; settings are cached, so re-read them."""
    from govshare.core.settings import get_settings

    monkeypatch.setenv("GOVSHARE_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        yield url
    finally:
        get_settings.cache_clear()


@pytest.fixture(scope="session", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated database of each backend, created once per test session."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "govshare.db"
        eng = make_engine(f"sqlite:///{path}")
    else:
        eng = make_engine(isolated_postgres_url("db"))
    upgrade(eng)
    yield eng
    eng.dispose()
    if request.param == "postgresql":
        drop_isolated_schema("db")


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    s = factory()
    s.info["factory"] = factory
    try:
        yield s
    finally:
        s.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_test_settings(base_url="http://testserver")


@pytest.fixture
def app(session: Session, settings: Settings):  # type: ignore[no-untyped-def]
    """The app bound to the test's transaction: API calls and assertions see the same data."""
    from govshare.web.app import create_app

    return create_app(settings, session_factory=session.info["factory"])


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


@pytest.fixture
def city(session: Session) -> factories.City:
    """Departments, users of every role and their API tokens."""
    return factories.make_city(session)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """Argon2id with cheap parameters in tests only; production keeps the library's defaults."""
    from argon2 import PasswordHasher

    from govshare.auth import service

    original = service._hasher
    service._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    service._hasher = original
