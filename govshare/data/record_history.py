"""A record's history (记录版本历史): every version with who loaded it, and the error reports about it.

The current version lives in ``data_record`` and the superseded ones in ``data_record_history``; a
page wants them as one list, newest first, with the items that changed from the version before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.auth.models import Role, User
from govshare.catalog.models import Resource
from govshare.core.errors import PermissionDenied, ValidationFailed
from govshare.core.workdays import CHINA_TZ
from govshare.data import service
from govshare.data.error_reports import get_report
from govshare.data.models import Batch, Record, RecordHistory
from govshare.data.normalize import compile_row_normaliser
from govshare.data.profile_models import ErrorReport


@dataclass
class Version:
    """One version of a record; ``valid_to`` is None for the current one."""

    version: int
    data: dict[str, Any]
    batch: Batch
    valid_from: datetime
    valid_to: datetime | None = None
    deleted: bool = False  # this version was ended by a deletion
    ended_by_batch_id: int | None = None
    changed: set[str] = field(default_factory=set)  # items that differ from the version before

    @property
    def current(self) -> bool:
        return self.valid_to is None


def key_items(resource: Resource) -> list[str]:
    return [i.name for i in resource.items if i.is_key]


def lookup_key(resource: Resource, typed: dict[str, str]) -> str:
    """The stored key for what a user typed per key item, normalised as a load normalises it.

    Raises ``invalid_key`` with ``details`` {item: message} when a part is empty or invalid.
    """
    keys = [i for i in resource.items if i.is_key]
    normalise = compile_row_normaliser(keys, str(resource.subject_key_type))
    values, problems = normalise({i.name: (typed.get(i.name) or "").strip() or None for i in keys})
    if problems:
        details = {column: message for column, _code, message in problems}
        raise ValidationFailed("invalid_key", "；".join(details.values()), details)
    return service.key_of(resource, {name: str(value) for name, value in values.items()})


def versions(session: Session, resource: Resource, key: str) -> list[Version]:
    """Every version of the record, newest first; ``record_not_found`` if it never existed."""
    where = (RecordHistory.resource_id == resource.id, RecordHistory.record_key == key)
    old = session.scalars(select(RecordHistory).where(*where).order_by(RecordHistory.valid_from))
    rows: list[tuple[int, str, int, datetime, datetime | None, bool, int | None]] = [
        (h.version, h.data, h.batch_id, h.valid_from, h.valid_to, h.deleted, h.ended_by_batch_id) for h in old
    ]
    current = session.scalar(
        select(Record).where(Record.resource_id == resource.id, Record.record_key == key)
    )
    if current is not None:
        rows.append((current.version, current.data, current.batch_id, current.valid_from, None, False, None))
    if not rows:
        service.get_record(session, resource, key)  # raises record_not_found with the usual message
    batch_ids = {row[2] for row in rows}
    batches = {b.id: b for b in session.scalars(select(Batch).where(Batch.id.in_(batch_ids)))}
    result: list[Version] = []
    for number, data, batch_id, valid_from, valid_to, deleted, ended_by in rows:
        values = json.loads(data)
        changed: set[str] = set()
        if result:
            before = result[-1].data
            changed = {k for k in values.keys() | before.keys() if values.get(k) != before.get(k)}
        result.append(
            Version(number, values, batches[batch_id], valid_from, valid_to, deleted, ended_by, changed)
        )
    return result[::-1]


def end_of_day(day: date) -> datetime:
    """The last instant of ``day`` in China Standard Time: "the record on that date" is its state then."""
    return datetime.combine(day + timedelta(days=1), time(), CHINA_TZ) - timedelta(microseconds=1)


def as_of(session: Session, resource: Resource, key: str, day: date) -> dict[str, Any] | None:
    """What the record said at the end of ``day`` (None if it did not exist then)."""
    return service.record_as_of(session, resource, key, end_of_day(day))


def reports_about(session: Session, resource: Resource, key: str) -> list[ErrorReport]:
    """The error reports filed about this record, newest first."""
    return list(
        session.scalars(
            select(ErrorReport)
            .where(ErrorReport.resource_id == resource.id, ErrorReport.record_key == key)
            .order_by(ErrorReport.filed_at.desc(), ErrorReport.id.desc())
        )
    )


def readable_report(session: Session, actor: User, report_id: int) -> ErrorReport:
    """One report, for the departments it concerns (reporter and provider), the authority and auditors."""
    report = get_report(session, report_id)
    if actor.role in (Role.AUTHORITY, Role.AUDITOR) or actor.department_id in (
        report.reporter_department_id,
        report.provider_department_id,
    ):
        return report
    raise PermissionDenied(
        "report_forbidden", "只有提交部门、提供方部门、数据管理部门和审计人员可以查看该纠错"
    )
