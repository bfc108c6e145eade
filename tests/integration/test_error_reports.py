"""Data error reports (数据纠错): filing with a working-day deadline, answering, inbox and overdue lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.core.workdays import add_working_days
from govshare.data import error_reports as reports
from govshare.data.profile_models import ReportStatus
from tests.integration.test_data_load import load, people, pid, population  # noqa: F401  (fixture)

# The evening before National Day 2025: the deadline has to skip the 国庆 holiday week and a weekend.
BEFORE_HOLIDAY = datetime(2025, 9, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def record(session, city, population):  # noqa: F811
    load(session, city, population, people((pid(1), "张三", "1980-01-02")), "b1")
    return population


def file(session, user, resource, now=BEFORE_HOLIDAY, days=5, **kw):
    values = {"record_key": pid(1), "item_name": "姓名", "proposed_value": "张叁", "evidence": "户口簿第2页"}
    values |= kw
    return reports.file_report(session, user, resource.code, deadline_days=days, now=now, **values)


def test_due_date_counts_working_days_and_skips_holidays_and_weekends(session, city, record):
    report = file(session, city.clerk, record)
    expected = add_working_days(BEFORE_HOLIDAY, 5)
    assert report.due_at == expected.due_at and report.due_estimated == expected.estimated
    assert report.due_at - BEFORE_HOLIDAY > timedelta(days=7)  # more than five calendar days
    assert (report.status, report.current_value, report.proposed_value) == (ReportStatus.OPEN, "张三", "张叁")
    assert (report.reporter_department_id, report.provider_department_id) == (city.market.id, city.police.id)


def test_deadline_days_come_from_the_caller_setting(session, city, record):
    report = file(session, city.clerk, record, days=10)
    assert report.due_at == add_working_days(BEFORE_HOLIDAY, 10).due_at


def test_reporting_on_an_unknown_record_is_record_not_found(session, city, record):
    with pytest.raises(NotFound) as err:
        file(session, city.clerk, record, record_key=pid(2))
    assert err.value.code == "record_not_found"


def test_record_key_is_normalised_before_lookup(session, city, population):  # noqa: F811
    with_x = next(pid(n) for n in range(1, 400) if pid(n).endswith("X"))
    load(session, city, population, people((with_x, "李四", "1980-01-02")), "bx")
    assert file(session, city.clerk, population, record_key=with_x.lower()).record_key == with_x


def test_unknown_item_and_own_department_are_refused(session, city, record):
    with pytest.raises(ValidationFailed):
        file(session, city.clerk, record, item_name="不存在")
    with pytest.raises(PermissionDenied):
        file(session, city.police_officer, record)  # the provider corrects its own data directly
    with pytest.raises(PermissionDenied):
        file(session, city.auditor, record)


def test_provider_confirms_with_corrected_value_once(session, city, record):
    report = file(session, city.clerk, record)
    answered = reports.answer_report(session, city.police_officer, report.id, "confirmed", "已核实", "张叁")
    assert (answered.status, answered.corrected_value, answered.answered_by_id) == (
        ReportStatus.CONFIRMED,
        "张叁",
        city.police_officer.id,
    )
    with pytest.raises(Conflict) as err:
        reports.answer_report(session, city.police_officer, report.id, "rejected", "重复")
    assert err.value.code == "report_already_answered" and err.value.status == 409


def test_rejection_needs_a_reason(session, city, record):
    report = file(session, city.clerk, record)
    with pytest.raises(ValidationFailed) as err:
        reports.answer_report(session, city.police_officer, report.id, "rejected", "  ")
    assert err.value.code == "reason_required"
    answered = reports.answer_report(session, city.police_officer, report.id, "rejected", "与户籍档案一致")
    assert answered.status == ReportStatus.REJECTED and answered.corrected_value is None


def test_only_the_providers_data_officer_may_answer(session, city, record):
    report = file(session, city.clerk, record)
    for user in (city.market_officer, city.clerk, city.admin):
        with pytest.raises(PermissionDenied):
            reports.answer_report(session, user, report.id, "confirmed")


def test_overdue_is_open_and_past_due_with_a_fixed_now(session, city, record):
    late = file(session, city.clerk, record)
    answered = file(session, city.clerk, record)
    reports.answer_report(session, city.police_officer, answered.id, "confirmed")
    before, after = late.due_at - timedelta(seconds=1), late.due_at + timedelta(seconds=1)
    assert not late.is_overdue(before) and late.is_overdue(after) and not answered.is_overdue(after)
    assert reports.overdue_reports(session, before) == []
    assert [r.id for r in reports.overdue_reports(session, after)] == [late.id]
    assert [r.id for r in reports.overdue_reports(session, after, city.market.id)] == []
    inbox = reports.list_reports(session, city.police_officer, "inbox", overdue_only=True, now=after)
    assert [r.id for r in inbox] == [late.id]


def test_inbox_lists_open_first_then_by_due_date_and_filed_box_is_the_reporters(session, city, record):
    first = file(session, city.clerk, record)
    second = file(session, city.market_officer, record, now=BEFORE_HOLIDAY + timedelta(days=20))
    reports.answer_report(session, city.police_officer, first.id, "rejected", "无误")
    third = file(session, city.clerk, record, now=BEFORE_HOLIDAY + timedelta(days=30))
    inbox = reports.list_reports(session, city.police_officer, "inbox")
    assert [r.id for r in inbox] == [second.id, third.id, first.id]
    assert [r.id for r in reports.list_reports(session, city.police_officer, "inbox", "open")] == [
        second.id,
        third.id,
    ]
    assert reports.list_reports(session, city.police_officer, "filed") == []
    assert {r.id for r in reports.list_reports(session, city.clerk, "filed")} == {
        first.id,
        second.id,
        third.id,
    }
    assert reports.list_reports(session, city.market_officer, "inbox") == []


def test_error_report_api_files_lists_and_answers(client, session, city, record):
    body = {"resource_code": record.code, "record_key": pid(1), "item": "姓名", "proposed_value": "张叁"}
    filed = client.post("/api/v1/data/error-reports", json=body, headers=city.headers("clerk"))
    assert filed.status_code == 201, filed.text
    report = filed.json()
    assert report["status"] == "open" and not report["overdue"] and report["due_at"]
    inbox = client.get("/api/v1/data/error-reports?box=inbox", headers=city.headers("police_officer")).json()
    assert [r["id"] for r in inbox] == [report["id"]]
    mine = client.get(
        "/api/v1/data/error-reports?box=filed&status=open", headers=city.headers("clerk")
    ).json()
    assert [r["id"] for r in mine] == [report["id"]]
    url = f"/api/v1/data/error-reports/{report['id']}/answer"
    other = client.post(url, json={"decision": "confirmed"}, headers=city.headers("market_officer"))
    assert other.status_code == 403 and other.json()["error"]["code"] == "not_provider"
    no_reason = client.post(url, json={"decision": "rejected"}, headers=city.headers("police_officer"))
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "reason_required"
    ok = client.post(
        url, json={"decision": "confirmed", "corrected_value": "张叁"}, headers=city.headers("police_officer")
    )
    assert ok.status_code == 200 and ok.json()["status"] == "confirmed"
    twice = client.post(url, json={"decision": "confirmed"}, headers=city.headers("police_officer"))
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "report_already_answered"
    missing = client.post(
        "/api/v1/data/error-reports", json=body | {"record_key": pid(2)}, headers=city.headers("clerk")
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "record_not_found"
