"""A record's version history page and the key lookup on the data tab (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import update

from govshare.data import error_reports
from govshare.data.ingest import KEY_SEPARATOR
from govshare.data.models import Record, RecordHistory
from tests.factories import publish
from tests.integration.test_data_load import load, people, pid
from tests.integration.test_pages import HTML, login, visible_text


@pytest.fixture
def population(session, city):
    return publish(session, city, city.police_officer)


@pytest.fixture
def changed(session, city, population):
    """张三 loaded, then renamed 张叁 by a second load: two versions."""
    first = people((pid(1), "张三", "1980-01-02"), (pid(2), "李四", "1980-01-03"))
    load(session, city, population, first, "b1")
    load(session, city, population, people((pid(1), "张叁", "1980-01-02")), "b2")
    return population


def url(resource, key: str) -> str:
    return f"/data/resources/{resource.code}/records/{quote(key, safe='')}"


def changed_cells(html: str) -> list[str]:
    return re.findall(r'data-changed="([^"]+)"', html)


def test_history_shows_current_and_previous_versions_with_the_changed_item(client, city, changed):
    login(client, "police_officer")
    page = client.get(url(changed, pid(1)), headers=HTML)
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "记录版本历史" in text and "张叁" in text and "张三" in text and "市公安局" in text
    assert 'data-version="2"' in page.text and 'data-version="1"' in page.text
    assert changed_cells(page.text) == ["姓名"]  # only the name changed, and only in v2
    assert re.search(r'data-testid="current-number">2<', page.text)


def test_deleted_version_is_flagged(client, session, city, changed):
    load(session, city, changed, people((pid(1), "张叁", "1980-01-02")), "b3", mode="delete")
    login(client, "admin")
    page = client.get(url(changed, pid(1)), headers=HTML)
    assert page.status_code == 200
    assert 'data-testid="deleted-flag"' in page.text and "已删除" in visible_text(page.text)


def test_as_of_a_date_shows_the_version_of_that_day(client, session, city, changed):
    first = session.query(RecordHistory).filter_by(resource_id=changed.id, record_key=pid(1)).one()
    old = first.valid_from - timedelta(days=10)
    session.execute(
        update(RecordHistory)
        .where(RecordHistory.id == first.id)
        .values(valid_from=old, valid_to=old + timedelta(days=5))
    )
    session.flush()
    login(client, "police_officer")
    day = (old + timedelta(days=2)).date().isoformat()
    page = visible_text(client.get(url(changed, pid(1)) + f"?on={day}", headers=HTML).text)
    assert "张三" in page.split("查看某日的记录")[1].split("全部版本")[0]
    before = (old - timedelta(days=3)).date().isoformat()
    assert "不存在" in visible_text(client.get(url(changed, pid(1)) + f"?on={before}", headers=HTML).text)
    bad = client.get(url(changed, pid(1)) + "?on=2026-13-01", headers=HTML)
    assert bad.status_code == 200 and 'data-error-for="on"' in bad.text


def test_unknown_key_is_a_friendly_404(client, city, changed):
    login(client, "police_officer")
    page = client.get(url(changed, pid(9)), headers=HTML)
    assert page.status_code == 404
    assert 'data-testid="record-missing"' in page.text and pid(9) in visible_text(page.text)


def test_other_department_is_refused_like_the_data_tab(client, city, changed):
    login(client, "market_officer")
    assert client.get(url(changed, pid(1)), headers=HTML).status_code == 403
    assert (
        client.get(f"/data/resources/{changed.code}/records?key-0={pid(1)}", headers=HTML).status_code == 403
    )


def test_auditor_may_read_the_history(client, city, changed):
    login(client, "auditor")
    assert client.get(url(changed, pid(1)), headers=HTML).status_code == 200


def test_lookup_on_the_data_tab_normalises_the_key_and_opens_the_history(client, city, changed):
    login(client, "police_officer")
    tab = client.get(f"/data/resources/{changed.code}", headers=HTML)
    assert "按主键查找记录" in visible_text(tab.text) and 'name="key-0"' in tab.text
    found = client.get(
        f"/data/resources/{changed.code}/records?key-0= {pid(1).lower()} ",
        headers=HTML,
        follow_redirects=False,
    )
    assert found.status_code == 303 and found.headers["location"] == url(changed, pid(1))


def test_lookup_with_an_invalid_key_explains_it_next_to_the_field(client, city, changed):
    login(client, "police_officer")
    page = client.get(f"/data/resources/{changed.code}/records?key-0=12345", headers=HTML)
    assert page.status_code == 422
    assert 'data-error-for="key-0"' in page.text and 'aria-invalid="true"' in page.text


def test_composite_key_takes_one_field_per_key_item(client, session, city):
    items = [
        {"name": "事项编号", "data_type": "C", "is_key": True},
        {"name": "办件序号", "data_type": "C", "is_key": True},
        {"name": "申请人姓名", "data_type": "C"},
    ]
    cases = publish(session, city, city.police_officer, name="办件信息", classification_code="301",
                    subject_key_type="none", items=items)  # fmt: skip
    columns = ["事项编号", "办件序号", "申请人姓名"]
    from govshare.data import service

    service.load(session, city.police_officer, cases.code, columns, [(2, dict(zip(columns, ["A01", "7", "王五"], strict=True)))],
                 batch_key="c1")  # fmt: skip
    login(client, "police_officer")
    tab = client.get(f"/data/resources/{cases.code}", headers=HTML)
    assert 'name="key-0"' in tab.text and 'name="key-1"' in tab.text
    found = client.get(f"/data/resources/{cases.code}/records?key-0=A01&key-1=7", headers=HTML)
    assert found.status_code == 200 and "王五" in found.text
    key = KEY_SEPARATOR.join(["A01", "7"])
    assert session.query(Record).filter_by(resource_id=cases.id, record_key=key).count() == 1
    missing = client.get(f"/data/resources/{cases.code}/records?key-0=A01&key-1=", headers=HTML)
    assert missing.status_code == 422 and 'data-error-for="key-1"' in missing.text


def test_report_link_is_offered_to_other_departments_only(client, session, city, changed, settings):
    login(client, "police_officer")
    assert 'data-testid="report-error-link"' not in client.get(url(changed, pid(1)), headers=HTML).text
    error_reports.file_report(session, city.clerk, changed.code, pid(1), "姓名", "张三", deadline_days=5)
    page = client.get(url(changed, pid(1)), headers=HTML)
    assert 'data-testid="record-reports"' in page.text and "市市场监督管理局" in visible_text(page.text)
