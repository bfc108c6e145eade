"""检索 (search): the records whose searchable items equal given values, for applications.

A call goes the way of every data call (``govshare.exchange.query``): case headers, the grant with
the ``search`` operation and the condition items (deny by default), the rate limit, the audit entry.
Conditions are ANDed, each on an item the catalog marks searchable (可检索) and the grant covers, and
each value is normalised as a load normalises it (full-width digits, a lower-case x in an ID number,
date layouts), so a condition matches exactly what the load stored. The records come from the term
index (``govshare.data.search_index``), in key order, a page at a time; every record shows the
granted items masked as a lookup masks them, with its provenance.

The answers carry no record keys, and the cursor is sealed (AES-SIV under a key derived from
GOVSHARE_SECRET_KEY): a key is usually an ID number the grant may show masked or not at all, so
neither may reveal it. The cursor is bound to the resource, the application and the conditions.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session

from govshare.auth.models import Department
from govshare.catalog.models import Resource
from govshare.core.errors import ValidationFailed
from govshare.core.settings import Settings
from govshare.data import search_index
from govshare.data.models import Batch, Record
from govshare.exchange import query
from govshare.exchange.models import Grant, Operation
from govshare.exchange.ratelimit import RateLimiter

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_CURSOR_INFO = b"govshare exchange search cursor v1"  # HKDF info: this key opens nothing else

Conditions = Mapping[str, str] | Sequence[tuple[str, str]]


@dataclass
class SearchHit:
    values: dict[str, Any]
    masked: list[str]
    provenance: query.Provenance


@dataclass
class SearchAnswer:
    resource_code: str
    resource_name: str
    records: list[SearchHit]
    next_cursor: str | None  # None: this page is the last


def search(
    session: Session, settings: Settings, limiter: RateLimiter, call: query.Call, code: str,
    conditions: Conditions, *, items: list[str] | None = None, limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> SearchAnswer:  # fmt: skip
    """检索: the records matching every condition (searchable item → value), ``limit`` at a time in key
    order, each with the granted items (or the asked subset of them) masked per the grant; give the
    answer's ``next_cursor`` as ``cursor`` for the next page."""
    pairs = list(conditions.items()) if isinstance(conditions, Mapping) else list(conditions)
    with query._audited(session, settings, call, Operation.SEARCH):
        resource = query._resource(session, call, code)
        names = _condition_items(resource, pairs)
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationFailed("invalid_limit", f"limit 须为 1–{MAX_LIMIT}", {"max": MAX_LIMIT})
        grant = query._granted(
            session, limiter, settings, call, resource, Operation.SEARCH, names + (items or [])
        )
        wanted = _normalised(resource, pairs)
        indexed = search_index.term_items(resource.items)
        terms = [(name, value) for name, value in wanted.items() if name in indexed]
        key = next((value for name, value in wanted.items() if name not in indexed), None)  # the lone key
        if key is not None:
            call.subject = query._subject(resource, key)  # about one subject: in the citizen's access log
        sealed = _Cursor(settings, call, resource, wanted)
        after = sealed.open(cursor) if cursor else ""
        answer = _page(session, resource, grant, items, _Query(terms, key, after, limit), sealed)
        call.items = [i.name for i in resource.items if any(i.name in hit.values for hit in answer.records)]
    return answer


def _condition_items(resource: Resource, pairs: list[tuple[str, str]]) -> list[str]:
    """The condition items, refused unless each is given once and is searchable."""
    if not pairs:
        raise ValidationFailed(
            "conditions_required", "请给出检索条件：可检索的信息项及其值，如 where=姓名:张三"
        )
    names = [name.strip() for name, _ in pairs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValidationFailed(
            "duplicate_condition", "每个信息项只能给一个检索条件：" + "、".join(repeated), {"items": repeated}
        )
    searchable = [i.name for i in resource.items if i.searchable]
    refused = [n for n in names if n not in searchable]
    if refused:
        raise query.BadRequest(
            "item_not_searchable",
            f"资源 {resource.code} 的这些信息项不可检索：{'、'.join(refused)}",
            {"items": refused, "searchable": searchable},
        )
    return names


def _normalised(resource: Resource, pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Condition values as a load stores them, or ValidationFailed ``invalid_condition`` per item."""
    raw = {name.strip(): (value or "").strip() or None for name, value in pairs}
    values, problems = query.normaliser_for(resource, list(resource.items))(raw)
    invalid = {column: message for column, _code, message in problems if column in raw}
    invalid |= {name: "检索值不能为空" for name, value in raw.items() if value is None}
    if invalid:
        raise ValidationFailed("invalid_condition", "；".join(invalid.values()), invalid)
    return {name: str(values[name]) for name in raw}


@dataclass
class _Query:
    terms: list[tuple[str, str]]  # (item, stored value) read from the term index
    key: str | None  # the stored key, when the lone key item is a condition
    after: str  # the last key of the previous page ("" for the first)
    limit: int


def _page(
    session: Session, resource: Resource, grant: Grant, items: list[str] | None, q: _Query, sealed: _Cursor
) -> SearchAnswer:
    conn = session.connection()
    search_index.ensure(conn, resource.id, [name for name, _ in q.terms])
    driven = search_index.rarest_first(conn, resource.id, q.terms)
    stmt = (
        search_index.matching_records(resource.id, driven, q.key, q.after)
        .add_columns(Department.code, Department.name)
        .join(Batch, Batch.id == Record.batch_id)
        .join(Department, Department.id == Batch.department_id)
        .limit(q.limit + 1)
    )
    rows = session.execute(stmt).all()
    page = rows[: q.limit]
    long = [(n, v) for n, v in q.terms if len(v) > search_index.TERM_LENGTH]  # matched on a prefix so far
    chosen = query._ordered(resource, items or grant.items)
    hits = []
    for row in page:
        stored = orjson.loads(row.data)
        if any(stored.get(name) != value for name, value in long):
            continue
        values = query.mask_record(stored, chosen, grant.unmasked_items)
        shown = query._masked([i for i in chosen if i.name in values], grant.unmasked_items)
        hits.append(
            SearchHit(
                values, shown, query.Provenance(row.code, row.name, row.valid_from, row.version, row.batch_id)
            )
        )
    next_cursor = sealed.seal(page[-1].record_key) if len(rows) > q.limit else None
    return SearchAnswer(resource.code, resource.name, hits, next_cursor)


@functools.lru_cache(maxsize=4)
def _cipher(secret: str) -> AESSIV:
    return AESSIV(
        HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_CURSOR_INFO).derive(secret.encode())
    )


class _Cursor:
    """The opaque page cursor: the last record key, sealed and bound to this search."""

    def __init__(
        self, settings: Settings, call: query.Call, resource: Resource, wanted: dict[str, str]
    ) -> None:
        self.cipher = _cipher(settings.secret_key.get_secret_value())
        application = call.application.id if call.application else 0
        bound = orjson.dumps(sorted(wanted.items()))
        self.context = [b"search", str(resource.id).encode(), str(application).encode(), bound]

    def seal(self, record_key: str) -> str:
        sealed = self.cipher.encrypt(record_key.encode(), self.context)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def open(self, cursor: str) -> str:
        try:
            sealed = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            return self.cipher.decrypt(sealed, self.context).decode()
        except (ValueError, binascii.Error, InvalidTag) as err:
            raise query.BadRequest(
                "invalid_cursor", "cursor 无效：请使用上一页应答中的 next_cursor，且检索条件不变"
            ) from err
