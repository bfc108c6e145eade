"""The demo city's data calls (数据调用): a morning of the service hall and the company-opening portal
reading the base libraries through `govshare.exchange.query`, each call with its case number (办件编号),
operator and service item, and every one — answered or refused — in the audit log (调用日志).

The featured person's reads (population, social insurance, the portal's identity check) are what the
citizen access log (/audit/my-data) lists for their ID number.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from itertools import cycle
from typing import Any

from sqlalchemy.orm import Session

from govshare.core.errors import DomainError
from govshare.core.settings import Settings
from govshare.demo import records
from govshare.demo.exchange import (
    COMPANY_OPENING,
    MARRIAGE,
    PUBLIC_HOUSING,
    REAL_ESTATE,
    RESIDENCE_PERMIT,
    TALENT_SETTLEMENT,
    TAX_CREDIT,
    Exchange,
)
from govshare.demo.synthetic import City
from govshare.exchange import query
from govshare.exchange.models import Application
from govshare.exchange.ratelimit import InProcessLimiter

HALL_CLERK = "hall_clerk"  # the demo's 南山区 窗口 user, who also opens citizens' access logs
# application → (X-Operator, case number prefix: 440305-SL 南山受理, QYKB 企业开办, ZFBZ 住房保障)
DESKS = {
    "hall": (HALL_CLERK, "440305-SL"),
    "portal": ("企业开办审核岗·李娜", "QYKB"),
    "housing": ("住房保障审核岗·周建华", "ZFBZ"),
}


@dataclass
class Calls:
    """Counts of what the calls got: answered, or refused (and why)."""

    allowed: int = 0
    refused: dict[str, int] = field(default_factory=dict)


class _Caller:
    def __init__(self, session: Session, settings: Settings, exchange: Exchange) -> None:
        self.session, self.settings, self.apps = session, settings, exchange.apps
        self.limiter = InProcessLimiter()
        names = (records.POPULATION, records.LEGAL_ENTITIES, records.HOUSING, records.SOCIAL_INSURANCE,
                 TAX_CREDIT, REAL_ESTATE, MARRIAGE)  # fmt: skip
        self.codes = {name: records.published(session, name) for name in names}
        self.cases = dict.fromkeys(DESKS, 0)
        self.done = Calls()

    def __call__(
        self, app: str, resource: str, key: str, service_item: str | None = None, *,
        claims: dict[str, Any] | None = None, same_case: bool = False, no_case: bool = False,
    ) -> None:  # fmt: skip
        """Look ``key`` up in ``resource`` (verify ``claims`` when given) as ``app``'s desk, under the
        desk's next case number (or its last one, or none at all)."""
        found = self.codes[resource]
        if found is None:
            return
        operator, prefix = DESKS[app]
        self.cases[app] += 0 if same_case else 1
        case_id = None if no_case else f"{prefix}-{self.cases[app]:06d}"
        application: Application = self.apps[app]
        call = query.Call(application, case_id, operator, service_item, request_id="demo-" + uuid.uuid4().hex)
        s = (self.session, self.settings, self.limiter, call, found.code, key)
        try:
            if claims is None:
                query.lookup(*s)
            else:
                query.verify(*s, claims)
        except DomainError as refusal:
            self.done.refused[refusal.code] = self.done.refused.get(refusal.code, 0) + 1
        else:
            self.done.allowed += 1


def make_calls(session: Session, settings: Settings, exchange: Exchange, city: City) -> Calls:
    """A few dozen audited calls, the featured person's first; a handful refused without a grant."""
    call = _Caller(session, settings, exchange)
    featured, first = city.featured, city.companies[0]
    call("hall", records.POPULATION, featured.id_number, RESIDENCE_PERMIT)
    call("hall", records.HOUSING, str(city.houses[0]["房屋编码"]), same_case=True)
    call("hall", records.SOCIAL_INSURANCE, featured.id_number, TALENT_SETTLEMENT)
    call("portal", records.POPULATION, featured.id_number, COMPANY_OPENING, claims={"姓名": featured.name})
    call("hall", records.LEGAL_ENTITIES, first.credit_code)

    hall_items = cycle((RESIDENCE_PERMIT, TALENT_SETTLEMENT, PUBLIC_HOUSING))
    for person in city.people[1:21]:
        call("hall", records.POPULATION, person.id_number, next(hall_items))
    for number, company in enumerate(city.companies[1:9]):
        rep = company.legal_representative
        claimed = "张三" if number == 3 else rep.name  # one applicant typed someone else's name: no match
        claims = {"公民身份号码": rep.id_number, "姓名": claimed}
        call("portal", records.POPULATION, rep.id_number, COMPANY_OPENING, claims=claims)
    for company in city.companies[1:5]:
        call("hall", records.LEGAL_ENTITIES, company.credit_code)
    for house in city.houses[1:4]:
        call("hall", records.HOUSING, str(house["房屋编码"]))
    for row in city.insured[1:4]:
        call("hall", records.SOCIAL_INSURANCE, str(row["公民身份号码"]))

    # Refused, and audited all the same: no grant yet, a suspended grant, an operation not granted,
    # no grant at all, a call that names no case.
    someone = city.people[min(5, len(city.people) - 1)]
    unit = "440305001001GB00001F00010001"  # 不动产单元号
    call("hall", REAL_ESTATE, unit, PUBLIC_HOUSING, claims={"权利人姓名": someone.name})
    call("portal", TAX_CREDIT, first.credit_code)
    call("portal", records.POPULATION, someone.id_number, COMPANY_OPENING)
    call("housing", MARRIAGE, someone.id_number, claims={"婚姻状况": "已婚"})
    call("hall", records.POPULATION, someone.id_number, RESIDENCE_PERMIT, no_case=True)
    return call.done
