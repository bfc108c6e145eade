"""`govshare exchange request|grant|demand`: access requests (共享申请), grants (授权) and data demands
(需求清单) from the console, through the same services as the API. `--as` names the acting user, so
the decision history and the grant log say who did it."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, cast

import typer
from sqlalchemy.orm import Session

from govshare.auth.models import User
from govshare.auth.service import get_user_by_username
from govshare.core.cli_support import (  # the CLI helpers every capability shares
    cli_session,
    echo_json,
    text_table,
)
from govshare.core.settings import get_settings
from govshare.core.types import utcnow
from govshare.core.workdays import CHINA_TZ
from govshare.exchange import demands, grants, requests
from govshare.exchange.grant_schemas import (
    OPERATIONS_HELP,
    AccessRequestIn,
    DecisionIn,
    DemandIn,
    demand_public,
    grant_public,
    request_public,
)
from govshare.exchange.models import AccessRequest, DataDemand, Grant, RequestStatus

request_app = typer.Typer(
    help="共享申请：提交、列出（待我审核 / 我提交的）、查看、审核（含终局决定）、提请协调。/ Access requests.",
    no_args_is_help=True,
)
grant_app = typer.Typer(
    help="授权：列出、查看、暂停、恢复、撤销、续期、到期处理。/ Grants.", no_args_is_help=True
)
demand_app = typer.Typer(help="数据需求清单：提出、列出、分派、答复。/ Data demands.", no_args_is_help=True)

AsUser = Annotated[str, typer.Option("--as", help="以此用户身份操作（登录名） / act as this user")]
Id = Annotated[int, typer.Argument(help="编号 / id")]
AsJson = Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")]
Texts = Annotated[list[str] | None, typer.Option(help="可重复 / repeatable")]
Reason = Annotated[str, typer.Option(help="理由 / reason")]
Overdue = Annotated[bool, typer.Option("--overdue", help="只列逾期的 / overdue only")]
Status = Annotated[str | None, typer.Option(help="状态 / status")]


class Verdict(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


def _user(session: Session, username: str) -> User:
    return get_user_by_username(session, username)


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _due(value: datetime | None) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d") if value else "—"


def _request_rows(found: list[AccessRequest]) -> str:
    now = utcnow()
    rows = [
        [r.id, r.resource.name, r.application.name, r.department.name, r.status.value,
         (r.stage or {}).get("name", "—"), _due(r.due_at) + (" 逾期" if r.is_overdue(now) else "")]
        for r in found
    ]  # fmt: skip
    return text_table(("id", "资源", "应用", "申请部门", "状态", "环节", "答复期限"), rows)


def _grant_rows(found: list[Grant]) -> str:
    rows = [
        [g.id, g.resource.name, g.application.name, ",".join(g.items), ",".join(g.operations), g.status.value,
         str(g.valid_to)]
        for g in found
    ]  # fmt: skip
    return text_table(("id", "资源", "应用", "信息项", "调用方式", "状态", "有效期至"), rows)


def _demand_rows(found: list[DataDemand]) -> str:
    now = utcnow()
    rows = [
        [d.id, d.title, d.department.name, d.status.value, d.assigned_department.name if d.assigned_department else "—",
         _due(d.due_at) + (" 逾期" if d.is_overdue(now) else "")]
        for d in found
    ]  # fmt: skip
    return text_table(("id", "所需数据", "提出部门", "状态", "责任部门", "答复期限"), rows)


@request_app.command("create")
def create_request(
    as_user: AsUser,
    application: Annotated[int, typer.Option(help="接入应用编号")],
    resource: Annotated[str, typer.Option(help="信息资源代码")],
    operation: Annotated[list[str], typer.Option(help=OPERATIONS_HELP + "；可重复")],
    purpose: Annotated[str, typer.Option(help="使用用途（必填）")],
    item: Annotated[list[str] | None, typer.Option(help="所需信息项，可重复；不填为全部可共享信息项")] = None,
    legal_basis: Annotated[str, typer.Option(help="申请依据")] = "",
    service_item: Annotated[list[str] | None, typer.Option(help="政务服务事项编码，可重复")] = None,
    unmask: Annotated[list[str] | None, typer.Option(help="申请不脱敏的信息项，可重复")] = None,
    valid_from: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="使用期限起")] = None,
    valid_to: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="使用期限止")] = None,
) -> None:
    """提交共享申请：无条件共享的资源立即授权，有条件共享的进入审核并给出答复期限（工作日）。

    File an access request: an unconditional resource is granted at once, a conditional one waits for
    review with a due date in working days.
    """
    data = AccessRequestIn(
        application_id=application, resource_code=resource, items=item or [], operations=operation,
        purpose=purpose, legal_basis=legal_basis, service_items=service_item or [], unmasked_items=unmask or [],
        valid_from=_day(valid_from), valid_to=_day(valid_to),
    )  # fmt: skip
    with cli_session() as session:
        request = requests.submit_request(session, _user(session, as_user), get_settings(), data)
        if request.grant_id:
            typer.echo(f"request {request.id} approved: grant {request.grant_id}")
        else:
            stage = (request.stage or {}).get("name")
            typer.echo(f"request {request.id} pending at {stage}, due {_due(request.due_at)}")


@request_app.command("list")
def list_requests(
    as_user: AsUser,
    box: Annotated[str, typer.Option(help="inbox 待我审核 / filed 我提交的")] = "inbox",
    status: Status = None,
    overdue: Overdue = False,
    as_json: AsJson = False,
) -> None:
    """列出共享申请：待我审核的（未办结在前，期限近的在前）或本部门提交的；逾期的标注“逾期”。

    List access requests: the inbox (undecided first, soonest due first) or those we filed; overdue
    ones are marked.
    """
    with cli_session() as session:
        user = _user(session, as_user)
        found = requests.list_requests(session, user, cast(requests.Box, box), status, overdue_only=overdue)
        if as_json:
            echo_json([request_public(r, utcnow()).model_dump(mode="json") for r in found])
        else:
            typer.echo(_request_rows(found))


@request_app.command("show")
def show_request(request_id: Id, as_user: AsUser) -> None:
    """查看共享申请及其审核记录（环节、决定人、时间、决定、理由）。

    Show an access request with its decision history.
    """
    with cli_session() as session:
        request = requests.get_request(session, _user(session, as_user), request_id)
        echo_json(request_public(request, utcnow()).model_dump(mode="json"))


def _decision(
    verdict: Verdict, reason: str, item: list[str] | None, operation: list[str] | None, unmask: list[str] | None,
    conditions: str, rate_limit: int | None, valid_to: datetime | None,
) -> DecisionIn:  # fmt: skip
    return DecisionIn(
        decision=verdict.value, reason=reason, items=item or None, operations=operation or None,
        unmasked_items=unmask or [], conditions=conditions, rate_limit_per_minute=rate_limit,
        valid_to=_day(valid_to),
    )  # fmt: skip


Verdicts = Annotated[Verdict, typer.Argument(help="approve 同意（符合性审查为通过）/ reject 不予同意")]
Conditions = Annotated[str, typer.Option(help="使用条件")]
RateLimit = Annotated[int | None, typer.Option(help="每分钟调用上限")]
Until = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="授权截止日期")]


@request_app.command("decide")
def decide(
    request_id: Id, verdict: Verdicts, as_user: AsUser, reason: Reason = "", item: Texts = None,
    operation: Texts = None, unmask: Texts = None, conditions: Conditions = "", rate_limit: RateLimit = None,
    valid_to: Until = None,
) -> None:  # fmt: skip
    """审核当前环节：同意（可缩减信息项、调用方式，附条件、频率上限、截止日期、不脱敏信息项）或不予同意（须说明理由）；协调中的申请由数据管理部门作终局决定。

    Decide the current stage: approve (optionally narrowed, with conditions, a rate limit, an expiry and
    unmasked items) or reject with a reason. On an escalated request this is the authority's final decision.
    """
    data = _decision(verdict, reason, item, operation, unmask, conditions, rate_limit, valid_to)
    with cli_session() as session:
        user = _user(session, as_user)
        escalated = requests.get_request(session, user, request_id).status == RequestStatus.ESCALATED
        request = (requests.arbitrate if escalated else requests.decide)(session, user, request_id, data)
        grant = f", grant {request.grant_id}" if request.grant_id else ""
        typer.echo(f"request {request.id}: {request.status.value}{grant}" + (" (final)" if escalated else ""))


@request_app.command("escalate")
def escalate(request_id: Id, as_user: AsUser, reason: Reason) -> None:
    """提请数据管理部门协调（申请方或提供方，须说明理由）；协调决定为终局决定。

    Escalate a dispute to the platform authority (either side, with a reason); its decision is final.
    """
    with cli_session() as session:
        request = requests.escalate(session, _user(session, as_user), request_id, reason)
        typer.echo(f"request {request.id}: escalated")


@grant_app.command("list")
def list_grants(
    as_user: AsUser,
    box: Annotated[str, typer.Option(help="mine 本部门应用获得的 / provided 本部门资源的")] = "mine",
    status: Status = None,
    as_json: AsJson = False,
) -> None:
    """列出授权：本部门应用获得的，或本部门资源授出的。

    List grants held by our applications, or granted on our resources.
    """
    with cli_session() as session:
        found = grants.list_grants(session, _user(session, as_user), cast(grants.Box, box), status)
        if as_json:
            echo_json([grant_public(g).model_dump(mode="json") for g in found])
        else:
            typer.echo(_grant_rows(found))


@grant_app.command("show")
def show_grant(grant_id: Id, as_user: AsUser) -> None:
    """查看授权及其变更记录。

    Show a grant and its history.
    """
    with cli_session() as session:
        echo_json(
            grant_public(grants.get_grant(session, _user(session, as_user), grant_id)).model_dump(mode="json")
        )


def _change(grant_id: int, as_user: str, action: grants.Action, reason: str) -> None:
    with cli_session() as session:
        grant = grants.change_grant(session, _user(session, as_user), grant_id, action, reason)
        typer.echo(f"grant {grant.id}: {grant.status.value}")


@grant_app.command("suspend")
def suspend(grant_id: Id, as_user: AsUser, reason: Reason) -> None:
    """暂停授权（提供方或数据管理部门，须说明理由），下一次调用即被拒绝。

    Suspend a grant (the provider or the authority, with a reason); the next call is refused.
    """
    _change(grant_id, as_user, "suspend", reason)


@grant_app.command("resume")
def resume(grant_id: Id, as_user: AsUser, reason: Reason) -> None:
    """恢复已暂停的授权。

    Resume a suspended grant.
    """
    _change(grant_id, as_user, "resume", reason)


@grant_app.command("revoke")
def revoke(grant_id: Id, as_user: AsUser, reason: Reason) -> None:
    """撤销授权（终止，须重新申请），立即生效。

    Revoke a grant for good, effective at once.
    """
    _change(grant_id, as_user, "revoke", reason)


@grant_app.command("renew")
def renew(
    grant_id: Id,
    as_user: AsUser,
    valid_to: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="新的截止日期")],
    reason: Reason = "",
) -> None:
    """授权续期：设定新的截止日期（记录原截止日期），已到期的授权恢复有效。

    Renew a grant with a new last day (the old one is recorded); an expired grant becomes active again.
    """
    with cli_session() as session:
        grant = grants.renew_grant(
            session, _user(session, as_user), grant_id, valid_to.date(), reason,
            max_days=get_settings().exchange_grant_max_days,
        )  # fmt: skip
        typer.echo(f"grant {grant.id}: {grant.status.value} until {grant.valid_to}")


@grant_app.command("expire")
def expire() -> None:
    """将已过截止日期的有效授权标记为已到期（调用核验无论如何都会拒绝）。

    Mark active grants past their last day as expired (calls are refused either way).
    """
    with cli_session() as session:
        typer.echo(f"expired {len(grants.expire_grants(session))} grant(s)")


@demand_app.command("file")
def file_demand(
    as_user: AsUser,
    title: Annotated[str, typer.Option(help="所需数据")],
    reason: Annotated[str, typer.Option(help="需求理由")],
    service_item: Texts = None,
) -> None:
    """提出数据需求：需要而尚无部门登记的数据（什么、为什么、服务哪些事项）。

    File a demand for data nobody has registered: what, why, for which service items.
    """
    with cli_session() as session:
        demand = demands.file_demand(
            session,
            _user(session, as_user),
            DemandIn(title=title, reason=reason, service_items=service_item or []),
        )
        typer.echo(f"demand {demand.id} filed")


@demand_app.command("list")
def list_demands(status: Status = None, overdue: Overdue = False, as_json: AsJson = False) -> None:
    """列出数据需求清单及其状态、责任部门和答复期限；逾期的标注“逾期”。

    List data demands with status, responsible department and due date; overdue ones are marked.
    """
    with cli_session() as session:
        found = demands.list_demands(session, status, overdue_only=overdue)
        if as_json:
            echo_json([demand_public(d, utcnow()).model_dump(mode="json") for d in found])
        else:
            typer.echo(_demand_rows(found))


@demand_app.command("assign")
def assign(
    demand_id: Id, as_user: AsUser, department: Annotated[str, typer.Option(help="责任部门代码")]
) -> None:
    """分派数据需求给责任部门（数据管理部门），答复期限按工作日计算。

    Assign a demand to the responsible department (the authority); due in working days.
    """
    with cli_session() as session:
        demand = demands.assign_demand(
            session, _user(session, as_user), demand_id, department,
            deadline_days=get_settings().exchange_demand_deadline_days,
        )  # fmt: skip
        typer.echo(f"demand {demand.id} assigned, due {_due(demand.due_at)}")


@demand_app.command("answer")
def answer(
    demand_id: Id,
    as_user: AsUser,
    resource: Annotated[str | None, typer.Option(help="已登记并发布的信息资源代码")] = None,
    reason: Reason = "",
) -> None:
    """答复数据需求：给出已登记并发布的资源，或说明不能提供的理由。

    Answer a demand with a registered and published resource, or explain why the data cannot be provided.
    """
    with cli_session() as session:
        demand = demands.answer_demand(session, _user(session, as_user), demand_id, resource, reason)
        typer.echo(f"demand {demand.id}: {demand.status.value}")


def register(app: typer.Typer) -> None:
    app.add_typer(request_app, name="request")
    app.add_typer(grant_app, name="grant")
    app.add_typer(demand_app, name="demand")
