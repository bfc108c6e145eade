"""Data error report pages (数据纠错) through the app (SQLite and PostgreSQL): file, inbox, answer."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from govshare.auth import service as auth
from govshare.core.types import utcnow
from govshare.data import error_reports
from govshare.data.profile_models import ErrorReport, ReportStatus
from tests.factories import PASSWORD, dept_code
from tests.integration.test_data_load import pid, population  # noqa: F401  (fixture used by record)
from tests.integration.test_error_reports import record  # noqa: F401  (fixture)
from tests.integration.test_pages import HTML, csrf, login, visible_text

NEW = "/data/error-reports/new"


def file_via_form(client, target, **fields):
    token = csrf(client, f"{NEW}?resource={target.code}")
    data = {"csrf_token": token, "resource": target.code, "key": pid(1), "item": "姓名"}
    data |= {"proposed_value": "张叁", "evidence": "户口簿第2页"} | fields
    return client.post(NEW, data=data, headers=HTML, follow_redirects=False)


def filed(session, city, resource, days_ago: int = 0) -> ErrorReport:
    now = utcnow() - timedelta(days=days_ago)
    return error_reports.file_report(
        session, city.clerk, resource.code, pid(1), "姓名", "张叁", "户口簿", deadline_days=5, now=now
    )


def test_form_is_prefilled_from_the_record_link(client, city, record):  # noqa: F811
    login(client, "clerk")
    page = client.get(f"{NEW}?resource={record.code}&key={pid(1)}&item=姓名", headers=HTML)
    assert page.status_code == 200
    assert f'value="{pid(1)}"' in page.text and '<option value="姓名" selected>' in page.text
    assert "5 个工作日" in visible_text(page.text)


def test_form_without_a_resource_asks_for_it_and_explains_an_unknown_code(client, city, record):  # noqa: F811
    login(client, "clerk")
    assert 'data-testid="report-resource-form"' in client.get(NEW, headers=HTML).text
    unknown = client.get(f"{NEW}?resource=999/999999", headers=HTML)
    assert 'data-error-for="resource"' in unknown.text and "999/999999" in visible_text(unknown.text)


def test_filing_opens_the_report_with_its_due_date(client, session, city, record):  # noqa: F811
    login(client, "clerk")
    answer = file_via_form(client, record, key=pid(1).lower())
    assert answer.status_code == 303
    report = session.query(ErrorReport).one()
    assert answer.headers["location"] == f"/data/error-reports/{report.id}"
    assert (report.record_key, report.current_value, report.evidence) == (pid(1), "张三", "户口簿第2页")
    page = client.get(answer.headers["location"], headers=HTML)
    text = visible_text(page.text)
    assert "已提交" in text and "待答复" in text and 'data-testid="due-date"' in page.text
    assert 'data-testid="history-link"' not in page.text  # the reporter does not see the provider's history


@pytest.mark.parametrize(
    ("fields", "field", "status"),
    [
        ({"proposed_value": "  "}, "proposed_value", 422),
        ({"item": "籍贯"}, "item", 422),
        ({"key": pid(5)}, "key", 404),
        ({"key": "12345"}, "key", 422),
        ({"resource": "999/999999"}, "resource", 404),
    ],
)
def test_invalid_report_is_explained_next_to_the_field(client, session, city, record, fields, field, status):  # noqa: F811
    login(client, "clerk")
    answer = file_via_form(client, record, **fields)
    assert answer.status_code == status
    assert f'data-error-for="{field}"' in answer.text and "Traceback" not in answer.text
    assert session.query(ErrorReport).count() == 0


def test_provider_cannot_report_its_own_data(client, session, city, record):  # noqa: F811
    login(client, "police_officer")
    answer = file_via_form(client, record)
    assert answer.status_code == 403 and "直接更正" in visible_text(answer.text)


def test_inbox_and_filed_boxes(client, session, city, record):  # noqa: F811
    report = filed(session, city, record)
    login(client, "police_officer")
    inbox = client.get("/data/error-reports", headers=HTML)
    assert f'data-report="{report.id}"' in inbox.text and "市市场监督管理局" in visible_text(inbox.text)
    assert re.search(r'data-testid="open-count">1<', inbox.text)
    assert f'data-report="{report.id}"' not in client.get("/data/error-reports?box=filed", headers=HTML).text
    login(client, "clerk")
    mine = client.get("/data/error-reports?box=filed", headers=HTML)
    assert f'data-report="{report.id}"' in mine.text and "市公安局" in visible_text(mine.text)


def test_overdue_report_is_flagged_and_counted(client, session, city, record):  # noqa: F811
    late = filed(session, city, record, days_ago=30)
    fresh = filed(session, city, record)
    login(client, "police_officer")
    inbox = client.get("/data/error-reports", headers=HTML)
    assert re.search(rf'data-report="{late.id}" class="overdue"', inbox.text)
    assert not re.search(rf'data-report="{fresh.id}" class="overdue"', inbox.text)
    assert re.search(r'data-testid="overdue-count"[^>]*>1<', inbox.text) and "逾期" in visible_text(
        inbox.text
    )
    only = client.get("/data/error-reports?overdue=true", headers=HTML)
    assert f'data-report="{late.id}"' in only.text and f'data-report="{fresh.id}"' not in only.text


def test_rejection_needs_a_reason_then_confirmation_changes_the_status(client, session, city, record):  # noqa: F811
    report = filed(session, city, record)
    login(client, "police_officer")
    url = f"/data/error-reports/{report.id}"
    assert 'data-testid="answer-form"' in client.get(url, headers=HTML).text
    token = csrf(client, url)
    refused = client.post(f"{url}/answer", data={"csrf_token": token, "decision": "rejected"}, headers=HTML)
    assert refused.status_code == 422 and 'data-error-for="reason"' in refused.text
    none = client.post(f"{url}/answer", data={"csrf_token": token}, headers=HTML)
    assert none.status_code == 422 and 'data-error-for="decision"' in none.text
    session.refresh(report)
    assert report.status == ReportStatus.OPEN
    ok = client.post(
        f"{url}/answer",
        data={
            "csrf_token": token,
            "decision": "confirmed",
            "corrected_value": "张叁",
            "reason": "已核实户籍档案",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert ok.status_code == 303
    session.refresh(report)
    assert (report.status, report.corrected_value) == (ReportStatus.CONFIRMED, "张叁")
    page = client.get(url, headers=HTML)
    assert 'data-testid="answer"' in page.text and "已确认有误" in visible_text(page.text)
    assert 'data-testid="answer-form"' not in page.text
    confirmed = client.get("/data/error-reports?status=confirmed", headers=HTML)
    assert f'data-report="{report.id}"' in confirmed.text
    assert (
        f'data-report="{report.id}"' not in client.get("/data/error-reports?status=open", headers=HTML).text
    )


def test_rejection_with_a_reason_is_shown_to_the_reporter(client, session, city, record):  # noqa: F811
    report = filed(session, city, record)
    login(client, "police_officer")
    url = f"/data/error-reports/{report.id}"
    data = {"csrf_token": csrf(client, url), "decision": "rejected", "reason": "与户籍档案一致"}
    assert client.post(f"{url}/answer", data=data, headers=HTML, follow_redirects=False).status_code == 303
    login(client, "clerk")
    page = client.get(url, headers=HTML)
    assert "与户籍档案一致" in visible_text(page.text) and "不予采纳" in visible_text(page.text)


def test_only_the_provider_answers_and_uninvolved_departments_cannot_read(client, session, city, record):  # noqa: F811
    report = filed(session, city, record)
    url = f"/data/error-reports/{report.id}"
    login(client, "clerk")
    page = client.get(url, headers=HTML)
    assert page.status_code == 200 and 'data-testid="answer-form"' not in page.text
    data = {"csrf_token": csrf(client, url), "decision": "confirmed"}
    assert client.post(f"{url}/answer", data=data, headers=HTML).status_code == 403
    other = auth.create_department(
        session, code=dept_code(9), name="市民政局", level="city", division_code="440300"
    )
    auth.create_user(
        session, username="civil_officer", password=PASSWORD, role="data_officer", department_code=other.code
    )
    login(client, "civil_officer")
    assert client.get(url, headers=HTML).status_code == 403
    assert client.get("/data/error-reports/99999", headers=HTML).status_code == 404


def test_nav_links_to_the_error_reports_and_profiles(client, city):
    login(client, "police_officer")
    page = client.get("/data/error-reports", headers=HTML)
    assert 'href="/data/error-reports"' in page.text and 'href="/data/profiles"' in page.text
    login(client, "clerk")
    page = client.get("/data/error-reports", headers=HTML)
    assert 'href="/data/error-reports"' in page.text and 'href="/data/profiles"' not in page.text
