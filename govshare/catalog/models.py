"""Catalog tables (目录体系): resources, items, versions, the negative list and the search index."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.auth.models import Department, User, _enum
from govshare.core.db import Base
from govshare.core.types import UTCDateTime, utcnow


class SharingType(enum.StrEnum):
    UNCONDITIONAL = "unconditional"  # 无条件共享 (01)
    CONDITIONAL = "conditional"  # 有条件共享 (02)
    NONE = "none"  # 不予共享 (03): must cite a legal basis, reviewed on the negative list


class ResourceStatus(enum.StrEnum):
    DRAFT = "draft"  # 草稿
    SUBMITTED = "submitted"  # 已提交，待审核发布
    PUBLISHED = "published"  # 已发布
    RETIRED = "retired"  # 已撤销


class SubjectKeyType(enum.StrEnum):
    """What a record is about; later issues merge base libraries on it."""

    PERSON_ID = "person_id"  # 公民身份号码
    CREDIT_CODE = "credit_code"  # 统一社会信用代码
    HOUSE_CODE = "house_code"  # 房屋编码
    CERTIFICATE_ID = "certificate_id"  # 电子证照标识
    NONE = "none"


class ReviewStatus(enum.StrEnum):
    PENDING = "pending"  # 待审核
    ACCEPTED = "accepted"  # 审核通过：列入负面清单，不予共享
    REJECTED = "rejected"  # 驳回：须重新申报为可共享
    SUPERSEDED = "superseded"  # 申报已变更，本条作废


class Resource(Base):
    """信息资源: one catalog entry, with the national core metadata (GB/T 21063.3)."""

    __tablename__ = "catalog_resource"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    classification_code: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(50))
    summary: Mapped[str] = mapped_column(String(256))
    provider_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    format: Mapped[str] = mapped_column(String(32))
    sharing_type: Mapped[SharingType] = mapped_column(_enum(SharingType, "sharing_type"), index=True)
    sharing_condition: Mapped[str] = mapped_column(Text, default="")
    sharing_methods: Mapped[list[str]] = mapped_column(JSON, default=list)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    open_to_public: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    open_condition: Mapped[str] = mapped_column(Text, default="")
    update_cycle: Mapped[str] = mapped_column(String(16), index=True)
    publish_date: Mapped[date | None] = mapped_column(Date)
    related_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject_key_type: Mapped[SubjectKeyType] = mapped_column(_enum(SubjectKeyType, "subject_key_type"))
    status: Mapped[ResourceStatus] = mapped_column(_enum(ResourceStatus, "resource_status"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    contact_email: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    provider: Mapped[Department] = relationship(lazy="joined")
    items: Mapped[list[Item]] = relationship(
        back_populates="resource", order_by="Item.position", cascade="all, delete-orphan", lazy="selectin"
    )


class Item(Base):
    """信息项: one field of a resource."""

    __tablename__ = "catalog_item"
    __table_args__ = (UniqueConstraint("resource_id", "name", name="uq_catalog_item_resource_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(50))
    data_type: Mapped[str] = mapped_column(String(1))
    length: Mapped[int | None] = mapped_column(Integer)
    is_key: Mapped[bool] = mapped_column(Boolean, default=False)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    sensitivity: Mapped[int] = mapped_column(Integer, default=1)
    masking_rule: Mapped[str] = mapped_column(String(16), default="none")
    searchable: Mapped[bool] = mapped_column(Boolean, default=False)
    shareable: Mapped[bool] = mapped_column(Boolean, default=True)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    is_basic: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(String(256), default="")

    resource: Mapped[Resource] = relationship(back_populates="items")


class ResourceVersion(Base):
    """One saved state of a resource: every change appends one; snapshots are compared for diffs."""

    __tablename__ = "catalog_resource_version"
    __table_args__ = (UniqueConstraint("resource_id", "version", name="uq_catalog_resource_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")


class NegativeListEntry(Base):
    """负面清单: a `none` resource or a non-shareable item, with its legal basis and the review."""

    __tablename__ = "catalog_negative_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="CASCADE"), index=True
    )
    item_name: Mapped[str | None] = mapped_column(String(50))  # None: the whole resource
    legal_basis: Mapped[str] = mapped_column(Text)
    basic_item: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ReviewStatus] = mapped_column(_enum(ReviewStatus, "review_status"), index=True)
    resource_version: Mapped[int] = mapped_column(Integer)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")

    resource: Mapped[Resource] = relationship(lazy="joined")


class CodeSequence(Base):
    """Last sequence number handed out per classification; codes are never reused."""

    __tablename__ = "catalog_code_sequence"

    prefix: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class SearchTerm(Base):
    """Inverted index for Chinese full-text search: one row per (term, resource), weight = relevance.

    Terms are CJK bigrams and lower-cased Latin words (see catalog/search.py); one portable table
    gives the same ranking on SQLite and PostgreSQL.
    """

    __tablename__ = "catalog_search_term"
    # A search reads every (resource, weight) of a term: keep them together in the key's B-tree
    # (SQLite WITHOUT ROWID; PostgreSQL INCLUDE, for index-only scans) rather than one heap or
    # rowid lookup per posting. Measured in docs/benchmarks.md.
    __table_args__ = (
        PrimaryKeyConstraint(
            "term", "resource_id", name="pk_catalog_search_term", postgresql_include=["weight"]
        ),
        Index("ix_catalog_search_term_resource", "resource_id"),
        {"sqlite_with_rowid": False},
    )

    term: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id", ondelete="CASCADE"))
    weight: Mapped[int] = mapped_column(Integer)
