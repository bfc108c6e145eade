"""The FastAPI application factory: wires settings, database, routers, pages and error handling."""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Receive, Scope, Send

from govshare import __version__
from govshare.core.db import make_engine, make_session_factory
from govshare.core.settings import Settings, get_settings
from govshare.exchange.lane import DataLane
from govshare.web import errors
from govshare.web.limits import BodySizeLimit
from govshare.web.metrics import MetricsMiddleware

STATIC_DIR = Path(__file__).resolve().parent / "static"

DESCRIPTION = """
govshare 政务信息资源共享平台 — every department registers the data it holds in one catalog,
shares it under clear rules (无条件 / 有条件 / 不予共享) and reads others' data through one
accountable exchange.

Every error answers `{"error": {"code": "...", "message": "...", "details": ...}}`; `code` is stable.
Authenticate with `POST /api/v1/auth/token` and send `Authorization: Bearer <token>`.
"""


class Platform(FastAPI):
    """The FastAPI app with two pure-ASGI layers in front of its whole middleware stack.

    ``MetricsMiddleware`` first, so every answer is counted and timed — the error middleware's 500s and
    the size limit's refusals too. Then ``DataLane``, which answers the exchange lookup itself
    (lane.py); every other request goes on into FastAPI's stack (error handling, the body limit, the
    session cookie, routing). Ahead of that stack the lookup skips its five wrappers, each a coroutine
    and, for the error middleware, a wrapped ``send`` per message."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._front = MetricsMiddleware(DataLane(super().__call__, platform=self))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._front(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    session_factory: sessionmaker[Session] | None = None,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """Build the app. Tests pass their own ``session_factory``; otherwise one is made from settings."""
    settings = settings or get_settings()
    if session_factory is None:
        session_factory = make_session_factory(make_engine(settings.database_url))
    app = Platform(
        title="govshare 政务信息资源共享平台",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,  # served by web/docs.py from local assets, never a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.session_factory = session_factory

    errors.install(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie="govshare_session",
        same_site="lax",
        https_only=settings.environment == "production",
    )
    # Refuse oversized bodies before any handler reads them.
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_upload_bytes,
        larger={
            "/api/v1/data/": settings.max_data_upload_bytes,
            "/data/resources/": settings.max_data_upload_bytes,
        },
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    from govshare.audit.api import router as audit_router
    from govshare.auth.api import router as auth_router
    from govshare.catalog import interop, sheet_api
    from govshare.catalog.api import router as catalog_router
    from govshare.data.api import router as data_router
    from govshare.data.profiles_api import router as profiles_router
    from govshare.exchange import api as exchange_api
    from govshare.exchange import data_api as exchange_data_api
    from govshare.exchange import grants_api
    from govshare.exchange import search_api as exchange_search_api  # noqa: F401  (GET …/search, on the data router)
    from govshare.exchange.app_pages import router as application_pages
    from govshare.exchange.pages import router as exchange_pages
    from govshare.web import docs, metrics, pages

    app.include_router(metrics.router)
    app.include_router(auth_router)
    app.include_router(catalog_router)
    app.include_router(data_router)
    app.include_router(profiles_router)
    sheet_api.register(app)
    interop.register(app)
    exchange_api.register(app)
    app.include_router(grants_api.router)
    exchange_data_api.register(app)
    app.include_router(exchange_pages)
    app.include_router(application_pages)
    app.include_router(audit_router)
    docs.register(app)
    pages.register(app)
    return app


@asynccontextmanager
async def _serving(app: FastAPI) -> AsyncIterator[None]:
    """A server process's life: tuned for answering once everything is loaded, tidied at the end.

    ``gc.freeze()``: the objects of the loaded app (routes, templates, metadata, caches) move out of the
    collector's generations, so a full collection no longer walks them in the middle of a request —
    such pauses showed as the data API's slowest answers. A 1 ms switch interval: the audit commit
    thread gets the GIL back within 1 ms of its disk flush instead of Python's default 5 ms, which
    every answer of its batch would wait for."""
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(0.001)
    try:
        yield
    finally:
        app.state.data_plane.close()


def serving_app() -> FastAPI:
    """The app as ``govshare serve`` runs it in each worker process (uvicorn's factory)."""
    return create_app(lifespan=_serving)
