"""Subject profile pages (主体画像) and the conflict list through the app (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from govshare.data.profile_models import ReadLog
from tests.integration.test_data_load import pid
from tests.integration.test_pages import HTML, login, visible_text
from tests.integration.test_profiles import (  # noqa: F401  (fixtures)
    load_operators,
    load_people,
    operators,
    population,
    same_concept,
)


@pytest.fixture
def merged(session, city, population, operators):  # noqa: F811
    """One person in both departments' resources, the address concept disagreeing."""
    same_concept(session, city, population, operators)
    load_people(session, city, population, [(pid(1), "张三", "1980-01-02", "福田区一路1号")])
    load_operators(session, city, operators, [(pid(1), "张三", "南山区二路2号")])
    return population, operators


def reads(session) -> int:
    return session.scalar(select(func.count()).select_from(ReadLog))


def test_form_lists_the_subject_types(client, city):
    login(client, "admin")
    page = client.get("/data/profiles", headers=HTML)
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "主体画像" in text and "公民身份号码" in text and "统一社会信用代码" in text and "房屋编码" in text


def test_form_redirects_a_valid_key_to_the_profile(client, city):
    login(client, "admin")
    answer = client.get(
        f"/data/profiles?type=person_id&key={pid(1).lower()}", headers=HTML, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == f"/data/profiles/person_id/{pid(1)}"


def test_profile_shows_sources_and_marks_the_conflict(client, session, city, merged):
    police, _market = merged
    login(client, "admin")
    before = reads(session)
    page = client.get(f"/data/profiles/person_id/{pid(1)}", headers=HTML)
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "张三" in text and "市公安局" in text and "市市场监督管理局" in text
    assert f'href="/catalog/resources/{police.code}"' in page.text
    assert page.text.count('data-testid="conflict-value"') == 2 and "冲突" in text
    assert "福田区一路1号" in text and "南山区二路2号" in text
    assert reads(session) == before + 1  # the page reads through read_profile, which logs


def test_data_officer_sees_only_own_fields_and_their_conflicts(client, city, merged):
    login(client, "market_officer")
    page = visible_text(client.get(f"/data/profiles/person_id/{pid(1)}", headers=HTML).text)
    assert "经营者姓名" in page and "出生日期" not in page
    conflicts = client.get("/data/conflicts", headers=HTML)
    assert conflicts.status_code == 200 and "户籍地址" in visible_text(conflicts.text)


def test_conflict_list_on_the_form_after_a_profile_read(client, city, merged):
    login(client, "admin")
    client.get(f"/data/profiles/person_id/{pid(1)}", headers=HTML)
    form = client.get("/data/profiles", headers=HTML)
    assert re.search(r'data-testid="conflict-count">1<', form.text)
    resolved = client.get("/data/conflicts?status=resolved", headers=HTML)
    assert 'data-testid="no-conflicts"' in resolved.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("type=person_id&key=440305198001011234", "key"),  # wrong check character
        ("type=person_id&key=", "key"),
        ("type=credit_code&key=12345", "key"),
        ("type=none&key=x", "type"),
        ("type=planet&key=x", "type"),
    ],
)
def test_invalid_subject_is_explained_next_to_the_field(client, city, query, field):
    login(client, "admin")
    page = client.get(f"/data/profiles?{query}", headers=HTML)
    assert page.status_code == 422
    assert f'data-error-for="{field}"' in page.text and 'aria-invalid="true"' in page.text


def test_unknown_subject_is_an_inline_not_found(client, city, merged):
    login(client, "admin")
    page = client.get(f"/data/profiles/person_id/{pid(7)}", headers=HTML)
    assert page.status_code == 404 and 'data-error-for="key"' in page.text
    assert pid(7) in visible_text(page.text)


@pytest.mark.parametrize("username", ["clerk", "auditor"])
def test_roles_without_profile_access_are_refused(client, city, merged, username):
    login(client, username)
    assert client.get("/data/profiles", headers=HTML).status_code == 403
    assert client.get(f"/data/profiles/person_id/{pid(1)}", headers=HTML).status_code == 403
    assert client.get("/data/conflicts", headers=HTML).status_code == 403
