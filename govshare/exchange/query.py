"""Using shared data (数据调用): lookup, verify (核验), subject profile and bulk export, for applications.

Every call goes the same way, as on X-Road: who calls (the application's token), for which case and
by whom (``X-Case-Id`` 办件编号, ``X-Operator``, ``X-Service-Item`` 政务服务事项), under which grant
(:func:`~govshare.exchange.grants.check_grant`: deny by default), within the grant's rate limit, and
into the audit log whatever the answer. Only granted items come back, masked unless the grant approves
them unmasked, each answer with its provenance (version, last update, providing department), as Myinfo
returns source and last-updated per attribute.

No HTTP here: the router in ``data_api`` and any later transport (CLI, message bus) call these functions
with a :class:`Call` and get plain dataclasses back.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any, NamedTuple

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare import audit
from govshare.catalog import service as catalog
from govshare.catalog.models import Item, Resource, ResourceStatus, SubjectKeyType
from govshare.core import metrics
from govshare.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from govshare.core.settings import Settings
from govshare.core.types import utcnow
from govshare.data import profiles
from govshare.data.ingest import KEY_SEPARATOR
from govshare.data.models import Batch, Record
from govshare.data.normalize import RowNormaliser, compile_row_normaliser
from govshare.exchange.grants import check_grant, china_today, evaluate_grant
from govshare.exchange.masking import mask_record, rule_for
from govshare.exchange.models import Application, Grant, Operation
from govshare.exchange.ratelimit import RateLimiter
from govshare.exchange.views import CACHE, ApplicationView, GrantView, ItemView, Loader, ResourceView

ResourceLike = Resource | ResourceView  # a catalog row, or the data API's cached view of one
GrantLike = Grant | GrantView
KEY_PART_SEPARATOR = "|"  # composite keys in a URL: parts in the catalog's key-item order, joined by |
EXPORT_CHUNK = 2000  # records per database round trip of a bulk export
_HEADER_LIMITS = {
    "case_id": ("X-Case-Id", 64),
    "operator": ("X-Operator", 100),
    "service_item": ("X-Service-Item", 64),
}


class BadRequest(DomainError):
    """A call that does not state its case (missing or malformed X-Case-Id / X-Operator)."""

    status = 400


class RateLimited(DomainError):
    """The grant's rate limit is spent; ``headers`` carry Retry-After and the RateLimit fields."""

    status = 429

    def __init__(self, message: str, details: dict[str, Any], headers: dict[str, str]) -> None:
        super().__init__("rate_limited", message, details)
        self.headers = headers


@dataclass
class Call:
    """One data call as the audit log sees it; the use case fills in what it learns on the way."""

    application: Application | ApplicationView | None
    case_id: str | None
    operator: str | None
    service_item: str | None
    request_id: str
    client_address: str | None = None
    auth_error: DomainError | None = None  # the token was refused: recorded, then raised
    operation: str = ""
    resource_code: str | None = None
    subject: tuple[str, str] | None = None  # (subject key type, normalised key), hashed for the log
    items: list[str] = field(default_factory=list)  # the items answered (names only)
    purpose: str | None = None  # the grant's purpose (使用用途), shown in the citizen's access log
    rate_headers: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)


def request_id(given: str | None) -> str:
    """The caller's X-Request-Id (cut to 64 characters), or a new one."""
    return (given or uuid.uuid4().hex)[:64]


def answer_headers(call: Call) -> dict[str, str]:
    """What every answer carries: the rate limit's state and the request id."""
    return call.rate_headers | {"X-Request-Id": call.request_id}


def _check_headers(call: Call) -> None:
    for attr, (header, limit) in _HEADER_LIMITS.items():
        value = getattr(call, attr)
        if value is None or not value.strip():
            if attr == "service_item":
                continue
            raise BadRequest(
                f"missing_{attr}",
                f"请在请求头 {header} 中说明{'办件编号' if attr == 'case_id' else '经办人'}",
            )
        if len(value) > limit or any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise BadRequest(f"invalid_{attr}", f"请求头 {header} 不合规：最长 {limit} 个字符，不含控制字符")


# --- the audit: one place --------------------------------------------------------------------------


# /metrics (govshare.web.metrics): data calls by operation, resource, application and outcome, refusals
# by reason, and their latency — what the platform's operators watch.
CALLS = metrics.counter(
    "govshare_exchange_calls_total",
    "Data exchange calls, by operation, resource code, application id, outcome and refusal code",
    ("operation", "resource", "application", "outcome", "reason"),
)
CALL_LATENCY = metrics.histogram(
    "govshare_exchange_call_duration_seconds",
    "Time to answer a data exchange call, by operation",
    ("operation",),
)


def audit_entry(settings: Settings, call: Call, refusal: DomainError | None) -> audit.AuditEntry:
    """The audit entry of ``call``: answered, or refused with ``refusal``'s code. The subject is kept as
    its keyed hash only; ``items`` are names, never values."""
    app = call.application
    kind, key_hash = None, None
    if call.subject is not None:
        kind = call.subject[0]
        key_hash = audit.subject_hash(settings.secret_key.get_secret_value(), *call.subject)
    return audit.AuditEntry(
        operation=call.operation, actor_kind=audit.ActorKind.APPLICATION,
        outcome=audit.Outcome.REFUSED if refusal else audit.Outcome.ALLOWED,
        application_id=app.id if app else None, department_id=app.department_id if app else None,
        operator=call.operator or None, case_id=call.case_id or None, service_item=call.service_item or None,
        purpose=call.purpose, resource_code=call.resource_code, subject_key_type=kind,
        subject_key_hash=key_hash,
        items=tuple(call.items), refusal_code=refusal.code if refusal else None,
        latency_ms=int((time.perf_counter() - call.started) * 1000), request_id=call.request_id,
        client_address=call.client_address, occurred_at=utcnow(),
    )  # fmt: skip


def count_call(call: Call, refusal: DomainError | None) -> None:
    """The call in /metrics: by operation, resource, application and outcome, and its latency."""
    app = call.application
    outcome = audit.Outcome.REFUSED if refusal else audit.Outcome.ALLOWED
    metrics.labelled(
        CALLS, call.operation, call.resource_code or "", str(app.id) if app else "", str(outcome),
        refusal.code if refusal else "",
    ).inc()  # fmt: skip
    metrics.labelled(CALL_LATENCY, call.operation).observe(time.perf_counter() - call.started)


def audit_call(session: Session, settings: Settings, call: Call, refusal: DomainError | None) -> None:
    """Record ``call`` — answered, or refused with ``refusal``'s code — in the audit log (调用日志).

    An answer is appended in the call's own transaction, which the use case then commits before the
    response goes out; a refusal rolls the call's work back and is appended and committed on its own
    (``audit.record_refusal``). The data API's own path (``govshare.exchange.plane``) sends the same
    entry through the group commit instead.
    """
    entry = audit_entry(settings, call, refusal)
    if refusal is None:
        audit.record(session, entry, settings)
    else:
        audit.record_refusal(session, entry, settings)
    count_call(call, refusal)


@contextmanager
def _audited(
    session: Session, settings: Settings, call: Call, operation: Operation
) -> Iterator[Application | ApplicationView]:
    """Run a use case as ``call``: headers checked first, every outcome audited, answers committed."""
    call.operation = operation.value
    try:
        if call.auth_error is not None:
            raise call.auth_error
        _check_headers(call)
        assert call.application is not None
        yield call.application
    except DomainError as refusal:
        call.items = []
        audit_call(session, settings, call, refusal)
        raise
    except Exception:
        _audit_failure(session, settings, call)
        raise
    try:
        audit_call(session, settings, call, None)
        session.commit()  # the entry is durable before the answer goes out
    except Exception:
        _audit_failure(session, settings, call)
        raise


def _audit_failure(session: Session, settings: Settings, call: Call) -> None:
    """A call that failed unexpectedly (the client sees a 500) is recorded too, as refused with
    ``internal_error`` and no items; best effort, so the original error is the one that propagates."""
    call.items = []
    with contextlib.suppress(Exception):
        audit_call(session, settings, call, DomainError("internal_error", "服务器内部错误，调用未完成"))


def _resource(session: Session, call: Call, code: str) -> Resource:
    call.resource_code = code.strip()[:64]
    resource = catalog.get_resource(session, code)
    if resource.status != ResourceStatus.PUBLISHED:
        raise NotFound("resource_not_found", f"信息资源 {resource.code} 未发布", {"code": resource.code})
    return resource


def _charge(limiter: RateLimiter, settings: Settings, call: Call, grant: GrantLike) -> None:
    """Take one request from the grant's bucket (its own rate, else the platform default)."""
    rate = grant.rate_limit_per_minute or settings.exchange_rate_limit_per_minute
    decision = limiter.acquire(f"grant:{grant.id}", rate)
    headers = decision.headers(rate)
    if not decision.allowed:
        raise RateLimited(
            f"已超过授权的调用频率上限（每分钟 {rate} 次），请 {headers['Retry-After']} 秒后重试",
            {"grant_id": grant.id, "rate_limit_per_minute": rate},
            headers,
        )
    remaining = call.rate_headers.get("RateLimit-Remaining")
    if remaining is None or int(headers["RateLimit-Remaining"]) < int(remaining):
        call.rate_headers = headers  # several grants (a profile): report the tightest


def _granted(
    session: Session, limiter: RateLimiter, settings: Settings, call: Call, resource: Resource,
    operation: Operation, items: list[str],
) -> Grant:  # fmt: skip
    assert call.application is not None
    grant = check_grant(session, call.application.id, resource, operation, items, call.service_item or None)
    call.purpose = grant.purpose
    _charge(limiter, settings, call, grant)
    return grant


def _subject(resource: ResourceLike, key: str) -> tuple[str, str] | None:
    kind = SubjectKeyType(resource.subject_key_type)  # a plain str on a resource created in this session
    return None if kind == SubjectKeyType.NONE else (kind.value, key)


@functools.lru_cache(maxsize=512)
def _normaliser(subject_key_type: str, items: tuple[tuple[Any, ...], ...], today: date) -> RowNormaliser:
    """The load's check for these items, compiled once per (items, day): compiling costs ~0.1 ms, more
    than the rest of a lookup's Python work. ``items`` are (name, data_type, length, is_key, required)."""
    fields = ("name", "data_type", "length", "is_key", "required")
    return compile_row_normaliser(
        [SimpleNamespace(**dict(zip(fields, i, strict=True))) for i in items], subject_key_type, today=today
    )


def normaliser_for(resource: ResourceLike, items: Sequence[Item | ItemView]) -> RowNormaliser:
    """How a load of ``resource`` normalises ``items`` (full-width digits, a lower-case x, date layouts)."""
    signature = tuple((i.name, i.data_type, i.length, i.is_key, i.required) for i in items)
    return _normaliser(str(resource.subject_key_type), signature, china_today(utcnow()))


def record_key(resource: ResourceLike, key: str) -> str:
    """The stored key for ``key`` as given in a URL or body: composite parts joined by ``|`` in the
    catalog's key-item order, each normalised as a load normalises it (full-width digits, lower-case x)."""
    keys = [i for i in resource.items if i.is_key]
    parts = key.split(KEY_PART_SEPARATOR) if len(keys) > 1 else [key]
    if len(parts) != len(keys):
        names = [i.name for i in keys]
        raise ValidationFailed(
            "invalid_key",
            f"资源 {resource.code} 的主键由 {'、'.join(names)} 组成，请按此顺序以 {KEY_PART_SEPARATOR} 连接",
            {"key_items": names},
        )
    typed = {i.name: part.strip() or None for i, part in zip(keys, parts, strict=True)}
    values, problems = normaliser_for(resource, keys)(typed)
    if problems:
        details = {column: message for column, _code, message in problems}
        raise ValidationFailed("invalid_key", "；".join(details.values()), details)
    return KEY_SEPARATOR.join(str(values[i.name]) for i in keys)


def _ordered(resource: ResourceLike, names: Sequence[str]) -> list[Any]:
    wanted = set(names)
    return [i for i in resource.items if i.name in wanted]


def _masked(items: Sequence[Any], unmasked: Sequence[str]) -> list[str]:
    return [i.name for i in items if i.name not in unmasked and rule_for(i) != "none"]


# --- lookup ----------------------------------------------------------------------------------------


@dataclass
class Provenance:
    """Where a value comes from (来源): the providing department, and when it was last updated."""

    department_code: str
    department_name: str
    updated_at: datetime
    version: int
    batch_id: int


@dataclass
class RecordAnswer:
    resource_code: str
    resource_name: str
    key: str
    values: dict[str, Any]
    masked: list[str]
    provenance: Provenance

    def to_dict(self) -> dict[str, Any]:
        """The answer as JSON gives it (``dataclasses.asdict``'s result, without its deep copies)."""
        p = self.provenance
        return {
            "resource_code": self.resource_code, "resource_name": self.resource_name, "key": self.key,
            "values": self.values, "masked": self.masked,
            "provenance": {"department_code": p.department_code, "department_name": p.department_name,
                           "updated_at": p.updated_at, "version": p.version, "batch_id": p.batch_id},
        }  # fmt: skip


class RecordRow(NamedTuple):
    """A current record as a lookup reads it, with the department of the batch that wrote it."""

    data: str
    version: int
    valid_from: datetime
    batch_id: int
    department_id: int


Fetch = Callable[[int, str], RecordRow | None]  # (resource id, stored key) → the record, if any


def session_fetch(session: Session) -> Fetch:
    """Read records through ``session`` (its transaction: what the caller's other reads see)."""

    def fetch(resource_id: int, stored_key: str) -> RecordRow | None:
        row = session.execute(
            select(Record.data, Record.version, Record.valid_from, Record.batch_id, Batch.department_id)
            .join(Batch, Batch.id == Record.batch_id)
            .where(Record.resource_id == resource_id, Record.record_key == stored_key)
        ).first()
        return RecordRow(*row) if row is not None else None

    return fetch


def published(loader: Loader, call: Call, code: str) -> ResourceView:
    """The published resource ``code`` (from the views), or NotFound ``resource_not_found``."""
    call.resource_code = code.strip()[:64]
    resource = loader.resource(code)
    if resource is None:
        raise NotFound("resource_not_found", f"未找到信息资源 {code}", {"code": code})
    if resource.status != ResourceStatus.PUBLISHED:
        raise NotFound("resource_not_found", f"信息资源 {resource.code} 未发布", {"code": resource.code})
    return resource


@dataclass(frozen=True)
class LookupPlan:
    """A lookup that passed its checks: what to read, and what to answer with."""

    resource: ResourceView
    grant: GrantView
    stored_key: str
    items: list[str] | None


def plan_lookup(loader: Loader, call: Call, code: str, key: str, items: list[str] | None) -> LookupPlan:
    """The checks of a lookup, for an authenticated ``call`` whose case headers were checked: the
    resource, the grant (deny by default) and the key. Raises DomainError to refuse."""
    assert call.application is not None
    resource = published(loader, call, code)
    grant = loader.grant(call.application.id, resource.id)
    evaluate_grant(grant, resource.id, Operation.LOOKUP, items or [], call.service_item or None)
    assert grant is not None
    call.purpose = grant.purpose
    stored_key = record_key(resource, key)
    call.subject = _subject(resource, stored_key)
    return LookupPlan(resource, grant, stored_key, items)


def finish_lookup(
    loader: Loader, limiter: RateLimiter, settings: Settings, call: Call, plan: LookupPlan,
    record: RecordRow | None,
) -> RecordAnswer:  # fmt: skip
    """The rest of a lookup once its record is read: the rate limit, then the masked answer."""
    resource, grant = plan.resource, plan.grant
    _charge(limiter, settings, call, grant)
    if record is None:
        raise NotFound("record_not_found", f"资源 {resource.code} 中没有该主键的记录")
    department_code, department_name = loader.department(record.department_id)
    chosen = _ordered(resource, list(plan.items or grant.items))
    values = mask_record(orjson.loads(record.data), chosen, grant.unmasked_items)
    call.items = list(values)
    return RecordAnswer(
        resource.code, resource.name, plan.stored_key.replace(KEY_SEPARATOR, KEY_PART_SEPARATOR), values,
        _masked([i for i in chosen if i.name in values], grant.unmasked_items),
        Provenance(department_code, department_name, record.valid_from, record.version, record.batch_id),
    )  # fmt: skip


def answer_lookup(
    loader: Loader, limiter: RateLimiter, settings: Settings, call: Call, code: str, key: str,
    items: list[str] | None, fetch: Fetch,
) -> RecordAnswer:  # fmt: skip
    """The whole lookup with ``fetch`` reading the record: :func:`plan_lookup`, then
    :func:`finish_lookup`."""
    plan = plan_lookup(loader, call, code, key, items)
    return finish_lookup(loader, limiter, settings, call, plan, fetch(plan.resource.id, plan.stored_key))


def lookup(
    session: Session, settings: Settings, limiter: RateLimiter, call: Call, code: str, key: str,
    items: list[str] | None = None,
) -> RecordAnswer:  # fmt: skip
    """按主键查询: the record's granted items (or the asked subset of them), masked per the grant."""
    with _audited(session, settings, call, Operation.LOOKUP):
        loader = Loader(session, CACHE.for_session(session))
        answer = answer_lookup(loader, limiter, settings, call, code, key, items, session_fetch(session))
    return answer


# --- verify ----------------------------------------------------------------------------------------


@dataclass
class VerifyAnswer:
    resource_code: str
    exists: bool
    results: dict[str, bool]  # item → the claimed value matches the record's

    @property
    def all_match(self) -> bool:
        return self.exists and all(self.results.values())


def verify(
    session: Session, settings: Settings, limiter: RateLimiter, call: Call, code: str, key: str,
    claims: dict[str, Any],
) -> VerifyAnswer:  # fmt: skip
    """核验: whether each claimed value equals the record's, normalised as loads normalise; no values back."""
    with _audited(session, settings, call, Operation.VERIFY):
        resource = _resource(session, call, code)
        if not claims:
            raise ValidationFailed("claims_required", "请给出要核验的信息项及其值（claims）")
        _granted(session, limiter, settings, call, resource, Operation.VERIFY, list(claims))
        stored_key = record_key(resource, key)
        call.subject = _subject(resource, stored_key)
        record = session.scalar(
            select(Record.data).where(Record.resource_id == resource.id, Record.record_key == stored_key)
        )
        stored = json.loads(record) if record is not None else {}
        claimed = _ordered(resource, list(claims))
        normalise = normaliser_for(resource, claimed)
        raw = {name: None if value is None else str(value).strip() or None for name, value in claims.items()}
        values, problems = normalise(raw)
        invalid = {p[0] for p in problems}
        results = {
            i.name: record is not None and i.name not in invalid and values.get(i.name) == stored.get(i.name)
            for i in claimed
        }
        call.items = [i.name for i in claimed]
    return VerifyAnswer(resource.code, record is not None, results)


# --- subject profile -------------------------------------------------------------------------------


@dataclass
class ProfileValue(profiles.Source):
    """A profile value as the grant shows it: masked unless approved in clear, with its source."""

    masked: bool = False


@dataclass
class ProfileField:
    name: str
    concept: bool
    conflict: bool
    values: list[ProfileValue]


@dataclass
class ProfileAnswer:
    subject_key_type: str
    subject_key: str
    fields: list[ProfileField]


def _profile_grants(session: Session, call: Call, kind: SubjectKeyType) -> dict[str, tuple[Resource, Grant]]:
    """Resource code → (resource, grant) for every resource of ``kind`` this call may profile.

    A resource without a live grant stays invisible; only when none is left is the first refusal of a
    grant the application did hold (suspended, expired …) answered, else ``no_grant``."""
    assert call.application is not None
    live: dict[str, tuple[Resource, Grant]] = {}
    refusals: list[PermissionDenied] = []
    for resource in profiles.subject_resources(session, kind):
        try:
            grant = check_grant(
                session, call.application.id, resource, Operation.PROFILE, [], call.service_item
            )
        except PermissionDenied as refusal:
            refusals.append(refusal)
            continue
        live[resource.code] = (resource, grant)
    if live:
        return live
    held = [r for r in refusals if r.code != "no_grant"]
    if held:
        raise held[0]
    raise PermissionDenied("no_grant", "该应用没有此类主体任何资源的主体画像（profile）授权")


def subject_profile(
    session: Session, settings: Settings, limiter: RateLimiter, call: Call, subject_key_type: str, key: str
) -> ProfileAnswer:
    """主体画像: the subject across every resource the application may profile, each value masked per its
    resource's grant and with its source; other resources stay invisible."""
    with _audited(session, settings, call, Operation.PROFILE):
        kind = profiles.subject_key_type_of(subject_key_type)
        call.subject = (kind.value, profiles.normalize_subject_key(kind, key))
        live = _profile_grants(session, call, kind)
        call.purpose = "；".join(sorted({grant.purpose for _, grant in live.values()}))
        for _, grant in live.values():
            _charge(limiter, settings, call, grant)
        merged = profiles.profile(session, kind, key, record_conflicts=False)
        fields = []
        for f in merged.fields:
            shown = []
            for v in f.values:
                if v.resource_code not in live or v.item not in live[v.resource_code][1].items:
                    continue
                resource, grant = live[v.resource_code]
                item = next(i for i in resource.items if i.name == v.item)
                masked = mask_record({v.item: v.value}, [item], grant.unmasked_items)[v.item]
                clear = not _masked([item], grant.unmasked_items)
                shown.append(ProfileValue(**(asdict(v) | {"value": masked, "masked": not clear})))
            if shown:
                distinct = {json.dumps(s.value, ensure_ascii=False) for s in shown}
                fields.append(ProfileField(f.name, f.concept, f.concept and len(distinct) > 1, shown))
        if not fields:
            raise NotFound("subject_not_found", f"授权范围内没有主体 {merged.subject_key} 的数据")
        call.items = sorted({f"{v.resource_code}.{v.item}" for f in fields for v in f.values})
    return ProfileAnswer(kind.value, merged.subject_key, fields)


# --- bulk export -----------------------------------------------------------------------------------


@dataclass
class ExportItem:
    """An item as masking needs it, detached from the session that read the catalog."""

    name: str
    masking_rule: str
    sensitivity: int


@dataclass(frozen=True)
class ExportPlan:
    resource_id: int
    resource_code: str
    items: tuple[ExportItem, ...]
    unmasked: tuple[str, ...]
    since: datetime | None


def start_export(
    session: Session, settings: Settings, limiter: RateLimiter, call: Call, code: str,
    since: datetime | None = None,
) -> ExportPlan:  # fmt: skip
    """批量导出 (库表交换): check, charge and audit the export; the rows then come from
    :func:`export_chunks`. The audit entry names the items, not the rows."""
    with _audited(session, settings, call, Operation.BULK_EXPORT):
        resource = _resource(session, call, code)
        grant = _granted(session, limiter, settings, call, resource, Operation.BULK_EXPORT, [])
        chosen = _ordered(resource, grant.items)
        call.items = [i.name for i in chosen]
        plan = ExportPlan(
            resource.id, resource.code, tuple(ExportItem(i.name, i.masking_rule, i.sensitivity) for i in chosen),
            tuple(grant.unmasked_items), since,
        )  # fmt: skip
    return plan


def export_chunks(
    session: Session, plan: ExportPlan, chunk: int | None = None
) -> Iterator[list[dict[str, Any]]]:
    """The resource's current records, masked, ``chunk`` at a time: memory stays flat however large.

    The cursor is the record key (keyset pagination on the unique (resource_id, record_key) index, the
    order both databases already keep): each chunk is one index range read, where paging by
    ``data_record.id`` would make the database sort the resource's rows again for every chunk.
    """
    chunk = chunk or EXPORT_CHUNK
    last = ""
    while True:
        stmt = (
            select(Record.record_key, Record.data, Record.version, Record.valid_from)
            .where(Record.resource_id == plan.resource_id, Record.record_key > last)
            .order_by(Record.record_key)
            .limit(chunk)
        )
        if plan.since is not None:
            stmt = stmt.where(Record.valid_from > plan.since)
        rows = session.execute(stmt).all()
        if not rows:
            return
        yield [
            {
                "values": mask_record(json.loads(row.data), plan.items, plan.unmasked),
                "version": row.version,
                "updated_at": row.valid_from,
            }
            for row in rows
        ]
        if len(rows) < chunk:
            return
        last = rows[-1].record_key
