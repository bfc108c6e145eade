"""Verification (核验调用日志): re-walk the chain, recompute every hash, check every signed checkpoint.

The walk streams events in seq order (``verify_rows``: the raw driver, only the hashed columns, no ORM
objects; PostgreSQL: a server-side cursor; SQLite: ``verify_sqlite``, where SQLite writes each row's
canonical JSON itself), recomputes each hash with the same bytes as ``chain.event_hash``, checks a
whole fetched batch at once when nothing in it is wrong (and row by row otherwise, ``verify_walk``),
and names each break it finds:

- ``deleted``   seq jumps (expected 41, found 44): rows 41–43 were removed; also rows missing at the
                end (the head or a checkpoint names a seq beyond the last row);
- ``modified``  the row's stored hash is not the hash of its content: a field was changed;
- ``replaced``  the row's content hashes correctly but the next row was not chained to it (or, for
                the last row, the chain head remembers another hash): it was changed and re-hashed, or
                forged in place of the original;
- ``inserted``  an original row sits one seq later than it was written (a row was inserted before it
                and the rest renumbered), or a row lies beyond the chain head;
- ``checkpoint_mismatch`` the chain's hash at a checkpoint's seq is not the signed one (the chain was
                rewritten consistently after the checkpoint);
- ``bad_signature`` a checkpoint's signature does not verify under its key (or its key is unknown).

After a break the walk re-anchors on the stored row and goes on, so independent breaks are all named;
the first is the one to investigate. ``workers`` > 1 (the CLI's default: one per CPU) walks
consecutive ranges in child processes at once and reports exactly what the sequential walk reports
(see ``verify_walk.parallel``). Every read sees one state of the log (``_reading``), so entries appended
while a verification runs are neither walked nor reported. A forger with write access can rewrite the
chain after the last checkpoint undetectably: checkpoints (and copies of them held outside the
platform) bound that window.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from govshare.audit import verify_walk
from govshare.audit.models import (
    GENESIS_HASH,
    MAIN_CHAIN,
    AuditChainHead,
    AuditCheckpoint,
    AuditEvent,
    AuditSigningKey,
)
from govshare.audit.service import verify_signature
from govshare.audit.verify_walk import MAX_PROBLEMS, Part, Problem, Progress, State, Walk
from govshare.core.types import utcnow

__all__ = ["PARALLEL_MIN", "Problem", "Progress", "Report", "record_run", "summary", "verify"]

PARALLEL_MIN = 200_000  # fewer events are walked in one process (starting a worker takes about a second)


@dataclass
class Report:
    chain: str
    from_seq: int
    head_seq: int
    head_hash: str = ""
    verified_to_seq: int = 0  # the last seq up to which the chain is intact from from_seq
    events_checked: int = 0
    checkpoints_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.seq) if self.problems else None

    def add(self, seq: int, kind: str, detail: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(seq, kind, detail))

    def to_dict(self) -> dict[str, Any]:
        first = self.first_problem
        return {"chain": self.chain, "ok": self.ok, "from_seq": self.from_seq, "head_seq": self.head_seq,
                "verified_to_seq": self.verified_to_seq, "events_checked": self.events_checked,
                "checkpoints_checked": self.checkpoints_checked,
                "first_problem": asdict(first) if first else None,
                "problems": [asdict(p) for p in sorted(self.problems, key=lambda p: p.seq)]}  # fmt: skip


# --- one state of the log for every read -------------------------------------------------------------


@contextmanager
def _reading(session: Session) -> Iterator[tuple[Connection, str | None]]:
    """The connection every read of one verification goes through, and on PostgreSQL the id of its
    exported snapshot (``pg_export_snapshot``) for the workers, when it has one.

    SQLite: the session's own transaction, whose first read fixes what it sees (WAL). PostgreSQL: a
    transaction at READ COMMITTED would read the head, the checkpoints and the rows each at another
    moment, and entries appended meanwhile would look like rows inserted past the head. So the reads go
    through one REPEATABLE READ, READ ONLY transaction on a connection of their own, whose snapshot the
    workers import — unless the session's transaction is itself REPEATABLE READ or SERIALIZABLE (then
    it is used), or has already written (then only its own connection sees what it wrote, and it is
    used as it is)."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        yield conn, None
        return
    level = conn.exec_driver_sql("SHOW transaction_isolation").scalar()
    wrote = conn.exec_driver_sql("SELECT txid_current_if_assigned()").scalar() is not None
    if level in ("repeatable read", "serializable") or wrote:
        yield conn, None
        return
    with (
        conn.engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        ) as own,
        own.begin(),
    ):
        snapshot = own.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        yield own, snapshot


def _head(conn: Connection, chain: str) -> tuple[int, str]:
    row = conn.execute(
        select(AuditChainHead.last_seq, AuditChainHead.last_hash).where(AuditChainHead.chain == chain)
    ).first()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def _anchor(conn: Connection, chain: str, from_seq: int) -> str:
    """The hash the walk starts from: genesis, or the stored hash of the row before ``from_seq``."""
    if from_seq <= 1:
        return GENESIS_HASH
    stored = conn.scalar(
        select(AuditEvent.hash).where(AuditEvent.chain == chain, AuditEvent.seq == from_seq - 1)
    )
    return stored or GENESIS_HASH


def verify(
    session: Session,
    chain: str = MAIN_CHAIN,
    from_seq: int = 1,
    progress: Progress | None = None,
    *,
    workers: int = 1,
) -> Report:
    """Verify the chain from ``from_seq`` (anchored on the stored hash of the row before it) to its end,
    and every checkpoint in that range, as the log stands when the verification starts.

    ``workers`` > 1 walks that many ranges at once (child processes opening the session's database
    URL) when there are at least PARALLEL_MIN events; the report is the same as the sequential walk's."""
    from_seq = max(from_seq, 1)
    with _reading(session) as (conn, snapshot):
        head_seq, head_hash = _head(conn, chain)
        report = Report(chain=chain, from_seq=from_seq, head_seq=head_seq, head_hash=head_hash)
        table = AuditCheckpoint.__table__
        cps = [
            AuditCheckpoint(**row._mapping)
            for row in conn.execute(select(table).where(table.c.chain == chain, table.c.seq >= from_seq))
        ]
        keys: dict[str, str] = dict(
            conn.execute(select(AuditSigningKey.kid, AuditSigningKey.public_key)).all()
        )
        walk = Walk(chain, conn.dialect.name, head_seq, head_hash, {cp.seq: cp.hash for cp in cps})
        first = State(from_seq, _anchor(conn, chain, from_seq))
        total = max(head_seq - from_seq + 1, 0)
        raw = conn.connection.driver_connection
        url = conn.engine.url
        if workers > 1 and total >= PARALLEL_MIN and url.database not in (None, "", ":memory:"):
            rendered = url.render_as_string(hide_password=False)
            parts = verify_walk.parallel(raw, walk, first, workers, rendered, snapshot, progress, total)
        else:
            done = 0

            def report_done(count: int) -> None:
                nonlocal done
                done += count
                if progress:
                    progress(done, total)

            parts = [verify_walk.walk_part(raw, walk, Part(from_seq, None, first, first), report_done)]
    for cp in cps:
        report.checkpoints_checked += 1
        if cp.kid not in keys or not verify_signature(keys[cp.kid], cp):
            report.add(cp.seq, "bad_signature", f"第 {cp.seq} 条处的检查点签名无效（密钥 {cp.kid}）")
    for part in parts:
        for problem in part.problems:
            report.add(problem.seq, problem.kind, problem.detail)
        report.events_checked += part.checked
    for part in parts:  # verified up to the last seq before the first break
        if part.verified_to is not None:
            report.verified_to_seq = part.verified_to
        if part.broken:
            break
    last = parts[-1].end.expected - 1
    missing_to = max([report.head_seq, *walk.checkpoints])
    if last < missing_to:
        report.add(last + 1, "deleted", f"缺少第 {last + 1}–{missing_to} 条（链尾被删除）")
    return report


def record_run(session: Session, report: Report) -> None:
    """Keep the result for the chain status page (已核验至), and commit."""
    from govshare.audit.models import AuditVerification

    data = report.to_dict()
    # End the verification's read transaction first: on SQLite a transaction that has read cannot
    # write once another connection has appended since (SQLITE_BUSY_SNAPSHOT, which no wait resolves).
    session.commit()
    session.add(AuditVerification(
        chain=report.chain, started_at=utcnow(), from_seq=report.from_seq,
        verified_to_seq=report.verified_to_seq, events_checked=report.events_checked,
        checkpoints_checked=report.checkpoints_checked, ok=report.ok, problems=data["problems"][:20],
        summary=summary(report),
    ))  # fmt: skip
    session.commit()


def summary(report: Report) -> str:
    if report.ok:
        return (f"完好：已核验第 {report.from_seq}–{report.verified_to_seq} 条，共 {report.events_checked} 条，"
                f"检查点 {report.checkpoints_checked} 个")  # fmt: skip
    first = report.first_problem
    assert first is not None
    return f"发现 {len(report.problems)} 处问题；首个在第 {first.seq} 条（{first.kind}）：{first.detail}"
