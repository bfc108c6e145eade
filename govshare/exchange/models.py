"""Exchange tables (交换体系): applications (接入应用), their client secrets, credential events and the
platform's token signing keys."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.auth.models import Department, User, _enum
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
