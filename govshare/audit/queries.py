"""Reading the audit log: the auditors' search and CSV export, and the citizen's access log.

Only the platform authority and auditors (审计/监督) search the log; a hall clerk (窗口人员), the
authority or an auditor opens a citizen's access log (数据使用记录) after checking the citizen's
identity card, and that look-up is itself an audit event.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from govshare.audit import chain as canon
from govshare.audit import links
from govshare.audit.models import MAIN_CHAIN, AuditEvent, AuditOperation, Outcome
from govshare.audit.service import record, subject_hash, system_entry, user_entry
from govshare.auth.models import Department, Role, User
from govshare.auth.service import require_role
from govshare.catalog.models import SubjectKeyType
from govshare.core import ids
from govshare.core.errors import ValidationFailed
from govshare.core.settings import Settings
from govshare.exchange.models import Application

AUDIT_READERS = (Role.AUTHORITY, Role.AUDITOR)
CITIZEN_LOG_USERS = (Role.CLERK, Role.AUTHORITY, Role.AUDITOR)
READ_OPERATIONS = (AuditOperation.LOOKUP, AuditOperation.SEARCH, AuditOperation.VERIFY,
                   AuditOperation.PROFILE, AuditOperation.BULK_EXPORT)  # fmt: skip
BEIJING = timezone(timedelta(hours=8), "CST")
PAGE_SIZE_MAX = 200
CSV_ROWS_MAX = 100_000


@dataclass(frozen=True)
class EventFilter:
    """Every field optional; ``department`` is a department code (统一社会信用代码)."""

    department: str | None = None
    application_id: int | None = None
    resource_code: str | None = None
    operation: str | None = None
    outcome: str | None = None
    case_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    department_name: str | None
    application_name: str | None

    def to_dict(self) -> dict[str, Any]:
        e = self.event
        data = {name: canon._plain(getattr(e, name)) for name in (*canon.HASHED_FIELDS, "hash")}
        return data | {"department_name": self.department_name, "application_name": self.application_name}


@dataclass(frozen=True)
class Page:
    rows: list[EventRow]
    next_cursor: str | None


def parse_time(value: str | None, *, end: bool = False) -> datetime | None:
    """A date (a whole Beijing day: its start, or with ``end`` the next day's start) or an ISO 8601
    time (Beijing time when it names no offset)."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time(), BEIJING)
        moment = datetime.fromisoformat(value)
    except ValueError as err:
        raise ValidationFailed(
            "invalid_time", f"时间格式不正确：{value}（应为 2026-12-04 或 2026-12-04T08:30）"
        ) from err
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)


def _selected(filt: EventFilter) -> Select[AuditEvent, str, str]:
    dept, app = aliased(Department), aliased(Application)
    query = (
        select(AuditEvent, dept.name, app.name)
        .outerjoin(dept, dept.id == AuditEvent.department_id)
        .outerjoin(app, app.id == AuditEvent.application_id)
        .where(AuditEvent.chain == MAIN_CHAIN)  # so the primary key (chain, seq) serves ORDER BY seq
    )
    if filt.department:
        query = query.where(dept.code == filt.department)
    conditions = {AuditEvent.application_id: filt.application_id, AuditEvent.resource_code: filt.resource_code,
                  AuditEvent.operation: filt.operation, AuditEvent.outcome: filt.outcome,
                  AuditEvent.case_id: filt.case_id}  # fmt: skip
    for column, value in conditions.items():
        if value not in (None, ""):
            query = query.where(column == value)
    if filt.since:
        query = query.where(AuditEvent.occurred_at >= filt.since)
    if filt.until:
        query = query.where(AuditEvent.occurred_at < filt.until)
    return query.order_by(AuditEvent.seq.desc())


def _check_filter(filt: EventFilter) -> None:
    if filt.outcome and filt.outcome not in {o.value for o in Outcome}:
        raise ValidationFailed("invalid_outcome", "结果须为 allowed 或 refused")
    if filt.operation and filt.operation not in {o.value for o in AuditOperation}:
        raise ValidationFailed("invalid_operation", f"未知的操作：{filt.operation}")


def search(
    session: Session, actor: User, filt: EventFilter, cursor: str | None = None, limit: int = 50
) -> Page:
    """Events matching ``filt``, newest first, ``limit`` per page; ``next_cursor`` fetches the next page."""
    require_role(actor, *AUDIT_READERS)
    _check_filter(filt)
    limit = max(1, min(limit, PAGE_SIZE_MAX))
    query = _selected(filt)
    if cursor:
        if not cursor.isdigit():
            raise ValidationFailed("invalid_cursor", "分页游标无效")
        query = query.where(AuditEvent.seq < int(cursor))
    found = [EventRow(row[0], row[1], row[2]) for row in session.execute(query.limit(limit + 1))]
    more = len(found) > limit
    found = found[:limit]
    return Page(found, str(found[-1].event.seq) if more and found else None)


CSV_COLUMNS = (*canon.HASHED_FIELDS, "hash", "department_name", "application_name")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A CSV cell; text a spreadsheet would run as a formula (an X-Operator of ``=HYPERLINK(…)``) gets a
    leading apostrophe. Recompute hashes from the JSON API, which returns every value untouched."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def export_csv(session: Session, settings: Settings, actor: User, filt: EventFilter) -> Iterator[str]:
    """The matching events as CSV (UTF-8 with BOM so Excel opens the Chinese), at most CSV_ROWS_MAX rows;
    the export is itself recorded. Every hashed column is included, so an auditor can re-check rows."""
    require_role(actor, *AUDIT_READERS)
    _check_filter(filt)
    record(session, user_entry(actor, AuditOperation.AUDIT_EXPORT, purpose="调用日志导出"), settings)
    session.commit()
    rows = session.execute(_selected(filt).limit(CSV_ROWS_MAX).execution_options(yield_per=1000))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        data = EventRow(row[0], row[1], row[2]).to_dict()
        data["items"] = "、".join(data["items"])
        writer.writerow([_cell(data[c]) for c in CSV_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# --- the citizen's access log (数据使用记录) ------------------------------------------------------


@dataclass(frozen=True)
class CitizenLog:
    subject_key_type: str
    masked_key: str
    reads: list[EventRow]


def _checked_subject(kind: str, key: str) -> tuple[SubjectKeyType, str]:
    from govshare.data.profiles import normalize_subject_key, subject_key_type_of

    subject = subject_key_type_of(kind)
    key = normalize_subject_key(subject, key)
    validate = {SubjectKeyType.PERSON_ID: ids.validate_resident_id,
                SubjectKeyType.CREDIT_CODE: ids.validate_credit_code}.get(subject)  # fmt: skip
    if not key:
        raise ValidationFailed("invalid_subject_key", "请输入证件号码")
    if validate is not None:
        try:
            validate(key)
        except ids.IdCheckError as err:
            raise ValidationFailed(err.code, err.message) from err
    return subject, key


def _masked(key: str) -> str:
    return key[:4] + "*" * (len(key) - 8) + key[-4:] if len(key) > 8 else "*" * len(key)


def _reads(session: Session, subject: SubjectKeyType, key_hash: str, limit: int) -> list[EventRow]:
    query = (
        _selected(EventFilter(outcome=Outcome.ALLOWED.value))
        .where(AuditEvent.subject_key_type == subject, AuditEvent.subject_key_hash == key_hash,
               AuditEvent.operation.in_([o.value for o in READ_OPERATIONS]))
        .limit(limit)
    )  # fmt: skip
    return [EventRow(row[0], row[1], row[2]) for row in session.execute(query)]


def _identified(
    settings: Settings, actor: User | None, kind: str, key: str, identity_checked: bool
) -> tuple[SubjectKeyType, str, str]:
    """(key type, key hash, masked key) for a clerk who has checked the identity card."""
    if actor is not None:
        require_role(actor, *CITIZEN_LOG_USERS)
    if not identity_checked:
        raise ValidationFailed("identity_not_checked", "请先核对本人有效身份证件，再查询其数据使用记录")
    subject, key = _checked_subject(kind, key)
    return subject, subject_hash(settings.secret_key.get_secret_value(), subject, key), _masked(key)


def citizen_log(
    session: Session,
    settings: Settings,
    actor: User,
    kind: str,
    key: str,
    *,
    identity_checked: bool,
    case_id: str | None = None,
    limit: int = 500,
) -> CitizenLog:
    """Who read this subject's data: every allowed read (lookup, search, verify, profile, bulk export)
    recorded against the subject's keyed hash, newest first. Opened for the citizen by a clerk who has
    checked their identity card; the look-up is recorded (and committed) before the list is returned."""
    subject, key_hash, masked = _identified(settings, actor, kind, key, identity_checked)
    entry = user_entry(actor, AuditOperation.CITIZEN_LOG, subject_key_type=subject.value,
                       subject_key_hash=key_hash, case_id=case_id or None, purpose="本人数据使用记录查询")  # fmt: skip
    record(session, entry, settings)
    session.commit()
    return CitizenLog(subject.value, masked, _reads(session, subject, key_hash, limit))


@dataclass(frozen=True)
class SubjectLink:
    path: str  # /audit/subject/<token>; the page prefixes the platform's base URL
    expires_at: datetime
    masked_key: str


def subject_link(
    session: Session,
    settings: Settings,
    actor: User | None,
    kind: str,
    key: str,
    *,
    identity_checked: bool,
    days: int = 7,
) -> SubjectLink:
    """A signed link that opens the subject's access log without an account for ``days`` days (1–30),
    issued by a clerk, an auditor or the authority (``actor`` None: the platform operator on the CLI).
    The issue is recorded in the log."""
    if not 1 <= days <= 30:
        raise ValidationFailed("invalid_days", "链接有效期须为 1–30 天")
    subject, key_hash, masked = _identified(settings, actor, kind, key, identity_checked)
    token, expires = links.issue(settings, subject, key_hash, masked, days)
    fields = {
        "subject_key_type": subject.value,
        "subject_key_hash": key_hash,
        "purpose": f"开具本人数据使用记录链接（{days} 天）",
    }
    operation = AuditOperation.SUBJECT_LINK
    entry = user_entry(actor, operation, **fields) if actor else system_entry(operation, **fields)
    record(session, entry, settings)
    session.commit()
    return SubjectLink(links.PATH + token, expires, masked)


def citizen_log_by_link(session: Session, settings: Settings, token: str, limit: int = 500) -> CitizenLog:
    """The access log a signed link opens (no account); the view is recorded in the log."""
    subject, key_hash, masked = links.open_token(settings, token)
    entry = system_entry(AuditOperation.CITIZEN_LOG, subject_key_type=subject.value, subject_key_hash=key_hash,
                         purpose="本人经签名链接查看数据使用记录")  # fmt: skip
    record(session, entry, settings)
    session.commit()
    return CitizenLog(subject.value, masked, _reads(session, subject, key_hash, limit))
