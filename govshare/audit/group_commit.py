"""Group commit for the audit log: many concurrent calls' entries, one transaction and one disk flush.

A data call must not answer before its audit entry is durable. Committing each entry on its own costs
a flush of the write-ahead log per call (0.3–1 ms on this kind of disk) and, worse, holds the chain
head's lock from the call's first write to its commit, so concurrent calls queue behind one another
(docs/benchmarks.md, "Exchange lookup over HTTP"). Here calls hand their entry to one writer thread
per process and wait; the writer takes every entry queued meanwhile, appends them with
``audit.record_many`` (one head update, one multi-row INSERT), commits, and only then releases each
waiting call. Under load a batch holds tens of entries, so the flush and the lock are shared; alone,
an entry is written at once (the writer never waits to fill a batch).

If the commit fails, every call of the batch fails with that error (the caller answers 500 and
releases no data): an entry is either durable before its answer or the answer is an error.

Several processes each have their own writer; their batches serialise on the chain head row like
single appends do, so the chain stays one gap-free sequence.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from sqlalchemy.orm import Session

from govshare.audit import service
from govshare.audit.chain import AuditEntry
from govshare.core.settings import Settings

log = logging.getLogger(__name__)

MAX_BATCH = 500  # entries per transaction: bounds the statement size and one batch's latency
IDLE_EXIT_SECONDS = 2.0  # the writer thread ends when idle this long, and starts again on demand


class GroupCommit:
    """The audit writer of one process (``app.state.audit_writer``)."""

    def __init__(self, session_factory: Callable[[], Session], settings: Settings) -> None:
        self._session_factory = session_factory
        self._settings = settings
        self._queue: queue.SimpleQueue[tuple[AuditEntry, Future[int]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.batches = 0  # how many transactions, and how many entries they held (for /metrics, tests)
        self.entries = 0

    def submit(self, entry: AuditEntry) -> Future[int]:
        """Queue ``entry``; the future gives its seq once committed, or the commit's error."""
        future: Future[int] = Future()
        self._queue.put((service.checked(entry), future))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="govshare-audit-writer", daemon=True)
                self._thread.start()
        return future

    async def append(self, entry: AuditEntry) -> int:
        """Append ``entry`` and wait, without blocking the event loop, until it is durable."""
        return await asyncio.wrap_future(self.submit(entry))

    def append_now(self, entry: AuditEntry) -> int:
        """Append and wait in this thread (a caller that is not on the event loop)."""
        return self.submit(entry).result()

    def _run(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=IDLE_EXIT_SECONDS)]
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[tuple[AuditEntry, Future[int]]]) -> None:
        try:
            with self._session_factory() as session:
                seqs = service.record_many(session, [entry for entry, _ in batch], self._settings)
                session.commit()
        except Exception as err:  # every waiting call fails: none answers without its entry
            log.exception("audit group commit of %d entries failed", len(batch))
            for _, future in batch:
                future.set_exception(err)
            return
        self.batches += 1
        self.entries += len(batch)
        for (_, future), seq in zip(batch, seqs, strict=True):
            future.set_result(seq)

    def stats(self) -> dict[str, Any]:
        return {"batches": self.batches, "entries": self.entries}
