"""The negative list (负面清单): what a provider declares non-shared, and the authority's review.

Every ``none`` resource and every non-shareable item inside a shareable resource becomes an entry
that the authority reviews. Accepted entries are public with their legal basis; rejected ones
block publishing until the provider re-declares the data shareable (or cites a new basis, which
starts a new review).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.auth.models import Role, User
from govshare.auth.service import require_role
from govshare.catalog import classification
from govshare.catalog.models import NegativeListEntry, Resource, ReviewStatus, SharingType
from govshare.core.errors import Conflict, NotFound, ValidationFailed
from govshare.core.types import utcnow

LIVE = (ReviewStatus.PENDING, ReviewStatus.ACCEPTED, ReviewStatus.REJECTED)


@dataclass(frozen=True)
class Declaration:
    item_name: str | None
    legal_basis: str
    basic_item: bool


def declarations(resource: Resource) -> list[Declaration]:
    """What the resource, as it stands, declares non-shared."""
    cls = classification.parse(resource.classification_code)
    is_base = bool(cls and cls.is_base)
    if resource.sharing_type == SharingType.NONE:
        return [Declaration(None, resource.legal_basis, is_base)]
    return [
        Declaration(i.name, i.legal_basis, is_base and (i.is_basic or i.is_key))
        for i in resource.items
        if not i.shareable
    ]


def live_entries(session: Session, resource: Resource) -> list[NegativeListEntry]:
    return list(
        session.scalars(
            select(NegativeListEntry).where(
                NegativeListEntry.resource_id == resource.id, NegativeListEntry.status.in_(LIVE)
            )
        )
    )


def sync(session: Session, resource: Resource, actor: User | None) -> None:
    """Bring the resource's entries in line with its declarations, in the caller's transaction.

    An unchanged declaration (same target, same basis) keeps its entry and review; a changed one
    supersedes the old entry and starts a new review; a withdrawn one is superseded.
    """
    wanted = {(d.item_name, d.legal_basis): d for d in declarations(resource)}
    for entry in live_entries(session, resource):
        if (entry.item_name, entry.legal_basis) in wanted and entry.status != ReviewStatus.REJECTED:
            wanted.pop((entry.item_name, entry.legal_basis))
        else:
            entry.status = ReviewStatus.SUPERSEDED
    for d in wanted.values():
        session.add(
            NegativeListEntry(
                resource_id=resource.id,
                item_name=d.item_name,
                legal_basis=d.legal_basis,
                basic_item=d.basic_item,
                status=ReviewStatus.PENDING,
                resource_version=resource.version,
                submitted_by_id=actor.id if actor else None,
            )
        )


def publish_blockers(session: Session, resource: Resource) -> list[tuple[str, str]]:
    """(code, message) for each review outcome that stops the resource being published."""
    out = []
    for entry in live_entries(session, resource):
        target = f"信息项“{entry.item_name}”" if entry.item_name else "该资源"
        if entry.status == ReviewStatus.REJECTED:
            out.append(
                (
                    "negative_declaration_rejected",
                    f"{target}的不予共享申报已被驳回（{entry.decision_reason}），须重新申报为可共享",
                )
            )
        elif entry.status == ReviewStatus.PENDING and entry.basic_item:
            out.append(
                (
                    "basic_items_need_approval",
                    f"{target}属于基础信息资源的基础信息项，申报不予共享须经数据管理部门审核同意后方可发布",
                )
            )
    return out


def review_queue(session: Session, actor: User) -> list[NegativeListEntry]:
    require_role(actor, Role.AUTHORITY, Role.AUDITOR)
    return list(
        session.scalars(
            select(NegativeListEntry)
            .where(NegativeListEntry.status == ReviewStatus.PENDING)
            .order_by(NegativeListEntry.submitted_at, NegativeListEntry.id)
        )
    )


def public_list(session: Session) -> list[NegativeListEntry]:
    """The published negative list: accepted entries of resources that are not retired."""
    return list(
        session.scalars(
            select(NegativeListEntry)
            .join(Resource)
            .where(NegativeListEntry.status == ReviewStatus.ACCEPTED, Resource.status != "retired")
            .order_by(Resource.code, NegativeListEntry.item_name)
        )
    )


def entries_for(session: Session, resource: Resource) -> list[NegativeListEntry]:
    return list(
        session.scalars(
            select(NegativeListEntry)
            .where(NegativeListEntry.resource_id == resource.id)
            .order_by(NegativeListEntry.id.desc())
        )
    )


def decide(session: Session, actor: User, entry_id: int, accept: bool, reason: str) -> NegativeListEntry:
    """The authority accepts (stays non-shared, listed publicly) or rejects (with a reason)."""
    from govshare.catalog import versions  # local: versions imports nothing of ours but models

    require_role(actor, Role.AUTHORITY)
    entry = session.get(NegativeListEntry, entry_id)
    if entry is None:
        raise NotFound("negative_entry_not_found", f"未找到负面清单申报 {entry_id}")
    if entry.status != ReviewStatus.PENDING:
        raise Conflict(
            "already_decided", f"该申报已处理（{entry.status.value}）", {"status": entry.status.value}
        )
    reason = reason.strip()
    if not accept and not reason:
        raise ValidationFailed("reason_required", "驳回须写明理由", {"field": "reason"})
    entry.status = ReviewStatus.ACCEPTED if accept else ReviewStatus.REJECTED
    entry.decided_by_id = actor.id
    entry.decided_at = utcnow()
    entry.decision_reason = reason
    resource = entry.resource
    resource.version += 1
    resource.updated_at = utcnow()
    target = entry.item_name or "整个资源"
    versions.record(
        session,
        resource,
        "negative_accepted" if accept else "negative_rejected",
        actor,
        f"{target}：{reason}",
    )
    session.commit()
    return entry
