"""The demo city (`govshare demo`) on SQLite and PostgreSQL: valid synthetic records in the base
libraries, an exchange with requests and grants in every state, audited calls the citizen's access log
finds, and a second load that adds nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.audit import verify
from govshare.audit.models import AuditEvent
from govshare.audit.queries import citizen_log
from govshare.auth.models import User
from govshare.core import ids
from govshare.core.settings import Settings
from govshare.data import service as data
from govshare.data.models import Batch, Change, Record, RecordHistory
from govshare.demo import records, synthetic
from govshare.demo.seed import load_demo
from govshare.exchange.models import (
    AccessRequest,
    Application,
    DataDemand,
    DecisionKind,
    DemandStatus,
    Grant,
    GrantStatus,
    RequestStatus,
)
from govshare.exchange.requests import overdue_requests

PEOPLE = 120  # the demo's default is 3000; the same generator, smaller


@pytest.fixture
def summary(session: Session, settings: Settings) -> str:
    return load_demo(session, settings, people=PEOPLE)


@pytest.fixture
def city() -> synthetic.City:
    return synthetic.generate(PEOPLE)


def stored(session: Session, name: str) -> list[Record]:
    resource = records.published(session, name)
    assert resource is not None
    return list(session.scalars(select(Record).where(Record.resource_id == resource.id)))


def request_named(session: Session, app: str, resource: str) -> AccessRequest:
    return session.scalars(
        select(AccessRequest)
        .join(Application, Application.id == AccessRequest.application_id)
        .where(Application.name == app, AccessRequest.resource.has(name=resource))
    ).one()


def test_population_holds_every_generated_person_with_a_valid_id_number(session, summary):
    people = stored(session, records.POPULATION)
    assert len(people) == PEOPLE
    for record in people:
        assert ids.validate_resident_id(record.record_key) == record.record_key
        assert record.record_key[:4] == "4403"  # a Shenzhen district's division code


def test_legal_representatives_are_people_of_the_population_and_credit_codes_are_valid(session, summary):
    population = {r.record_key for r in stored(session, records.POPULATION)}
    companies = stored(session, records.LEGAL_ENTITIES)
    assert len(companies) == PEOPLE // 4
    for record in companies:
        assert ids.validate_credit_code(record.record_key) == record.record_key
    representatives = {json.loads(r.data)["法定代表人公民身份号码"] for r in companies}
    assert representatives <= population
    assert len(stored(session, records.HOUSING)) == PEOPLE // 2


def test_the_update_batch_gives_the_featured_person_an_earlier_version(session, summary, city):
    resource = records.published(session, records.POPULATION)
    assert resource is not None
    record = data.get_record(session, resource, city.featured.id_number)
    assert record.version == 2
    history = session.scalars(
        select(RecordHistory).where(
            RecordHistory.resource_id == resource.id, RecordHistory.record_key == city.featured.id_number
        )
    ).one()
    assert "福田区" in history.data and "南山区" in record.data  # moved house


def test_requests_and_grants_exist_in_every_state_a_reviewer_meets(session, summary):
    statuses = {g.status for g in session.scalars(select(Grant))}
    assert {GrantStatus.ACTIVE, GrantStatus.SUSPENDED} <= statuses
    suspended = session.scalars(select(Grant).where(Grant.status == GrantStatus.SUSPENDED)).one()
    assert suspended.status_reason

    narrowed = request_named(session, "综合受理系统", records.SOCIAL_INSURANCE)
    assert narrowed.status == RequestStatus.APPROVED
    grant = session.get(Grant, narrowed.grant_id)
    assert grant is not None and grant.status == GrantStatus.ACTIVE
    assert "缴费基数" in narrowed.items and "缴费基数" not in grant.items

    refused = request_named(session, "企业开办一网通办平台", records.SOCIAL_INSURANCE)
    assert refused.status == RequestStatus.REJECTED
    assert next(d for d in refused.decisions if d.decision == DecisionKind.REJECTED).reason

    pending = request_named(session, "综合受理系统", "不动产登记信息")
    assert pending.status == RequestStatus.PENDING
    assert pending.due_at is not None and pending.due_at > pending.submitted_at
    overdue = request_named(session, "住房保障管理系统", "婚姻登记信息")
    assert [r.id for r in overdue_requests(session)] == [overdue.id]

    demands = {d.status for d in session.scalars(select(DataDemand))}
    assert demands == {DemandStatus.OPEN, DemandStatus.ASSIGNED, DemandStatus.FULFILLED}


def test_the_audit_chain_verifies_and_the_citizen_log_lists_the_featured_persons_reads(
    session, settings, summary, city
):
    report = verify.verify(session)
    assert report.ok, report.problems
    assert report.events_checked >= 40
    refused = session.scalar(select(func.count()).where(AuditEvent.outcome == "refused"))
    assert refused == 5

    assert city.featured.id_number in summary
    clerk = session.scalars(select(User).where(User.username == "hall_clerk")).one()
    log = citizen_log(session, settings, clerk, "person_id", city.featured.id_number, identity_checked=True)
    reads = sorted((row.application_name, row.event.operation, row.event.resource_code) for row in log.reads)
    population = records.published(session, records.POPULATION)
    insurance = records.published(session, records.SOCIAL_INSURANCE)
    assert population is not None and insurance is not None
    assert reads == [
        ("企业开办一网通办平台", "verify", population.code),
        ("综合受理系统", "lookup", population.code),
        ("综合受理系统", "lookup", insurance.code),
    ]
    assert all(row.event.case_id and row.event.operator for row in log.reads)


def test_loading_the_demo_again_adds_nothing(session, settings, summary):
    tables = (Record, RecordHistory, Change, Batch, Application, AccessRequest, Grant, DataDemand, AuditEvent)

    def counts() -> list[int]:
        return [session.scalar(select(func.count()).select_from(t)) or 0 for t in tables]

    before = counts()
    again = load_demo(session, settings, people=PEOPLE)
    assert counts() == before
    assert "already loaded" in again and "already there" in again


def test_the_featured_person_is_the_same_in_every_city_size_and_named_by_the_readme():
    featured = synthetic.generate(PEOPLE).featured
    assert synthetic.generate(5).featured == featured
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"`{featured.id_number}` ({featured.name}" in readme
