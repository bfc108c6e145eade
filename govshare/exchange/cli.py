"""`govshare exchange`: applications (接入应用) and their credentials, and the token signing keys.

Every command reads GOVSHARE_DATABASE_URL; `--as` names the user on whose behalf a command acts, so the
credential log says who did it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from govshare.auth.service import get_user_by_username
from govshare.core.cli_support import (  # the CLI helpers every capability shares
    cli_session,
    echo_json,
    text_table,
)
from govshare.core.settings import get_settings
from govshare.exchange import grants_cli, service
from govshare.exchange.models import CHANNEL_LABELS, Application, Channel
from govshare.exchange.schemas import ApplicationIn, ApplicationPublic

app = typer.Typer(
    help="交换体系：接入应用与凭据、令牌签名密钥。/ Exchange: applications, credentials, token signing keys.",
    no_args_is_help=True,
)
apps = typer.Typer(
    help="接入应用：登记、列出、查看、更换密钥、吊销凭据、停用。/ Applications and their credentials.",
    no_args_is_help=True,
)
app.add_typer(apps, name="app")

AsUser = Annotated[
    str, typer.Option("--as", help="以此用户身份操作（登录名），记入凭据操作记录 / act as this user")
]
AppId = Annotated[int, typer.Argument(help="应用编号（govshare exchange app list 中的 id）")]
Reason = Annotated[str, typer.Option(help="原因 / reason")]
_SECRET_NOTICE = "client_secret 仅显示这一次，平台只保存其摘要，请立即妥善保存。/ Shown once: store it now."


def _echo_credentials(application: Application, secret: str) -> None:
    typer.echo(f"client_id:     {application.client_id}")
    typer.echo(f"client_secret: {secret}")
    typer.secho(_SECRET_NOTICE, fg=typer.colors.YELLOW, err=True)


@apps.command("create")
def create(
    as_user: AsUser,
    name: Annotated[str, typer.Option(help="应用名称")],
    channel: Annotated[
        Channel, typer.Option(help="渠道: " + "、".join(f"{c} {lb}" for c, lb in CHANNEL_LABELS.items()))
    ],
    contact: Annotated[str, typer.Option(help="联系人")],
    phone: Annotated[str, typer.Option(help="联系电话（手机或带区号的固定电话）")],
    description: Annotated[str, typer.Option(help="应用说明")] = "",
    department: Annotated[str | None, typer.Option(help="所属部门代码（默认操作人所在部门）")] = None,
) -> None:
    """登记接入应用并签发凭据（client_id 与仅显示一次的 client_secret）。

    Register an application and issue its credentials: the client_id and a client_secret shown only once.
    """
    data = ApplicationIn(
        name=name,
        channel=channel.value,
        contact_name=contact,
        contact_phone=phone,
        description=description,
        department_code=department,
    )
    with cli_session() as session:
        application, secret = service.register_application(
            session, get_user_by_username(session, as_user), data
        )
        typer.echo(
            f"registered application {application.id}: {application.name} ({application.department.name})"
        )
        _echo_credentials(application, secret)


@apps.command("list")
def list_apps(
    as_user: AsUser,
    department: Annotated[str | None, typer.Option(help="部门代码")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """列出接入应用（本部门的；数据管理部门和审计人员可见全部）。

    List applications: your department's; the authority and auditors see every department's.
    """
    with cli_session() as session:
        found = service.list_applications(session, get_user_by_username(session, as_user), department)
        if as_json:
            echo_json([ApplicationPublic.model_validate(a).model_dump(mode="json") for a in found])
            return
        rows = [
            [a.id, a.name, CHANNEL_LABELS[a.channel], a.department.name, a.client_id, a.status.value]
            for a in found
        ]
        typer.echo(text_table(("id", "名称", "渠道", "部门", "client_id", "状态"), rows))


@apps.command("show")
def show(app_id: AppId, as_user: AsUser) -> None:
    """查看接入应用及其凭据操作记录（谁、何时）。

    Show an application and its credential log (who did what, when).
    """
    with cli_session() as session:
        actor = get_user_by_username(session, as_user)
        echo_json(
            ApplicationPublic.model_validate(service.get_application(session, actor, app_id)).model_dump(
                mode="json"
            )
        )
        rows = [
            [e.at.isoformat(timespec="seconds"), e.kind.value, e.actor.username, e.details]
            for e in service.credential_events(session, actor, app_id)
        ]
        typer.echo(text_table(("时间", "操作", "操作人", "详情"), rows))


@apps.command("rotate-secret")
def rotate_secret(
    app_id: AppId,
    as_user: AsUser,
    grace_minutes: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=7 * 24 * 60,
            help="旧密钥继续有效的分钟数（默认取 GOVSHARE_EXCHANGE_SECRET_GRACE_MINUTES）",
        ),
    ] = None,
) -> None:
    """更换客户端密钥：新密钥仅显示一次，旧密钥在宽限期后失效，已签发的令牌不受影响。

    Rotate the client secret: the new one is shown once, the old one stops after the grace period,
    live tokens keep working.
    """
    with cli_session() as session:
        actor = get_user_by_username(session, as_user)
        application, secret, until = service.rotate_secret(
            session, actor, get_settings(), app_id, grace_minutes
        )
        _echo_credentials(application, secret)
        typer.echo(f"previous secret works until {until.isoformat(timespec='seconds')}")


@apps.command("revoke")
def revoke(app_id: AppId, as_user: AsUser, reason: Reason = "") -> None:
    """吊销应用的全部密钥，已签发的令牌立即失效（如密钥泄露）；再用 rotate-secret 签发新密钥。

    Revoke every secret and live token of an application (a leaked secret); rotate-secret issues a new one.
    """
    with cli_session() as session:
        application = service.revoke_credentials(
            session, get_user_by_username(session, as_user), app_id, reason
        )
        typer.echo(
            f"revoked every secret and live token of application {application.id} ({application.client_id})"
        )


@apps.command("disable")
def disable(app_id: AppId, as_user: AsUser, reason: Reason = "") -> None:
    """停用接入应用：不再签发令牌，已签发的令牌立即失效。

    Disable an application: no more tokens, and its live tokens are refused at once.
    """
    with cli_session() as session:
        application = service.disable_application(
            session, get_user_by_username(session, as_user), app_id, reason
        )
        typer.echo(f"disabled application {application.id} ({application.name})")


@app.command("rotate-key")
def rotate_key() -> None:
    """更换令牌签名密钥（Ed25519）：新令牌使用新密钥，旧密钥签发的令牌在有效期内仍可验证。

    Rotate the token signing key (Ed25519): new tokens use the new key; tokens signed by the previous
    key verify until they expire.
    """
    with cli_session() as session:
        key = service.rotate_signing_key(session, get_settings(), None)
        typer.echo(f"new signing key {key.kid}; tokens signed by earlier keys verify until they expire")


@app.command("keys")
def keys() -> None:
    """列出令牌签名密钥（最新在前）。

    List the token signing keys, newest first.
    """
    with cli_session() as session:
        rows = [
            [
                k.kid,
                k.created_at.isoformat(timespec="seconds"),
                k.retired_at.isoformat(timespec="seconds") if k.retired_at else "active",
            ]
            for k in service.list_signing_keys(session, None)
        ]
        typer.echo(text_table(("kid", "创建时间", "停用时间"), rows))


grants_cli.register(app)  # request, grant and demand subcommands
