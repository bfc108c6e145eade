"""A live govshare server on loopback, for clients that need real HTTP (ckanapi, the browser).

One server per backend per test session, on a database of its own loaded with the demo city
(SQLite file / PostgreSQL database ``govshare_e2e``). Tests that change data must leave it usable
for the others (create their own entries rather than edit the demo's).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn

from govshare.core.db import make_engine, make_session_factory
from tests.conftest import BACKENDS, demo_database, make_test_settings


@dataclass
class LiveServer:
    url: str
    backend: str
    database_url: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with demo_database(request.param, "e2e", tmp_path_factory) as url:
        yield from _serve(url, request.param)


def _serve(url: str, backend: str) -> Iterator[LiveServer]:
    from govshare.web.app import create_app

    engine = make_engine(url)
    factory = make_session_factory(engine)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_test_settings(database_url=url, base_url=base)
    config = uvicorn.Config(create_app(settings, factory), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("live server did not start")
        time.sleep(0.05)
    yield LiveServer(url=base, backend=backend, database_url=url)
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="session")
def artifacts_dir() -> str:
    """Where browser tests save screenshots (kept by CI as evidence)."""
    path = os.path.join(os.path.dirname(__file__), "..", "..", "test-artifacts")
    os.makedirs(path, exist_ok=True)
    return os.path.abspath(path)
