"""Audit tables (调用日志): the hash-chained event log, its chain head, signed checkpoints, their keys
and the record of verification runs.

- ``audit_event``: one row per call or decision, append-only. ``(chain, seq)`` is gap-free per chain;
  ``hash`` = SHA-256 of the canonical form of the row, which includes ``prev_hash`` (see chain.py and
  docs/audit.md). The ids of applications, users and departments carry no foreign keys on purpose: the
  log must outlive what it names, and an insert checks nothing it does not need to.
- ``audit_chain_head``: the last seq and hash of each chain; every append updates it under a row lock,
  which is what serialises appends so the chain never forks.
- ``audit_checkpoint``: (seq, hash) signed with Ed25519 by a platform key, every N events or on demand.
- ``audit_signing_key``: the checkpoint keys, private half sealed as the exchange's token keys are;
  never deleted, so every checkpoint stays verifiable.
- ``audit_verification``: each verification run and what it found (the chain status page shows it).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govshare.auth.models import _enum
from govshare.catalog.models import SubjectKeyType
from govshare.core.db import Base
from govshare.core.types import UTCDateTime, utcnow
from govshare.data.models import BigId

MAIN_CHAIN = "main"
GENESIS_HASH = "0" * 64  # prev_hash of seq 1


class ActorKind(enum.StrEnum):
    APPLICATION = "application"  # 接入应用（系统调用）
    USER = "user"  # 平台用户（页面或命令行）
    SYSTEM = "system"  # 平台自身（定时任务、检查点）


class Outcome(enum.StrEnum):
    ALLOWED = "allowed"  # 已放行
    REFUSED = "refused"  # 已拒绝（附拒绝代码）


class AuditOperation(enum.StrEnum):
    """What was done. Stored as a plain string: a new operation needs no migration, only a member here."""

    LOOKUP = "lookup"  # 按键查询
    SEARCH = "search"  # 条件检索
    VERIFY = "verify"  # 核验
    PROFILE = "profile"  # 主体画像
    BULK_EXPORT = "bulk_export"  # 批量导出（库表）
    SUBSCRIBE = "subscribe"  # 订阅变更
    TOKEN = "token"  # 换取访问令牌
    GRANT_DECISION = "grant_decision"  # 共享申请的审核决定
    GRANT_CHANGE = "grant_change"  # 授权暂停、恢复、撤销、续期
    CITIZEN_LOG = "citizen_log"  # 查看本人数据使用记录
    SUBJECT_LINK = "subject_link"  # 开具本人数据使用记录链接
    AUDIT_EXPORT = "audit_export"  # 导出调用日志
    CHECKPOINT = "checkpoint"  # 签署检查点


class AuditEvent(Base):
    """调用日志条目: who did what, about whom, for which case, and whether it was allowed."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_subject", "subject_key_type", "subject_key_hash"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
        Index("ix_audit_event_department", "department_id", "seq"),
        Index("ix_audit_event_application", "application_id", "seq"),
        Index("ix_audit_event_case", "case_id"),
    )

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_kind: Mapped[ActorKind] = mapped_column(_enum(ActorKind, "audit_actor_kind"))
    application_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    department_id: Mapped[int | None] = mapped_column(Integer)
    operator: Mapped[str | None] = mapped_column(String(100))  # X-Operator: the person at the keyboard
    case_id: Mapped[str | None] = mapped_column(String(64))  # X-Case-Id: 办件编号
    service_item: Mapped[str | None] = mapped_column(String(64))  # X-Service-Item: 政务服务事项编码
    purpose: Mapped[str | None] = mapped_column(String(200))
    operation: Mapped[str] = mapped_column(String(32))
    resource_code: Mapped[str | None] = mapped_column(String(64))
    subject_key_type: Mapped[SubjectKeyType | None] = mapped_column(
        _enum(SubjectKeyType, "audit_subject_key_type")
    )
    subject_key_hash: Mapped[str | None] = mapped_column(String(64))  # HMAC-SHA256(secret, key), hex
    items: Mapped[list[str]] = mapped_column(JSON)  # names of the items returned, never values
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome, "audit_outcome"))
    refusal_code: Mapped[str | None] = mapped_column(String(64))
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The end of a chain: locked by every append, so two appends never take the same seq."""

    __tablename__ = "audit_chain_head"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditSigningKey(Base):
    """A checkpoint signing key (Ed25519); the private half sealed under GOVSHARE_SECRET_KEY."""

    __tablename__ = "audit_signing_key"

    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))  # raw 32 bytes, base64url
    private_key_encrypted: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditCheckpoint(Base):
    """检查点: the platform's signature over (chain, seq, hash, signed_at, kid)."""

    __tablename__ = "audit_checkpoint"
    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_audit_checkpoint_chain_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kid: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(100))  # 64 bytes, base64url


class AuditVerification(Base):
    """One run of the verification and its result (chain status page: 已核验至)."""

    __tablename__ = "audit_verification"

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_seq: Mapped[int] = mapped_column(BigInteger)
    verified_to_seq: Mapped[int] = mapped_column(BigInteger)
    events_checked: Mapped[int] = mapped_column(BigInteger)
    checkpoints_checked: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    problems: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text, default="")
