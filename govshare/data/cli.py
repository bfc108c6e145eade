"""`govshare data`: publish records of a resource from a file (CSV/TSV, JSON Lines, Excel, Parquet)."""

from __future__ import annotations

import csv
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from govshare.data.models import LoadMode

app = typer.Typer(
    help="共享数据：加载信息资源的记录（校验、批次、拒绝报告）。/ Shared data: load records into a resource.",
    no_args_is_help=True,
)
console = Console(stderr=True)


def _session():  # type: ignore[no-untyped-def]
    from govshare.core.db import make_engine, make_session_factory
    from govshare.core.settings import get_settings

    return make_session_factory(make_engine(get_settings().database_url))()


def _parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        column, sep, item = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"--map 须为 列名=信息项（或 列名=- 忽略该列）：{pair}")
        mapping[column.strip()] = item.strip()
    return mapping


@app.command("load")
def load_file(
    resource: str = typer.Argument(..., help="信息资源代码，如 101/000001"),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="数据文件"),
    mode: LoadMode = typer.Option(
        LoadMode.UPSERT, help="upsert 新增或更新 · replace 全量替换 · delete 按主键删除"
    ),
    strict: bool = typer.Option(
        False, "--strict", help="任一行有错则整批不入库 / store nothing if any row is invalid"
    ),
    as_user: str = typer.Option(..., "--as", help="以哪个用户的身份加载（须为提供方部门的数据管理员）"),
    batch_id: str = typer.Option(
        "", "--batch-id", help="批次标识；默认由文件内容和模式计算，同一文件重复加载不会重复入库"
    ),
    encoding: str = typer.Option("", help="文本文件编码（默认自动识别 UTF-8 / GB18030）"),
    file_format: str = typer.Option("", "--format", help="csv, tsv, jsonl, xlsx, parquet（默认按扩展名）"),
    sheet: str = typer.Option("", help="Excel 工作表名（默认第一个）"),
    mapping: list[str] = typer.Option([], "--map", help="列名=信息项，可重复；列名=- 表示忽略该列"),
    report: Path | None = typer.Option(None, help="把逐行拒绝报告写入该 CSV 文件"),
) -> None:
    """加载数据文件到信息资源：逐行校验，原子、幂等，输出加载报告。/ Load a data file into a resource.

    Columns match item names (中文表头) unless --map says otherwise. Invalid rows are rejected one by
    one and the rest is stored; with --strict nothing is stored if any row is invalid. Exit 1 when
    rows were rejected.
    """
    from govshare.auth.service import get_user_by_username
    from govshare.core.errors import DomainError
    from govshare.data import service
    from govshare.data.readers import ReaderError, open_source

    session = _session()
    try:
        actor = get_user_by_username(session, as_user)
        source = open_source(file, format=file_format or None, encoding=encoding or None, sheet=sheet or None)
        key = batch_id or service.content_key(file, mode)
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        ) as bar:
            task = bar.add_task(f"加载 {file.name}", total=None)
            result = service.load(
                session, actor, resource, source.columns, source, batch_key=key, mode=mode, strict=strict,
                source_name=file.name, mapping=_parse_mapping(mapping),
                progress=lambda n: bar.update(task, description=f"加载 {file.name}：已读 {n:,} 行"),
            )  # fmt: skip
    except (DomainError, ReaderError) as err:
        console.print(f"[red]{err.code}[/red]: {err.message}")
        raise typer.Exit(1) from err
    finally:
        session.close()
    note = "（该批次此前已加载，未作任何更改）" if result.already_applied else ""
    typer.echo(
        f"batch {result.batch_id} {result.status}{note}\n"
        f"read {result.rows_read:,} · inserted {result.inserted:,} · updated {result.updated:,} · "
        f"unchanged {result.unchanged:,} · deleted {result.deleted:,} · rejected {result.rejected:,}"
    )
    if result.rejected:
        if report is not None:
            _write_report(result.batch_id, report)
            typer.echo(f"rejection report: {report}")
        for r in result.rejections[:10]:
            typer.echo(f"  row {r['row']} {r['column']}: {r['code']} {r['message']}")
        raise typer.Exit(1)


def _write_report(batch_id: int, path: Path) -> None:
    from govshare.data import service

    session = _session()
    try:
        with path.open("w", newline="", encoding="utf-8-sig") as f:
            out = csv.writer(f)
            out.writerow(["行号 row", "列 column", "代码 code", "说明 message"])
            for r in service.rejections(session, batch_id):
                out.writerow([r.row_number, r.column, r.code, r.message])
    finally:
        session.close()
