"""Data error reports (数据纠错): a consuming department says a value is wrong; the provider must answer.

A report names a record (resource and key), an item, the value the reporter believes correct and the
evidence. It is due ``error_report_deadline_days`` working days (工作日) after filing; an open report
past its due date is overdue (逾期), which later feeds the evaluation. The provider's data officer
answers once: confirmed (optionally with the corrected value, recorded here — loading the correction
is the provider's ordinary data load) or rejected with a reason.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from govshare.auth.models import Role, User
from govshare.catalog import service as catalog
from govshare.catalog.models import ResourceStatus
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.core.types import utcnow
from govshare.core.workdays import add_working_days
from govshare.data import service as data
from govshare.data.profile_models import ErrorReport, ReportStatus
from govshare.data.profiles import normalize_subject_key

Box = Literal["inbox", "filed"]


def file_report(
    session: Session,
    actor: User,
    resource_code: str,
    record_key: str,
    item_name: str,
    proposed_value: str,
    evidence: str = "",
    *,
    deadline_days: int,
    now: datetime | None = None,
) -> ErrorReport:
    """File a report (提交纠错) as a data officer or clerk of a department other than the provider."""
    if actor.role not in (Role.DATA_OFFICER, Role.CLERK):
        raise PermissionDenied("reporter_role", "只有部门数据管理员和业务人员可以提交数据纠错")
    resource = catalog.get_resource(session, resource_code)
    if resource.provider_id == actor.department_id:
        raise PermissionDenied("own_resource", "本部门的数据请直接更正，无需提交纠错")
    if resource.status != ResourceStatus.PUBLISHED:
        raise Conflict("resource_not_published", f"资源 {resource.code} 未发布")
    item = next((i for i in resource.items if i.name == item_name), None)
    if item is None:
        raise ValidationFailed(
            "unknown_item", f"资源 {resource.code} 没有信息项 {item_name}", {"item": item_name}
        )
    if not proposed_value.strip():
        raise ValidationFailed("proposed_value_required", "须填写认为正确的值")
    keys = [i for i in resource.items if i.is_key]
    key = normalize_subject_key(resource.subject_key_type, record_key) if len(keys) == 1 else record_key
    record = data.get_record(session, resource, key)  # record_not_found
    now = now or utcnow()
    deadline = add_working_days(now, deadline_days)
    report = ErrorReport(
        resource_id=resource.id, record_key=key, item_name=item.name,
        current_value=_text(json.loads(record.data).get(item.name)), proposed_value=proposed_value.strip(),
        evidence=evidence.strip(), reporter_id=actor.id, reporter_department_id=actor.department_id,
        provider_department_id=resource.provider_id, filed_at=now, due_at=deadline.due_at,
        due_estimated=deadline.estimated, status=ReportStatus.OPEN, answer_reason="",
    )  # fmt: skip
    session.add(report)
    session.commit()
    return report


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def answer_report(
    session: Session,
    actor: User,
    report_id: int,
    decision: str,
    reason: str = "",
    corrected_value: str | None = None,
    *,
    now: datetime | None = None,
) -> ErrorReport:
    """Answer a report (核实答复) as the provider's data officer: ``confirmed`` or ``rejected`` (with reason)."""
    report = get_report(session, report_id)
    if actor.role != Role.DATA_OFFICER or actor.department_id != report.provider_department_id:
        raise PermissionDenied("not_provider", "只有提供方部门的数据管理员可以答复该纠错")
    if report.status != ReportStatus.OPEN:
        raise Conflict("report_already_answered", f"纠错 {report.id} 已答复（{report.status.value}）")
    try:
        status = ReportStatus(decision)
    except ValueError:
        status = ReportStatus.OPEN
    if status == ReportStatus.OPEN:
        raise ValidationFailed("invalid_decision", "答复须为 confirmed（确认有误）或 rejected（不予采纳）")
    reason = reason.strip()
    if status == ReportStatus.REJECTED and not reason:
        raise ValidationFailed("reason_required", "不予采纳须说明理由")
    report.status, report.answer_reason = status, reason
    if status == ReportStatus.CONFIRMED:
        report.corrected_value = (corrected_value or "").strip() or None
    report.answered_by_id, report.answered_at = actor.id, now or utcnow()
    session.commit()
    return report


def get_report(session: Session, report_id: int) -> ErrorReport:
    report = session.get(ErrorReport, report_id)
    if report is None:
        raise NotFound("error_report_not_found", f"未找到纠错 {report_id}")
    return report


def list_reports(
    session: Session,
    actor: User,
    box: Box = "inbox",
    status: str | None = None,
    *,
    overdue_only: bool = False,
    now: datetime | None = None,
    limit: int = 500,
) -> list[ErrorReport]:
    """My department's reports: ``inbox`` (about our resources; open first, soonest due first) or
    ``filed`` (filed by us, newest first). The authority sees every department's."""
    stmt = select(ErrorReport)
    mine = actor.role != Role.AUTHORITY
    if box == "inbox":
        if mine:
            stmt = stmt.where(ErrorReport.provider_department_id == actor.department_id)
        open_first = case((ErrorReport.status == ReportStatus.OPEN, 0), else_=1)
        stmt = stmt.order_by(open_first, ErrorReport.due_at, ErrorReport.id)
    elif box == "filed":
        if mine:
            stmt = stmt.where(ErrorReport.reporter_department_id == actor.department_id)
        stmt = stmt.order_by(ErrorReport.filed_at.desc(), ErrorReport.id.desc())
    else:
        raise ValidationFailed("invalid_box", "box 须为 inbox（待我答复）或 filed（我提交的）")
    if status:
        try:
            stmt = stmt.where(ErrorReport.status == ReportStatus(status))
        except ValueError as err:
            raise ValidationFailed("invalid_status", "状态须为 open / confirmed / rejected") from err
    if overdue_only:
        stmt = stmt.where(ErrorReport.status == ReportStatus.OPEN, ErrorReport.due_at < (now or utcnow()))
    return list(session.scalars(stmt.limit(limit)))


def overdue_reports(
    session: Session, now: datetime | None = None, provider_department_id: int | None = None
) -> list[ErrorReport]:
    """Open reports past their due date (逾期未答复), most overdue first — for oversight and evaluation."""
    stmt = select(ErrorReport).where(
        ErrorReport.status == ReportStatus.OPEN, ErrorReport.due_at < (now or utcnow())
    )
    if provider_department_id is not None:
        stmt = stmt.where(ErrorReport.provider_department_id == provider_department_id)
    return list(session.scalars(stmt.order_by(ErrorReport.due_at, ErrorReport.id)))
