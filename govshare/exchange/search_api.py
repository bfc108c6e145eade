"""GET /api/v1/exchange/data/resources/{code}/search (检索), on the data exchange router.

Thin like the other data routes: the conditions come as repeated ``where=item:value`` parameters and
go, with the call, to :func:`govshare.exchange.search.search`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Query, Response
from pydantic import BaseModel, Field

from govshare.exchange import data_api
from govshare.exchange.data_api import CODE, REFUSALS, CallDep, LimiterDep
from govshare.exchange.data_schemas import ProvenancePublic
from govshare.exchange.search import DEFAULT_LIMIT, MAX_LIMIT
from govshare.exchange.search import search as search_records
from govshare.web.deps import SessionDep, SettingsDep


class SearchHitPublic(BaseModel):
    values: dict[str, Any] = Field(description="授权信息项的值，未获准明文的按规则脱敏")
    masked: list[str] = Field(description="已脱敏的信息项")
    provenance: ProvenancePublic


class SearchPublic(BaseModel):
    resource_code: str
    resource_name: str
    records: list[SearchHitPublic] = Field(description="本页记录，按主键顺序；不含主键本身")
    next_cursor: str | None = Field(description="下一页的 cursor；null 表示已是最后一页")


RESPONSES: dict[int | str, dict[str, Any]] = REFUSALS | {
    200: {"model": SearchPublic, "description": "应答（附 RateLimit-Limit / RateLimit-Remaining）"},
    400: {"description": REFUSALS[400]["description"] + " / `item_not_searchable` / `invalid_cursor`"},
    422: {"description": "`conditions_required` / `duplicate_condition` / `invalid_condition` / `invalid_request`"},
}  # fmt: skip


@data_api.router.get(CODE + "/search", summary="按可检索信息项检索（游标分页）", responses=RESPONSES)
def search(
    code: str,
    call: CallDep,
    session: SessionDep,
    settings: SettingsDep,
    rate: LimiterDep,
    where: Annotated[
        list[str] | None,
        Query(
            description="检索条件 `信息项:值`，可重复，全部满足（AND）；信息项须可检索且在授权范围内",
            examples=[["姓名:张三", "出生日期:1980-01-02"]],
        ),
    ] = None,
    items: Annotated[
        list[str] | None, Query(description="只要这些信息项（可重复或以逗号分隔）；须都在授权范围内")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="每页记录数")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1024, description="上一页应答的 next_cursor")] = None,
) -> Response:
    """The records whose searchable items (可检索信息项) equal the given values: `where=姓名:张三`,
    repeated for more conditions, all of which must hold. Each value is normalised as a load
    normalises it (full-width digits, a lower-case x in an ID number, date layouts), then matched
    exactly. Only items the catalog marks searchable and the grant covers may be conditions. Each
    record shows the granted items (or the asked `items`), masked by their rules unless the grant
    approves them unmasked, with provenance as a lookup; the record keys themselves are not shown.
    Pages of `limit` records (default 20, at most 100) in key order: pass `next_cursor` as `cursor`
    for the next page, with the same conditions; `next_cursor` is null on the last page. Needs the
    `search` operation; each page is one call, charged and audited."""
    conditions = [(name, value) for name, _, value in (part.partition(":") for part in where or [])]
    wanted = [n.strip() for part in items or [] for n in part.split(",") if n.strip()] or None
    answer = search_records(
        session, settings, rate, call, code, conditions, items=wanted, limit=limit, cursor=cursor
    )
    return data_api._json(call, asdict(answer))
