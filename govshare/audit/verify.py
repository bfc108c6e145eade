"""Verification (核验调用日志): re-walk the chain, recompute every hash, check every signed checkpoint.

The walk reads events in seq order in batches (keyset on seq, only the hashed columns, no ORM
objects) and names each break it finds:

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
the first is the one to investigate. A forger with write access can rewrite the chain after the last
checkpoint undetectably: checkpoints (and copies of them held outside the platform) bound that window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit import chain as canon
from govshare.audit.models import GENESIS_HASH, MAIN_CHAIN, AuditCheckpoint, AuditEvent, AuditSigningKey
from govshare.audit.service import head, verify_signature
from govshare.core.types import utcnow

BATCH = 5000
MAX_PROBLEMS = 100
Progress = Callable[[int, int], None]  # (events checked, events to check)


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str  # deleted / modified / replaced / inserted / checkpoint_mismatch / bad_signature
    detail: str


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


_COLUMNS = [AuditEvent.__table__.c[name] for name in (*canon.HASHED_FIELDS, "hash")]


def _anchor(session: Session, chain: str, from_seq: int) -> str:
    """The hash the walk starts from: genesis, or the stored hash of the row before ``from_seq``."""
    if from_seq <= 1:
        return GENESIS_HASH
    stored = session.scalar(
        select(AuditEvent.hash).where(AuditEvent.chain == chain, AuditEvent.seq == from_seq - 1)
    )
    return stored or GENESIS_HASH


def _walk(session: Session, report: Report, checkpoints: dict[int, str], progress: Progress | None) -> None:
    chain, expected = report.chain, report.from_seq
    prev_hash = _anchor(session, chain, expected)
    prev_intact = True  # whether the previous row hashed correctly (a link break then names that row)
    broken = shifted = beyond = False
    total = max(report.head_seq - expected + 1, 0)
    cursor = expected - 1
    while True:
        rows = session.execute(
            select(*_COLUMNS).where(AuditEvent.chain == chain, AuditEvent.seq > cursor)
            .order_by(AuditEvent.seq).limit(BATCH)
        ).mappings().all()  # fmt: skip
        if not rows:
            break
        for row in rows:
            seq = row["seq"]
            computed = canon.event_hash(dict(row))
            if seq > report.head_seq:
                if not beyond:  # one report for the whole run of rows past the head
                    where = f"链头（第 {report.head_seq} 条）" if report.head_seq else "链头记录缺失，"
                    report.add(seq, "inserted", f"第 {seq} 条起在{where}之后，不是经记录接口写入的")
                broken = beyond = True
            elif seq != expected:
                report.add(expected, "deleted", f"缺少第 {expected}–{seq - 1} 条（已被删除）")
                broken = True
            elif computed != row["hash"]:
                displaced = canon.event_hash(dict(row) | {"seq": seq - 1}) == row["hash"]
                if displaced and not shifted:
                    report.add(seq - 1, "inserted", f"第 {seq - 1} 条是插入的：原第 {seq - 1} 条起被顺延一位")
                elif not displaced:
                    report.add(seq, "modified", f"第 {seq} 条的内容与其哈希不符（字段被修改）")
                shifted, broken = displaced, True
            elif row["prev_hash"] != prev_hash:
                if prev_intact:  # the row before is self-consistent but not the one this row was chained to
                    report.add(
                        seq - 1,
                        "replaced",
                        f"第 {seq - 1} 条不是原来写入的那一条（被改写后重算哈希，或伪造）",
                    )
                broken = True
            elif seq == report.head_seq and row["hash"] != report.head_hash:
                # the last row has no successor to expose it: the head row remembers its hash
                report.add(seq, "replaced", f"第 {seq} 条（链尾）不是原来写入的那一条：与链头记录的哈希不符")
                broken = True
            if seq in checkpoints and checkpoints[seq] != row["hash"]:
                report.add(
                    seq, "checkpoint_mismatch", f"第 {seq} 条的哈希与已签名检查点不符（其前的记录被改写）"
                )
                broken = True
            if not broken:
                report.verified_to_seq = seq
            prev_intact = computed == row["hash"]
            prev_hash, expected = row["hash"], seq + 1
            report.events_checked += 1
        cursor = rows[-1]["seq"]
        if progress:
            progress(report.events_checked, total)
    last = expected - 1
    missing_to = max([report.head_seq, *checkpoints])
    if last < missing_to:
        report.add(last + 1, "deleted", f"缺少第 {last + 1}–{missing_to} 条（链尾被删除）")


def verify(
    session: Session, chain: str = MAIN_CHAIN, from_seq: int = 1, progress: Progress | None = None
) -> Report:
    """Verify the chain from ``from_seq`` (anchored on the stored hash of the row before it) to its end,
    and every checkpoint in that range."""
    from_seq = max(from_seq, 1)
    head_seq, head_hash = head(session, chain)
    report = Report(chain=chain, from_seq=from_seq, head_seq=head_seq, head_hash=head_hash)
    keys = {k.kid: k.public_key for k in session.scalars(select(AuditSigningKey))}
    checkpoints: dict[int, str] = {}
    for cp in session.scalars(
        select(AuditCheckpoint).where(AuditCheckpoint.chain == chain, AuditCheckpoint.seq >= from_seq)
    ):
        report.checkpoints_checked += 1
        if cp.kid not in keys or not verify_signature(keys[cp.kid], cp):
            report.add(cp.seq, "bad_signature", f"第 {cp.seq} 条处的检查点签名无效（密钥 {cp.kid}）")
        checkpoints[cp.seq] = cp.hash
    _walk(session, report, checkpoints, progress)
    return report


def record_run(session: Session, report: Report) -> None:
    """Keep the result for the chain status page (已核验至), and commit."""
    from govshare.audit.models import AuditVerification

    data = report.to_dict()
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
