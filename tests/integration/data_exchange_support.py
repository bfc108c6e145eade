"""Helpers for the data exchange API tests: a population with records, the market regulator's
application with its token, and grants on exactly the terms a test needs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.audit.models import AuditEvent
from govshare.catalog.models import Resource
from govshare.core.settings import Settings
from govshare.core.types import utcnow
from govshare.data import service as data
from govshare.exchange import requests
from govshare.exchange.grant_schemas import DecisionIn
from govshare.exchange.models import Application, Grant, RequestStatus
from tests.conftest import make_test_settings
from tests.factories import City
from tests.integration.exchange_support import bearer, register
from tests.integration.grant_support import publish_people, request_in
from tests.integration.test_data_load import pid

BASE = "/api/v1/exchange/data"
CASE = {"X-Case-Id": "SZ-2026-1204-0001", "X-Operator": "clerk01"}
COLUMNS = ["公民身份号码", "姓名", "出生日期", "宗教信仰"]
SECRET_FAITH = "某宗教"  # the non-shareable item's value: must never appear in any answer


def in_process_settings() -> Settings:
    """Test settings with in-process rate limits, whatever GOVSHARE_REDIS_URL says (buckets are per app)."""
    return make_test_settings(base_url="http://testserver", redis_url=None)


def market_registration(session: Session, city: City) -> tuple[Application, str]:
    return register(session, city.market_officer)


def app_token(client: TestClient, registered: tuple[Application, str]) -> dict[str, str]:
    return bearer(client, registered[0].client_id, registered[1])


def last_event(session: Session) -> AuditEvent:
    """The newest audit entry (each test's transaction starts from the same chain)."""
    event = session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    assert event is not None
    return event


def population(session: Session, city: City, count: int = 4, **fields: Any) -> Resource:
    """The police's population resource with ``count`` people: 张三 (pid(1)), 李四 (pid(2)), 王3 … (pid(4) ends in X)"""
    resource = publish_people(session, city, sharing_methods=["online_query", "system_integration"], **fields)
    load(session, city, resource, range(1, count + 1))
    return resource


def person(n: int) -> dict[str, str]:
    names = {1: "张三", 2: "李四"}
    return {
        "公民身份号码": pid(n),
        "姓名": names.get(n, f"王{n}"),
        "出生日期": "1980-01-02",
        "宗教信仰": SECRET_FAITH,
    }


def load(
    session: Session, city: City, resource: Resource, numbers: Iterable[int], key: str = "b1", **changes: str
) -> None:
    rows = ((i, person(n) | changes) for i, n in enumerate(numbers, start=2))
    report = data.load(session, city.police_officer, resource.code, COLUMNS, rows, batch_key=key)
    assert report.rejected == 0, report.rejections


def grant(
    session: Session, city: City, app: Application, resource: Resource, *, items: list[str] | None = None,
    operations: tuple[str, ...] = ("lookup",), unmasked: tuple[str, ...] = (),
    service_items: tuple[str, ...] = (), rate: int | None = None,
) -> Grant:  # fmt: skip
    """Request ``items`` (default: every shareable one) and have the provider approve exactly that."""
    names = items or [i.name for i in resource.items if i.shareable]
    body = request_in(
        app, resource, items=names, operations=list(operations), unmasked_items=list(unmasked),
        service_items=list(service_items),
    )  # fmt: skip
    request = requests.submit_request(session, city.market_officer, make_test_settings(), body, utcnow())
    if request.status != RequestStatus.APPROVED:
        officer = city.police_officer if resource.provider_id == city.police.id else city.market_officer
        decision = DecisionIn(decision="approve", unmasked_items=list(unmasked), rate_limit_per_minute=rate)
        request = requests.decide(session, officer, request.id, decision)
    found = session.get(Grant, request.grant_id)
    assert found is not None
    return found
