"""Reading the audit log: who may search it, filters and cursor pages, CSV export, the citizen's access
log (数据使用记录), and the profile read path writing its audit entry (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare import audit
from govshare.audit import queries
from govshare.audit.models import AuditEvent
from govshare.core.errors import PermissionDenied, ValidationFailed
from govshare.core.types import utcnow
from tests.conftest import TEST_SECRET
from tests.factories import City
from tests.integration.audit_support import ID_NUMBER, OTHER_ID, append, audit_settings
from tests.integration.test_data_load import pid
from tests.integration.test_profiles import load_people, population, read  # noqa: F401 - fixture

SETTINGS = audit_settings(every=1000)


def subject(key: str) -> dict[str, str]:
    return {
        "subject_key_type": "person_id",
        "subject_key_hash": audit.subject_hash(TEST_SECRET, "person_id", key),
    }


def seed(session: Session, city: City) -> None:
    """Reads of two subjects by two departments' applications, one refused, one verify."""
    append(session, SETTINGS, 2, department_id=city.police.id, case_id="CASE-A", **subject(ID_NUMBER))
    append(session, SETTINGS, 1, department_id=city.market.id, case_id="CASE-B", **subject(OTHER_ID))
    append(session, SETTINGS, 1, department_id=city.market.id, case_id="CASE-C", outcome="refused",
           refusal_code="no_grant", **subject(ID_NUMBER))  # fmt: skip
    append(session, SETTINGS, 1, department_id=city.market.id, operation="verify", case_id="CASE-D",
           items=[], **subject(ID_NUMBER))  # fmt: skip


@pytest.mark.parametrize("who", ["clerk", "police_officer", "market_officer"])
def test_only_the_authority_and_auditors_search_the_log(session: Session, city: City, who: str):
    seed(session, city)
    with pytest.raises(PermissionDenied):
        queries.search(session, getattr(city, who), queries.EventFilter())
    assert len(queries.search(session, city.auditor, queries.EventFilter()).rows) == 5
    assert len(queries.search(session, city.admin, queries.EventFilter()).rows) == 5


def test_search_filters_by_department_operation_outcome_and_case(session: Session, city: City):
    seed(session, city)

    def cases(**kw: object) -> list[str | None]:
        return [
            r.event.case_id for r in queries.search(session, city.auditor, queries.EventFilter(**kw)).rows
        ]  # type: ignore[arg-type]

    assert cases(department=city.police.code) == ["CASE-A", "CASE-A"]
    assert cases(operation="verify") == ["CASE-D"]
    assert cases(outcome="refused") == ["CASE-C"]
    assert cases(case_id="CASE-B") == ["CASE-B"]
    assert cases(application_id=7, resource_code="R101", department=city.market.code) == [
        "CASE-D",
        "CASE-C",
        "CASE-B",
    ]
    assert cases(since=utcnow() + timedelta(minutes=1)) == []
    assert len(cases(since=utcnow() - timedelta(minutes=5), until=utcnow() + timedelta(minutes=1))) == 5
    with pytest.raises(ValidationFailed):
        cases(outcome="maybe")


def test_cursor_pages_cover_every_event_once_newest_first(session: Session, city: City):
    seed(session, city)
    seen, cursor = [], None
    for _ in range(5):
        page = queries.search(session, city.auditor, queries.EventFilter(), cursor=cursor, limit=2)
        seen += [r.event.seq for r in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [5, 4, 3, 2, 1]


def test_csv_export_lists_the_events_with_their_hashes_and_is_itself_audited(session: Session, city: City):
    seed(session, city)
    text = "".join(queries.export_csv(session, SETTINGS, city.auditor, queries.EventFilter(case_id="CASE-B")))
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("chain,seq,occurred_at") and len(lines) == 2
    assert "CASE-B" in lines[1] and "市市场监督管理局" in lines[1] and "姓名、性别" in lines[1]
    assert (
        session.scalar(select(AuditEvent.operation).order_by(AuditEvent.seq.desc()).limit(1))
        == "audit_export"
    )


def test_the_citizen_log_lists_the_reads_of_that_subject_only(session: Session, city: City):
    seed(session, city)
    log = queries.citizen_log(
        session, SETTINGS, city.clerk, "person_id", ID_NUMBER.lower(), identity_checked=True
    )
    assert [(r.event.case_id, r.event.operation) for r in log.reads] == [
        ("CASE-D", "verify"),
        ("CASE-A", "lookup"),
        ("CASE-A", "lookup"),
    ]  # the refused attempt (CASE-C) and the other subject's read (CASE-B) are not reads of this subject
    assert log.reads[0].department_name == "市市场监督管理局"
    assert log.masked_key == "1101**********002X"
    looked_up = session.scalars(select(AuditEvent).where(AuditEvent.operation == "citizen_log")).one()
    assert (looked_up.user_id, looked_up.subject_key_hash) == (
        city.clerk.id,
        subject(ID_NUMBER)["subject_key_hash"],
    )


def test_the_citizen_log_needs_a_checked_identity_card_and_a_valid_id(session: Session, city: City):
    with pytest.raises(ValidationFailed) as err:
        queries.citizen_log(session, SETTINGS, city.clerk, "person_id", ID_NUMBER, identity_checked=False)
    assert err.value.code == "identity_not_checked"
    with pytest.raises(ValidationFailed):
        queries.citizen_log(
            session, SETTINGS, city.clerk, "person_id", ID_NUMBER[:-1] + "1", identity_checked=True
        )
    with pytest.raises(PermissionDenied):
        queries.citizen_log(
            session, SETTINGS, city.police_officer, "person_id", ID_NUMBER, identity_checked=True
        )
    assert session.scalar(select(AuditEvent.seq).limit(1)) is None  # nothing looked up, nothing recorded


def test_a_profile_read_writes_an_audit_entry_the_citizen_then_sees(session: Session, city: City, population):  # noqa: F811
    key = pid(1)
    load_people(session, city, population, [(key, "王五", "1980-01-02", "深圳市南山区")])
    read(session, city.admin, key)
    entry = session.scalars(select(AuditEvent).where(AuditEvent.operation == "profile")).one()
    assert (entry.user_id, entry.department_id, entry.outcome.value) == (
        city.admin.id,
        city.admin.department_id,
        "allowed",
    )
    assert entry.subject_key_hash == subject(key)["subject_key_hash"]
    assert f"{population.code}.姓名" in entry.items
    log = queries.citizen_log(session, SETTINGS, city.clerk, "person_id", key, identity_checked=True)
    assert [r.event.operation for r in log.reads] == ["profile"]


def test_a_signed_link_opens_the_same_reads_without_an_account_and_both_steps_are_recorded(
    session: Session, city: City
):
    seed(session, city)
    link = queries.subject_link(
        session, SETTINGS, city.clerk, "person_id", ID_NUMBER, identity_checked=True, days=3
    )
    assert link.path.startswith("/audit/subject/") and ID_NUMBER not in link.path
    log = queries.citizen_log_by_link(session, SETTINGS, link.path.rsplit("/", 1)[1])
    assert [r.event.case_id for r in log.reads] == [
        "CASE-D",
        "CASE-A",
        "CASE-A",
    ] and log.masked_key == "1101**********002X"
    steps = session.execute(
        select(AuditEvent.operation, AuditEvent.actor_kind, AuditEvent.user_id, AuditEvent.subject_key_hash)
        .where(AuditEvent.operation.in_(["subject_link", "citizen_log"])).order_by(AuditEvent.seq)
    ).all()  # fmt: skip
    key_hash = subject(ID_NUMBER)["subject_key_hash"]
    assert [(op, kind.value, user, h) for op, kind, user, h in steps] == [
        ("subject_link", "user", city.clerk.id, key_hash),
        ("citizen_log", "system", None, key_hash),
    ]
    with pytest.raises(ValidationFailed):
        queries.subject_link(session, SETTINGS, city.clerk, "person_id", ID_NUMBER, identity_checked=False)
    with pytest.raises(PermissionDenied):
        queries.subject_link(
            session, SETTINGS, city.market_officer, "person_id", ID_NUMBER, identity_checked=True
        )


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_defused(session: Session, city: City):
    append(session, SETTINGS, 1, operator='=HYPERLINK("http://evil.example","点我")', case_id="CASE-F")
    text = "".join(queries.export_csv(session, SETTINGS, city.auditor, queries.EventFilter(case_id="CASE-F")))
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text


def test_a_company_finds_the_reads_of_its_credit_code_and_the_key_type_is_part_of_the_hash(
    session: Session, city: City
):
    code = "91110000600037341L"
    company = {
        "subject_key_type": "credit_code",
        "subject_key_hash": audit.subject_hash(TEST_SECRET, "credit_code", code),
    }
    append(session, SETTINGS, 1, case_id="CASE-CO", **company)
    log = queries.citizen_log(
        session, SETTINGS, city.clerk, "credit_code", code.lower(), identity_checked=True
    )
    assert [r.event.case_id for r in log.reads] == ["CASE-CO"] and log.subject_key_type == "credit_code"
    assert company["subject_key_hash"] != audit.subject_hash(TEST_SECRET, "person_id", code)
