"""The shared-data pages through the app (SQLite and PostgreSQL): data tab, upload form, load report."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from govshare.data.models import Record
from tests.factories import publish
from tests.integration.test_data_api import csv_bytes
from tests.integration.test_data_load import pid
from tests.integration.test_pages import HTML, csrf, login, visible_text


@pytest.fixture
def population(session, city):
    return publish(session, city, city.police_officer)


def records(session, resource) -> int:
    return session.scalar(select(func.count()).select_from(Record).where(Record.resource_id == resource.id))


def upload_via_form(client, code: str, content: bytes, follow_redirects=True, **fields):
    token = csrf(client, f"/data/resources/{code}/upload")
    data = {"csrf_token": token, "mode": "upsert", "encoding": ""} | fields
    return client.post(
        f"/data/resources/{code}/upload",
        data=data,
        files={"file": ("people.csv", content, "text/csv")},
        headers=HTML,
        follow_redirects=follow_redirects,
    )


def count(html: str, name: str) -> int:
    match = re.search(rf'data-count="{name}">(\d+)<', html)
    assert match, f"no {name} count on the page"
    return int(match.group(1))


def test_provider_sees_the_data_tab(client, city, population):
    login(client, "police_officer")
    page = client.get(f"/data/resources/{population.code}", headers=HTML)
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "记录数" in text and "未加载" in text and "上传数据" in text


@pytest.mark.parametrize("username", ["admin", "auditor"])
def test_authority_and_auditor_see_the_data_tab_without_upload(client, city, population, username):
    login(client, username)
    page = client.get(f"/data/resources/{population.code}", headers=HTML)
    assert page.status_code == 200
    assert ("upload-link" in page.text) == (username == "admin")  # the authority may load too


def test_other_department_is_refused(client, city, population):
    login(client, "market_officer")
    assert client.get(f"/data/resources/{population.code}", headers=HTML).status_code == 403
    assert client.get(f"/data/resources/{population.code}/upload", headers=HTML).status_code == 403


def test_anonymous_visitor_is_sent_to_sign_in(client, city, population):
    page = client.get(f"/data/resources/{population.code}", headers=HTML, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=/data/resources/")


def test_upload_through_the_form_stores_records_and_shows_the_report(client, session, city, population):
    login(client, "police_officer")
    rows = [(pid(1), "张三", "1980-01-02"), (pid(2), "李四", "1980/1/3"), ("123", "王五", "1980-01-04")]
    answer = upload_via_form(client, population.code, csv_bytes(rows), follow_redirects=False)
    assert answer.status_code == 303
    assert re.fullmatch(rf"/data/resources/{population.code}/batches/\d+", answer.headers["location"])

    report = client.get(answer.headers["location"], headers=HTML)
    assert (count(report.text, "rows_read"), count(report.text, "inserted")) == (3, 2)
    assert count(report.text, "rejected") == 1
    assert "invalid_length" in report.text and "/rejections.csv" in report.text
    assert records(session, population) == 2

    tab = visible_text(client.get(f"/data/resources/{population.code}", headers=HTML).text)
    assert "按时" in tab and "完整性" in tab and "100.0%" in tab and "拒收报告（CSV）" in tab


def test_gb18030_file_through_the_form(client, session, city, population):
    login(client, "police_officer")
    rows = [(pid(1), "欧阳娜娜", "1980年1月2日"), (pid(2), "张三", "19800103")]
    answer = upload_via_form(client, population.code, csv_bytes(rows, "gb18030"), encoding="gb18030")
    assert answer.status_code == 200 and count(answer.text, "inserted") == 2
    assert records(session, population) == 2


def test_upload_without_csrf_token_is_refused(client, session, city, population):
    login(client, "police_officer")
    answer = client.post(
        f"/data/resources/{population.code}/upload",
        data={"mode": "upsert"},
        files={"file": ("p.csv", csv_bytes([(pid(1), "张三", "1980-01-02")]), "text/csv")},
        headers=HTML,
    )
    assert answer.status_code == 403 and records(session, population) == 0


def test_unknown_column_is_explained_on_the_form(client, session, city, population):
    login(client, "police_officer")
    answer = upload_via_form(client, population.code, "公民身份号码,籍贯\r\n1,x\r\n".encode())
    assert answer.status_code == 422
    assert "籍贯" in visible_text(answer.text) and 'data-testid="upload-form"' in answer.text


def test_strict_refusal_shows_that_nothing_was_stored(client, session, city, population):
    login(client, "police_officer")
    answer = upload_via_form(client, population.code, csv_bytes([(pid(1), "张三", "1980-13-02")]), strict="1")
    assert answer.status_code == 200 and "整批未入库" in answer.text
    assert records(session, population) == 0


def test_catalog_detail_links_to_the_data_tab_for_the_provider(client, city, population):
    login(client, "police_officer")
    detail = client.get(f"/catalog/resources/{population.code}", headers=HTML)
    assert f'href="/data/resources/{population.code}"' in detail.text
    client.post("/logout", data={"csrf_token": csrf(client, "/catalog")}, headers=HTML)
    anonymous = client.get(f"/catalog/resources/{population.code}", headers=HTML)
    assert f'href="/data/resources/{population.code}"' not in anonymous.text
