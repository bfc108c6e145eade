"""HTML pages through the app (SQLite and PostgreSQL): sign-in, search, detail, the form, review, i18n."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from govshare.catalog import negative, service
from govshare.catalog.models import NegativeListEntry, Resource, ReviewStatus
from tests.factories import PASSWORD, resource_in

HTML = {"accept": "text/html"}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client, url: str = "/login") -> str:
    match = _TOKEN.search(client.get(url, headers=HTML).text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def visible_text(html: str) -> str:
    """The page as read: tags removed (search results mark the query words with <mark>)."""
    return re.sub(r"<[^>]+>", "", html)


def login(client, username: str, password: str = PASSWORD, next_url: str = "/catalog"):
    data = {"username": username, "password": password, "next": next_url, "csrf_token": csrf(client)}
    return client.post("/login", data=data, headers=HTML, follow_redirects=False)


def published(session, city, **overrides) -> Resource:
    officer = city.market_officer if overrides.get("classification_code") == "102" else city.police_officer
    resource = service.create_resource(session, officer, resource_in(**overrides))
    service.submit(session, officer, resource.code)
    return service.publish(session, city.admin, resource.code)


def resource_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Resource))


def form_data(token: str, **overrides) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": token,
        "classification_code": "101",
        "name": "流动人口居住登记信息",
        "summary": "流动人口居住登记及居住证办理信息。",
        "format": "database",
        "subject_key_type": "person_id",
        "update_cycle": "daily",
        "sharing_type": "unconditional",
        "sharing_methods": ["online_query"],
        "items-1-name": "公民身份号码",
        "items-1-data_type": "C",
        "items-1-is_key": "1",
        "items-1-sensitivity": "3",
        "items-1-masking_rule": "id_number",
        "items-1-shareable": "1",
        "items-2-name": "居住地址",
        "items-2-data_type": "C",
        "items-2-sensitivity": "2",
        "items-2-masking_rule": "address",
        "items-2-shareable": "1",
        "items-3-name": "",  # a blank row, as the form always sends some
        "items-3-shareable": "1",
    }
    data.update(overrides)
    return data


# --- sign-in ----------------------------------------------------------------------------------------


def test_login_with_right_password_signs_in_and_goes_to_next(client, city):
    response = login(client, "police_officer", next_url="/catalog/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/catalog/new"
    page = client.get("/catalog/new", headers=HTML)
    assert page.status_code == 200
    assert "police_officer" in page.text and "市公安局" in page.text


def test_login_with_wrong_password_shows_error_and_stays_anonymous(client, city):
    response = login(client, "police_officer", password="wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert 'value="police_officer"' in response.text  # the username is kept
    assert client.get("/catalog/new", headers=HTML, follow_redirects=False).status_code == 303


def test_login_never_redirects_off_site(client, city):
    response = login(client, "police_officer", next_url="//evil.example/steal")
    assert response.headers["location"] == "/catalog"


def test_logout_ends_the_session(client, city):
    login(client, "police_officer")
    response = client.post("/logout", data={"csrf_token": csrf(client, "/catalog")}, follow_redirects=False)
    assert response.status_code == 303
    assert (
        client.get("/catalog/new", headers=HTML, follow_redirects=False)
        .headers["location"]
        .startswith("/login?next=/catalog/new")
    )


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_post_without_the_session_csrf_token_is_refused(client, city, session, token):
    login(client, "police_officer")
    before = resource_count(session)
    data = form_data(token) if token else {k: v for k, v in form_data("").items() if k != "csrf_token"}
    response = client.post("/catalog/new", data=data, headers=HTML)
    assert response.status_code == 403
    assert "csrf_failed" in response.text
    assert resource_count(session) == before
    no_token = {"username": "police_officer", "password": PASSWORD}
    assert client.post("/login", data=no_token, headers=HTML).status_code == 403


def test_registration_needs_a_signed_in_registrar(client, city):
    assert client.get("/catalog/new", headers=HTML, follow_redirects=False).headers["location"] == (
        "/login?next=/catalog/new"
    )
    login(client, "clerk")
    response = client.get("/catalog/new", headers=HTML)
    assert response.status_code == 403
    assert "role_not_allowed" in response.text


# --- search and detail ----------------------------------------------------------------------------


def test_search_shows_published_resources_and_filters_narrow_them(client, city, session):
    published(session, city)
    published(
        session, city, classification_code="102", name="法人单位基础信息", summary="企业登记信息。",
        subject_key_type="credit_code", sharing_type="conditional", sharing_condition="仅限办理事项使用",
        items=[{"name": "统一社会信用代码", "is_key": True}, {"name": "企业名称"}],
    )  # fmt: skip
    all_page = client.get("/catalog", headers=HTML).text
    assert "人口基础信息" in all_page and "法人单位基础信息" in all_page

    by_query = visible_text(client.get("/catalog", params={"q": "人口"}, headers=HTML).text)
    assert "人口基础信息" in by_query and "法人单位基础信息" not in by_query

    by_type = client.get("/catalog", params={"sharing_type": "conditional"}, headers=HTML).text
    assert "法人单位基础信息" in by_type and "人口基础信息" not in by_type

    by_provider = client.get("/catalog", params={"provider": city.police.code}, headers=HTML).text
    assert "人口基础信息" in by_provider and "法人单位基础信息" not in by_provider

    nothing = client.get("/catalog", params={"q": "人口", "classification": "2"}, headers=HTML).text
    assert 'data-testid="empty-state"' in nothing


def test_search_never_lists_drafts_to_visitors(client, city, session):
    service.create_resource(session, city.police_officer, resource_in(name="草稿人口信息"))
    assert "草稿人口信息" not in client.get("/catalog", params={"status": "draft"}, headers=HTML).text
    login(client, "police_officer")
    assert "草稿人口信息" in client.get("/catalog", params={"status": "draft"}, headers=HTML).text


def test_detail_page_shows_metadata_items_and_versions(client, city, session):
    resource = published(session, city)
    page = client.get(f"/catalog/resources/{resource.code}", headers=HTML)
    assert page.status_code == 200
    for text in ("信息资源代码", resource.code, "基础信息资源 / 人口", "公民身份号码", "出生日期", "日期型",
                 "无条件共享", "联机查询", "/catalog.ttl", "v3"):  # fmt: skip
        assert text in page.text, text


def test_missing_resource_is_an_html_404(client, city):
    response = client.get("/catalog/resources/101/999999", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "resource_not_found" in response.text


# --- the registration form ----------------------------------------------------------------------


def test_form_registers_a_draft_and_redirects_to_it(client, city, session):
    login(client, "police_officer")
    response = client.post(
        "/catalog/new", data=form_data(csrf(client, "/catalog/new")), follow_redirects=False
    )
    assert response.status_code == 303
    code = response.headers["location"].removeprefix("/catalog/resources/")
    stored = service.get_resource(session, code)
    assert stored.name == "流动人口居住登记信息" and [i.name for i in stored.items] == [
        "公民身份号码",
        "居住地址",
    ]
    detail = client.get(response.headers["location"], headers=HTML).text
    assert "草稿" in detail and f"已登记 {code}" in detail


def test_form_rerenders_with_each_problem_next_to_its_field_and_stores_nothing(client, city, session):
    login(client, "police_officer")
    before = resource_count(session)
    long_name = "人" * 51
    bad = form_data(csrf(client, "/catalog/new"), name=long_name)
    bad.pop("items-2-shareable")  # item 2 not shareable … and no legal basis given
    response = client.post("/catalog/new", data=bad, headers=HTML)
    assert response.status_code == 422
    assert resource_count(session) == before
    page = response.text
    assert f'value="{long_name}"' in page  # what was typed is kept
    assert 'data-error-for="name">信息资源名称不能超过 50 个字符' in page
    assert 'data-error-for="items[2].legal_basis"' in page
    assert 'id="item-2-legal_basis"' in page and 'value="居住地址"' in page
    assert 'data-testid="error-summary"' in page and 'href="#item-2-legal_basis"' in page


def test_sharing_type_none_needs_a_legal_basis(client, city, session):
    login(client, "police_officer")
    data = form_data(csrf(client, "/catalog/new"), sharing_type="none", sharing_methods=[])
    response = client.post("/catalog/new", data=data, headers=HTML)
    assert response.status_code == 422
    assert 'data-error-for="legal_basis"' in response.text


def test_add_rows_returns_the_form_with_more_rows_and_saves_nothing(client, city, session):
    login(client, "police_officer")
    before = resource_count(session)
    data = form_data(csrf(client, "/catalog/new"), action="add_rows")
    response = client.post("/catalog/new", data=data, headers=HTML)
    assert response.status_code == 200 and resource_count(session) == before
    assert 'name="items-7-name"' in response.text  # 2 kept rows + 5 new ones
    assert "field-error" not in response.text


def test_edit_form_saves_a_new_version_and_diff_shows_it(client, city, session):
    resource = service.create_resource(session, city.police_officer, resource_in())
    login(client, "police_officer")
    url = f"/catalog/resources/{resource.code}/edit"
    page = client.get(url, headers=HTML).text
    assert 'value="人口基础信息"' in page and 'name="expected_version" value="1"' in page
    data = form_data(
        csrf(client, url), name="人口基础信息（全量）", expected_version="1", **{"items-2-name": "姓名"}
    )
    response = client.post(url, data=data, follow_redirects=False)
    assert response.status_code == 303
    diff = client.get(f"/catalog/resources/{resource.code}/diff", params={"from": 1, "to": 2}, headers=HTML)
    assert diff.status_code == 200
    assert "人口基础信息（全量）" in diff.text and "信息资源名称" in diff.text


# --- lifecycle and review -----------------------------------------------------------------------


def test_officer_submits_and_authority_publishes_through_the_pages(client, city, session):
    resource = service.create_resource(session, city.police_officer, resource_in())
    url = f"/catalog/resources/{resource.code}"
    login(client, "police_officer")
    assert "提交审核" in client.get(url, headers=HTML).text
    client.post(f"{url}/submit", data={"csrf_token": csrf(client, url)}, follow_redirects=False)
    login(client, "admin")
    page = client.get(url, headers=HTML).text
    assert "待审核" in page and "/publish" in page
    response = client.post(f"{url}/publish", data={"csrf_token": csrf(client, url)}, follow_redirects=True)
    assert f"已发布 {resource.code}" in response.text
    session.expire_all()  # the pages changed it through their own session
    assert service.get_resource(session, resource.code).status.value == "published"


def test_refused_action_explains_itself_on_the_page(client, city, session):
    resource = service.create_resource(session, city.police_officer, resource_in())
    url = f"/catalog/resources/{resource.code}"
    login(client, "admin")
    response = client.post(f"{url}/publish", data={"csrf_token": csrf(client, url)}, follow_redirects=True)
    assert "只有待审核的资源可以发布" in response.text


def test_review_queue_is_forbidden_to_data_officers(client, city):
    login(client, "police_officer")
    response = client.get("/catalog/negative-list/review", headers=HTML)
    assert response.status_code == 403
    assert "role_not_allowed" in response.text


def test_authority_accepts_and_rejects_declarations_in_the_queue(client, city, session):
    items = [
        {"name": "公民身份号码", "is_key": True},
        {"name": "宗教信仰", "shareable": False, "legal_basis": "《个人信息保护法》第二十八条"},
        {"name": "病史", "shareable": False, "legal_basis": "《基本医疗卫生与健康促进法》第九十二条"},
    ]
    resource = service.create_resource(session, city.police_officer, resource_in(items=items))
    entries = {e.item_name: e for e in negative.live_entries(session, resource)}
    login(client, "admin")
    queue = client.get("/catalog/negative-list/review", headers=HTML).text
    assert "宗教信仰" in queue and "《个人信息保护法》第二十八条" in queue
    token = csrf(client, "/catalog/negative-list/review")
    accept = {"csrf_token": token, "decision": "accept", "reason": "依据充分"}
    client.post(f"/catalog/negative-list/{entries['宗教信仰'].id}/decision", data=accept)
    no_reason = {"csrf_token": token, "decision": "reject", "reason": ""}
    refused = client.post(f"/catalog/negative-list/{entries['病史'].id}/decision", data=no_reason)
    assert "驳回须写明理由" in refused.text
    reject = {"csrf_token": token, "decision": "reject", "reason": "可脱敏后共享"}
    client.post(f"/catalog/negative-list/{entries['病史'].id}/decision", data=reject)
    session.expire_all()
    status = {e.item_name: e.status for e in session.scalars(select(NegativeListEntry))}
    assert status["宗教信仰"] == ReviewStatus.ACCEPTED and status["病史"] == ReviewStatus.REJECTED


def test_public_negative_list_shows_accepted_entries_with_legal_basis(client, city, session):
    # A department resource (class 3): its pending declaration does not block publication.
    published(
        session, city, classification_code="301", name="涉密人口信息", sharing_type="none", sharing_methods=[],
        legal_basis="《中华人民共和国保守国家秘密法》",
    )  # fmt: skip
    assert "涉密人口信息" not in client.get("/catalog/negative-list", headers=HTML).text  # still pending
    entry = next(e for e in session.scalars(select(NegativeListEntry)) if e.resource.name == "涉密人口信息")
    negative.decide(session, city.admin, entry.id, True, "依据充分")
    page = client.get("/catalog/negative-list", headers=HTML).text
    assert "涉密人口信息" in page and "《中华人民共和国保守国家秘密法》" in page


# --- languages ------------------------------------------------------------------------------------


def test_english_switch_changes_labels_and_is_remembered(client, city):
    chinese = client.get("/catalog", headers=HTML).text
    assert '<html lang="zh-CN"' in chinese and "资源目录" in chinese
    english = client.get("/catalog", params={"lang": "en"}, headers=HTML).text
    assert '<html lang="en"' in english and "Resource catalog" in english and "资源目录" not in english
    assert (
        "Resource catalog" in client.get("/catalog/negative-list", headers=HTML).text
    )  # kept in the session
    back = client.get("/catalog", params={"lang": "zh_CN"}, headers=HTML).text
    assert "资源目录" in back


def test_vocabulary_labels_follow_the_language(client, city, session):
    resource = published(session, city)
    url = f"/catalog/resources/{resource.code}"
    assert "无条件共享" in client.get(url, headers=HTML).text
    english = client.get(url, params={"lang": "en"}, headers=HTML).text
    assert "Unconditional" in english and "Base information resources / Population" in english
