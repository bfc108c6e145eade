"""Subject profiles, equivalent items, data-quality conflicts and data error reports under /api/v1/data."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from govshare.core.types import utcnow
from govshare.data import error_reports, profiles
from govshare.data.profile_models import ErrorReport, ItemEquivalence, QualityConflict
from govshare.web.deps import CurrentUser, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/data", tags=["data 共享数据"])


class MemberIn(BaseModel):
    resource_code: str = Field(description="信息资源代码")
    item: str = Field(description="信息项名称")


class EquivalenceIn(BaseModel):
    concept: str = Field(description="概念名称，例如 户籍地址", max_length=50)
    members: list[MemberIn] = Field(description="持有该概念的（资源, 信息项），至少两个", min_length=2)


class ErrorReportIn(BaseModel):
    resource_code: str = Field(description="信息资源代码")
    record_key: str = Field(description="记录主键")
    item: str = Field(description="有误的信息项")
    proposed_value: str = Field(description="认为正确的值")
    evidence: str = Field("", description="依据（证明材料说明）")


class AnswerIn(BaseModel):
    decision: Literal["confirmed", "rejected"] = Field(description="confirmed 确认有误 / rejected 不予采纳")
    reason: str = Field("", description="说明；不予采纳时必填")
    corrected_value: str | None = Field(None, description="确认时可填更正后的值（仅记录，不改写数据）")


def _equivalence(session: SessionDep, eq: ItemEquivalence) -> dict[str, Any]:
    return {"id": eq.id, "concept": eq.concept, "members": profiles.member_codes(session, eq)}


def _conflict(c: QualityConflict) -> dict[str, Any]:
    return {
        "id": c.id, "subject_key_type": c.subject_key_type.value, "subject_key": c.subject_key,
        "concept": c.concept, "values": c.differing_values, "status": c.status.value,
        "first_seen": c.first_seen.isoformat(), "last_seen": c.last_seen.isoformat(),
    }  # fmt: skip


def _report(r: ErrorReport, now: datetime) -> dict[str, Any]:
    return {
        "id": r.id, "resource_code": r.resource.code, "resource_name": r.resource.name,
        "record_key": r.record_key, "item": r.item_name, "current_value": r.current_value,
        "proposed_value": r.proposed_value, "evidence": r.evidence,
        "reporter_department": r.reporter_department.name, "provider_department": r.provider_department.name,
        "filed_at": r.filed_at.isoformat(), "due_at": r.due_at.isoformat(), "due_estimated": r.due_estimated,
        "status": r.status.value, "overdue": r.is_overdue(now), "answer_reason": r.answer_reason,
        "corrected_value": r.corrected_value, "answered_at": r.answered_at.isoformat() if r.answered_at else None,
    }  # fmt: skip


@router.get("/profiles/{subject_key_type}/{key}")
def get_profile(
    subject_key_type: str, key: str, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> dict[str, Any]:
    """A subject's merged profile (主体画像): each field with value, source resource, providing department
    and last update; equivalent items grouped, with `conflict` when their values differ.

    Until access grants exist, only the platform authority (all fields) and data officers (fields of
    their own department's resources only) may read profiles. Every read is logged.
    """
    result = profiles.read_profile(
        session, user, subject_key_type, key, secret_key=settings.secret_key.get_secret_value()
    )
    return asdict(result) | {"resources": result.resources}


@router.get("/equivalences")
def list_equivalences(session: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    """Equivalent items (等价信息项): concepts held by several resources."""
    return [_equivalence(session, eq) for eq in profiles.list_equivalences(session)]


@router.post("/equivalences", status_code=201)
def create_equivalence(body: EquivalenceIn, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Declare equivalent items (authority only)."""
    members = [(m.resource_code, m.item) for m in body.members]
    return _equivalence(session, profiles.create_equivalence(session, user, body.concept, members))


@router.delete("/equivalences/{equivalence_id}", status_code=204)
def delete_equivalence(equivalence_id: int, session: SessionDep, user: CurrentUser) -> Response:
    """Remove a concept (authority only); conflicts already recorded stay."""
    profiles.delete_equivalence(session, user, equivalence_id)
    return Response(status_code=204)


@router.get("/conflicts")
def list_conflicts(
    session: SessionDep, user: CurrentUser, status: str | None = Query(None, description="open / resolved")
) -> list[dict[str, Any]]:
    """Data-quality conflicts (数据质量冲突): all for the authority, those involving my resources for a
    data officer."""
    return [_conflict(c) for c in profiles.list_conflicts(session, user, status)]


@router.post("/error-reports", status_code=201)
def file_error_report(
    body: ErrorReportIn, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> dict[str, Any]:
    """File a data error report (数据纠错) about another department's record; answers it with its due date."""
    report = error_reports.file_report(
        session, user, body.resource_code, body.record_key, body.item, body.proposed_value, body.evidence,
        deadline_days=settings.error_report_deadline_days,
    )  # fmt: skip
    return _report(report, report.filed_at)


@router.get("/error-reports")
def list_error_reports(
    session: SessionDep,
    user: CurrentUser,
    box: Literal["inbox", "filed"] = Query("inbox", description="inbox 待我答复 / filed 我提交的"),
    status: str | None = Query(None, description="open / confirmed / rejected"),
    overdue: bool = Query(False, description="只列逾期未答复的"),
) -> list[dict[str, Any]]:
    """My department's data error reports, with due dates and the overdue flag (open first in the inbox)."""
    now = utcnow()
    found = error_reports.list_reports(session, user, box, status, overdue_only=overdue, now=now)
    return [_report(r, now) for r in found]


@router.post("/error-reports/{report_id}/answer")
def answer_error_report(
    report_id: int, body: AnswerIn, session: SessionDep, user: CurrentUser
) -> dict[str, Any]:
    """Answer a report (provider's data officer, once): confirmed, or rejected with a reason."""
    report = error_reports.answer_report(
        session, user, report_id, body.decision, body.reason, body.corrected_value
    )
    return _report(report, utcnow())
