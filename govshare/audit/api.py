"""Audit JSON API under /api/v1/audit: event search and CSV export, chain verification and status,
checkpoints and their public keys (for auditors and the platform authority), and the citizen's access
log (数据使用记录, for hall clerks). Thin: the services check roles and do the work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from govshare.audit import queries, service, status
from govshare.audit.schemas import (
    ChainStatusPublic,
    CheckpointPublic,
    CitizenLogIn,
    CitizenLogPublic,
    EventPage,
    EventPublic,
    SubjectLinkIn,
    SubjectLinkPublic,
    VerifyReport,
)
from govshare.web.deps import CurrentUser, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/audit", tags=["audit 调用日志"])


def event_filter(
    department: Annotated[str | None, Query(description="部门代码（统一社会信用代码）")] = None,
    application_id: Annotated[int | None, Query(description="接入应用编号")] = None,
    resource: Annotated[str | None, Query(description="信息资源代码")] = None,
    operation: Annotated[
        str | None, Query(description="lookup / search / verify / profile / bulk_export / …")
    ] = None,
    outcome: Annotated[str | None, Query(description="allowed / refused")] = None,
    case_id: Annotated[str | None, Query(description="办件编号 (X-Case-Id)")] = None,
    since: Annotated[str | None, Query(description="起：2026-12-01 或 2026-12-01T08:30（北京时间）")] = None,
    until: Annotated[str | None, Query(description="止（不含）：日期则含当日")] = None,
) -> queries.EventFilter:
    return queries.EventFilter(
        department=department, application_id=application_id, resource_code=resource, operation=operation,
        outcome=outcome, case_id=case_id, since=queries.parse_time(since), until=queries.parse_time(until, end=True),
    )  # fmt: skip


FilterDep = Annotated[queries.EventFilter, Depends(event_filter)]


@router.get("/events", response_model=EventPage, summary="查询调用日志")
def search_events(
    session: SessionDep,
    user: CurrentUser,
    filt: FilterDep,
    cursor: Annotated[str | None, Query(description="上一页返回的 next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=queries.PAGE_SIZE_MAX)] = 50,
) -> EventPage:
    """Audit events matching every filter given, newest first, paginated by cursor. Auditors (审计/监督)
    and the platform authority only."""
    page = queries.search(session, user, filt, cursor, limit)
    return EventPage(events=[EventPublic.of(r) for r in page.rows], next_cursor=page.next_cursor)


@router.get("/events.csv", summary="导出调用日志（CSV）", response_class=StreamingResponse)
def export_events(
    session: SessionDep, user: CurrentUser, settings: SettingsDep, filt: FilterDep
) -> StreamingResponse:
    """The matching events as CSV (UTF-8 with BOM), every hashed column included so each row can be
    re-checked; at most 100,000 rows. The export is itself recorded in the log."""
    rows = queries.export_csv(session, settings, user, filt)
    first = next(rows)  # the role check and the export's own audit entry happen before any byte is sent
    headers = {"Content-Disposition": 'attachment; filename="audit-events.csv"'}

    def body():  # type: ignore[no-untyped-def]
        yield first
        yield from rows

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/verify", response_model=VerifyReport, summary="核验调用日志完整性")
def verify_chain(
    session: SessionDep,
    user: CurrentUser,
    from_seq: Annotated[int, Query(ge=1, description="从第几条开始（以其前一条的哈希为起点）")] = 1,
) -> VerifyReport:
    """Recompute every hash from `from_seq` and check every signed checkpoint; `ok` is false and
    `first_problem` names the seq and the kind of break (deleted, modified, replaced, inserted,
    checkpoint_mismatch, bad_signature) when the log was tampered with. The run is kept for the chain
    status. Auditors and the platform authority only."""
    return VerifyReport.of(status.run_verification(session, user, from_seq))


@router.get("/status", response_model=ChainStatusPublic, summary="调用日志链状态")
def chain_status(session: SessionDep, user: CurrentUser) -> ChainStatusPublic:
    """The chain's head (last seq and hash), its last signed checkpoint and the last verification run."""
    return ChainStatusPublic.of(status.chain_status(session, user))


@router.get("/checkpoints", response_model=list[CheckpointPublic], summary="已签名检查点")
def list_checkpoints(session: SessionDep, user: CurrentUser) -> list[CheckpointPublic]:
    """The newest 100 signed checkpoints: copy them out of the platform to bound any later rewriting."""
    return [CheckpointPublic.of(cp) for cp in status.list_checkpoints(session, user)]


@router.post("/checkpoints", response_model=CheckpointPublic | None, summary="立即签署检查点")
def sign_checkpoint(session: SessionDep, user: CurrentUser, settings: SettingsDep) -> CheckpointPublic | None:
    """Sign a checkpoint at the chain's current end now (the platform authority only); null for an empty
    log."""
    cp = status.checkpoint_now(session, settings, user)
    return CheckpointPublic.of(cp) if cp else None


@router.get("/keys", summary="检查点公钥")
def public_keys(session: SessionDep) -> dict[str, object]:
    """Every key that ever signed a checkpoint, as a JWK set (Ed25519, RFC 8037) with a PEM of each for
    openssl. Public: anyone holding a checkpoint can verify it."""
    return service.public_keys(session)


@router.post("/my-data", response_model=CitizenLogPublic, summary="本人数据使用记录")
def citizen_log(
    body: CitizenLogIn, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> CitizenLogPublic:
    """Who read a citizen's (or company's) data: each read's time, department, application, case,
    service item, purpose and the items returned — for a hall clerk (窗口人员) who has checked the
    citizen's identity card (`identity_checked` must be true). The ID is sent in the body, never in the
    URL, and the look-up itself is recorded in the log."""
    log = queries.citizen_log(
        session, settings, user, body.subject_key_type, body.subject_key,
        identity_checked=body.identity_checked, case_id=body.case_id,
    )  # fmt: skip
    return CitizenLogPublic.of(log)


@router.post("/subject-links", response_model=SubjectLinkPublic, summary="开具本人数据使用记录链接")
def issue_subject_link(
    body: SubjectLinkIn, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> SubjectLinkPublic:
    """A signed link (valid `days` days) that lets the citizen open their own access log without an
    account — for a clerk who has checked the identity card. The link names the subject only by its keyed
    hash; issuing it is recorded in the log."""
    link = queries.subject_link(
        session, settings, user, body.subject_key_type, body.subject_key,
        identity_checked=body.identity_checked, days=body.days,
    )  # fmt: skip
    return SubjectLinkPublic(
        url=settings.base_url + link.path, expires_at=link.expires_at, masked_key=link.masked_key
    )


@router.get("/subject/{token}", response_model=CitizenLogPublic, summary="凭链接查看本人数据使用记录")
def subject_log(token: str, session: SessionDep, settings: SettingsDep) -> CitizenLogPublic:
    """The access log a signed link opens; no account needed. 401 `invalid_subject_link` or
    `subject_link_expired` otherwise. Each view is recorded in the log."""
    return CitizenLogPublic.of(queries.citizen_log_by_link(session, settings, token))
