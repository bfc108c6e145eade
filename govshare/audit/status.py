"""The chain's state for auditors: its head, checkpoints, the last verification, and the actions behind
the chain status page and API (verify now, sign a checkpoint now). Authorisation lives here, once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.audit import service, verify
from govshare.audit.models import MAIN_CHAIN, AuditCheckpoint, AuditVerification
from govshare.audit.queries import AUDIT_READERS
from govshare.auth.models import Role, User
from govshare.auth.service import require_role
from govshare.core.settings import Settings


@dataclass(frozen=True)
class ChainStatus:
    chain: str
    head_seq: int
    head_hash: str
    last_checkpoint: AuditCheckpoint | None
    last_verification: AuditVerification | None
    checkpoint_count: int


def chain_status(session: Session, actor: User, chain: str = MAIN_CHAIN) -> ChainStatus:
    require_role(actor, *AUDIT_READERS)
    head_seq, head_hash = service.head(session, chain)
    last_run = session.scalar(
        select(AuditVerification)
        .where(AuditVerification.chain == chain)
        .order_by(AuditVerification.id.desc())
        .limit(1)
    )
    count = session.scalar(select(func.count()).where(AuditCheckpoint.chain == chain)) or 0
    return ChainStatus(chain, head_seq, head_hash, service.last_checkpoint(session, chain), last_run, count)


def list_checkpoints(
    session: Session, actor: User, chain: str = MAIN_CHAIN, limit: int = 100
) -> list[AuditCheckpoint]:
    """The newest checkpoints first: what an external auditor copies out to bound later rewriting."""
    require_role(actor, *AUDIT_READERS)
    query = select(AuditCheckpoint).where(AuditCheckpoint.chain == chain).order_by(AuditCheckpoint.seq.desc())
    return list(session.scalars(query.limit(limit)))


def run_verification(
    session: Session,
    actor: User | None,
    from_seq: int = 1,
    progress: verify.Progress | None = None,
    workers: int = 1,
) -> verify.Report:
    """Verify the chain and keep the result; ``actor`` None is the platform itself (the CLI), which may
    walk it in ``workers`` processes."""
    if actor is not None:
        require_role(actor, *AUDIT_READERS)
    report = verify.verify(session, from_seq=from_seq, progress=progress, workers=workers)
    verify.record_run(session, report)
    return report


def checkpoint_now(session: Session, settings: Settings, actor: User | None) -> AuditCheckpoint | None:
    """Sign a checkpoint at the chain's end now (the platform authority, or the CLI)."""
    if actor is not None:
        require_role(actor, Role.AUTHORITY)
    return service.checkpoint(session, settings)
