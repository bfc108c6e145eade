"""Factories for test data: a small city and resource declarations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from govshare.auth import service as auth
from govshare.auth.models import Department, User
from govshare.catalog import negative, service
from govshare.catalog.models import Resource, ReviewStatus
from govshare.catalog.schemas import ResourceIn
from govshare.core.ids import make_credit_code

PASSWORD = "test-password-1"


@dataclass
class City:
    authority_dept: Department
    police: Department
    market: Department
    admin: User
    police_officer: User
    market_officer: User
    auditor: User
    clerk: User
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}


def dept_code(n: int, division: str = "440300") -> str:
    return make_credit_code("1", "1", division, f"{1000 + n:08d}")


def make_city(session: Session) -> City:
    authority = auth.create_department(
        session, code=dept_code(1), name="市政务服务数据管理局", level="city", division_code="440300"
    )
    police = auth.create_department(
        session, code=dept_code(2), name="市公安局", level="city", division_code="440300"
    )
    market = auth.create_department(
        session, code=dept_code(3), name="市市场监督管理局", level="city", division_code="440300"
    )

    def user(name: str, role: str, dept: Department) -> User:
        return auth.create_user(
            session, username=name, password=PASSWORD, role=role, department_code=dept.code, display_name=name
        )

    city = City(
        authority_dept=authority,
        police=police,
        market=market,
        admin=user("admin", "authority", authority),
        police_officer=user("police_officer", "data_officer", police),
        market_officer=user("market_officer", "data_officer", market),
        auditor=user("auditor", "auditor", authority),
        clerk=user("clerk", "clerk", market),
    )
    for u in (city.admin, city.police_officer, city.market_officer, city.auditor, city.clerk):
        city.tokens[u.username] = auth.issue_token(session, u, 1)[0]
    return city


def resource_in(**overrides: Any) -> ResourceIn:
    """A valid unconditional population resource; override any field."""
    data: dict[str, Any] = {
        "classification_code": "101",
        "name": "人口基础信息",
        "summary": "全市户籍人口的身份与户籍基础信息。",
        "sharing_type": "unconditional",
        "sharing_condition": "无条件",
        "sharing_methods": ["online_query"],
        "update_cycle": "daily",
        "subject_key_type": "person_id",
        "items": [
            {
                "name": "公民身份号码",
                "data_type": "C",
                "is_key": True,
                "is_basic": True,
                "sensitivity": 3,
                "masking_rule": "id_number",
                "searchable": True,
            },
            {"name": "姓名", "data_type": "C", "is_basic": True, "masking_rule": "name"},
            {"name": "出生日期", "data_type": "D", "is_basic": True},
        ],
    }
    data.update(overrides)
    return ResourceIn(**data)


def publish(session: Session, city: City, officer: User, **fields: Any) -> Resource:
    """Register, submit and publish one entry; the authority accepts any negative-list declaration."""
    resource = service.create_resource(session, officer, resource_in(**fields))
    service.submit(session, officer, resource.code)
    for entry in negative.live_entries(session, resource):
        if entry.status == ReviewStatus.PENDING:
            negative.decide(session, city.admin, entry.id, True, "依据充分")
    return service.publish(session, city.admin, resource.code)
