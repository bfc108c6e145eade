"""Group commit for the audit log: many concurrent calls' entries, one transaction and one disk flush.

A data call must not answer before its audit entry is durable. Committing each entry on its own costs
a flush of the write-ahead log per call (0.3–1 ms on this kind of disk) and, worse, holds the chain
head's lock from the call's first write to its commit, so concurrent calls queue behind one another
(docs/benchmarks.md, "Exchange lookup over HTTP"). Here a call queues its entry and waits; once the
event loop has run every call that was ready, one flush appends everything queued meanwhile with
``audit.record_many`` (one head update, one multi-row INSERT), commits, and only then releases each
waiting call. Under load a batch holds tens of entries, so the disk flush and the lock are shared;
alone, an entry is written at once (the flush never waits to fill a batch).

The batch's statements run on the event loop (a few hundred microseconds, PostgreSQL's round trips on
loopback included), its COMMIT — the disk flush, milliseconds — in a thread of its own, while the loop goes on answering calls whose
entries queue for the next batch. Not the whole batch in a thread: a thread needs the GIL back after
every statement, and with the loop busy it waits a switch interval (5 ms) each time — measured, a
batch then took tens of milliseconds and the server sat at half a core. Not the COMMIT on the loop
either: the loop then idled through every flush and batches shrank to the few calls that arrived
meanwhile (measured: 51% of a core busy at 32 connections). On PostgreSQL too, statements on the loop
answered 1,961–1,973 lookups/s against 868–1,660 with the whole batch in the thread (alternating runs).

If the commit fails, every call of the batch fails with that error (the caller answers 500 and
releases no data): an entry is either durable before its answer or the answer is an error.

Several processes each flush their own batches; they serialise on the chain head row like single
appends do, so the chain stays one gap-free sequence.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from govshare.audit import service
from govshare.audit.chain import AuditEntry
from govshare.core.settings import Settings

log = logging.getLogger(__name__)
R = TypeVar("R")

MAX_BATCH = 1000  # entries per transaction: bounds the statement size and one flush's time


class GroupCommit:
    """The audit writer of one app (``app.state.data_plane.audit``), used from its event loop.

    ``flush_in_thread``: commit in a worker thread (a session factory on an engine); a factory bound
    to one connection (tests) commits on the loop, since that connection also serves the reads."""

    def __init__(
        self, session_factory: Callable[[], Session], settings: Settings, *, flush_in_thread: bool = True
    ) -> None:
        self._session_factory = session_factory
        self._settings = settings
        self._pending: list[tuple[AuditEntry, asyncio.Future[int]]] = []
        self._running = False
        self._executor = ThreadPoolExecutor(1, "govshare-audit-commit") if flush_in_thread else None
        self.batches = 0  # how many transactions, and how many entries they held
        self.entries = 0

    async def append(self, entry: AuditEntry) -> int:
        """Queue ``entry`` and wait until it is durable; its seq, or the commit's error."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._pending.append((service.checked(entry), future))
        if not self._running:
            self._running = True
            loop.create_task(self._flush())  # runs once the calls that are ready now have queued theirs
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                await self._write(batch)
        finally:
            self._running = False

    def _append(self, entries: list[AuditEntry], commit: bool) -> tuple[Session, list[int]]:
        session = self._session_factory()
        try:
            seqs = service.record_many(session, entries, self._settings, prechecked=True)
            if commit:
                session.commit()
        except BaseException:
            session.close()
            raise
        return session, seqs

    async def _write(self, batch: list[tuple[AuditEntry, asyncio.Future[int]]]) -> None:
        entries = [entry for entry, _ in batch]
        try:
            if self._executor is None:  # one connection shared with the reads: all on the loop
                session, seqs = self._append(entries, commit=True)
            else:
                session, seqs = self._append(entries, commit=False)
                await self._in_thread(session.commit)
            session.close()
        except Exception as err:  # every waiting call fails: none answers without its entry
            log.exception("audit group commit of %d entries failed", len(batch))
            for _, future in batch:
                if not future.done():
                    future.set_exception(err)
            return
        self.batches += 1
        self.entries += len(batch)
        for (_, future), seq in zip(batch, seqs, strict=True):
            if not future.done():  # a caller that went away (client disconnected) is still recorded
                future.set_result(seq)

    async def _in_thread(self, function: Callable[..., R], *args: Any) -> R:
        assert self._executor is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    def stats(self) -> dict[str, Any]:
        return {"batches": self.batches, "entries": self.entries}
