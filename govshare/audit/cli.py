"""`govshare audit`: verify the hash-chained audit log (调用日志), sign checkpoints, export the public
keys. Every command reads GOVSHARE_DATABASE_URL and acts as the platform itself."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from govshare.audit import service, status, verify
from govshare.core.cli_support import (  # the CLI helpers every capability shares
    cli_session,
    echo_json,
    text_table,
)
from govshare.core.settings import get_settings

app = typer.Typer(
    help="调用日志：完整性核验、检查点签名、公钥导出。/ Audit log: verify the chain, sign checkpoints, export keys.",
    no_args_is_help=True,
)
AsJson = Annotated[bool, typer.Option("--json", help="以 JSON 输出 / print JSON")]


def _progress(done: int, total: int) -> None:
    share = f" ({100 * done // total}%)" if total else ""
    typer.echo(f"\r已核验 {done}/{total} 条{share}", nl=False, err=True)


@app.command("verify")
def verify_chain(
    from_seq: Annotated[
        int, typer.Option("--from", min=1, help="从第几条开始（以其前一条的哈希为起点）")
    ] = 1,
    as_json: AsJson = False,
    workers: Annotated[
        int, typer.Option("--workers", min=0, help="并行进程数（0：按 CPU 数）/ processes (0: one per CPU)")
    ] = 0,
) -> None:
    """重算调用日志的哈希链并核验全部检查点签名；发现问题时退出码为 1。

    Recompute the chain from --from and check every checkpoint signature. Names the first broken seq
    and what is wrong (deleted, modified, replaced, inserted, checkpoint_mismatch, bad_signature);
    exits 1 on any break, 0 when intact. Progress goes to stderr on long runs. From 200,000 entries
    on, --workers processes (default: one per CPU) walk consecutive ranges at once, with the same report.
    """
    progress = _progress if sys.stderr.isatty() else None
    with cli_session() as session:
        report = status.run_verification(session, None, from_seq, progress, workers or os.cpu_count() or 1)
    if as_json:
        echo_json(report.to_dict())
    else:
        typer.echo(verify.summary(report))
        if report.problems:
            rows = [[p.seq, p.kind, p.detail] for p in sorted(report.problems, key=lambda p: p.seq)]
            typer.echo(text_table(["seq", "问题 kind", "说明"], rows))
    if not report.ok:
        raise typer.Exit(1)


@app.command("checkpoint")
def sign_checkpoint() -> None:
    """立即在链尾签署检查点。/ Sign a checkpoint at the chain's current end now."""
    with cli_session() as session:
        cp = status.checkpoint_now(session, get_settings(), None)
    if cp is None:
        typer.echo("调用日志为空，无需签署 / the log is empty")
        return
    typer.echo(f"checkpoint seq={cp.seq} hash={cp.hash} kid={cp.kid} signature={cp.signature}")


@app.command("keys")
def export_keys() -> None:
    """导出全部检查点公钥（JWK 集合，附 PEM）。/ Print every checkpoint public key (JWK set with PEM)."""
    with cli_session() as session:
        echo_json(service.public_keys(session))


@app.command("rotate-key")
def rotate_key() -> None:
    """更换检查点签名密钥（旧密钥保留，用于核验其签过的检查点）。/ Rotate the checkpoint signing key."""
    with cli_session() as session:
        key = service.rotate_key(session, get_settings())
    typer.echo(f"新检查点签名密钥 / new checkpoint key: {key.kid}")


@app.command("subject-link")
def subject_link(
    key: Annotated[str, typer.Argument(help="公民身份号码或统一社会信用代码")],
    identity_checked: Annotated[
        bool, typer.Option("--identity-checked", help="已当面核对本人身份证件（必须）/ identity card checked")
    ] = False,
    kind: Annotated[str, typer.Option("--type", help="person_id / credit_code")] = "person_id",
    days: Annotated[int, typer.Option(min=1, max=30, help="有效天数 / valid for days")] = 7,
) -> None:
    """开具本人数据使用记录链接：本人无需账号即可凭链接查看谁查阅了其数据。

    Issue a signed link that opens this subject's access log without an account for --days days. The
    link names the subject only by its keyed hash; issuing it is recorded in the audit log.
    """
    from govshare.audit import queries

    settings = get_settings()
    with cli_session() as session:
        link = queries.subject_link(
            session, settings, None, kind, key, identity_checked=identity_checked, days=days
        )
    typer.echo(settings.base_url + link.path)
    typer.echo(f"{link.masked_key} · 有效至 / expires {link.expires_at:%Y-%m-%d %H:%M} UTC", err=True)
