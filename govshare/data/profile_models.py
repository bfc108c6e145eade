"""Tables for subject profiles and data error reports (主体画像 / 数据纠错).

- ``data_item_equivalence``: the authority declares that items of different resources hold the same
  kind of attribute (a concept such as 户籍地址), so a profile groups them and compares their values.
- ``data_quality_conflict``: equivalent items disagreeing about one subject, one row per
  (subject, concept), upserted on every profile view; ``data_quality_conflict_party`` lists the
  resources involved so each provider finds the conflicts it is part of with an indexed join.
- ``data_read_log``: who read which subject's profile; minimal and append-only until the audit
  capability replaces it. The subject key is stored only as an HMAC, never in clear.
- ``data_error_report``: a consumer's report that a record is wrong, with its working-day deadline.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.auth.models import Department, User, _enum
from govshare.catalog.models import Resource, SubjectKeyType
from govshare.core.db import Base
from govshare.core.types import UTCDateTime, utcnow
from govshare.data.models import BigId


class ConflictStatus(enum.StrEnum):
    OPEN = "open"  # 待处理：等价信息项取值不一致
    RESOLVED = "resolved"  # 已消除：最近一次查看时取值已一致


class ReportStatus(enum.StrEnum):
    OPEN = "open"  # 待核实
    CONFIRMED = "confirmed"  # 已确认有误（已更正或将更正）
    REJECTED = "rejected"  # 不予采纳（须说明理由）


class ItemEquivalence(Base):
    """等价信息项: one concept (e.g. 户籍地址) and the (resource, item) pairs that hold it."""

    __tablename__ = "data_item_equivalence"

    id: Mapped[int] = mapped_column(primary_key=True)
    concept: Mapped[str] = mapped_column(String(50), unique=True)
    members: Mapped[list[list[Any]]] = mapped_column(JSON)  # [[resource_id, item_name], …]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QualityConflict(Base):
    """数据质量冲突: equivalent items give different values for one subject."""

    __tablename__ = "data_quality_conflict"
    __table_args__ = (
        UniqueConstraint(
            "subject_key_type", "subject_key", "concept", name="uq_data_quality_conflict_subject_concept"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_key_type: Mapped[SubjectKeyType] = mapped_column(_enum(SubjectKeyType, "subject_key_type"))
    subject_key: Mapped[str] = mapped_column(String(255))
    concept: Mapped[str] = mapped_column(String(50))
    # [{"resource_code", "resource_name", "item", "value"}, …] as last seen
    differing_values: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[ConflictStatus] = mapped_column(_enum(ConflictStatus, "conflict_status"), index=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)


class QualityConflictParty(Base):
    """A resource involved in a conflict; its provider sees the conflict."""

    __tablename__ = "data_quality_conflict_party"
    __table_args__ = (Index("ix_data_quality_conflict_party_resource", "resource_id"),)

    conflict_id: Mapped[int] = mapped_column(
        ForeignKey("data_quality_conflict.id", ondelete="CASCADE"), primary_key=True
    )
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id"), primary_key=True)


class ReadLog(Base):
    """数据查阅记录 (interim): one profile read. Append-only; the audit capability will replace it."""

    __tablename__ = "data_read_log"
    __table_args__ = (Index("ix_data_read_log_subject", "subject_key_type", "subject_key_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    subject_key_type: Mapped[SubjectKeyType] = mapped_column(_enum(SubjectKeyType, "subject_key_type"))
    subject_key_hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256(secret_key, key), hex
    resources: Mapped[list[str]] = mapped_column(JSON)  # codes of the resources whose fields were returned


class ErrorReport(Base):
    """数据纠错: a consuming department says one value of a record is wrong; the provider answers."""

    __tablename__ = "data_error_report"
    __table_args__ = (
        Index("ix_data_error_report_provider_status", "provider_department_id", "status", "due_at"),
        Index("ix_data_error_report_reporter", "reporter_department_id", "filed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id"))
    record_key: Mapped[str] = mapped_column(String(255))
    item_name: Mapped[str] = mapped_column(String(50))
    current_value: Mapped[str | None] = mapped_column(Text)  # what the record said when reported
    proposed_value: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    reporter_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    reporter_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    provider_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus, "error_report_status"))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_reason: Mapped[str] = mapped_column(Text, default="")
    corrected_value: Mapped[str | None] = mapped_column(Text)

    resource: Mapped[Resource] = relationship(lazy="joined")
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="joined")
    reporter_department: Mapped[Department] = relationship(
        foreign_keys=[reporter_department_id], lazy="joined"
    )
    provider_department: Mapped[Department] = relationship(
        foreign_keys=[provider_department_id], lazy="joined"
    )

    def is_overdue(self, now: datetime) -> bool:
        """Open and past the end of its last working day (逾期未答复)."""
        return self.status == ReportStatus.OPEN and now > self.due_at
