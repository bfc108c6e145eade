"""Audit (调用日志): the append-only, hash-chained log of every call and decision, its signed checkpoints,
its verification, and the citizen's access log (数据使用记录). See docs/audit.md.

Callers use ``record`` (in their own transaction) or ``record_refusal`` (its own transaction), with an
``AuditEntry`` whose subject is ``subject_hash(...)`` of the key, never the key itself.
"""

from govshare.audit.chain import AuditEntry
from govshare.audit.models import ActorKind, AuditOperation, Outcome
from govshare.audit.service import record, record_refusal, subject_hash, user_entry

__all__ = [
    "ActorKind",
    "AuditEntry",
    "AuditOperation",
    "Outcome",
    "record",
    "record_refusal",
    "subject_hash",
    "user_entry",
]
