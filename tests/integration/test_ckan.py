"""The CKAN-compatible action API: CKAN's envelope, both prefixes, GET and POST, CKAN's errors."""

from __future__ import annotations

import pytest

from govshare.catalog import ckan_dicts, service
from tests.factories import publish, resource_in

PREFIXES = ["/api/3/action", "/api/action"]


@pytest.fixture
def entries(session, city):
    """Two published entries of two departments, and a draft."""
    population = publish(session, city, city.police_officer, contact_name="户政处")
    companies = publish(
        session, city, city.market_officer, classification_code="102", name="法人单位基础信息",
        summary="全市市场主体登记信息。", subject_key_type="credit_code", sharing_type="conditional",
        sharing_condition="仅用于办理登记事项", update_cycle="monthly",
        items=[{"name": "统一社会信用代码", "is_key": True}, {"name": "企业名称"}],
    )  # fmt: skip
    draft = service.create_resource(session, city.police_officer, resource_in(name="人口草稿资源"))
    return {"population": population, "companies": companies, "draft": draft}


def call(client, action, prefix="/api/3/action", method="GET", **params):
    if method == "GET":
        return client.get(f"{prefix}/{action}", params=params)
    return client.post(f"{prefix}/{action}", json=params)


def result(response):
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert body["help"].endswith("/api/3/action/help_show?name=" + response.url.path.rsplit("/", 1)[-1])
    return body["result"]


def test_names_are_reversible_and_ckan_valid():
    for code in ("101/000001", "201001/000123", "3011234/000002"):
        name = ckan_dicts.package_name(code)
        assert name == name.lower() and set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-_")
        assert ckan_dicts.code_for_name(name) == code
    assert ckan_dicts.code_for_name("not-ours") is None


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_package_list_in_ckan_envelope_on_both_prefixes_by_get_and_post(client, entries, prefix, method):
    names = result(call(client, "package_list", prefix, method))
    assert names == sorted(["gov-101-000001", "gov-102-000001"])


def test_package_list_pages_with_limit_and_offset(client, entries):
    assert result(call(client, "package_list", method="POST", limit=1, offset=1)) == ["gov-102-000001"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_package_show_by_name_id_or_code(client, city, entries, method):
    shown = result(call(client, "package_show", method=method, id="gov-102-000001"))
    assert shown["title"] == "法人单位基础信息"
    assert shown["notes"] == "全市市场主体登记信息。"
    assert shown["type"] == "dataset" and shown["state"] == "active" and shown["private"] is False
    assert shown["owner_org"] == city.market.code
    assert shown["organization"]["name"] == city.market.code.lower()
    assert shown["organization"]["title"] == city.market.name
    assert {t["name"] for t in shown["tags"]} == {"法人单位", "统一社会信用代码", "企业名称"}
    assert shown["num_tags"] == 3 and shown["num_resources"] == 1
    (res,) = shown["resources"]
    assert res["format"] == "JSON" and res["url"].endswith("/api/v1/catalog/resources/102/000001")
    extras = {e["key"]: e["value"] for e in shown["extras"]}
    assert extras["sharing_type"] == "conditional"
    assert extras["sharing_type_label"] == "有条件共享"
    assert extras["classification"] == "基础信息资源 / 法人单位"
    assert extras["update_cycle"] == "monthly"
    assert extras["govshare_code"] == "102/000001"
    assert extras["access_rights"].endswith("/access-right/RESTRICTED")
    assert result(call(client, "package_show", id=shown["id"]))["name"] == shown["name"]
    assert result(call(client, "package_show", id="102/000001"))["id"] == shown["id"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_missing_or_draft_package_is_404_not_found_error(client, entries, prefix):
    for ident in ("gov-999-000001", ckan_dicts.package_name(entries["draft"].code), "no-such-id"):
        response = call(client, "package_show", prefix, id=ident)
        assert response.status_code == 404
        body = response.json()
        assert body["success"] is False
        assert body["error"]["__type"] == "Not Found Error"
        assert body["error"]["message"].startswith("Not found")


def test_package_show_without_id_is_409_validation_error(client, entries):
    response = call(client, "package_show", method="POST")
    assert response.status_code == 409
    assert response.json()["error"] == {"__type": "Validation Error", "id": ["Missing value"]}


def test_package_search_chinese_full_text_skips_drafts(client, entries):
    found = result(call(client, "package_search", q="人口"))
    assert found["count"] == 1
    assert [p["name"] for p in found["results"]] == ["gov-101-000001"]
    assert found["results"][0]["organization"]["title"] == "市公安局"


def test_package_search_filters_with_fq(client, city, entries):
    by_org = result(call(client, "package_search", fq=f"organization:{city.market.code.lower()}"))
    assert [p["name"] for p in by_org["results"]] == ["gov-102-000001"]
    by_type = result(call(client, "package_search", method="POST", fq="sharing_type:unconditional"))
    assert [p["name"] for p in by_type["results"]] == ["gov-101-000001"]
    negated = result(call(client, "package_search", fq="-tags:人口 res_format:JSON"))
    assert [p["name"] for p in negated["results"]] == ["gov-102-000001"]
    in_q = result(call(client, "package_search", q='name:"gov-101-000001"'))
    assert in_q["count"] == 1
    since = result(call(client, "package_search", fq="metadata_modified:[2000-01-01T00:00:00Z TO *]"))
    assert since["count"] == 2
    future = result(call(client, "package_search", fq="metadata_modified:[2999-01-01T00:00:00Z TO *]"))
    assert future["count"] == 0


def test_package_search_pages_and_sorts(client, entries):
    first = result(call(client, "package_search", rows=1, start=0, sort="name desc"))
    second = result(call(client, "package_search", rows="1", start="1", sort="name desc"))
    assert first["count"] == second["count"] == 2
    assert [p["name"] for p in first["results"] + second["results"]] == ["gov-102-000001", "gov-101-000001"]


def test_package_search_rejects_unknown_field_and_bad_rows(client, entries):
    bad_field = call(client, "package_search", fq="colour:red")
    assert bad_field.status_code == 400
    assert bad_field.json()["error"]["__type"] == "Search Query Error"
    bad_sort = call(client, "package_search", sort="colour asc")
    assert bad_sort.status_code == 400
    bad_rows = call(client, "package_search", rows="many")
    assert bad_rows.status_code == 409
    assert bad_rows.json()["error"] == {"__type": "Validation Error", "rows": ["Invalid integer"]}


def test_organization_list_names_and_all_fields(client, city, entries):
    names = result(call(client, "organization_list"))
    assert names == sorted(d.code.lower() for d in (city.authority_dept, city.police, city.market))
    full = result(
        call(client, "organization_list", method="POST", all_fields=True, sort="package_count desc")
    )
    counts = {o["name"]: o["package_count"] for o in full}
    assert counts[city.police.code.lower()] == 1 and counts[city.authority_dept.code.lower()] == 0
    assert full[0]["package_count"] == 1 and full[-1]["package_count"] == 0


@pytest.mark.parametrize("ident", ["name", "id"])
def test_organization_show_with_datasets(client, city, entries, ident):
    key = city.police.code.lower() if ident == "name" else city.police.code
    org = result(call(client, "organization_show", id=key, include_datasets="true"))
    assert org["title"] == "市公安局" and org["is_organization"] is True
    assert org["package_count"] == 1
    assert [p["name"] for p in org["packages"]] == ["gov-101-000001"]
    assert "packages" not in result(call(client, "organization_show", id=key))


def test_organization_show_unknown_is_404(client, entries):
    response = call(client, "organization_show", id="nobody")
    assert response.status_code == 404
    assert response.json()["error"]["__type"] == "Not Found Error"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_unknown_action_is_ckan_bad_request(client, prefix):
    response = client.get(f"{prefix}/package_create")
    assert response.status_code == 400
    assert response.json() == "Bad request - Action name not known: package_create"


def test_post_body_must_be_a_json_object(client):
    not_json = client.post(
        "/api/3/action/package_list", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    assert not_json.json().startswith("Bad request - JSON Error")
    a_list = client.post("/api/3/action/package_list", json=[1])
    assert a_list.status_code == 400


def test_status_and_help_show(client):
    status = result(call(client, "status_show"))
    assert status["site_url"] == "http://testserver"
    assert "Full-text search" in result(call(client, "help_show", name="package_search"))
