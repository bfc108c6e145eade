"""Helpers shared by the access request and grant tests: resources of each sharing type, an
application of the consuming department (市场监管局) and requests for it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from govshare.catalog.models import Resource
from govshare.core.settings import Settings
from govshare.exchange import requests
from govshare.exchange.grant_schemas import AccessRequestIn, DecisionIn
from govshare.exchange.models import AccessRequest, Application
from tests.conftest import make_test_settings
from tests.factories import City, publish
from tests.integration.exchange_support import register

# 10:00 in Beijing on the last working day before National Day 2026 (国庆节 1–7 October, 8 October
# also a holiday in 2026): a ten-working-day deadline has to skip the whole holiday week.
BEFORE_NATIONAL_DAY = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
SERVICE_ITEM = "11440300MB2C92301Y4440117001000"
RELIGION_BASIS = "《中华人民共和国个人信息保护法》第二十八条"

PEOPLE_ITEMS: list[dict[str, Any]] = [
    {"name": "公民身份号码", "data_type": "C", "is_key": True, "is_basic": True, "sensitivity": 3,
     "masking_rule": "id_number", "searchable": True},
    {"name": "姓名", "data_type": "C", "is_basic": True, "sensitivity": 3, "masking_rule": "name"},
    {"name": "出生日期", "data_type": "D", "is_basic": True},
    {"name": "宗教信仰", "data_type": "C", "shareable": False, "legal_basis": RELIGION_BASIS},
]  # fmt: skip


def publish_people(session: Session, city: City, sharing: str = "conditional", **fields: Any) -> Resource:
    """A population resource of the police (公安局) with one non-shareable item."""
    values: dict[str, Any] = {"sharing_type": sharing, "items": PEOPLE_ITEMS}
    if sharing == "conditional":
        values["sharing_condition"] = "仅限办理政务服务事项时使用"
    return publish(session, city, city.police_officer, **(values | fields))


def market_app(session: Session, city: City) -> Application:
    return register(session, city.market_officer)[0]


def request_in(app: Application, resource: Resource, **overrides: Any) -> AccessRequestIn:
    data: dict[str, Any] = {
        "application_id": app.id,
        "resource_code": resource.code,
        "items": ["公民身份号码", "姓名", "出生日期"],
        "operations": ["lookup", "verify"],
        "purpose": "企业开办时核验法定代表人身份",
        "legal_basis": "《优化营商环境条例》",
        "service_items": [SERVICE_ITEM],
    }
    return AccessRequestIn(**(data | overrides))


def settings_with(**overrides: Any) -> Settings:
    return make_test_settings(**overrides)


def submit(
    session: Session, city: City, app: Application, resource: Resource, settings: Settings | None = None,
    now: datetime = BEFORE_NATIONAL_DAY, **overrides: Any,
) -> AccessRequest:  # fmt: skip
    return requests.submit_request(
        session,
        city.market_officer,
        settings or make_test_settings(),
        request_in(app, resource, **overrides),
        now,
    )


def approve(session: Session, city: City, request: AccessRequest, **terms: Any) -> AccessRequest:
    return requests.decide(session, city.police_officer, request.id, DecisionIn(decision="approve", **terms))
