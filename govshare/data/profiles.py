"""Subject profiles (主体画像): one person, legal entity or house merged across every resource keyed by it.

Like Singapore's Myinfo, each field comes with its source: the resource, the providing department and
when the value was last updated. Items the authority declared equivalent (one concept, e.g. 户籍地址,
held by several departments) are grouped; when their values differ the profile shows every value with
its source and the platform records a data-quality conflict that every provider involved can see.

Access, until the exchange with grants exists: the platform authority reads whole profiles; a data
officer reads only the fields of their own department's resources. Every read is logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govshare import audit
from govshare.auth.models import Department, Role, User
from govshare.catalog.models import Resource, ResourceStatus, SubjectKeyType
from govshare.core import ids
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.core.types import utcnow
from govshare.data.models import Batch, Record
from govshare.data.normalize import normalize_text
from govshare.data.profile_models import (
    ConflictStatus,
    ItemEquivalence,
    QualityConflict,
    QualityConflictParty,
    ReadLog,
)


@dataclass
class Source:
    """One value and where it came from (来源)."""

    item: str
    value: Any
    resource_code: str
    resource_name: str
    department: str
    updated_at: datetime


@dataclass
class ProfileField:
    """A field of the profile: one item, or one concept grouping equivalent items."""

    name: str
    values: list[Source]
    concept: bool = False
    conflict: bool = False


@dataclass
class Profile:
    subject_key_type: str
    subject_key: str
    fields: list[ProfileField] = field(default_factory=list)

    @property
    def resources(self) -> list[str]:
        return sorted({v.resource_code for f in self.fields for v in f.values})


def subject_key_type_of(value: str) -> SubjectKeyType:
    try:
        kind = SubjectKeyType(value)
    except ValueError as err:
        raise ValidationFailed(
            "invalid_subject_key_type", f"主体类型须为 {' / '.join(k.value for k in SubjectKeyType)}"
        ) from err
    if kind == SubjectKeyType.NONE:
        raise ValidationFailed("invalid_subject_key_type", "该资源不以主体为键，没有主体画像")
    return kind


def normalize_subject_key(kind: SubjectKeyType | str, key: str) -> str:
    """The key as records store it: ID numbers and credit codes folded and upper-cased (x → X)."""
    if kind in (SubjectKeyType.PERSON_ID, SubjectKeyType.CREDIT_CODE):
        return ids.normalize_resident_id(key)
    return normalize_text(key) or ""


def subject_key_hash(secret_key: str, kind: SubjectKeyType | str, key: str) -> str:
    """HMAC-SHA256 of the normalised key: the read log can be searched by subject without holding it."""
    message = f"{SubjectKeyType(kind).value}:{normalize_subject_key(kind, key)}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def subject_resources(session: Session, kind: SubjectKeyType) -> list[Resource]:
    """Published resources of this subject type whose single key item holds the subject key."""
    resources = session.scalars(
        select(Resource)
        .where(Resource.subject_key_type == kind, Resource.status == ResourceStatus.PUBLISHED)
        .order_by(Resource.code)
    )
    return [r for r in resources if sum(1 for i in r.items if i.is_key) == 1]


def profile(
    session: Session,
    subject_key_type: SubjectKeyType | str,
    subject_key: str,
    *,
    only_department: int | None = None,
    record_conflicts: bool = True,
) -> Profile:
    """Merge the current record of ``subject_key`` from every matching resource.

    Conflicts are judged on the whole merge (so they are recorded whoever looks); ``only_department``
    then keeps only the fields of that department's resources.
    """
    kind = subject_key_type_of(str(subject_key_type))
    key = normalize_subject_key(kind, subject_key)
    resources = {r.id: r for r in subject_resources(session, kind)}
    found = session.execute(
        select(Record, Department.name)
        .join(Batch, Batch.id == Record.batch_id)
        .join(Department, Department.id == Batch.department_id)
        .where(Record.resource_id.in_(list(resources)), Record.record_key == key)
    ).all()
    sources: dict[tuple[int, str], Source] = {}
    for record, department in sorted(found, key=lambda row: resources[row[0].resource_id].code):
        resource = resources[record.resource_id]
        data = json.loads(record.data)
        for item in resource.items:
            if item.is_key or item.name not in data:
                continue
            sources[(resource.id, item.name)] = Source(
                item=item.name, value=data[item.name], resource_code=resource.code,
                resource_name=resource.name, department=department, updated_at=record.valid_from,
            )  # fmt: skip
    result = Profile(kind.value, key, _fields(session, sources))
    if record_conflicts:
        _record_conflicts(session, kind, key, result, {r.code: r.id for r in resources.values()})
    if only_department is not None:
        own = {r.code for r in resources.values() if r.provider_id == only_department}
        result.fields = [f for f in ([_only(f, own) for f in result.fields]) if f.values]
    return result


def _only(f: ProfileField, codes: set[str]) -> ProfileField:
    values = [v for v in f.values if v.resource_code in codes]
    return ProfileField(f.name, values, f.concept, f.conflict and len({_same(v.value) for v in values}) > 1)


def _same(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _fields(session: Session, sources: dict[tuple[int, str], Source]) -> list[ProfileField]:
    fields: list[ProfileField] = []
    grouped: set[tuple[int, str]] = set()
    for eq in session.scalars(select(ItemEquivalence).order_by(ItemEquivalence.concept)):
        members = [(int(rid), str(name)) for rid, name in eq.members]
        values = [sources[m] for m in members if m in sources and sources[m].value not in (None, "")]
        grouped.update(members)
        if values:
            distinct = {_same(v.value) for v in values}
            fields.append(ProfileField(eq.concept, values, concept=True, conflict=len(distinct) > 1))
    for member, source in sources.items():
        if member not in grouped:
            fields.append(ProfileField(source.item, [source]))
    return fields


def _record_conflicts(
    session: Session, kind: SubjectKeyType, key: str, result: Profile, resource_ids: dict[str, int]
) -> None:
    """Upsert one conflict row per (subject, concept): repeated views update ``last_seen`` only."""
    now = utcnow()
    concepts = {f.name: f for f in result.fields if f.concept}
    stored = {
        c.concept: c
        for c in session.scalars(
            select(QualityConflict).where(
                QualityConflict.subject_key_type == kind, QualityConflict.subject_key == key
            )
        )
    }
    for name, f in concepts.items():
        existing = stored.get(name)
        if not f.conflict:
            if existing is not None and existing.status == ConflictStatus.OPEN:
                existing.status, existing.last_seen = ConflictStatus.RESOLVED, now
            continue
        values = [
            {
                "resource_code": v.resource_code,
                "resource_name": v.resource_name,
                "item": v.item,
                "value": v.value,
            }
            for v in f.values
        ]
        parties = {resource_ids[v.resource_code] for v in f.values}
        if existing is None:
            existing = _insert_conflict(session, kind, key, name, values, now)
        existing.differing_values, existing.last_seen, existing.status = values, now, ConflictStatus.OPEN
        known = set(session.scalars(
            select(QualityConflictParty.resource_id).where(QualityConflictParty.conflict_id == existing.id)
        ))  # fmt: skip
        session.add_all(QualityConflictParty(conflict_id=existing.id, resource_id=r) for r in parties - known)
    session.flush()


def _insert_conflict(
    session: Session,
    kind: SubjectKeyType,
    key: str,
    concept: str,
    values: list[dict[str, Any]],
    now: datetime,
) -> QualityConflict:
    # Two people viewing the same subject at once may both find no row; the unique constraint lets one
    # insert win, and the other re-reads the winner's row instead of failing the profile read.
    conflict = QualityConflict(
        subject_key_type=kind, subject_key=key, concept=concept, differing_values=values,
        status=ConflictStatus.OPEN, first_seen=now, last_seen=now,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(conflict)
    except IntegrityError:
        winner = session.scalar(
            select(QualityConflict).where(
                QualityConflict.subject_key_type == kind,
                QualityConflict.subject_key == key,
                QualityConflict.concept == concept,
            )
        )
        assert winner is not None
        return winner
    return conflict


def read_profile(
    session: Session, actor: User, subject_key_type: str, subject_key: str, *, secret_key: str
) -> Profile:
    """Read a subject's profile as ``actor`` and log the read, in one transaction.

    Interim access rule until grants exist: the authority reads every field; a data officer reads only
    the fields of their own department's resources, and only for subjects those resources hold.
    """
    if actor.role == Role.AUTHORITY:
        only = None
    elif actor.role == Role.DATA_OFFICER:
        only = actor.department_id
    else:
        raise PermissionDenied(
            "profile_forbidden", "在共享授权上线之前，只有数据管理部门和部门数据管理员可以查看主体画像"
        )
    result = profile(session, subject_key_type, subject_key, only_department=only)
    if not result.fields:
        session.commit()  # keep the conflicts recorded; nothing was read, so nothing to log
        raise NotFound("subject_not_found", f"没有可查看的主体 {result.subject_key} 的数据")
    session.add(ReadLog(
        user_id=actor.id, department_id=actor.department_id, read_at=utcnow(),
        subject_key_type=result.subject_key_type,
        subject_key_hash=subject_key_hash(secret_key, result.subject_key_type, result.subject_key),
        resources=result.resources,
    ))  # fmt: skip
    audit.record(session, audit.user_entry(
        actor, audit.AuditOperation.PROFILE, purpose="主体画像查看", subject_key_type=result.subject_key_type,
        subject_key_hash=subject_key_hash(secret_key, result.subject_key_type, result.subject_key),
        items=sorted({f"{v.resource_code}.{v.item}" for f in result.fields for v in f.values}),
    ))  # fmt: skip
    session.commit()
    return result


# 等价信息项 — managed by the authority


def _require_authority(actor: User) -> None:
    if actor.role != Role.AUTHORITY:
        raise PermissionDenied("authority_only", "只有数据管理部门可以管理等价信息项")


def create_equivalence(
    session: Session, actor: User, concept: str, members: list[tuple[str, str]]
) -> ItemEquivalence:
    """Declare that ``members`` ((resource code, item name) pairs) hold the same concept, e.g. 户籍地址."""
    _require_authority(actor)
    concept = (normalize_text(concept) or "")[:50]
    if not concept:
        raise ValidationFailed("concept_required", "须填写概念名称，例如 户籍地址")
    if len(members) < 2:
        raise ValidationFailed("too_few_members", "等价信息项至少需要两个（资源, 信息项）")
    if session.scalar(select(ItemEquivalence).where(ItemEquivalence.concept == concept)) is not None:
        raise Conflict("equivalence_exists", f"概念 {concept} 已存在")
    taken = {
        (int(r), str(n)): eq.concept for eq in session.scalars(select(ItemEquivalence)) for r, n in eq.members
    }
    pairs: list[list[Any]] = []
    kinds = set()
    for code, name in members:
        resource = session.scalar(select(Resource).where(Resource.code == code.strip()))
        if resource is None:
            raise NotFound("resource_not_found", f"未找到信息资源 {code}", {"code": code})
        item = next((i for i in resource.items if i.name == name), None)
        if item is None or item.is_key:
            raise ValidationFailed(
                "unknown_item", f"资源 {resource.code} 没有非主键信息项 {name}", {"code": code, "item": name}
            )
        if (resource.id, name) in taken:
            raise Conflict(
                "item_already_equivalent",
                f"{resource.code} 的 {name} 已属于概念 {taken[(resource.id, name)]}",
            )
        if [resource.id, name] not in pairs:
            pairs.append([resource.id, name])
        kinds.add(resource.subject_key_type)
    if len(kinds) != 1 or SubjectKeyType.NONE in kinds:
        raise ValidationFailed("mixed_subjects", "等价信息项须来自以同一类主体为键的资源")
    eq = ItemEquivalence(concept=concept, members=pairs, created_by_id=actor.id, created_at=utcnow())
    session.add(eq)
    session.commit()
    return eq


def list_equivalences(session: Session) -> list[ItemEquivalence]:
    return list(session.scalars(select(ItemEquivalence).order_by(ItemEquivalence.concept)))


def delete_equivalence(session: Session, actor: User, equivalence_id: int) -> None:
    """Remove a concept; conflicts already recorded for it stay as history."""
    _require_authority(actor)
    eq = session.get(ItemEquivalence, equivalence_id)
    if eq is None:
        raise NotFound("equivalence_not_found", f"未找到等价信息项 {equivalence_id}")
    session.delete(eq)
    session.commit()


def member_codes(session: Session, eq: ItemEquivalence) -> list[dict[str, str]]:
    """The members as (resource code, item) for display."""
    ids_ = [int(r) for r, _ in eq.members]
    codes = {
        rid: code
        for rid, code in session.execute(select(Resource.id, Resource.code).where(Resource.id.in_(ids_)))
    }
    return [{"resource_code": codes.get(int(r), "?"), "item": str(n)} for r, n in eq.members]


# 数据质量冲突


def list_conflicts(session: Session, actor: User, status: str | None = None) -> list[QualityConflict]:
    """Conflicts visible to ``actor``: all for the authority; for a data officer, those involving one of
    their department's resources."""
    stmt = select(QualityConflict).order_by(QualityConflict.last_seen.desc(), QualityConflict.id.desc())
    if status:
        try:
            stmt = stmt.where(QualityConflict.status == ConflictStatus(status))
        except ValueError as err:
            raise ValidationFailed("invalid_status", "状态须为 open / resolved") from err
    if actor.role == Role.DATA_OFFICER:
        involved = (
            select(QualityConflictParty.conflict_id)
            .join(Resource, Resource.id == QualityConflictParty.resource_id)
            .where(Resource.provider_id == actor.department_id)
        )
        stmt = stmt.where(QualityConflict.id.in_(involved))
    elif actor.role != Role.AUTHORITY:
        raise PermissionDenied("conflicts_forbidden", "只有数据管理部门和部门数据管理员可以查看数据质量冲突")
    return list(session.scalars(stmt.limit(500)))
