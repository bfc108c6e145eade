"""Resource versions: a snapshot per change, and field-by-field comparison of two snapshots."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.auth.models import User
from govshare.catalog.models import Resource, ResourceVersion

SNAPSHOT_FIELDS = (
    "code", "classification_code", "name", "summary", "format", "sharing_type", "sharing_condition",
    "sharing_methods", "legal_basis", "open_to_public", "open_condition", "update_cycle", "publish_date",
    "related_codes", "subject_key_type", "status", "contact_name", "contact_phone", "contact_email",
)  # fmt: skip
ITEM_FIELDS = (
    "data_type", "length", "is_key", "required", "sensitivity", "masking_rule", "searchable", "shareable",
    "legal_basis", "is_basic", "description", "position",
)  # fmt: skip


def snapshot(resource: Resource) -> dict[str, Any]:
    """A JSON-safe picture of the resource as it is now (items by name)."""
    data: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        value = getattr(resource, name)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif hasattr(value, "value"):
            value = value.value
        data[name] = value
    data["provider_code"] = resource.provider.code
    data["items"] = [{"name": i.name, **{f: getattr(i, f) for f in ITEM_FIELDS}} for i in resource.items]
    return data


def record(session: Session, resource: Resource, action: str, actor: User | None, note: str = "") -> None:
    """Append the version row for the resource's current ``version`` number."""
    session.add(
        ResourceVersion(
            resource_id=resource.id,
            version=resource.version,
            action=action,
            note=note,
            snapshot=snapshot(resource),
            actor_id=actor.id if actor else None,
        )
    )


def list_for(session: Session, resource: Resource) -> list[ResourceVersion]:
    return list(
        session.scalars(
            select(ResourceVersion)
            .where(ResourceVersion.resource_id == resource.id)
            .order_by(ResourceVersion.version)
        )
    )


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for each difference; items appear as ``items.<name>.<field>``."""
    changes: list[tuple[str, Any, Any]] = []
    for key in (*SNAPSHOT_FIELDS, "provider_code"):
        if before.get(key) != after.get(key):
            changes.append((key, before.get(key), after.get(key)))
    old = {i["name"]: i for i in before.get("items", [])}
    new = {i["name"]: i for i in after.get("items", [])}
    for name in old.keys() - new.keys():
        changes.append((f"items.{name}", old[name], None))
    for name in new.keys() - old.keys():
        changes.append((f"items.{name}", None, new[name]))
    for name in sorted(old.keys() & new.keys()):
        for f in ITEM_FIELDS:
            if old[name].get(f) != new[name].get(f):
                changes.append((f"items.{name}.{f}", old[name].get(f), new[name].get(f)))
    return changes
