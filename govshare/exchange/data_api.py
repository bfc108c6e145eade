"""The data exchange API (数据调用) under /api/v1/exchange/data: lookup, verify, profile, bulk export.

Thin: it reads the token and the case headers into a :class:`~govshare.exchange.query.Call`, hands it
to ``govshare.exchange.query`` and renders the answer. A refused token is not answered here but carried
in the call, so the refusal is audited like every other one.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from govshare.core.errors import DomainError, ValidationFailed
from govshare.data.normalize import CHINA_STANDARD_TIME
from govshare.exchange import query
from govshare.exchange.data_schemas import ProfilePublic, RecordPublic, VerifyPublic
from govshare.exchange.deps import _oauth2, current_application
from govshare.exchange.lane import header_text, wanted_items
from govshare.exchange.models import Operation
from govshare.exchange.plane import DataPlane
from govshare.exchange.ratelimit import RateLimiter, make_limiter
from govshare.web.deps import SessionDep, SettingsDep

PREFIX = "/api/v1/exchange/data"
OPERATIONS = {"lookup": Operation.LOOKUP, "verify": Operation.VERIFY, "profile": Operation.PROFILE,
              "export": Operation.BULK_EXPORT, "search": Operation.SEARCH}  # route name → operation, for malformed requests  # fmt: skip


class AuditedRoute(APIRoute):
    """A request that cannot even be parsed (a body that is not JSON, `format=xml`) is refused by FastAPI
    before any use case runs; this records that refusal too, so every call reaches the audit log."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        operation = OPERATIONS[self.name]

        async def audited_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError:
                await run_in_threadpool(_record_malformed, request, operation)
                raise

        return audited_handler


router = APIRouter(prefix=PREFIX, tags=["exchange 数据调用"], route_class=AuditedRoute)
CODE = "/resources/{code:path}"
REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"description": "未说明办件：`missing_case_id` / `missing_operator` / `invalid_case_id` / …"},
    401: {"description": "应用令牌无效：`missing_access_token` / `invalid_token` / `token_expired` / …"},
    403: {"description": "授权拒绝：`no_grant` / `grant_suspended` / `grant_revoked` / `grant_expired` / "
          "`operation_not_granted` / `item_not_granted` / `service_item_required` / `service_item_not_covered`"},
    404: {"description": "`resource_not_found` / `record_not_found` / `subject_not_found`（仍记入调用日志）"},
    429: {"description": "`rate_limited`：超过授权的调用频率，见 Retry-After"},
}  # fmt: skip


def _answer(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"model": model, "description": "应答（附 RateLimit-Limit / RateLimit-Remaining）"}
    } | REFUSALS


CaseIdHeader = Annotated[str | None, Header(description="办件编号：本次调用所办的件（必填）")]
OperatorHeader = Annotated[
    str | None, Header(description="经办人：操作系统的工作人员账号或姓名（必填，UTF-8）")
]
ServiceItemHeader = Annotated[
    str | None, Header(description="政务服务事项编码；授权绑定了事项时必填，且须在授权范围内")
]
RequestIdHeader = Annotated[str | None, Header(description="调用方的请求编号（可选），原样返回并记入日志")]


def new_call(
    request: Request, case_id: str | None, operator: str | None, service_item: str | None,
    request_id: str | None,
) -> query.Call:  # fmt: skip
    """A call as the headers state it; the use case learns the rest."""
    return query.Call(
        application=None, case_id=header_text(case_id), operator=header_text(operator),
        service_item=header_text(service_item), request_id=query.request_id(request_id),
        client_address=request.client.host if request.client else None,
    )  # fmt: skip


def data_call(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Depends(_oauth2)],
    x_case_id: CaseIdHeader = None,
    x_operator: OperatorHeader = None,
    x_service_item: ServiceItemHeader = None,
    x_request_id: RequestIdHeader = None,
) -> query.Call:
    """The call as the audit sees it: a refused token is kept, and raised inside the audited use case."""
    call = new_call(request, x_case_id, x_operator, x_service_item, x_request_id)
    try:
        call.application = current_application(authorization, session, settings).application
    except DomainError as err:
        call.auth_error = err
    request.state.exchange_session, request.state.exchange_call = session, call  # for AuditedRoute
    return call


def _record_malformed(request: Request, operation: Operation) -> None:
    """Audit a request FastAPI refused as malformed: with the request's own session and call when the
    dependencies ran (the session is still open and would roll a second one's write back), else anew."""
    settings = request.app.state.settings
    session = getattr(request.state, "exchange_session", None)
    call = getattr(request.state, "exchange_call", None)
    with contextlib.ExitStack() as stack:
        if session is None or call is None:
            session = stack.enter_context(request.app.state.session_factory())
            headers = request.headers
            call = data_call(
                request, session, settings, headers.get("authorization"), headers.get("x-case-id"),
                headers.get("x-operator"), headers.get("x-service-item"), headers.get("x-request-id"),
            )  # fmt: skip
        call.operation = operation.value
        call.resource_code = request.path_params.get("code")
        query.audit_call(session, settings, call, ValidationFailed("invalid_request", "请求格式不正确"))


def limiter(request: Request) -> RateLimiter:
    return request.app.state.exchange_limiter  # type: ignore[no-any-return]


CallDep = Annotated[query.Call, Depends(data_call)]
LimiterDep = Annotated[RateLimiter, Depends(limiter)]


def _json(call: query.Call, body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json", headers=query.answer_headers(call))


@router.get(CODE + "/records/{key}", summary="按主键查询记录", responses=_answer(RecordPublic))
async def lookup(
    code: str,
    key: str,
    request: Request,
    authorization: Annotated[str | None, Depends(_oauth2)],
    x_case_id: CaseIdHeader = None,
    x_operator: OperatorHeader = None,
    x_service_item: ServiceItemHeader = None,
    x_request_id: RequestIdHeader = None,
    items: Annotated[
        list[str] | None, Query(description="只要这些信息项（可重复或以逗号分隔）；须都在授权范围内")
    ] = None,
) -> Response:
    """The record with key `key` (a composite key: its parts in the catalog's key-item order, joined by
    `|`, e.g. `4403051980…|2024`), as the grant allows: only granted items (or the asked `items`),
    each masked by its rule unless the grant approves it unmasked (`masked` lists those masked), with
    provenance — providing department, last update, version and batch. Needs the `lookup` operation.
    An unknown key answers 404 `record_not_found` (and is audited as a read attempt)."""
    call = new_call(request, x_case_id, x_operator, x_service_item, x_request_id)
    plane: DataPlane = request.app.state.data_plane
    answer = await plane.lookup(call, authorization, code, key, wanted_items(items or []))
    return _json(call, answer.to_dict())


class VerifyIn(BaseModel):
    key: str = Field(description="记录主键；复合主键按目录顺序以 | 连接", examples=["440305198001011234"])
    claims: dict[str, str | None] = Field(
        description="要核验的信息项及申报值", examples=[{"姓名": "张三", "出生日期": "1980-01-01"}]
    )


@router.post(CODE + "/verify", summary="核验（只答是否一致）", responses=_answer(VerifyPublic))
def verify(
    code: str,
    body: Annotated[VerifyIn, Body()],
    call: CallDep,
    session: SessionDep,
    settings: SettingsDep,
    rate: LimiterDep,
) -> Response:
    """核验: for each claimed item, `match` or `no_match` against the record — never a value. Claimed
    values are normalised as loads normalise them (full-width digits, a lower-case x in an ID number,
    date layouts), so `２０２４年5月1日` matches `2024-05-01`. `exists` says whether the key has a
    record (every item is `no_match` when not). Needs the `verify` operation and the claimed items in
    the grant; masking does not apply because nothing is returned."""
    answer = query.verify(session, settings, rate, call, code, body.key, dict(body.claims))
    results = {name: "match" if ok else "no_match" for name, ok in answer.results.items()}
    return _json(
        call,
        {
            "resource_code": answer.resource_code,
            "exists": answer.exists,
            "match": answer.all_match,
            "results": results,
        },
    )


@router.get("/profiles/{subject_key_type}/{key}", summary="主体画像", responses=_answer(ProfilePublic))
def profile(
    subject_key_type: Annotated[
        str, Path(description="person_id / credit_code / house_code / certificate_id")
    ],
    key: str,
    call: CallDep,
    session: SessionDep,
    settings: SettingsDep,
    rate: LimiterDep,
) -> Response:
    """The subject (a person by 公民身份号码, a legal entity by 统一社会信用代码, a house …) merged across
    every resource this application holds a live `profile` grant for: each field with its value
    (masked per that resource's grant), source resource, providing department and last update;
    equivalent items are grouped as one concept, with `conflict` when the values shown differ.
    Resources without a grant stay invisible. Each grant involved is charged one call."""
    answer = query.subject_profile(session, settings, rate, call, subject_key_type, key)
    return _json(call, asdict(answer))


def _csv_lines(names: list[str], chunks: Iterator[list[dict[str, Any]]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*names, "version", "updated_at"])
    yield "\ufeff" + buffer.getvalue()  # the BOM lets Excel read UTF-8 Chinese text
    for chunk in chunks:
        buffer.seek(0)
        buffer.truncate()
        for row in chunk:
            values = row["values"]
            writer.writerow([*(values.get(n) for n in names), row["version"], row["updated_at"].isoformat()])
        yield buffer.getvalue()


def _ndjson_lines(chunks: Iterator[list[dict[str, Any]]]) -> Iterator[bytes]:
    for chunk in chunks:
        yield b"".join(orjson.dumps(row) + b"\n" for row in chunk)


@router.get(
    CODE + "/export",
    summary="批量导出（NDJSON / CSV）",
    responses=REFUSALS
    | {200: {"content": {"application/x-ndjson": {}, "text/csv": {}}, "description": "逐行输出的记录"}},
)
def export(
    code: str,
    request: Request,
    call: CallDep,
    session: SessionDep,
    settings: SettingsDep,
    rate: LimiterDep,
    format: Annotated[Literal["ndjson", "csv"], Query(description="ndjson（默认）或 csv")] = "ndjson",
    since: Annotated[
        datetime | None,
        Query(description="增量：只导出此时刻之后更新的记录（ISO 8601，如 2026-12-01T00:00:00+08:00）"),
    ] = None,
) -> StreamingResponse:
    """Every current record of the resource, streamed: one JSON object per line
    `{"values": {…granted items, masked…}, "version", "updated_at"}`, or CSV with `format=csv`
    (UTF-8 with BOM; columns: the granted items, version, updated_at). Rows are read in chunks in
    key order, so memory stays flat whatever the size. `since` pulls only records updated after it
    (deletions are not listed: the change feed carries those). Needs the `bulk_export` operation; one
    call is charged and audited per export."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=CHINA_STANDARD_TIME)  # a time without offset is Beijing time
    plan = query.start_export(session, settings, rate, call, code, since)
    factory = request.app.state.session_factory

    def chunks() -> Iterator[list[dict[str, Any]]]:
        with factory() as reader:
            yield from query.export_chunks(reader, plan)

    if format == "csv":
        names = [i.name for i in plan.items]
        return StreamingResponse(
            _csv_lines(names, chunks()),
            media_type="text/csv; charset=utf-8",
            headers=query.answer_headers(call),
        )
    return StreamingResponse(
        _ndjson_lines(chunks()), media_type="application/x-ndjson", headers=query.answer_headers(call)
    )


async def _rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, query.RateLimited)
    return JSONResponse(exc.to_dict(), status_code=exc.status, headers=exc.headers)


def register(app: FastAPI) -> None:
    """Mount the router, and give the app its one rate limiter (Redis when GOVSHARE_REDIS_URL is set)."""
    app.state.exchange_limiter = make_limiter(app.state.settings.redis_url)
    app.state.data_plane = DataPlane(
        app.state.session_factory, app.state.settings, app.state.exchange_limiter
    )
    app.add_exception_handler(query.RateLimited, _rate_limited)
    app.include_router(router)
    app.state.lookup_route = next(r for r in router.routes if getattr(r, "name", None) == "lookup")
