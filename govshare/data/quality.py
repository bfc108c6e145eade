"""Freshness and data quality of a resource (数据质量): what the provider fixes and the authority scores.

Quality figures are computed at every load (``data_item_quality`` per item, the counts on
``data_batch``); this module only reads and combines them. No HTTP here: pages and APIs call it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.catalog.models import Resource
from govshare.core.types import utcnow
from govshare.data.models import Batch, BatchStatus, ItemQuality, Record

# The oldest a resource's data may be, per declared update cycle (更新周期), before it counts as stale.
# Each allowance is the cycle plus a grace period for the provider's load to run: a daily export
# loaded at 02:00 is still on time the next evening; a month may have 31 days, a quarter 92, a year
# 366. Irregular (不定期) resources are never stale: no date can be owed.
ALLOWED_AGE: dict[str, timedelta | None] = {
    "realtime": timedelta(days=1),  # 实时
    "daily": timedelta(days=2),  # 每日
    "weekly": timedelta(days=8),  # 每周
    "monthly": timedelta(days=32),  # 每月
    "quarterly": timedelta(days=95),  # 每季度
    "semiannual": timedelta(days=185),  # 每半年
    "yearly": timedelta(days=370),  # 每年
    "irregular": None,  # 不定期
}
TREND_LOADS = 10


class FreshnessStatus(enum.StrEnum):
    ON_TIME = "on_time"  # 按时
    STALE = "stale"  # 已过期
    NEVER_LOADED = "never_loaded"  # 未加载


@dataclass(frozen=True)
class Freshness:
    """Whether the data is as recent as the update cycle promises; ``due_by`` is None if nothing is owed."""

    status: FreshnessStatus
    due_by: datetime | None = None
    overdue_by: timedelta = timedelta(0)


def freshness(update_cycle: str, last_loaded_at: datetime | None, now: datetime) -> Freshness:
    """On time while ``now`` is at most the cycle's allowed age after the last successful load."""
    if last_loaded_at is None:
        return Freshness(FreshnessStatus.NEVER_LOADED)
    allowed = ALLOWED_AGE.get(update_cycle)
    if allowed is None:
        return Freshness(FreshnessStatus.ON_TIME)
    due_by = last_loaded_at + allowed
    if now <= due_by:
        return Freshness(FreshnessStatus.ON_TIME, due_by)
    return Freshness(FreshnessStatus.STALE, due_by, now - due_by)


def ratio(part: int, whole: int) -> float | None:
    """A share in [0, 1]; None when there is nothing to measure (no rows)."""
    return part / whole if whole else None


@dataclass(frozen=True)
class ItemFigures:
    item_name: str
    total: int
    completeness: float | None  # 完整性: share of non-empty values
    validity: float | None  # 有效性: share of non-empty values passing validation


@dataclass(frozen=True)
class BatchFigures:
    """The quality of one applied load."""

    batch: Batch
    key_uniqueness: float | None  # 主键唯一性: 1 - duplicate keys / rows read
    completeness: float | None  # over every item of the batch
    validity: float | None
    items: list[ItemFigures] = field(default_factory=list)


@dataclass(frozen=True)
class DataSummary:
    record_count: int
    last_batch: Batch | None
    freshness: Freshness
    latest: BatchFigures | None
    trend: list[BatchFigures]  # oldest first, at most TREND_LOADS


def batch_figures(batch: Batch, rows: list[ItemQuality]) -> BatchFigures:
    items = [
        ItemFigures(q.item_name, q.total, ratio(q.non_empty, q.total), ratio(q.valid, q.non_empty))
        for q in rows
    ]
    total = sum(q.total for q in rows)
    non_empty = sum(q.non_empty for q in rows)
    return BatchFigures(
        batch=batch,
        key_uniqueness=None if not batch.rows_read else 1 - batch.duplicate_keys / batch.rows_read,
        completeness=ratio(non_empty, total),
        validity=ratio(sum(q.valid for q in rows), non_empty),
        items=items,
    )


def resource_data_summary(session: Session, resource: Resource, now: datetime | None = None) -> DataSummary:
    """Record count, last applied load, freshness, per-item quality of that load, and the trend."""
    count = session.scalar(select(func.count()).select_from(Record).where(Record.resource_id == resource.id))
    batches = list(
        session.scalars(
            select(Batch)
            .where(Batch.resource_id == resource.id, Batch.status == BatchStatus.APPLIED)
            .order_by(Batch.id.desc())
            .limit(TREND_LOADS)
        )
    )
    by_batch: dict[int, list[ItemQuality]] = {b.id: [] for b in batches}
    if batches:
        for q in session.scalars(
            select(ItemQuality).where(ItemQuality.batch_id.in_(by_batch)).order_by(ItemQuality.id)
        ):
            by_batch[q.batch_id].append(q)
    trend = [batch_figures(b, by_batch[b.id]) for b in reversed(batches)]
    last = batches[0] if batches else None
    loaded_at = (last.finished_at or last.started_at) if last else None
    return DataSummary(
        record_count=count or 0,
        last_batch=last,
        freshness=freshness(resource.update_cycle, loaded_at, now or utcnow()),
        latest=trend[-1] if trend else None,
        trend=trend,
    )
