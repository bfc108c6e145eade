"""Bulk registration API (批量登记): upload a catalog sheet, download the blank template."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Query, Response, UploadFile
from pydantic import BaseModel, Field

from govshare.catalog import sheet_import, sheet_template
from govshare.web.deps import CurrentUser, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/catalog/import", tags=["catalog 目录"])

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportOut(BaseModel):
    created: list[str] = Field(description="登记的信息资源代码（试运行：将分配的代码）")
    resources: int
    items: int
    dry_run: bool


@router.post("", response_model=ImportOut, status_code=201)
def import_sheet(
    file: UploadFile,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    response: Response,
    dry_run: Annotated[bool, Query(description="只校验，不登记")] = False,
) -> ImportOut:
    """Register every resource of an .xlsx or CSV catalog sheet as a draft — all or nothing.

    CSV may be UTF-8 (with or without BOM) or GB18030/GBK. A sheet with any problem stores nothing
    and answers 422 `sheet_invalid`, listing every problem as `{row, column, code, message}` in
    `details.errors`; a file over the upload limit answers 413 `payload_too_large`.
    """
    content = file.file.read(settings.max_upload_bytes + 1)
    result = sheet_import.import_sheet(
        session, user, content, file.filename or "", max_bytes=settings.max_upload_bytes, dry_run=dry_run
    )
    if dry_run:
        response.status_code = 200
    return ImportOut(created=result.codes, resources=result.resources, items=result.items, dry_run=dry_run)


def _download(content: bytes, media_type: str, filename: str) -> Response:
    ascii_name = "catalog-template." + filename.rsplit(".", 1)[-1]  # for clients without RFC 5987
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/template.xlsx", response_class=Response)
def template_xlsx() -> Response:
    """The blank catalog sheet (.xlsx): every column, one example row and a 填写说明 sheet."""
    return _download(sheet_template.template_xlsx(), XLSX_TYPE, "信息资源目录模板.xlsx")


@router.get("/template.csv", response_class=Response)
def template_csv() -> Response:
    """The blank catalog sheet as CSV (UTF-8 with BOM, so Excel shows the Chinese headers)."""
    return _download(sheet_template.template_csv(), "text/csv; charset=utf-8", "信息资源目录模板.csv")


def register(app: FastAPI) -> None:
    app.include_router(router)
