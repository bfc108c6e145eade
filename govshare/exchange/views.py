"""What a data call needs of the catalog and the exchange tables, kept in the process between calls.

A lookup by key used to read the signing key, the application, the resource, its items and the grant
on every call — five of its nine statements, for rows that change a few times a day. Here they are
read once and kept as immutable views, valid for one *generation stamp*: the value in
``exchange_generation`` that database triggers renew in the same transaction as any change of an
application, signing key, grant, resource, item or department (migration 0008). A call reads the
stamp in the same statement as its record; when it differs from the cached one, the views are
dropped and read again, so a suspended grant or a disabled application refuses at the very next call,
in every process, with no message bus.

The stamp is random, not a counter: a rolled-back change restores the old stamp together with the old
rows, and two different states never share one, so a view cached under a stamp is always what the
database held under it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.auth.models import Department
from govshare.catalog.models import Resource
from govshare.exchange.grants import latest_grant
from govshare.exchange.models import Application, Generation, Grant, SigningKey


@dataclass(frozen=True)
class ItemView:
    """A catalog item as masking, key normalisation and grant checks see it."""

    name: str
    data_type: str
    length: int | None
    is_key: bool
    required: bool
    sensitivity: int
    masking_rule: str
    searchable: bool
    shareable: bool


@dataclass(frozen=True)
class ResourceView:
    id: int
    code: str
    name: str
    status: str
    subject_key_type: str
    items: tuple[ItemView, ...]

    @property
    def key_items(self) -> tuple[ItemView, ...]:
        return tuple(i for i in self.items if i.is_key)


@dataclass(frozen=True)
class ApplicationView:
    """An application as the audit and the token check need it (``Call.application``)."""

    id: int
    client_id: str
    department_id: int
    status: str
    token_generation: int


@dataclass(frozen=True)
class GrantView:
    """A grant's terms, as :func:`govshare.exchange.grants.evaluate_grant` reads them."""

    id: int
    status: str
    status_reason: str
    valid_from: date
    valid_to: date
    operations: tuple[str, ...]
    items: tuple[str, ...]
    unmasked_items: tuple[str, ...]
    service_items: tuple[str, ...]
    purpose: str
    rate_limit_per_minute: int | None


@dataclass(frozen=True)
class SigningKeyView:
    kid: str
    public_key: str
    created_at: datetime
    retired_at: datetime | None


NO_GRANT = object()  # cached answer "this pair has no grant row"


@dataclass
class Views:
    """Every view read under one stamp; filled lazily, never changed once read."""

    stamp: int
    resources: dict[str, ResourceView | None] = field(default_factory=dict)  # by code
    applications: dict[int, ApplicationView | None] = field(default_factory=dict)
    grants: dict[tuple[int, int], GrantView | object] = field(default_factory=dict)
    departments: dict[int, tuple[str, str]] = field(default_factory=dict)  # id → (code, name)
    signing_keys: dict[str, SigningKeyView | None] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)  # verified token → claims
    extra: dict[Any, Any] = field(default_factory=dict)  # derived values (compiled key normalisers)


def resource_view(row: Resource) -> ResourceView:
    items = tuple(
        ItemView(i.name, str(i.data_type), i.length, i.is_key, i.required, i.sensitivity,
                 i.masking_rule, i.searchable, i.shareable)
        for i in row.items
    )  # fmt: skip
    return ResourceView(row.id, row.code, row.name, str(row.status), str(row.subject_key_type), items)


def grant_view(row: Grant) -> GrantView:
    return GrantView(
        row.id, str(row.status), row.status_reason, row.valid_from, row.valid_to,
        tuple(str(o) for o in row.operations), tuple(row.items), tuple(row.unmasked_items),
        tuple(row.service_items or ()), row.purpose, row.rate_limit_per_minute,
    )  # fmt: skip


MAX_TOKENS = 10_000  # verified tokens kept per stamp; beyond that the oldest are verified again


class ViewCache:
    """The views of the newest stamp seen by this process (one per process, shared by its threads)."""

    def __init__(self) -> None:
        self._views = Views(stamp=-1 << 64)  # matches no stamp
        self._lock = threading.Lock()

    @property
    def current(self) -> Views:
        return self._views

    def at(self, stamp: int) -> Views:
        """The views valid for ``stamp``: the cached ones, or a fresh empty set when it changed."""
        views = self._views
        if views.stamp == stamp:
            return views
        with self._lock:
            if self._views.stamp != stamp:
                self._views = Views(stamp=stamp)
            return self._views

    def for_session(self, session: Session) -> Views:
        """The views valid for what ``session`` sees now (its stamp read first)."""
        return self.at(int(session.scalar(select(Generation.stamp).where(Generation.id == 1)) or 0))


CACHE = ViewCache()


class Stale(Exception):
    """The cached views lack a row, or the database's stamp has moved: answer through a session."""


class Loader:
    """The views of one stamp, each read on a miss from ``session``, which must see that stamp
    (read by ``ViewCache.for_session`` on it). Without a session a miss raises :class:`Stale`."""

    def __init__(self, session: Session | None, views: Views) -> None:
        self._db, self.views = session, views

    def _session(self) -> Session:
        if self._db is None:
            raise Stale
        return self._db

    def resource(self, code: str) -> ResourceView | None:
        code = code.strip()
        if code not in self.views.resources:
            row = self._session().scalar(select(Resource).where(Resource.code == code))
            self.views.resources[code] = resource_view(row) if row is not None else None
        return self.views.resources[code]

    def application(self, app_id: int) -> ApplicationView | None:
        if app_id not in self.views.applications:
            row = self._session().get(Application, app_id)
            self.views.applications[app_id] = (
                ApplicationView(
                    row.id, row.client_id, row.department_id, str(row.status), row.token_generation
                )
                if row is not None
                else None
            )
        return self.views.applications[app_id]

    def grant(self, app_id: int, resource_id: int) -> GrantView | None:
        pair = (app_id, resource_id)
        if pair not in self.views.grants:
            row = latest_grant(self._session(), app_id, resource_id)
            self.views.grants[pair] = grant_view(row) if row is not None else NO_GRANT
        found = self.views.grants[pair]
        return found if isinstance(found, GrantView) else None

    def department(self, department_id: int) -> tuple[str, str]:
        if department_id not in self.views.departments:
            row = self._session().get(Department, department_id)
            self.views.departments[department_id] = (row.code, row.name) if row else ("", "")
        return self.views.departments[department_id]

    def signing_key(self, kid: str) -> SigningKeyView | None:
        if kid not in self.views.signing_keys:
            row = self._session().scalar(select(SigningKey).where(SigningKey.kid == kid))
            self.views.signing_keys[kid] = (
                SigningKeyView(row.kid, row.public_key, row.created_at, row.retired_at) if row else None
            )
        return self.views.signing_keys[kid]

    def remember_token(self, token: str, claims: dict[str, Any]) -> None:
        tokens = self.views.tokens
        if len(tokens) >= MAX_TOKENS:
            tokens.pop(next(iter(tokens)), None)  # the oldest: dicts keep insertion order
        tokens[token] = claims
