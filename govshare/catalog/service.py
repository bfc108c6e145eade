"""Catalog use cases (目录登记、提交、发布、撤销): one transaction each, authorization checked here once.

Who may do what: a department data officer registers and changes its own department's resources
and submits them; the platform authority publishes (or returns) submitted entries, reviews the
negative list and may act for any department; either retires a published entry.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.auth.models import Department, Role, User
from govshare.auth.service import get_department, require_role
from govshare.catalog import negative, rules, search, versions
from govshare.catalog.models import CodeSequence, Item, Resource, ResourceStatus
from govshare.catalog.schemas import ResourceIn
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.core.types import utcnow

EDITABLE = (ResourceStatus.DRAFT, ResourceStatus.PUBLISHED)


def get_resource(session: Session, code: str) -> Resource:
    resource = session.scalar(select(Resource).where(Resource.code == code.strip()))
    if resource is None:
        raise NotFound("resource_not_found", f"未找到信息资源 {code}", {"code": code})
    return resource


def can_view(actor: User | None, resource: Resource) -> bool:
    """Published and retired entries are public; drafts only for their department and the authority."""
    if resource.status in (ResourceStatus.PUBLISHED, ResourceStatus.RETIRED):
        return True
    return actor is not None and (
        actor.role in (Role.AUTHORITY, Role.AUDITOR) or actor.department_id == resource.provider_id
    )


def view_resource(session: Session, code: str, actor: User | None) -> Resource:
    resource = get_resource(session, code)
    if not can_view(actor, resource):
        # Same answer as a missing entry: drafts of other departments are not disclosed.
        raise NotFound("resource_not_found", f"未找到信息资源 {code}", {"code": code})
    return resource


def can_edit(actor: User | None, provider_id: int) -> bool:
    """The editor rule: the authority, or a data officer of the providing department."""
    if actor is None:
        return False
    return actor.role == Role.AUTHORITY or (
        actor.role == Role.DATA_OFFICER and actor.department_id == provider_id
    )


def _require_editor(actor: User, provider: Department) -> None:
    if can_edit(actor, provider.id):
        return
    require_role(actor, Role.AUTHORITY, Role.DATA_OFFICER)
    raise PermissionDenied(
        "other_department",
        f"只能管理本部门（{actor.department.name}）的信息资源",
        {"provider": provider.code},
    )


def _provider_for(session: Session, actor: User, provider_code: str | None) -> Department:
    if provider_code and provider_code.strip().upper() != actor.department.code:
        return get_department(session, provider_code)
    return actor.department


def _check_related(session: Session, codes: list[str], own_code: str | None) -> list[rules.Problem]:
    if not codes:
        return []
    found = set(session.scalars(select(Resource.code).where(Resource.code.in_(codes))))
    return [
        rules.Problem("related_codes", "unknown_related_resource", f"关联资源 {c} 不存在")
        if c not in found
        else rules.Problem("related_codes", "self_related", "资源不能关联自身")
        for c in codes
        if c not in found or c == own_code
    ]


def _next_code(session: Session, classification_code: str) -> str:
    """Classification code + "/" + a six-digit sequence. Sequences only grow, so codes are never reused."""
    seq = session.scalar(
        select(CodeSequence).where(CodeSequence.prefix == classification_code).with_for_update()
    )
    if seq is None:
        seq = CodeSequence(prefix=classification_code, last_value=0)
        session.add(seq)
    seq.last_value += 1
    session.flush()
    return f"{classification_code}/{seq.last_value:06d}"


def _apply(resource: Resource, checked: rules.Checked) -> None:
    for key, value in checked.values.items():
        setattr(resource, key, value)
    by_name = {i.name: i for i in resource.items}
    resource.items = []
    for data in checked.items:
        item = by_name.get(data["name"]) or Item()
        for key, value in data.items():
            setattr(item, key, value)
        resource.items.append(item)


def _check(session: Session, data: ResourceIn, own_code: str | None = None) -> rules.Checked:
    checked = rules.check_resource(data)
    checked.problems += _check_related(session, checked.values.get("related_codes", []), own_code)
    checked.raise_if_invalid()
    return checked


def create_resource(session: Session, actor: User, data: ResourceIn) -> Resource:
    """Register a new resource as a draft (version 1) and queue any 不予共享 declaration for review."""
    provider = _provider_for(session, actor, data.provider_code)
    _require_editor(actor, provider)
    checked = _check(session, data)
    resource = Resource(provider=provider, status=ResourceStatus.DRAFT, version=1)
    _apply(resource, checked)
    resource.code = _next_code(session, checked.values["classification_code"])
    session.add(resource)
    session.flush()
    return _save_declaration(session, resource, actor, "created")


def update_resource(
    session: Session, actor: User, code: str, data: ResourceIn, expected_version: int | None = None
) -> Resource:
    """Change a draft or published resource; creates a new version. Its code never changes."""
    resource = get_resource(session, code)
    _require_editor(actor, resource.provider)
    if resource.status not in EDITABLE:
        raise Conflict(
            "not_editable",
            f"{resource.status.value} 状态的资源不能修改（提交审核中或已撤销）",
            {"status": resource.status.value},
        )
    if expected_version is not None and expected_version != resource.version:
        raise Conflict(
            "version_conflict",
            f"资源已被他人修改（当前版本 {resource.version}），请刷新后重试",
            {"current_version": resource.version},
        )
    if data.provider_code and data.provider_code.strip().upper() != resource.provider.code:
        raise ValidationFailed("provider_immutable", "不能更改信息资源的提供方", {"field": "provider_code"})
    checked = _check(session, data, own_code=resource.code)
    if checked.values["classification_code"] != resource.classification_code:
        raise ValidationFailed(
            "classification_immutable",
            "分类决定资源代码，登记后不能更改；请撤销后重新登记",
            {"field": "classification_code"},
        )
    before = versions.snapshot(resource)
    _apply(resource, checked)
    session.flush()
    if not versions.diff(before, versions.snapshot(resource)):
        session.rollback()
        return get_resource(session, code)
    resource.version += 1
    resource.updated_at = utcnow()
    return _save_declaration(session, resource, actor, "updated")


def _save_declaration(session: Session, resource: Resource, actor: User, action: str) -> Resource:
    """Everything a changed declaration drags along, in the same transaction as the change."""
    negative.sync(session, resource, actor)
    search.index_resource(session, resource)
    versions.record(session, resource, action, actor)
    session.commit()
    return resource


def _transition(
    session: Session, resource: Resource, actor: User, to: ResourceStatus, action: str, note: str = ""
) -> Resource:
    resource.status = to
    resource.version += 1
    resource.updated_at = utcnow()
    versions.record(session, resource, action, actor, note)
    session.commit()
    return resource


def submit(session: Session, actor: User, code: str) -> Resource:
    """Provider submits a draft for the authority's review (提交审核)."""
    resource = get_resource(session, code)
    _require_editor(actor, resource.provider)
    if resource.status != ResourceStatus.DRAFT:
        raise Conflict("invalid_transition", "只有草稿可以提交审核", {"status": resource.status.value})
    return _transition(session, resource, actor, ResourceStatus.SUBMITTED, "submitted")


def publish(session: Session, actor: User, code: str) -> Resource:
    """The authority publishes a submitted entry (审核发布); review outcomes may block it."""
    require_role(actor, Role.AUTHORITY)
    resource = get_resource(session, code)
    if resource.status != ResourceStatus.SUBMITTED:
        raise Conflict("invalid_transition", "只有待审核的资源可以发布", {"status": resource.status.value})
    blockers = negative.publish_blockers(session, resource)
    if blockers:
        problems = [rules.Problem("sharing_type", c, m) for c, m in blockers]
        raise Conflict(blockers[0][0], blockers[0][1], {"errors": [p.as_dict() for p in problems]})
    if resource.publish_date is None:
        resource.publish_date = date.today()
    return _transition(session, resource, actor, ResourceStatus.PUBLISHED, "published")


def return_to_draft(session: Session, actor: User, code: str, reason: str) -> Resource:
    """The authority sends a submitted entry back to its provider with a reason (退回修改)."""
    require_role(actor, Role.AUTHORITY)
    resource = get_resource(session, code)
    if resource.status != ResourceStatus.SUBMITTED:
        raise Conflict("invalid_transition", "只有待审核的资源可以退回", {"status": resource.status.value})
    if not reason.strip():
        raise ValidationFailed("reason_required", "退回须写明理由", {"field": "reason"})
    return _transition(session, resource, actor, ResourceStatus.DRAFT, "returned", reason.strip())


def retire(session: Session, actor: User, code: str, reason: str) -> Resource:
    """Retire a published entry (撤销); it stays visible as retired and its code is never reused."""
    resource = get_resource(session, code)
    _require_editor(actor, resource.provider)
    if resource.status != ResourceStatus.PUBLISHED:
        raise Conflict("invalid_transition", "只有已发布的资源可以撤销", {"status": resource.status.value})
    if not reason.strip():
        raise ValidationFailed("reason_required", "撤销须写明理由", {"field": "reason"})
    return _transition(session, resource, actor, ResourceStatus.RETIRED, "retired", reason.strip())


def version_diff(session: Session, resource: Resource, a: int, b: int) -> list[tuple[str, object, object]]:
    rows = {v.version: v for v in versions.list_for(session, resource)}
    for n in (a, b):
        if n not in rows:
            raise NotFound("version_not_found", f"资源 {resource.code} 没有版本 {n}", {"version": n})
    return versions.diff(rows[a].snapshot, rows[b].snapshot)
