"""Our catalog as CKAN sees it (CKAN 字典): packages, organizations, and their names and ids.

A catalog entry becomes a CKAN *package* named ``gov-<code with "/" → "-">`` (``101/000001`` →
``gov-101-000001``) whose id is a UUID derived from its DCAT URI; a department becomes an
*organization* named by its 统一社会信用代码 in lower case. docs/interop.md has the tables.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from govshare.auth.models import Department
from govshare.catalog import classification, dcat, vocab
from govshare.catalog.models import Resource, SharingType

NAME_PREFIX = "gov-"
_TAG = re.compile(r"^[\w .-]{2,100}$")


def package_name(code: str) -> str:
    """CKAN names allow only lower-case letters, digits, "-" and "_"; catalog codes never hold "-"."""
    return NAME_PREFIX + code.lower().replace("/", "-")


def code_for_name(name: str) -> str | None:
    if not name.startswith(NAME_PREFIX):
        return None
    return name[len(NAME_PREFIX) :].replace("-", "/").upper()


def package_id(uris: dcat.Uris, code: str) -> str:
    """A UUID derived from the dataset's DCAT URI: stable, and distinct between platforms."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, str(uris.dataset(code))))


def org_name(department: Department) -> str:
    return department.code.lower()


def _iso(value: datetime) -> str:
    # CKAN writes naive UTC timestamps with microseconds.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def organization_dict(department: Department, package_count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": department.code,
        "name": org_name(department),
        "title": department.name,
        "display_name": department.name,
        "description": f"统一社会信用代码 {department.code}；行政区划 {department.division_code}",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
        "created": _iso(department.created_at),
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def _tags(resource: Resource) -> list[dict[str, Any]]:
    names = [w for w in dcat.keywords(resource) if _TAG.match(w)]
    return [{"name": n, "display_name": n, "state": "active", "vocabulary_id": None} for n in names]


def _extras(uris: dcat.Uris, r: Resource) -> list[dict[str, str]]:
    parsed = classification.parse(r.classification_code)
    frequency = dcat.frequency(r.update_cycle)
    values = {
        "uri": str(uris.dataset(r.code)),
        "govshare_code": r.code,
        "classification_code": r.classification_code,
        "classification": parsed.label if parsed else "",
        "sharing_type": str(r.sharing_type),
        "sharing_type_label": vocab.SHARING_TYPE_LABELS[str(r.sharing_type)],
        "sharing_condition": r.sharing_condition,
        "sharing_methods": ",".join(r.sharing_methods),
        "legal_basis": r.legal_basis,
        "open_to_public": "true" if r.open_to_public else "false",
        "update_cycle": r.update_cycle,
        "update_cycle_label": vocab.UPDATE_CYCLES.get(r.update_cycle, r.update_cycle),
        "publish_date": r.publish_date.isoformat() if r.publish_date else "",
        "provider_code": r.provider.code,
        "access_rights": str(dcat.ACCESS_RIGHT[dcat.access_right(r)]),
        "frequency": str(dcat.FREQUENCY[frequency]) if frequency else "",
    }
    return [{"key": k, "value": v} for k, v in sorted(values.items()) if v]


def _resources(uris: dcat.Uris, r: Resource, pid: str) -> list[dict[str, Any]]:
    if r.sharing_type == SharingType.NONE:  # 不予共享: nothing to obtain
        return []
    dist = uris.distribution(r.code)
    return [
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, str(dist))),
            "package_id": pid,
            "name": f"{r.name}（接口查询）",
            "description": "通过共享平台接口按授权查询、核验；须先提交共享申请并获得授权。",
            "format": "JSON",
            "mimetype": "application/json",
            "url": uris.api_detail(r.code),
            "resource_type": "api",
            "position": 0,
            "state": "active",
            "created": _iso(r.created_at),
            "last_modified": _iso(r.updated_at),
        }
    ]


def package_dict(uris: dcat.Uris, r: Resource) -> dict[str, Any]:
    """One published resource as a CKAN package."""
    pid = package_id(uris, r.code)
    tags, resources = _tags(r), _resources(uris, r, pid)
    return {
        "id": pid,
        "name": package_name(r.code),
        "title": r.name,
        "notes": r.summary,
        "type": "dataset",
        "state": "active",
        "private": False,
        "owner_org": r.provider.code,
        "organization": organization_dict(r.provider),
        "author": r.provider.name,
        "maintainer": r.contact_name or r.provider.name,
        "maintainer_email": r.contact_email or None,
        "license_id": "notspecified",
        "license_title": "License not specified",
        "isopen": False,
        "url": str(uris.dataset(r.code)),
        "version": str(r.version),
        "metadata_created": _iso(r.created_at),
        "metadata_modified": _iso(r.updated_at),
        "tags": tags,
        "num_tags": len(tags),
        "resources": resources,
        "num_resources": len(resources),
        "extras": _extras(uris, r),
        "groups": [],
        "relationships_as_subject": [],
        "relationships_as_object": [],
    }
