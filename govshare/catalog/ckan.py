"""A read-only CKAN action API over the published catalog, so CKAN clients and harvesters work as is.

Each action takes the request's parameters (query string or JSON body, as CKAN does) and returns
CKAN's ``result``; failures raise :class:`CkanError`, which the router turns into CKAN's error
envelope and status. Only published resources are visible, as the packages and organizations of
ckan_dicts. docs/interop.md has the tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.auth.models import Department
from govshare.catalog import dcat, search
from govshare.catalog.ckan_dicts import (
    code_for_name,
    org_name,
    organization_dict,
    package_dict,
    package_id,
    package_name,
)
from govshare.catalog.models import Resource, ResourceStatus

ROWS_DEFAULT, ROWS_MAX = 10, 1000
DEFAULT_SORT = "score desc, metadata_modified desc"
_FQ_TERM = re.compile(r'([+-]?)([a-z_]+):("[^"]*"|\[[^\]]*\]|\S+)')
_RANGE = re.compile(r"^\[(\S+) TO (\S+)\]$")


class CkanError(Exception):
    """An action failure, answered as CKAN answers it: ``error`` body and HTTP status."""

    status = 400
    kind = "Bad Request"

    def __init__(self, message: str, **fields: list[str]) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def error(self) -> dict[str, Any]:
        if self.fields:  # CKAN's validation errors are {field: [messages]}
            return {"__type": self.kind, **self.fields}
        return {"__type": self.kind, "message": self.message}


class NotFoundError(CkanError):
    status, kind = 404, "Not Found Error"


class ValidationError(CkanError):
    status, kind = 409, "Validation Error"


class SearchQueryError(CkanError):
    status, kind = 400, "Search Query Error"


class ServerError(CkanError):
    status, kind = 500, "Internal Server Error"


@dataclass
class Context:
    session: Session
    base_url: str

    @property
    def uris(self) -> dcat.Uris:
        return dcat.Uris(self.base_url)


# -- parameters ------------------------------------------------------------------------------------


def _int(params: dict[str, Any], key: str, default: int) -> int:
    value = params.get(key)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{key}: Invalid integer", **{key: ["Invalid integer"]}) from None
    if number < 0:
        raise ValidationError(f"{key}: Must be a natural number", **{key: ["Must be a natural number"]})
    return number


def _bool(params: dict[str, Any], key: str, default: bool) -> bool:
    value = params.get(key)
    if value in (None, ""):
        return default
    return value is True or str(value).lower() in ("true", "1", "yes", "on")


def _required(params: dict[str, Any], key: str) -> str:
    value = str(params.get(key) or "").strip()
    if not value:
        raise ValidationError(f"{key}: Missing value", **{key: ["Missing value"]})
    return value


# -- packages --------------------------------------------------------------------------------------


PUBLISHED = Resource.status == ResourceStatus.PUBLISHED


def _find_package(ctx: Context, ident: str) -> Resource:
    """By name, by id, or by the catalog code itself; drafts answer exactly like missing entries."""
    codes = ctx.session.scalars(select(Resource.code).where(PUBLISHED))
    code = code_for_name(ident) or next((c for c in codes if package_id(ctx.uris, c) == ident), ident)
    resource = ctx.session.scalar(select(Resource).where(Resource.code == code, PUBLISHED))
    if resource is None:
        raise NotFoundError(f"Not found: dataset {ident}")
    return resource


def package_list(ctx: Context, params: dict[str, Any]) -> list[str]:
    """Names of every published dataset, sorted; ``limit`` and ``offset`` page through them."""
    names = sorted(package_name(c) for c in ctx.session.scalars(select(Resource.code).where(PUBLISHED)))
    offset = _int(params, "offset", 0)
    limit = _int(params, "limit", len(names))
    return names[offset : offset + limit]


def package_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """One dataset by ``id`` (its id, its name, or its catalog code)."""
    return package_dict(ctx.uris, _find_package(ctx, _required(params, "id")))


def _field_values(pkg: dict[str, Any], field: str) -> list[str]:
    if field == "organization":
        return [pkg["organization"]["name"]]
    if field == "owner_org":
        return [pkg["owner_org"], pkg["organization"]["name"]]
    if field == "tags":
        return [t["name"] for t in pkg["tags"]]
    if field == "res_format":
        return [r["format"] for r in pkg["resources"]]
    if field in pkg:
        return [str(pkg[field])]
    return [e["value"] for e in pkg["extras"] if e["key"] == field]


SEARCH_FIELDS = {
    "organization", "owner_org", "tags", "res_format", "id", "name", "title", "notes", "type", "state",
    "license_id", "version", "url", "metadata_created", "metadata_modified",
    "govshare_code", "classification_code", "sharing_type", "update_cycle", "open_to_public", "provider_code",
}  # fmt: skip


def _condition(sign: str, field: str, raw: str) -> Callable[[dict[str, Any]], bool]:
    field = field.removeprefix("extras_")
    if field not in SEARCH_FIELDS:
        raise SearchQueryError(f"Search Query is invalid: undefined field {field}")
    value = raw.strip('"').lower()
    bounds = _RANGE.match(raw)

    def matches(pkg: dict[str, Any]) -> bool:
        values = [v.lower() for v in _field_values(pkg, field)]
        if bounds:
            low, high = (b.lower().removesuffix("z") for b in bounds.groups())
            hit = any((low == "*" or v >= low) and (high == "*" or v <= high) for v in values)
        else:
            hit = bool(values) if value == "*" else value in values
        return hit != (sign == "-")

    return matches


def _parse_query(q: str, fq: str) -> tuple[str, list[Callable[[dict[str, Any]], bool]]]:
    """Split Solr-style ``field:value`` terms (in ``fq`` and in ``q``) from the free text of ``q``."""
    conditions = [_condition(*m.groups()) for m in _FQ_TERM.finditer(fq)]
    text = q.replace("*:*", " ")
    conditions += [_condition(*m.groups()) for m in _FQ_TERM.finditer(text)]
    text = _FQ_TERM.sub(" ", text).replace(" AND ", " ")
    return " ".join(text.split()), conditions


SORT_KEYS = {"score", "metadata_modified", "metadata_created", "name", "title", "title_string", "id"}


def _sorted(packages: list[dict[str, Any]], scores: dict[str, int], sort: str) -> list[dict[str, Any]]:
    out = sorted(packages, key=lambda p: p["name"])
    for clause in reversed([c.split() for c in sort.split(",") if c.strip()]):
        field, direction = clause[0], (clause[1] if len(clause) > 1 else "asc").lower()
        if field not in SORT_KEYS or direction not in ("asc", "desc"):
            raise SearchQueryError(f"Search Query is invalid: can not sort on {' '.join(clause)}")
        field = "title" if field == "title_string" else field

        def key(p: dict[str, Any], field: str = field) -> Any:
            return scores.get(p["id"], 0) if field == "score" else p[field]

        out.sort(key=key, reverse=direction == "desc")
    return out


def package_search(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Full-text search (Chinese included) with ``q``, filters in ``fq`` (``organization:<name>``,
    ``tags:<tag>``, ``res_format:JSON``, ``sharing_type:conditional``, ranges such as
    ``metadata_modified:[2024-01-01T00:00:00Z TO *]``), ``sort``, ``rows`` (≤ 1000) and ``start``."""
    rows = min(_int(params, "rows", ROWS_DEFAULT), ROWS_MAX)
    start = _int(params, "start", 0)
    sort = str(params.get("sort") or DEFAULT_SORT)
    text, conditions = _parse_query(str(params.get("q") or ""), str(params.get("fq") or ""))
    # Relevance comes from the catalog's own Chinese index; CKAN filters then apply to the matches.
    found = search.search(ctx.session, text, search.Filters(), 1, 1_000_000)
    packages = [package_dict(ctx.uris, r) for r in found.resources]
    scores = {p["id"]: s for p, s in zip(packages, found.scores, strict=True)}
    matching = [p for p in packages if all(c(p) for c in conditions)]
    return {
        "count": len(matching),
        "results": _sorted(matching, scores, sort)[start : start + rows],
        "sort": sort,
        "facets": {},
        "search_facets": {},
    }


# -- organizations ---------------------------------------------------------------------------------


def _package_counts(ctx: Context) -> dict[int, int]:
    stmt = select(Resource.provider_id, func.count()).where(PUBLISHED).group_by(Resource.provider_id)
    return {provider: count for provider, count in ctx.session.execute(stmt)}


def organization_list(ctx: Context, params: dict[str, Any]) -> list[Any]:
    """Every department as an organization: names, or full dicts with ``all_fields=true``;
    ``sort`` (``name``, ``title`` or ``package_count``, asc/desc), ``limit``, ``offset``."""
    counts = _package_counts(ctx)
    departments = list(ctx.session.scalars(select(Department)))
    wanted = params.get("organizations")
    if wanted:
        names = set(wanted if isinstance(wanted, list) else str(wanted).split(","))
        departments = [d for d in departments if org_name(d) in names]
    field, _, direction = str(params.get("sort") or "name asc").partition(" ")
    keys: dict[str, Callable[[Department], Any]] = {
        "name": org_name,
        "title": lambda d: d.name,
        "package_count": lambda d: counts.get(d.id, 0),
    }
    if field not in keys:
        raise ValidationError(
            f"sort: Cannot sort by field `{field}`", sort=[f"Cannot sort by field `{field}`"]
        )
    departments.sort(key=keys[field], reverse=direction.strip().lower() == "desc")
    offset = _int(params, "offset", 0)
    departments = departments[offset : offset + _int(params, "limit", len(departments))]
    if _bool(params, "all_fields", False):
        return [organization_dict(d, counts.get(d.id, 0)) for d in departments]
    return [org_name(d) for d in departments]


def organization_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """One department by ``id`` (its credit code) or name; ``include_datasets=true`` adds its packages."""
    ident = _required(params, "id").upper()
    department = ctx.session.scalar(select(Department).where(Department.code == ident))
    if department is None:
        raise NotFoundError("Not found: Organization was not found.")
    stmt = select(Resource).where(PUBLISHED, Resource.provider_id == department.id).order_by(Resource.code)
    resources = list(ctx.session.scalars(stmt))
    out = organization_dict(department, len(resources))
    out.update(users=[], extras=[], tags=[], groups=[])
    if _bool(params, "include_datasets", False):
        out["packages"] = [package_dict(ctx.uris, r) for r in resources[:ROWS_MAX]]
    return out


def status_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """What this site is, as CKAN's status_show reports it (harvesters call it first)."""
    return {
        "site_title": "govshare 政务信息资源目录",
        "site_url": ctx.uris.base,
        "site_description": "政务信息资源共享平台的 CKAN 兼容只读接口",
        "ckan_version": "2.10.0",
        "locale_default": "zh_Hans_CN",
        "extensions": ["govshare"],
    }


def help_show(ctx: Context, params: dict[str, Any]) -> str:
    """The documentation of the action named ``name``."""
    name = _required(params, "name")
    if name not in ACTIONS:
        raise NotFoundError(f"Not found: Action function not found: {name}")
    return " ".join((ACTIONS[name].__doc__ or "").split())


ACTIONS: dict[str, Callable[[Context, dict[str, Any]], Any]] = {
    f.__name__: f
    for f in (
        package_list, package_show, package_search, organization_list, organization_show, status_show, help_show
    )
}  # fmt: skip
