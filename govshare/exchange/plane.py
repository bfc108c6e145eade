"""The data plane: how the HTTP API answers a lookup, with the same rules in far fewer steps.

``query.lookup`` answers through an ORM session: nine statements, the audit append inside the call's
transaction, a commit per call. That is the reference, and what the CLI and the tests call. The API
answers the same lookup here:

- the application, its token, the resource and items, the grant and the providing department come
  from ``views.CACHE`` (valid for one generation stamp, renewed by triggers on any change);
- one statement reads the stamp and the record together on a connection this process keeps for the
  purpose (autocommit: the one statement is its own snapshot). If the stamp is not the cached one, or
  a view is missing, the call is answered again through a session, which reloads the views; a refusal
  decided on cached views is confirmed against the stamp first, so no call is refused on stale rows;
- the audit entry goes through the group commit (``audit.group_commit``) and the answer waits until
  it is durable, without holding the event loop.

Rules are not repeated here: ``query.answer_lookup`` decides both paths, ``grants.evaluate_grant`` the
grant, ``tokens.verify_with`` the token. Tests and the CLI, which hand the app a session factory bound
to one connection, always take the session path.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from govshare.audit.group_commit import GroupCommit
from govshare.core.errors import DomainError, Unauthenticated
from govshare.core.settings import Settings
from govshare.exchange import query, tokens
from govshare.exchange.models import Operation
from govshare.exchange.ratelimit import RateLimiter
from govshare.exchange.service import check_token_application
from govshare.exchange.views import CACHE, ApplicationView, Loader, Stale

log = logging.getLogger(__name__)
T = TypeVar("T")

# The stamp and the record in one statement: LEFT JOINs so the stamp comes back with no record too.
_RECORD_SQL = (
    "SELECT g.stamp, r.data, r.version, r.valid_from, r.batch_id, b.department_id "
    "FROM exchange_generation g "
    "LEFT JOIN data_record r ON r.resource_id = ? AND r.record_key = ? "
    "LEFT JOIN data_batch b ON b.id = r.batch_id "
    "WHERE g.id = 1"
)
# PostgreSQL: the records of every lookup that arrived together, in one round trip (see _read).
_RECORDS_SQL_PG = (
    "SELECT g.stamp, k.ord, r.data, r.version, r.valid_from, r.batch_id, b.department_id "
    "FROM exchange_generation g "
    "CROSS JOIN unnest(%s::bigint[], %s::text[]) WITH ORDINALITY AS k(resource_id, record_key, ord) "
    'LEFT JOIN data_record r ON r.resource_id = k.resource_id AND r.record_key = k.record_key COLLATE "C" '
    "LEFT JOIN data_batch b ON b.id = r.batch_id "
    "WHERE g.id = 1"
)
_STAMP_SQL = "SELECT stamp FROM exchange_generation WHERE id = 1"


def authenticate(loader: Loader, settings: Settings, authorization: str | None) -> ApplicationView:
    """The application behind ``Authorization: Bearer <token>``: the token verified once per stamp
    (then only its expiry), the application checked on every call against the views."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated(
            "missing_access_token",
            "请携带应用访问令牌：Authorization: Bearer <access_token>（由 POST /api/v1/oauth/token 获取）",
        )
    claims = loader.views.tokens.get(token)
    if claims is None:
        claims = tokens.verify_with(settings, token, loader.signing_key)
        loader.remember_token(token, claims)
    elif claims["exp"] <= time.time():
        raise Unauthenticated("token_expired", "访问令牌已过期，请重新获取令牌")
    app = loader.application(int(claims["app"]))
    check_token_application(app, claims)
    assert app is not None
    return app


def _aware(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite keeps DateTime as text, without offset (always UTC here)
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DataPlane:
    """One per app (``app.state.data_plane``): the kept connection, the audit writer, the limiter."""

    def __init__(
        self, session_factory: sessionmaker[Session], settings: Settings, limiter: RateLimiter
    ) -> None:
        self.session_factory, self.settings, self.limiter = session_factory, settings, limiter
        bind = session_factory.kw.get("bind")
        self._engine = bind if isinstance(bind, Engine) else None  # a Connection: tests, one transaction
        self.audit = GroupCommit(session_factory, settings, flush_in_thread=self._engine is not None)
        self._proxy: Any = None
        self.answered = collections.Counter[str]()  # "cached" / "session": how calls were answered
        self._record_sql = _RECORD_SQL  # SQLite: one statement per lookup; PostgreSQL: batches
        if self._engine is not None and self._engine.dialect.name == "postgresql":
            self._record_sql = _RECORDS_SQL_PG
        self._reads: list[tuple[int, str, asyncio.Future[tuple[int, query.RecordRow | None]]]] = []

    # --- the kept connection ----------------------------------------------------------------------

    def _cursor(self) -> Any:
        if self._proxy is None:
            assert self._engine is not None
            proxy = self._engine.raw_connection()
            driver = proxy.driver_connection
            if self._engine.dialect.name == "postgresql":
                driver.autocommit = True  # type: ignore[union-attr]
            self._proxy = proxy
        return self._proxy.driver_connection.cursor()

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        try:
            cursor = self._cursor()
            cursor.execute(sql, params)
            return cursor.fetchone()
        except Exception:
            self.close()  # a broken connection is replaced at the next call
            raise

    def close(self) -> None:
        """Give the kept connection back (invalidated: it never returns to the pool); stop the writer."""
        self.audit.close()
        proxy, self._proxy = self._proxy, None
        if proxy is not None:
            with contextlib.suppress(Exception):
                proxy.invalidate()

    def _stamp(self) -> int:
        return int(self._execute(_STAMP_SQL)[0])

    # --- calls ------------------------------------------------------------------------------------

    async def lookup(
        self, call: query.Call, authorization: str | None, code: str, key: str, items: list[str] | None
    ) -> query.RecordAnswer:
        """按主键查询, as ``query.lookup`` answers it; audited through the group commit."""

        def plan(loader: Loader) -> query.LookupPlan:
            call.application = authenticate(loader, self.settings, authorization)
            query._check_headers(call)
            return query.plan_lookup(loader, call, code, key, items)

        def finish(
            loader: Loader, planned: query.LookupPlan, record: query.RecordRow | None
        ) -> query.RecordAnswer:
            return query.finish_lookup(loader, self.limiter, self.settings, call, planned, record)

        call.operation = Operation.LOOKUP.value
        try:
            result = await self._answer(call, plan, finish)
        except DomainError as refusal:
            call.items = []
            await self._record(call, refusal)
            raise
        except Exception:
            call.items = []
            with contextlib.suppress(Exception):
                await self._record(call, DomainError("internal_error", "服务器内部错误，调用未完成"))
            raise
        await self._record(call, None)  # durable before the answer goes out
        return result

    async def _record(self, call: query.Call, refusal: DomainError | None) -> None:
        await self.audit.append(query.audit_entry(self.settings, call, refusal))
        query.count_call(call, refusal)

    async def _answer(
        self, call: query.Call, plan: Callable[[Loader], query.LookupPlan],
        finish: Callable[[Loader, query.LookupPlan, query.RecordRow | None], T],
    ) -> T:  # fmt: skip
        if self._engine is not None:
            views = CACHE.current
            loader = Loader(None, views)
            try:
                planned = plan(loader)
                stamp, record = await self._read(planned.resource.id, planned.stored_key)
                if stamp != views.stamp:
                    raise Stale
                result = finish(loader, planned, record)
                self.answered["cached"] += 1
                return result
            except Stale:
                pass
            except DomainError:
                if self._stamp() == views.stamp:
                    self.answered["cached"] += 1
                    raise  # decided on the rows the database holds
            _forget(call)
        self.answered["session"] += 1
        with self.session_factory() as session:
            loader = Loader(session, CACHE.for_session(session))
            planned = plan(loader)
            record = query.session_fetch(session)(planned.resource.id, planned.stored_key)
            return finish(loader, planned, record)

    # --- reading records --------------------------------------------------------------------------

    async def _read(self, resource_id: int, stored_key: str) -> tuple[int, query.RecordRow | None]:
        """(the stamp, the record) in one statement. SQLite answers in microseconds on this thread;
        PostgreSQL is a round trip, so the lookups that arrive together wait for one statement that
        reads all their records (a batch per turn of the event loop, like the audit's group commit)."""
        if self._record_sql is _RECORD_SQL:
            return _record_row(self._execute(_RECORD_SQL, (resource_id, stored_key)))
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[int, query.RecordRow | None]] = loop.create_future()
        self._reads.append((resource_id, stored_key, future))
        if len(self._reads) == 1:
            loop.call_soon(self._read_batch)
        return await future

    def _read_batch(self) -> None:
        batch, self._reads = self._reads, []
        try:
            cursor = self._cursor()
            cursor.execute(_RECORDS_SQL_PG, ([r for r, _, _ in batch], [k for _, k, _ in batch]))
            rows = {int(row[1]): row for row in cursor.fetchall()}
        except Exception as err:
            self.close()
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(err)
            return
        for ord_, (_, _, future) in enumerate(batch, start=1):
            if not future.done():
                row = rows[ord_]
                future.set_result(_record_row((row[0], *row[2:])))


def _record_row(row: Any) -> tuple[int, query.RecordRow | None]:
    if row[1] is None:
        return int(row[0]), None
    return int(row[0]), query.RecordRow(row[1], int(row[2]), _aware(row[3]), int(row[4]), int(row[5]))


def _forget(call: query.Call) -> None:
    """Undo what an answer on stale views learned of the call, before it is answered again."""
    call.application, call.resource_code, call.subject, call.purpose = None, None, None, None
    call.items, call.rate_headers = [], {}
