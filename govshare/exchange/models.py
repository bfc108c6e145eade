"""Exchange tables (交换体系): applications (接入应用), their client secrets, credential events and the
platform's token signing keys; access requests (共享申请) with their decision history, grants (授权)
and data demands (需求清单)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.auth.models import Department, User, _enum
from govshare.catalog.models import Resource
from govshare.core.db import Base
from govshare.core.types import UTCDateTime, utcnow


class Channel(enum.StrEnum):
    """Where a consuming system serves citizens and companies (应用渠道)."""

    HALL = "hall"  # 窗口大厅（综合受理系统）
    WEB = "web"  # 网上办事大厅
    APP = "app"  # 移动App
    WECHAT = "wechat"  # 微信小程序
    INTERNAL = "internal"  # 内部业务系统


CHANNEL_LABELS = {
    Channel.HALL: "窗口大厅",
    Channel.WEB: "网上办事大厅",
    Channel.APP: "移动App",
    Channel.WECHAT: "微信小程序",
    Channel.INTERNAL: "内部业务系统",
}


class ApplicationStatus(enum.StrEnum):
    ACTIVE = "active"  # 启用
    DISABLED = "disabled"  # 已停用：不能再换取令牌，已签发的令牌立即失效


class CredentialEventKind(enum.StrEnum):
    REGISTERED = "registered"  # 登记应用并签发首个密钥
    SECRET_ROTATED = "secret_rotated"  # 更换密钥
    REVOKED = "revoked"  # 吊销全部密钥，已签发的令牌立即失效
    DISABLED = "disabled"  # 停用应用


class Application(Base):
    """接入应用: a department's consuming system, identified to the exchange by its public client id."""

    __tablename__ = "exchange_application"
    __table_args__ = (
        UniqueConstraint("department_id", "name", name="uq_exchange_application_department_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "application_channel"))
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text, default="")
    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[ApplicationStatus] = mapped_column(
        _enum(ApplicationStatus, "application_status"), default=ApplicationStatus.ACTIVE
    )
    # Carried in every access token; revoking credentials bumps it, which kills live tokens at once
    # without a token blacklist and without relying on clocks agreeing to the second.
    token_generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department: Mapped[Department] = relationship(lazy="joined")


class ClientSecret(Base):
    """One client secret; only its SHA-256 digest is stored (the secret is shown once)."""

    __tablename__ = "exchange_client_secret"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("exchange_application.id", ondelete="CASCADE"), index=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when a newer secret replaces this one: it keeps working until then (the rotation grace).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CredentialEvent(Base):
    """Who did what to an application's credentials, and when (凭据操作记录)."""

    __tablename__ = "exchange_credential_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("exchange_application.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[CredentialEventKind] = mapped_column(_enum(CredentialEventKind, "credential_event_kind"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User] = relationship(lazy="joined")


class SigningKey(Base):
    """An Ed25519 key that signs access tokens; the private half is stored encrypted (AES-GCM)."""

    __tablename__ = "exchange_signing_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(32), unique=True)
    public_key: Mapped[str] = mapped_column(String(64))  # raw 32 bytes, base64url (the JWK "x")
    private_key_encrypted: Mapped[str] = mapped_column(String(200))  # base64url(nonce ‖ ciphertext)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


# --- Access requests (共享申请), grants (授权) and data demands (需求清单) ---------------------------


class Operation(enum.StrEnum):
    """What an application may do with a granted resource (调用方式)."""

    LOOKUP = "lookup"  # 按主键查询
    SEARCH = "search"  # 按可检索信息项检索
    VERIFY = "verify"  # 核验（只答是否一致，不返回数据）
    PROFILE = "profile"  # 主体画像
    BULK_EXPORT = "bulk_export"  # 批量导出（库表交换）
    SUBSCRIBE = "subscribe"  # 订阅变更


OPERATION_LABELS = {
    Operation.LOOKUP: "查询",
    Operation.SEARCH: "检索",
    Operation.VERIFY: "核验",
    Operation.PROFILE: "主体画像",
    Operation.BULK_EXPORT: "批量导出",
    Operation.SUBSCRIBE: "订阅",
}


class RequestStatus(enum.StrEnum):
    PENDING = "pending"  # 审核中（见 stage）
    ESCALATED = "escalated"  # 已提请数据管理部门协调，待终局决定
    APPROVED = "approved"  # 已同意，已授权
    REJECTED = "rejected"  # 不予同意


class DecisionKind(enum.StrEnum):
    SUBMITTED = "submitted"  # 提交申请
    AUTO_GRANTED = "auto_granted"  # 无条件共享，自动授权
    PASSED = "passed"  # 本环节通过，转下一环节（如符合性审查通过）
    APPROVED = "approved"  # 同意（可缩减信息项、调用方式，附条件）
    REJECTED = "rejected"  # 不予同意（须说明理由）
    ESCALATED = "escalated"  # 提请协调
    FINAL_APPROVED = "final_approved"  # 数据管理部门终局决定：同意
    FINAL_REJECTED = "final_rejected"  # 数据管理部门终局决定：不予同意


class GrantStatus(enum.StrEnum):
    ACTIVE = "active"  # 有效
    SUSPENDED = "suspended"  # 暂停（可恢复）
    REVOKED = "revoked"  # 撤销（终止）
    EXPIRED = "expired"  # 已到期


class GrantEventKind(enum.StrEnum):
    GRANTED = "granted"
    SUSPENDED = "suspended"
    RESUMED = "resumed"
    REVOKED = "revoked"
    RENEWED = "renewed"
    EXPIRED = "expired"


class DemandStatus(enum.StrEnum):
    OPEN = "open"  # 待分派
    ASSIGNED = "assigned"  # 已分派，待责任部门答复
    FULFILLED = "fulfilled"  # 已登记发布资源
    DECLINED = "declined"  # 说明无法提供


class AccessRequest(Base):
    """共享申请: an application asks for items of a resource, for a purpose, through review stages."""

    __tablename__ = "exchange_access_request"
    __table_args__ = (
        Index("ix_exchange_access_request_provider", "provider_department_id", "status", "due_at"),
        Index("ix_exchange_access_request_requester", "department_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("exchange_application.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))  # the requesting department
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id"), index=True)
    provider_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    items: Mapped[list[str]] = mapped_column(JSON)
    unmasked_items: Mapped[list[str]] = mapped_column(JSON, default=list)  # asked to be unmasked
    operations: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    service_items: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    status: Mapped[RequestStatus] = mapped_column(_enum(RequestStatus, "access_request_status"))
    # The review pipeline (settings: exchange_request_stages) as it was when submitted:
    # [{"name", "actor", "days"}, …]; ``stage_index`` points at the current one while pending.
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    stage_index: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    grant_id: Mapped[int | None] = mapped_column(Integer)  # exchange_grant.id once granted

    application: Mapped[Application] = relationship(lazy="joined")
    resource: Mapped[Resource] = relationship(lazy="joined")
    department: Mapped[Department] = relationship(foreign_keys=[department_id], lazy="joined")
    provider_department: Mapped[Department] = relationship(
        foreign_keys=[provider_department_id], lazy="joined"
    )
    decisions: Mapped[list[RequestDecision]] = relationship(
        order_by="RequestDecision.id", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def stage(self) -> dict[str, Any] | None:
        """The review stage the request waits in (pending), or None."""
        if self.status != RequestStatus.PENDING or self.stage_index >= len(self.stages):
            return None
        return self.stages[self.stage_index]

    def is_overdue(self, now: datetime) -> bool:
        """Pending past the end of its stage's last working day (逾期未答复)."""
        return self.status == RequestStatus.PENDING and self.due_at is not None and now > self.due_at


class RequestDecision(Base):
    """One step of a request's history: who decided what at which stage, when and why."""

    __tablename__ = "exchange_request_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("exchange_access_request.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(32))  # compliance / provider / escalation / submission
    decision: Mapped[DecisionKind] = mapped_column(_enum(DecisionKind, "request_decision_kind"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    actor_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # narrowed terms, due dates

    actor: Mapped[User] = relationship(lazy="joined")
    actor_department: Mapped[Department] = relationship(lazy="joined")


class Grant(Base):
    """授权: application × resource × items × operations × purpose × service items × validity × rate.

    At most one grant per (application, resource) is active or suspended at a time (a newer grant
    revokes the older), so `govshare.exchange.grants.check_grant` reads the newest row by one index.
    """

    __tablename__ = "exchange_grant"
    __table_args__ = (Index("ix_exchange_grant_lookup", "application_id", "resource_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("exchange_application.id"))
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)  # consumer
    provider_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_access_request.id"))
    items: Mapped[list[str]] = mapped_column(JSON)
    unmasked_items: Mapped[list[str]] = mapped_column(JSON, default=list)  # approved unmasked
    operations: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    service_items: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: not bound
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)  # last day of validity (China date)
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    conditions: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[GrantStatus] = mapped_column(_enum(GrantStatus, "grant_status"))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))

    application: Mapped[Application] = relationship(lazy="joined")
    resource: Mapped[Resource] = relationship(lazy="joined")
    provider_department: Mapped[Department] = relationship(
        foreign_keys=[provider_department_id], lazy="joined"
    )
    events: Mapped[list[GrantEvent]] = relationship(order_by="GrantEvent.id", lazy="selectin")


class GrantEvent(Base):
    """授权变更记录: granted, suspended, resumed, revoked, renewed, expired — who, when, why."""

    __tablename__ = "exchange_grant_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("exchange_grant.id", ondelete="CASCADE"), index=True)
    kind: Mapped[GrantEventKind] = mapped_column(_enum(GrantEventKind, "grant_event_kind"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))  # None: the platform
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(lazy="joined")


class DataDemand(Base):
    """需求清单: data a department needs that nobody registered; the authority assigns it."""

    __tablename__ = "exchange_data_demand"
    __table_args__ = (Index("ix_exchange_data_demand_assignee", "assigned_department_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))  # what data
    reason: Mapped[str] = mapped_column(Text)  # why it is needed
    service_items: Mapped[list[str]] = mapped_column(JSON, default=list)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)  # who needs it
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[DemandStatus] = mapped_column(_enum(DemandStatus, "data_demand_status"), index=True)
    assigned_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_resource.id"))  # the answer
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department: Mapped[Department] = relationship(foreign_keys=[department_id], lazy="joined")
    assigned_department: Mapped[Department | None] = relationship(
        foreign_keys=[assigned_department_id], lazy="joined"
    )
    resource: Mapped[Resource | None] = relationship(lazy="joined")

    def is_overdue(self, now: datetime) -> bool:
        """Assigned and unanswered past the end of its last working day."""
        return self.status == DemandStatus.ASSIGNED and self.due_at is not None and now > self.due_at


class Generation(Base):
    """The stamp the data API's caches are valid for (one row, id 1): triggers set a new random value
    whenever an application, signing key, grant, resource, item or department changes (migration 0008)."""

    __tablename__ = "exchange_generation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    stamp: Mapped[int] = mapped_column(BigInteger)
