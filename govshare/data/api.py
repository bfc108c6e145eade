"""Shared-data API under /api/v1/data: publish records by file upload or JSON, load history, reports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from govshare.auth.models import Role, User
from govshare.catalog import service as catalog
from govshare.core.errors import NotFound, PermissionDenied, ValidationFailed
from govshare.data import service
from govshare.data.ingest import LoadReport
from govshare.data.models import Batch
from govshare.web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/data", tags=["data 共享数据"])
CODE = "/resources/{code:path}"


class RowsIn(BaseModel):
    """A batch sent as JSON: rows keyed by item name (the REST batch endpoint)."""

    rows: list[dict[str, Any]] = Field(description="记录，键为信息项名称")
    mode: str = Field("upsert", description="upsert / replace / delete")
    strict: bool = Field(False, description="任一行有错则整批不入库")
    batch_id: str = Field("", description="批次标识；默认由内容计算（同一内容重复提交不会重复入库）")


def _answer(report: LoadReport) -> JSONResponse:
    status = 200 if report.already_applied else 201 if report.status == "applied" else 422
    body = service.as_dict(report)
    if status == 422:  # strict refusal: the standard error shape, with the report in details
        message = f"严格模式：{report.rejected} 行有错误，整批未入库"
        body = {"error": {"code": "batch_rejected", "message": message, "details": body}}
    return JSONResponse(body, status_code=status)


@router.post(CODE + "/batches", response_model=None)
def upload_batch(
    code: str,
    session: SessionDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="CSV/TSV (UTF-8 或 GB18030), JSON Lines, .xlsx, Parquet")],
    mode: Annotated[str, Form()] = "upsert",
    strict: Annotated[bool, Form()] = False,
    batch_id: Annotated[str, Form()] = "",
    encoding: Annotated[str, Form()] = "",
    format: Annotated[str, Form()] = "",
    mapping: Annotated[str, Form(description='JSON 对象 {"列名": "信息项"}，"-" 表示忽略')] = "",
) -> Response:
    """Load a data file into a resource (provider's data officer). Answers the load report."""
    try:
        renames = json.loads(mapping) if mapping else None
    except json.JSONDecodeError as err:
        raise ValidationFailed("invalid_mapping", "mapping 须为 JSON 对象") from err
    report = service.load_upload(
        session, user, code, file.filename or "upload", file.file, mode=mode, strict=strict,
        encoding=encoding, format=format, batch_id=batch_id, mapping=renames,
    )  # fmt: skip
    return _answer(report)


@router.post(CODE + "/records", response_model=None)
def post_rows(code: str, body: RowsIn, session: SessionDep, user: CurrentUser) -> Response:
    """Load rows sent as JSON (REST batch). Same rules, report and idempotency as a file."""
    columns = list(dict.fromkeys(k for row in body.rows for k in row))
    rows = (
        (n, {k: None if v is None else str(v) for k, v in row.items()})
        for n, row in enumerate(body.rows, start=1)
    )
    key = body.batch_id or service.rows_key(body.rows, body.mode)
    report = service.load(
        session, user, code, columns, rows, batch_key=key, mode=body.mode, strict=body.strict
    )
    return _answer(report)


def _visible_batch(session: SessionDep, user: User, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise NotFound("batch_not_found", f"未找到批次 {batch_id}")
    _require_insight(user, batch.department_id)
    return batch


def _require_insight(user: User, provider_id: int) -> None:
    if user.role in (Role.AUTHORITY, Role.AUDITOR) or catalog.can_edit(user, provider_id):
        return
    raise PermissionDenied("not_provider", "只有提供方部门、数据管理部门和审计人员可以查看加载记录")


@router.get(CODE + "/batches")
def list_batches(code: str, session: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    """Load history of a resource, newest first (提供方、数据管理部门、审计)."""
    resource = catalog.get_resource(session, code)
    _require_insight(user, resource.provider_id)
    batches = session.scalars(
        select(Batch).where(Batch.resource_id == resource.id).order_by(Batch.id.desc()).limit(200)
    )
    return [
        service.as_dict(service.report_for(session, b)) | {"started_at": b.started_at.isoformat()}
        for b in batches
    ]


@router.get("/batches/{batch_id}")
def get_batch(batch_id: int, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """One load report."""
    return service.as_dict(service.report_for(session, _visible_batch(session, user, batch_id)))


@router.get("/batches/{batch_id}/rejections.csv")
def rejection_report(batch_id: int, session: SessionDep, user: CurrentUser) -> StreamingResponse:
    """The row-level rejection report as CSV (UTF-8 with BOM, so Excel shows Chinese correctly)."""
    _visible_batch(session, user, batch_id)

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        out = csv.writer(buffer)
        out.writerow(["行号 row", "列 column", "代码 code", "说明 message"])
        yield "\ufeff" + buffer.getvalue()
        for r in service.rejections(session, batch_id):
            buffer.seek(0)
            buffer.truncate()
            out.writerow([r.row_number, r.column, r.code, r.message])
            yield buffer.getvalue()

    headers = {"Content-Disposition": f'attachment; filename="batch-{batch_id}-rejections.csv"'}
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers=headers)
