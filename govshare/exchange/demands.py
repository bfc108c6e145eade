"""Data demands (需求清单): data a department needs that nobody has registered.

A department files a demand (what data, why, for which service items). The platform authority assigns
it to the department responsible, which has ``exchange_demand_deadline_days`` working days (工作日) to
answer: either the resource it registered and published, or why it cannot provide the data. Assigned
demands past their due date are overdue (逾期). Everyone signed in sees the list: a published demand
list is how departments find out what others are waiting for.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from govshare.auth.models import Role, User
from govshare.auth.service import get_department
from govshare.catalog import service as catalog
from govshare.catalog.models import ResourceStatus
from govshare.catalog.rules import Problem, invalid
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.core.types import utcnow
from govshare.core.workdays import add_working_days
from govshare.exchange.grant_schemas import DemandIn
from govshare.exchange.models import DataDemand, DemandStatus
from govshare.exchange.request_rules import SERVICE_ITEM

TITLE_MAX = 100
FILERS = (Role.AUTHORITY, Role.DATA_OFFICER, Role.APP_OPERATOR)


def file_demand(session: Session, actor: User, data: DemandIn, now: datetime | None = None) -> DataDemand:
    """File a demand (提出数据需求) for the actor's department."""
    if actor.role not in FILERS:
        raise PermissionDenied("filer_role", "只有部门数据管理员、应用管理员和数据管理部门可以提出数据需求")
    problems: list[Problem] = []
    title, reason = data.title.strip(), data.reason.strip()
    if not title or len(title) > TITLE_MAX:
        problems.append(Problem("title", "title_required", f"须填写所需数据（不超过{TITLE_MAX}字）"))
    if not reason:
        problems.append(Problem("reason", "reason_required", "须说明需求理由"))
    service_items = list(dict.fromkeys(s.strip() for s in data.service_items if s.strip()))
    for code in service_items:
        if not SERVICE_ITEM.match(code):
            problems.append(
                Problem("service_items", "invalid_service_item", f"政务服务事项编码格式不正确：{code}")
            )
    if problems:
        raise invalid(problems)
    demand = DataDemand(
        title=title, reason=reason, service_items=service_items, department_id=actor.department_id,
        filed_by_id=actor.id, filed_at=now or utcnow(), status=DemandStatus.OPEN, answer="",
    )  # fmt: skip
    session.add(demand)
    session.commit()
    return demand


def get_demand(session: Session, demand_id: int) -> DataDemand:
    demand = session.get(DataDemand, demand_id)
    if demand is None:
        raise NotFound("demand_not_found", f"未找到数据需求 {demand_id}", {"id": demand_id})
    return demand


def assign_demand(
    session: Session, actor: User, demand_id: int, department_code: str, *, deadline_days: int,
    now: datetime | None = None,
) -> DataDemand:  # fmt: skip
    """The authority assigns (or reassigns) a demand to the responsible department, with a due date."""
    if actor.role != Role.AUTHORITY:
        raise PermissionDenied("authority_only", "数据需求由数据管理部门分派")
    demand = get_demand(session, demand_id)
    if demand.status not in (DemandStatus.OPEN, DemandStatus.ASSIGNED):
        raise Conflict("demand_answered", f"数据需求 {demand.id} 已答复")
    department = get_department(session, department_code)
    now = now or utcnow()
    deadline = add_working_days(now, deadline_days)
    demand.status, demand.assigned_department_id, demand.assigned_by_id = (
        DemandStatus.ASSIGNED,
        department.id,
        actor.id,
    )
    demand.assigned_department = department
    demand.assigned_at, demand.due_at, demand.due_estimated = now, deadline.due_at, deadline.estimated
    session.commit()
    return demand


def answer_demand(
    session: Session, actor: User, demand_id: int, resource_code: str | None = None, reason: str = "",
    now: datetime | None = None,
) -> DataDemand:  # fmt: skip
    """The responsible department's data officer answers: a registered and published resource of its
    own (fulfilled), or why it cannot provide the data (declined, reason required)."""
    demand = get_demand(session, demand_id)
    if actor.role != Role.DATA_OFFICER or actor.department_id != demand.assigned_department_id:
        raise PermissionDenied("not_assignee", "只有责任部门的数据管理员可以答复该数据需求")
    if demand.status != DemandStatus.ASSIGNED:
        raise Conflict("demand_not_assigned", f"数据需求 {demand.id} 不在待答复状态（{demand.status.value}）")
    if resource_code and resource_code.strip():
        resource = catalog.get_resource(session, resource_code.strip())
        if resource.provider_id != actor.department_id:
            raise ValidationFailed("not_own_resource", f"资源 {resource.code} 不是本部门登记的资源")
        if resource.status != ResourceStatus.PUBLISHED:
            raise ValidationFailed("resource_not_published", f"资源 {resource.code} 尚未发布，请发布后再答复")
        demand.status, demand.resource_id, demand.resource = DemandStatus.FULFILLED, resource.id, resource
    elif not reason.strip():
        raise ValidationFailed("reason_required", "不能提供时须说明理由")
    else:
        demand.status = DemandStatus.DECLINED
    demand.answer, demand.answered_by_id, demand.answered_at = reason.strip(), actor.id, now or utcnow()
    session.commit()
    return demand


def list_demands(
    session: Session, status: str | None = None, *, department_id: int | None = None,
    overdue_only: bool = False, now: datetime | None = None, limit: int = 500,
) -> list[DataDemand]:  # fmt: skip
    """Every demand (or those filed by or assigned to ``department_id``): waiting ones first, soonest
    due first, then newest."""
    stmt = select(DataDemand)
    if department_id is not None:
        stmt = stmt.where(
            (DataDemand.department_id == department_id) | (DataDemand.assigned_department_id == department_id)
        )
    if status:
        if status not in DemandStatus._value2member_map_:
            raise ValidationFailed("invalid_status", "状态须为 open / assigned / fulfilled / declined")
        stmt = stmt.where(DataDemand.status == DemandStatus(status))
    if overdue_only:
        stmt = stmt.where(DataDemand.status == DemandStatus.ASSIGNED, DataDemand.due_at < (now or utcnow()))
    waiting = case((DataDemand.status.in_([DemandStatus.OPEN, DemandStatus.ASSIGNED]), 0), else_=1)
    return list(session.scalars(stmt.order_by(waiting, DataDemand.due_at, DataDemand.id.desc()).limit(limit)))
