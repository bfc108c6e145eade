"""`govshare catalog`: list, show, search and export the catalog; bulk registration from a sheet.

Every command reads GOVSHARE_DATABASE_URL (default: govshare.db in the working directory).
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from govshare.auth.service import get_user_by_username
from govshare.catalog import search, service, sheet_import, sheet_template, vocab
from govshare.catalog.models import Resource, ResourceStatus, SharingType
from govshare.catalog.schemas import ResourcePublic, ResourceSummary
from govshare.core.cli_support import cli_session, display_width, echo_json, fail, text_table
from govshare.core.errors import DomainError, NotFound

app = typer.Typer(
    help="信息资源目录：列出、查看、检索、导出，按目录表批量登记。 / "
    "The catalog: list, show, search, export, and bulk registration from a catalog sheet.",
    no_args_is_help=True,
)


class ExportFormat(enum.StrEnum):
    TTL = "ttl"  # DCAT-AP, Turtle
    JSONLD = "jsonld"  # DCAT-AP, JSON-LD
    JSON = "json"  # our own ResourcePublic list
    CSV = "csv"  # the catalog sheet layout


Provider = Annotated[
    str | None, typer.Option("--provider", help="提供方代码（统一社会信用代码） / provider code")
]
Classification = Annotated[
    str | None, typer.Option("--classification", help="分类代码前缀，如 1 或 101 / classification prefix")
]
AsJson = Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")]


def _summary_rows(resources: Sequence[Resource]) -> list[list[str]]:
    return [
        [
            r.code,
            r.name,
            r.provider.name,
            vocab.SHARING_TYPE_LABELS.get(r.sharing_type.value, r.sharing_type.value),
            vocab.STATUS_LABELS.get(r.status.value, r.status.value),
            str(r.version),
        ]
        for r in resources
    ]


SUMMARY_HEADERS = ("代码", "名称", "提供方", "共享类型", "状态", "版本")


@app.command("list")
def list_resources(
    provider: Provider = None,
    status: Annotated[
        ResourceStatus | None, typer.Option(help="状态，默认全部 / status (default: every status)")
    ] = None,
    classification: Classification = None,
    as_json: AsJson = False,
) -> None:
    """列出信息资源（默认全部状态），按代码排序。

    List catalog resources, every status unless --status is given, ordered by code.
    """
    filters = search.Filters(provider_code=provider, classification=classification, status=status)
    with cli_session() as session:
        resources: list[Resource] = []
        page = 1
        while True:
            result = search.search(session, "", filters, page=page, page_size=500)
            resources += result.resources
            if len(resources) >= result.total or not result.resources:
                break
            page += 1
        if as_json:
            echo_json([ResourceSummary.model_validate(r).model_dump(mode="json") for r in resources])
            return
        typer.echo(text_table(SUMMARY_HEADERS, _summary_rows(resources)))
        typer.echo(f"共 {len(resources)} 条 / {len(resources)} resources")


@app.command("show")
def show(
    code: Annotated[str, typer.Argument(help="信息资源代码，如 101/000001 / resource code")],
    as_json: AsJson = False,
) -> None:
    """查看一个信息资源的元数据和信息项。

    Show one resource: its catalog metadata and its items.
    """
    with cli_session() as session:
        resource = ResourcePublic.model_validate(service.get_resource(session, code))
    if as_json:
        echo_json(resource.model_dump(mode="json"))
        return
    labels = {
        "代码 code": resource.code,
        "名称 name": resource.name,
        "摘要 summary": resource.summary,
        "分类 classification": resource.classification_code,
        "提供方 provider": f"{resource.provider.name}（{resource.provider.code}）",
        "状态 status": f"{vocab.STATUS_LABELS.get(resource.status, resource.status)}，第 {resource.version} 版",
        "格式 format": vocab.FORMATS.get(resource.format, resource.format),
        "共享类型 sharing": vocab.SHARING_TYPE_LABELS.get(resource.sharing_type, resource.sharing_type),
        "共享条件 condition": resource.sharing_condition,
        "共享方式 methods": "、".join(vocab.SHARING_METHODS.get(m, m) for m in resource.sharing_methods),
        "不予共享依据 legal basis": resource.legal_basis,
        "向社会开放 open": ("是 " + resource.open_condition).strip() if resource.open_to_public else "否",
        "更新周期 update": vocab.UPDATE_CYCLES.get(resource.update_cycle, resource.update_cycle),
        "发布日期 published": resource.publish_date or "",
        "关联资源 related": "、".join(resource.related_codes),
        "联系人 contact": " ".join(
            v for v in (resource.contact_name, resource.contact_phone, resource.contact_email) if v
        ),
    }
    width = max(display_width(k) for k in labels)
    for key, value in labels.items():
        if value:
            typer.echo(f"{key}{' ' * (width - display_width(key))}  {value}")
    typer.echo("")
    rows = [
        [
            i.position,
            i.name,
            i.data_type,
            i.length or "",
            "是" if i.is_key else "",
            i.sensitivity,
            i.masking_rule,
            "是" if i.shareable else f"否 {i.legal_basis}",
        ]  # fmt: skip
        for i in resource.items
    ]
    typer.echo(text_table(("序号", "信息项", "类型", "长度", "主键", "敏感级别", "脱敏", "共享"), rows))


@app.command("search")
def search_resources(
    query: Annotated[str, typer.Argument(help="检索词：名称、摘要、信息项名称 / search words")],
    provider: Provider = None,
    classification: Classification = None,
    sharing_type: Annotated[SharingType | None, typer.Option(help="共享类型 / sharing type")] = None,
    update_cycle: Annotated[str | None, typer.Option(help="更新周期，如 daily / update cycle")] = None,
    open_: Annotated[
        bool | None, typer.Option("--open/--not-open", help="是否向社会开放 / open to the public")
    ] = None,
    status: Annotated[
        ResourceStatus | None, typer.Option(help="状态，默认已发布 / status (default: published)")
    ] = ResourceStatus.PUBLISHED,
    page: Annotated[int, typer.Option(min=1, help="页码 / page")] = 1,
    page_size: Annotated[int, typer.Option(min=1, help="每页条数 / page size")] = 20,
    as_json: AsJson = False,
) -> None:
    """全文检索目录（中文分词），筛选条件与 API 相同，按相关度排序。

    Full-text search of the catalog (Chinese), with the API's filters, ranked by relevance.
    """
    from govshare.core.settings import get_settings

    page_size = min(page_size, get_settings().search_page_size_max)
    filters = search.Filters(provider, classification, sharing_type, update_cycle, open_, status)
    with cli_session() as session:
        result = search.search(session, query, filters, page, page_size)
        rows = _summary_rows(result.resources)
        results = [ResourceSummary.model_validate(r).model_dump(mode="json") for r in result.resources]
    if as_json:
        echo_json({"total": result.total, "page": page, "page_size": page_size, "results": results})
        return
    typer.echo(text_table(SUMMARY_HEADERS, rows))
    pages = max(1, -(-result.total // page_size))
    typer.echo(f"共 {result.total} 条，第 {page}/{pages} 页 / {result.total} results, page {page} of {pages}")


@app.command("export")
def export(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="ttl / jsonld (DCAT-AP), json, csv")] = (
        ExportFormat.JSON
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="输出文件，默认标准输出 / file")
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="DCAT URI 前缀，默认 GOVSHARE_BASE_URL")] = None,
) -> None:
    """导出已发布的目录：DCAT-AP（Turtle、JSON-LD）、JSON，或目录表格式的 CSV。

    Export the published catalog as DCAT-AP (Turtle, JSON-LD), JSON, or CSV in the sheet layout.
    """
    from govshare.catalog import dcat
    from govshare.core.settings import get_settings

    base = (base_url or get_settings().base_url).rstrip("/")
    with cli_session() as session:
        if fmt in (ExportFormat.TTL, ExportFormat.JSONLD):
            graph = dcat.export(session, base)
            text = dcat.to_turtle(graph) if fmt == ExportFormat.TTL else dcat.to_jsonld(graph, base)
            data = text.encode()
        else:
            resources = dcat.published_resources(session)
            if fmt == ExportFormat.CSV:
                data = sheet_template.export_csv(resources)
            else:
                dumped = [ResourcePublic.model_validate(r).model_dump(mode="json") for r in resources]
                data = json.dumps(dumped, ensure_ascii=False, indent=2).encode()
    if output is None:
        typer.echo(data.decode("utf-8-sig"), nl=False)
    else:
        output.write_bytes(data)
        typer.echo(f"已写入 {output}（{len(data):,} 字节） / written", err=True)


@app.command("import")
def import_sheet(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="目录表 .xlsx 或 .csv / sheet")],
    as_user: Annotated[str, typer.Option("--as", help="以此用户身份登记（登录名） / register as this user")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只校验，不登记 / check only")] = False,
    report: Annotated[
        Path | None, typer.Option(help="把逐行问题清单写入 CSV 文件 / write the row-level report as CSV")
    ] = None,
) -> None:
    """按目录表批量登记信息资源：全部通过才登记，否则一条也不登记。

    目录表为 .xlsx 或 CSV（UTF-8 或 GB18030），一行一个信息项；问题逐行列出，有问题时退出码为 1。

    Register every resource of a catalog sheet (.xlsx or CSV, one row per item) as a draft, all or nothing. Problems are listed per row and column; exits 1 when the sheet has any.
    """
    from govshare.core.settings import get_settings

    errors: list[dict[str, Any]] = []
    with cli_session() as session:
        try:
            user = get_user_by_username(session, as_user)
        except NotFound:
            user = None
        if user is None or not user.is_active:
            fail(f"用户 {as_user} 不存在或已停用 / no such active user")
        try:
            result = sheet_import.import_sheet(
                session, user, file.read_bytes(), file.name,
                max_bytes=get_settings().max_upload_bytes, dry_run=dry_run,
            )  # fmt: skip
        except DomainError as err:
            listed = err.details.get("errors") if isinstance(err.details, dict) else None
            errors = listed or [{"row": "", "column": "", "code": err.code, "message": err.message}]
            typer.echo(text_table(("行", "列", "代码", "说明"), [list(e.values()) for e in errors]))
            typer.secho(f"{err.code}: {err.message}", fg=typer.colors.RED, err=True)
    if report is not None:
        _write_report(report, errors)
    if errors:
        raise typer.Exit(1)
    verb = "校验通过（试运行，未登记）" if dry_run else "已登记"
    typer.echo(f"{verb} {result.resources} 个信息资源、{result.items} 个信息项：{'、'.join(result.codes)}")


def _write_report(path: Path, errors: list[dict[str, Any]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, ["row", "column", "code", "message"], lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(errors)
    path.write_bytes(out.getvalue().encode("utf-8-sig"))


@app.command("template")
def template(file: Annotated[Path, typer.Argument(dir_okay=False, help="输出文件 .xlsx 或 .csv")]) -> None:
    """生成空白目录表模板（表头、一行示例；.xlsx 另附填写说明）。

    Write the blank catalog sheet template (.xlsx with an instructions sheet, or .csv) with one example row.
    """
    makers = {".xlsx": sheet_template.template_xlsx, ".csv": sheet_template.template_csv}
    make = makers.get(file.suffix.lower())
    if make is None:
        fail("模板文件须以 .xlsx 或 .csv 结尾 / the file must end in .xlsx or .csv")
        return
    file.write_bytes(make())
    typer.echo(f"已写入模板 {file} / template written")
