"""JSON shapes of the audit API (Pydantic): events, pages, verification reports, chain status and the
citizen's access log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from govshare.audit import chain as canon
from govshare.audit import verify
from govshare.audit.models import AuditCheckpoint
from govshare.audit.queries import CitizenLog, EventRow
from govshare.audit.status import ChainStatus


class EventPublic(BaseModel):
    """One audit event with every hashed field, its hash, and the names of its department and app."""

    chain: str
    seq: int
    occurred_at: str = Field(description="UTC, as hashed: 2026-12-04T18:36:00.123456Z")
    actor_kind: str
    application_id: int | None
    application_name: str | None
    user_id: int | None
    department_id: int | None
    department_name: str | None
    operator: str | None
    case_id: str | None
    service_item: str | None
    purpose: str | None
    operation: str
    resource_code: str | None
    subject_key_type: str | None
    subject_key_hash: str | None = Field(description="HMAC-SHA256 of the subject's key; never the key")
    items: list[str]
    outcome: str
    refusal_code: str | None
    latency_ms: int | None
    request_id: str | None
    client_address: str | None
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, row: EventRow) -> EventPublic:
        return cls(**row.to_dict())


class EventPage(BaseModel):
    events: list[EventPublic]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null at the end")


class ProblemPublic(BaseModel):
    seq: int
    kind: str = Field(
        description="deleted / modified / replaced / inserted / checkpoint_mismatch / bad_signature"
    )
    detail: str


class VerifyReport(BaseModel):
    chain: str
    ok: bool
    from_seq: int
    head_seq: int
    verified_to_seq: int
    events_checked: int
    checkpoints_checked: int
    first_problem: ProblemPublic | None
    problems: list[ProblemPublic]

    @classmethod
    def of(cls, report: verify.Report) -> VerifyReport:
        return cls.model_validate(report.to_dict())


class CheckpointPublic(BaseModel):
    chain: str
    seq: int
    hash: str
    signed_at: str = Field(description="UTC, as signed: 2026-12-04T18:36:00.123456Z")
    kid: str
    signature: str = Field(description="Ed25519 over `message`, base64url without padding")
    message: str = Field(
        description="The exact signed text: canonical JSON of v, type, chain, seq, hash, signed_at, kid"
    )

    @classmethod
    def of(cls, cp: AuditCheckpoint) -> CheckpointPublic:
        message = canon.checkpoint_message(cp.chain, cp.seq, cp.hash, cp.signed_at, cp.kid).decode()
        return cls(chain=cp.chain, seq=cp.seq, hash=cp.hash, signed_at=canon.timestamp(cp.signed_at), kid=cp.kid,
                   signature=cp.signature, message=message)  # fmt: skip


class VerificationPublic(BaseModel):
    started_at: datetime
    from_seq: int
    verified_to_seq: int
    ok: bool
    summary: str


class ChainStatusPublic(BaseModel):
    chain: str
    head_seq: int
    head_hash: str
    checkpoint_count: int
    last_checkpoint: CheckpointPublic | None
    last_verification: VerificationPublic | None

    @classmethod
    def of(cls, status: ChainStatus) -> ChainStatusPublic:
        run = status.last_verification
        return cls(
            chain=status.chain, head_seq=status.head_seq, head_hash=status.head_hash,
            checkpoint_count=status.checkpoint_count,
            last_checkpoint=CheckpointPublic.of(status.last_checkpoint) if status.last_checkpoint else None,
            last_verification=VerificationPublic(
                started_at=run.started_at, from_seq=run.from_seq, verified_to_seq=run.verified_to_seq,
                ok=run.ok, summary=run.summary,
            ) if run else None,
        )  # fmt: skip


class SubjectIn(BaseModel):
    """The subject, sent in the body so the ID number never lands in a URL or an access log."""

    subject_key_type: str = Field(
        "person_id", description="person_id 公民身份号码 / credit_code 统一社会信用代码"
    )
    subject_key: str = Field(min_length=1, max_length=64)
    identity_checked: bool = Field(
        description="The clerk has checked the citizen's identity card (必须为 true)"
    )


class CitizenLogIn(SubjectIn):
    case_id: str | None = Field(None, max_length=64, description="办件编号, when the look-up serves a case")


class SubjectLinkIn(SubjectIn):
    days: int = Field(7, ge=1, le=30, description="How many days the link opens the access log")


class SubjectLinkPublic(BaseModel):
    url: str = Field(description="Opens the subject's access log without an account until expires_at")
    expires_at: datetime
    masked_key: str


class CitizenRead(BaseModel):
    """One read of the subject's data as the citizen sees it (no staff names, no hashes)."""

    occurred_at: datetime
    department_name: str | None
    application_name: str | None
    operation: str
    resource_code: str | None
    case_id: str | None
    service_item: str | None
    purpose: str | None
    items: list[str]


class CitizenLogPublic(BaseModel):
    subject_key_type: str
    masked_key: str
    reads: list[CitizenRead]

    @classmethod
    def of(cls, log: CitizenLog) -> CitizenLogPublic:
        def read(row: EventRow) -> CitizenRead:
            e: Any = row.event
            return CitizenRead(
                occurred_at=e.occurred_at, department_name=row.department_name,
                application_name=row.application_name, operation=e.operation, resource_code=e.resource_code,
                case_id=e.case_id, service_item=e.service_item, purpose=e.purpose, items=list(e.items),
            )  # fmt: skip

        return cls(
            subject_key_type=log.subject_key_type,
            masked_key=log.masked_key,
            reads=[read(r) for r in log.reads],
        )
