"""Catalog JSON API under /api/v1/catalog: register, change, publish, search, versions, negative list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from govshare.catalog import classification, negative, search, service, versions, vocab
from govshare.catalog.models import NegativeListEntry
from govshare.catalog.schemas import (
    DepartmentRef,
    FieldChange,
    NegativeEntryPublic,
    Reason,
    ResourceIn,
    ResourcePublic,
    ResourceSummary,
    ReviewDecision,
    SearchPage,
    VersionDiff,
    VersionPublic,
)
from govshare.web.deps import CurrentUser, OptionalUser, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog 目录"])
# Resource codes contain a slash (101/000001); ``:path`` lets clients use it as is.
CODE = "/resources/{code:path}"


@router.get("/vocabularies")
def vocabularies() -> dict[str, object]:
    """Code lists for forms and sheets: data types, formats, update cycles, sharing types and methods,
    masking rules, sensitivity levels, subject key types and the classification tree (code → 中文)."""
    return {
        "data_types": vocab.DATA_TYPES,
        "formats": vocab.FORMATS,
        "update_cycles": vocab.UPDATE_CYCLES,
        "sharing_types": vocab.SHARING_TYPE_LABELS,
        "sharing_methods": vocab.SHARING_METHODS,
        "masking_rules": vocab.MASKING_RULES,
        "sensitivity_levels": vocab.SENSITIVITY_LEVELS,
        "subject_key_types": vocab.SUBJECT_KEY_TYPES,
        "classifications": {c.code: c.label for c in classification.all_subclasses()},
    }


@router.get("/resources", response_model=SearchPage)
def search_resources(
    session: SessionDep,
    settings: SettingsDep,
    user: OptionalUser,
    q: Annotated[str, Query(description="全文检索：名称、摘要、信息项名称")] = "",
    provider: Annotated[str | None, Query(description="提供方代码")] = None,
    classification: Annotated[str | None, Query(description="分类代码前缀，如 1 或 101")] = None,
    sharing_type: Annotated[str | None, Query(description="unconditional / conditional / none")] = None,
    update_cycle: Annotated[str | None, Query(description="更新周期")] = None,
    open: Annotated[bool | None, Query(description="是否向社会开放")] = None,
    status: Annotated[str | None, Query(description="状态（默认仅已发布；其他状态需登录）")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1)] = 20,
) -> SearchPage:
    """Search the published catalog (Chinese full text, filters, pages)."""
    page_size = min(page_size, settings.search_page_size_max)
    wanted_status = status if (status and user is not None) else "published"
    filters = search.Filters(provider, classification, sharing_type, update_cycle, open, wanted_status)
    result = search.search(session, q, filters, page, page_size)
    visible = [r for r in result.resources if service.can_view(user, r)]
    return SearchPage(
        total=result.total,
        page=page,
        page_size=page_size,
        results=[ResourceSummary.model_validate(r) for r in visible],
    )


@router.post("/resources", response_model=ResourcePublic, status_code=201)
def create_resource(body: ResourceIn, session: SessionDep, user: CurrentUser) -> ResourcePublic:
    """Register a resource as a draft; the platform assigns its code (分类代码/顺序号)."""
    return ResourcePublic.model_validate(service.create_resource(session, user, body))


@router.get(CODE + "/versions", response_model=list[VersionPublic])
def list_versions(code: str, session: SessionDep, user: OptionalUser) -> list[VersionPublic]:
    """Every version of a resource: what happened, who did it, when."""
    resource = service.view_resource(session, code, user)
    return [
        VersionPublic(
            version=v.version,
            action=v.action,
            note=v.note,
            actor=v.actor.display_name if v.actor else None,
            created_at=v.created_at,
        )
        for v in versions.list_for(session, resource)
    ]


@router.get(CODE + "/diff", response_model=VersionDiff)
def diff_versions(
    code: str,
    session: SessionDep,
    user: OptionalUser,
    from_version: Annotated[int, Query(alias="from", ge=1)],
    to_version: Annotated[int, Query(alias="to", ge=1)],
) -> VersionDiff:
    """Compare two versions field by field (items as items.<name>.<field>)."""
    resource = service.view_resource(session, code, user)
    changes = service.version_diff(session, resource, from_version, to_version)
    return VersionDiff(
        code=resource.code,
        from_version=from_version,
        to_version=to_version,
        changes=[FieldChange(field=f, before=b, after=a) for f, b, a in changes],
    )


def _transition(name: str, summary: str):  # type: ignore[no-untyped-def]
    def endpoint(
        code: str, session: SessionDep, user: CurrentUser, body: Reason | None = None
    ) -> ResourcePublic:
        reason = body.reason if body else ""
        fn = getattr(service, name)
        result = (
            fn(session, user, code, reason)
            if name in ("retire", "return_to_draft")
            else fn(session, user, code)
        )
        return ResourcePublic.model_validate(result)

    endpoint.__doc__ = summary
    endpoint.__name__ = name
    return endpoint


for _name, _path, _doc in (
    ("submit", "submit", "Provider submits a draft for review (提交审核)."),
    ("publish", "publish", "Authority publishes a submitted resource (审核发布)."),
    ("return_to_draft", "return", "Authority returns a submitted resource with a reason (退回)."),
    ("retire", "retire", "Retire a published resource with a reason (撤销)."),
):
    router.add_api_route(
        CODE + f"/{_path}", _transition(_name, _doc), methods=["POST"], response_model=ResourcePublic
    )


@router.get(CODE, response_model=ResourcePublic)
def get_resource(code: str, session: SessionDep, user: OptionalUser) -> ResourcePublic:
    """One resource with its metadata and items."""
    return ResourcePublic.model_validate(service.view_resource(session, code, user))


@router.put(CODE, response_model=ResourcePublic)
def update_resource(
    code: str,
    body: ResourceIn,
    session: SessionDep,
    user: CurrentUser,
    expected_version: Annotated[int | None, Query(description="乐观锁：当前版本号")] = None,
) -> ResourcePublic:
    """Change a draft or published resource (creates a new version)."""
    return ResourcePublic.model_validate(service.update_resource(session, user, code, body, expected_version))


def negative_public(entry: NegativeListEntry) -> NegativeEntryPublic:
    r = entry.resource
    return NegativeEntryPublic(
        id=entry.id,
        resource_code=r.code,
        resource_name=r.name,
        provider=DepartmentRef.model_validate(r.provider),
        item_name=entry.item_name,
        legal_basis=entry.legal_basis,
        basic_item=entry.basic_item,
        status=entry.status.value,
        submitted_at=entry.submitted_at,
        decided_at=entry.decided_at,
        decision_reason=entry.decision_reason,
    )


@router.get("/negative-list", response_model=list[NegativeEntryPublic])
def negative_list(session: SessionDep) -> list[NegativeEntryPublic]:
    """The public negative list (负面清单): accepted non-shared resources and items with their legal basis."""
    return [negative_public(e) for e in negative.public_list(session)]


@router.get("/negative-list/queue", response_model=list[NegativeEntryPublic])
def negative_queue(session: SessionDep, user: CurrentUser) -> list[NegativeEntryPublic]:
    """Pending declarations awaiting the authority's review (待审核)."""
    return [negative_public(e) for e in negative.review_queue(session, user)]


@router.post("/negative-list/{entry_id}/decision", response_model=NegativeEntryPublic)
def decide(
    entry_id: int, body: ReviewDecision, session: SessionDep, user: CurrentUser
) -> NegativeEntryPublic:
    """Authority accepts (stays non-shared, listed publicly) or rejects with a reason."""
    return negative_public(negative.decide(session, user, entry_id, body.accept, body.reason))
