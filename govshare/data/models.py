"""Shared data tables (共享数据): records of published resources, their history, batches and the change log.

Storage is shaped for city scale (18 million people, 4 million companies) on SQLite and PostgreSQL:

- ``data_record`` holds the **current** row of each record, unique on (resource, key): a lookup by key
  is one B-tree descent, O(log n), on both databases. Values are one JSON text column (items by name),
  serialised canonically so "unchanged" is a string comparison.
- ``data_record_history`` holds only **superseded** versions with the span they were valid, so a first
  load writes nothing there and "what did this record say on date D" is one indexed range read.
- ``data_change`` is the ordered change log (outbox), written in the same transaction as the change;
  its integer sequence is the cursor the subscription feed (a later issue) resumes from.
- A ``data_batch`` per load makes loads idempotent (unique batch key per resource) and carries the
  provenance of every record: providing department, batch and load time.

The three row-per-record tables (``data_record``, ``data_record_history``, ``data_change``) carry their
resource and batch ids **without foreign-key constraints**: on PostgreSQL each constraint is a trigger
fired per inserted row, and they halved the load's COPY throughput (measured in docs/benchmarks.md).
Their integrity holds by construction instead: only ``govshare.data.ingest.BatchWriter`` writes them,
with the id of a batch row flushed in the same transaction for a resource it has just read; resources
are retired, never deleted, and a batch that stored records is never deleted.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.auth.models import Department, User, _enum
from govshare.core.db import Base
from govshare.core.types import UTCDateTime, utcnow

# SQLite's INTEGER PRIMARY KEY is already 64-bit; BIGINT there would lose rowid aliasing.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# Record keys are identifiers (ID numbers, credit codes, house codes): byte order is the right order, and
# PostgreSQL's "C" collation compares them with memcmp instead of the locale's strcoll (index inserts
# measured 10% faster). SQLite's default BINARY collation already is byte order.
RecordKey = String(255).with_variant(String(255, collation="C"), "postgresql")


class LoadMode(enum.StrEnum):
    UPSERT = "upsert"  # 新增或更新
    REPLACE = "replace"  # 全量替换：文件即当前全集，缺席的记录删除
    DELETE = "delete"  # 按主键删除


class BatchStatus(enum.StrEnum):
    APPLIED = "applied"  # 已入库
    REJECTED = "rejected"  # 严格模式下有错误，未入库


class ChangeOp(enum.StrEnum):
    INSERT = "I"
    UPDATE = "U"
    DELETE = "D"


class Batch(Base):
    """一次数据加载. Its counts are the load report."""

    __tablename__ = "data_batch"
    __table_args__ = (UniqueConstraint("resource_id", "batch_key", name="uq_data_batch_resource_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id"), index=True)
    batch_key: Mapped[str] = mapped_column(String(100))
    mode: Mapped[LoadMode] = mapped_column(_enum(LoadMode, "load_mode"))
    strict: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus, "batch_status"))
    source_name: Mapped[str] = mapped_column(String(255), default="")
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_keys: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department: Mapped[Department] = relationship(lazy="joined")
    loaded_by: Mapped[User | None] = relationship(lazy="joined")


class Record(Base):
    """The current state of one record of a resource, keyed by its key item(s)."""

    __tablename__ = "data_record"
    __table_args__ = (UniqueConstraint("resource_id", "record_key", name="uq_data_record_resource_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resource_id: Mapped[int] = mapped_column(Integer)  # catalog_resource.id (see the module docstring)
    record_key: Mapped[str] = mapped_column(RecordKey)
    data: Mapped[str] = mapped_column(Text)  # canonical JSON: {item name: value}
    version: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int] = mapped_column(Integer)  # data_batch.id
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)


class RecordHistory(Base):
    """A superseded version of a record, valid from ``valid_from`` until ``valid_to``."""

    __tablename__ = "data_record_history"
    __table_args__ = (Index("ix_data_record_history_lookup", "resource_id", "record_key", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resource_id: Mapped[int] = mapped_column(Integer)  # catalog_resource.id (see the module docstring)
    record_key: Mapped[str] = mapped_column(RecordKey)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)
    batch_id: Mapped[int] = mapped_column(Integer)  # data_batch.id
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_by_batch_id: Mapped[int] = mapped_column(Integer)  # data_batch.id
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)  # ended by a deletion


class Change(Base):
    """变更日志: one insert, update or delete, in commit order; ``seq`` is the feed cursor."""

    __tablename__ = "data_change"
    __table_args__ = (Index("ix_data_change_resource_seq", "resource_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resource_id: Mapped[int] = mapped_column(Integer)  # catalog_resource.id (see the module docstring)
    record_key: Mapped[str] = mapped_column(RecordKey)
    op: Mapped[str] = mapped_column(String(1))
    version: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int] = mapped_column(Integer, index=True)  # data_batch.id
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Rejection(Base):
    """One rejected value of a batch: the row-level report a provider downloads to fix the file."""

    __tablename__ = "data_rejection"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("data_batch.id", ondelete="CASCADE"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    column: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)


class ItemQuality(Base):
    """Per-item data quality of one batch (完整性 / 有效性), for the provider and the authority."""

    __tablename__ = "data_item_quality"
    __table_args__ = (UniqueConstraint("batch_id", "item_name", name="uq_data_item_quality_batch_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("data_batch.id", ondelete="CASCADE"))
    item_name: Mapped[str] = mapped_column(String(50))
    total: Mapped[int] = mapped_column(Integer)
    non_empty: Mapped[int] = mapped_column(Integer)
    valid: Mapped[int] = mapped_column(Integer)


# Search terms compare byte by byte too, as record keys do (equality is all a search asks of them).
TermItem = String(50).with_variant(String(50, collation="C"), "postgresql")
TermValue = String(200).with_variant(String(200, collation="C"), "postgresql")


class SearchTerm(Base):
    """检索词: one value of a searchable item in one current record, what the exchange's search reads.

    The primary key is the search: equal (resource, item, value), then the records in key order, so a
    page of matches is one index range read. Written only by ``govshare.data.search_index`` in the
    load's own transaction, for every searchable item but a lone key item (``data_record``'s key index
    already serves that one). ``value`` holds the first 200 characters; longer values are compared in
    full against the record. No foreign keys, as on the other row-per-record tables; on SQLite a
    WITHOUT ROWID table, so a term is one B-tree entry, not a row and an index entry.
    """

    __tablename__ = "data_search_term"
    __table_args__ = {"sqlite_with_rowid": False}

    resource_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    item: Mapped[str] = mapped_column(TermItem, primary_key=True)
    value: Mapped[str] = mapped_column(TermValue, primary_key=True)
    record_key: Mapped[str] = mapped_column(RecordKey, primary_key=True)


class SearchIndexedItem(Base):
    """A searchable item whose terms are complete: built from every current record of its resource."""

    __tablename__ = "data_search_item"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    item: Mapped[str] = mapped_column(String(50), primary_key=True)
