"""The demo city's exchange (交换体系): applications of three departments, their access requests in every
state a reviewer meets, a suspended grant and the data demand list — all made through the exchange
services with the demo's own users, as a department would make them.

- 南山区 综合受理系统 (service hall) is granted the base libraries at once (无条件共享), social insurance
  after 人社局 narrowed the items (有条件共享), and waits for 规划和自然资源局 on real-estate records.
- 市场监管局 企业开办一网通办平台 (web portal) may verify legal representatives' identities; 人社局
  refused it social insurance with a reason; 税务局 suspended its tax-credit grant.
- 住建局 住房保障管理系统 asked 民政局 for marriage records weeks ago: the request is overdue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.auth.models import User
from govshare.core.settings import Settings
from govshare.core.types import utcnow
from govshare.demo import records
from govshare.exchange import demands, grants, requests, service
from govshare.exchange.grant_schemas import AccessRequestIn, DecisionIn, DemandIn
from govshare.exchange.models import AccessRequest, Application
from govshare.exchange.schemas import ApplicationIn

# 政务服务事项 the demo's calls and grants name (X-Service-Item).
RESIDENCE_PERMIT, TALENT_SETTLEMENT, PUBLIC_HOUSING = "SZ-JZZ-001", "SZ-RCYJ-002", "SZ-GZF-003"
COMPANY_OPENING, NEWBORN_SETTLEMENT = "SZ-QYKB-004", "SZ-XSE-005"

TAX_CREDIT = "纳税信用等级信息"
REAL_ESTATE = "不动产登记信息"
MARRIAGE = "婚姻登记信息"
OVERDUE_BY = timedelta(days=40)  # filed this long ago: past its 10 working days even across a holiday

# key → (registering user, application)
APPLICATIONS: dict[str, tuple[str, ApplicationIn]] = {
    "hall": ("app_operator", ApplicationIn(
        name="综合受理系统", channel="hall", contact_name="陈晓敏", contact_phone="0755-26668001",
        description="南山区政务服务大厅窗口的综合受理系统：居住证、人才引进、住房保障等事项一窗受理，申请人免交身份证、营业执照复印件",
    )),
    "portal": ("market_officer", ApplicationIn(
        name="企业开办一网通办平台", channel="web", contact_name="李娜", contact_phone="0755-83070001",
        description="深圳市企业开办一网通办：网上申请营业执照时在线核验法定代表人身份",
    )),
    "housing": ("housing_officer", ApplicationIn(
        name="住房保障管理系统", channel="internal", contact_name="周建华", contact_phone="0755-83788001",
        description="公共租赁住房、人才住房申请的资格审核",
    )),
}  # fmt: skip


# 《政务信息资源共享管理暂行办法》, the legal basis the hall cites.
BASIS = "《国务院关于印发政务信息资源共享管理暂行办法的通知》（国发〔2016〕51号）"


@dataclass(frozen=True)
class Ask:
    """One access request of the story: filed by the application's registering user."""

    app: str
    resource: str
    operations: list[str]
    purpose: str
    items: list[str] = field(default_factory=list)  # none: every shareable item
    service_items: list[str] = field(default_factory=list)
    legal_basis: str = ""
    filed_ago: timedelta = timedelta(0)


# key → request. The unconditional (无条件共享) ones are granted at once; the rest wait for a decision.
REQUESTS: dict[str, Ask] = {
    "hall_population": Ask(
        "hall", records.POPULATION, ["lookup", "verify"], "窗口办件时核验申请人身份、调取户籍信息，申请人免交身份证复印件",
        service_items=[RESIDENCE_PERMIT, TALENT_SETTLEMENT, PUBLIC_HOUSING], legal_basis=BASIS,
    ),
    "hall_entities": Ask("hall", records.LEGAL_ENTITIES, ["lookup"], "核验办事企业的登记信息，免交营业执照复印件"),
    "hall_housing": Ask("hall", records.HOUSING, ["lookup"], "居住证申领时核验居住房屋信息"),
    "portal_population": Ask(
        "portal", records.POPULATION, ["verify"], "企业开办时在线核验法定代表人身份",
        items=["公民身份号码", "姓名"], service_items=[COMPANY_OPENING],
    ),
    "portal_tax": Ask("portal", TAX_CREDIT, ["lookup"], "企业开办后按纳税信用等级主动推送办税服务"),
    "hall_insurance": Ask(
        "hall", records.SOCIAL_INSURANCE, ["lookup"], "人才引进入户、积分入户时核验申请人社保参保缴费情况",
        legal_basis=BASIS,
    ),
    "portal_insurance": Ask("portal", records.SOCIAL_INSURANCE, ["lookup"], "企业开办时了解法定代表人参保情况"),
    "hall_real_estate": Ask(
        "hall", REAL_ESTATE, ["verify"], "人才住房申请时核验申请人名下住房情况", service_items=[PUBLIC_HOUSING]
    ),
    "housing_marriage": Ask(
        "housing", MARRIAGE, ["verify"], "公共租赁住房申请时核验家庭成员婚姻状况",
        items=["公民身份号码", "姓名", "婚姻状况"], filed_ago=OVERDUE_BY,
    ),
}  # fmt: skip

# key → (deciding provider officer, decision): one approval narrowed, one refusal with its reason.
DECISIONS: dict[str, tuple[str, DecisionIn]] = {
    "hall_insurance": ("hrss_officer", DecisionIn(
        decision="approve", items=["公民身份号码", "姓名", "参保状态", "累计缴费月数"], rate_limit_per_minute=60,
        conditions="仅用于人才引进入户、积分入户事项；缴费基数不予提供",
    )),
    "portal_insurance": ("hrss_officer", DecisionIn(
        decision="reject",
        reason="企业开办事项无需个人参保缴费信息，不符合最小必要原则；如需核验身份请申请人口基础信息",
    )),
}  # fmt: skip
SUSPENSION = ("portal_tax", "tax_officer", "接入应用未按期完成网络安全等级保护测评，暂停调用，整改后恢复")

# 需求清单: (filer, demand, the officer of the department it is assigned to, the resource that officer
# answers with). One waits for its answer, one is fulfilled, one is not yet assigned.
DEMANDS: list[tuple[str, DemandIn, str | None, str | None]] = [
    ("app_operator", DemandIn(
        title="新生儿预防接种信息", reason="新生儿入户、入学办理时核验预防接种情况，免交预防接种证复印件",
        service_items=[NEWBORN_SETTLEMENT],
    ), "health_officer", None),
    ("app_operator", DemandIn(title="企业纳税信用等级", reason="窗口办理企业事项时按纳税信用等级提供容缺受理"),
     "tax_officer", TAX_CREDIT),
    ("market_officer", DemandIn(title="企业用水用电信息", reason="企业开办后跟踪经营状况，主动推送惠企政策"), None, None),
]  # fmt: skip


@dataclass
class Exchange:
    """What the scenario made, by role in the story."""

    apps: dict[str, Application]
    requests: dict[str, AccessRequest]


def already_seeded(session: Session) -> bool:
    """The scenario runs once: its service-hall application is its mark."""
    operator_department = session.scalar(
        select(User.department_id).where(User.username == APPLICATIONS["hall"][0])
    )
    hall = select(Application.id).where(
        Application.department_id == operator_department, Application.name == APPLICATIONS["hall"][1].name
    )
    return session.scalar(hall) is not None


def _code(session: Session, name: str) -> str:
    resource = records.published(session, name)
    if resource is None:
        raise LookupError(f"the demo catalog has no published resource named {name}")
    return resource.code


def _file(
    session: Session, settings: Settings, users: dict[str, User], app: Application, ask: Ask
) -> AccessRequest:
    data = AccessRequestIn(
        application_id=app.id, resource_code=_code(session, ask.resource), items=ask.items,
        operations=ask.operations, purpose=ask.purpose, service_items=ask.service_items,
        legal_basis=ask.legal_basis,
    )  # fmt: skip
    filer = users[APPLICATIONS[ask.app][0]]
    return requests.submit_request(session, filer, settings, data, now=utcnow() - ask.filed_ago)


def seed_exchange(session: Session, settings: Settings, users: dict[str, User]) -> Exchange:
    """Register the applications, file and decide their requests, suspend a grant, file demands."""
    apps = {
        key: service.register_application(session, users[who], spec)[0]
        for key, (who, spec) in APPLICATIONS.items()
    }
    filed = {key: _file(session, settings, users, apps[ask.app], ask) for key, ask in REQUESTS.items()}
    for key, (officer, decision) in DECISIONS.items():
        requests.decide(session, users[officer], filed[key].id, decision)
    key, officer, reason = SUSPENSION
    grant_id = filed[key].grant_id
    assert grant_id is not None  # an unconditional resource: granted at once
    grants.change_grant(session, users[officer], grant_id, "suspend", reason)
    _file_demands(session, settings, users)
    return Exchange(apps, filed)


def _file_demands(session: Session, settings: Settings, users: dict[str, User]) -> None:
    for filer, wanted, assignee, answer in DEMANDS:
        demand = demands.file_demand(session, users[filer], wanted)
        if assignee is None:
            continue
        department = users[assignee].department.code
        days = settings.exchange_demand_deadline_days
        demands.assign_demand(session, users["admin"], demand.id, department, deadline_days=days)
        if answer is not None:
            reply = "已登记发布该资源，请按目录提交共享申请"
            demands.answer_demand(session, users[assignee], demand.id, _code(session, answer), reply)
