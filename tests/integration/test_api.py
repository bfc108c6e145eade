"""The JSON API: authentication, departments, catalog endpoints and the one error shape."""

from __future__ import annotations

import warnings

import pytest

from tests.factories import PASSWORD, dept_code, resource_in


def body(**overrides):
    return resource_in(**overrides).model_dump(mode="json")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"error"}
    assert set(payload["error"]) == {"code", "message", "details"}
    assert payload["error"]["code"] == code
    assert payload["error"]["message"]
    return payload["error"]


def test_token_login_and_me(client, city):
    r = client.post("/api/v1/auth/token", json={"username": "police_officer", "password": PASSWORD})
    assert r.status_code == 200
    token = r.json()["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["username"] == "police_officer" and me["department"]["code"] == city.police.code


def test_wrong_password_is_rejected_without_revealing_which_part(client, city):
    wrong = client.post("/api/v1/auth/token", json={"username": "police_officer", "password": "nope-nope"})
    unknown = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "nope-nope"})
    assert (
        assert_error(wrong, 401, "invalid_credentials")["message"]
        == assert_error(unknown, 401, "invalid_credentials")["message"]
    )


def test_password_is_stored_with_argon2(session, city):
    assert city.police_officer.password_hash.startswith("$argon2id$")


def test_bad_token_is_rejected(client, city):
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Bearer forged"}), 401, "invalid_token")
    assert_error(client.get("/api/v1/me"), 401, "not_authenticated")


def test_department_with_malformed_credit_code_is_rejected(client, city):
    code = dept_code(50)
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    r = client.post(
        "/api/v1/departments",
        json={"code": bad, "name": "市交通运输局", "level": "city", "division_code": "440300"},
        headers=city.headers("admin"),
    )
    err = assert_error(r, 422, "invalid_credit_code")
    assert "校验" in err["message"]
    assert all(d["name"] != "市交通运输局" for d in client.get("/api/v1/departments").json())


def test_only_authority_registers_departments(client, city):
    payload = {"code": dept_code(51), "name": "市交通运输局", "level": "city", "division_code": "440300"}
    assert_error(client.post("/api/v1/departments", json=payload, headers=city.headers("police_officer")),
                 403, "role_not_allowed")  # fmt: skip
    r = client.post("/api/v1/departments", json=payload, headers=city.headers("admin"))
    assert r.status_code == 201 and r.json()["code"] == payload["code"]
    assert_error(client.post("/api/v1/departments", json=payload, headers=city.headers("admin")),
                 409, "duplicate_department_code")  # fmt: skip


def test_department_with_unknown_division_is_rejected(client, city):
    payload = {"code": dept_code(52), "name": "某局", "level": "district", "division_code": "449999"}
    assert_error(client.post("/api/v1/departments", json=payload, headers=city.headers("admin")),
                 422, "invalid_division_code")  # fmt: skip


def test_register_show_update_and_lifecycle_over_http(client, city):
    officer, admin = city.headers("police_officer"), city.headers("admin")
    created = client.post("/api/v1/catalog/resources", json=body(), headers=officer)
    assert created.status_code == 201
    code = created.json()["code"]
    assert created.json()["items"][0]["name"] == "公民身份号码"
    assert client.get(f"/api/v1/catalog/resources/{code}").status_code == 404  # draft not public
    assert client.get(f"/api/v1/catalog/resources/{code}", headers=officer).json()["status"] == "draft"
    updated = client.put(
        f"/api/v1/catalog/resources/{code}?expected_version=1", json=body(summary="新"), headers=officer
    )
    assert updated.json()["version"] == 2
    assert (
        client.post(f"/api/v1/catalog/resources/{code}/submit", headers=officer).json()["status"]
        == "submitted"
    )
    assert (
        client.post(f"/api/v1/catalog/resources/{code}/publish", headers=admin).json()["status"]
        == "published"
    )
    public = client.get(f"/api/v1/catalog/resources/{code}").json()
    assert public["status"] == "published" and public["provider"]["code"] == city.police.code
    versions = client.get(f"/api/v1/catalog/resources/{code}/versions").json()
    assert [v["action"] for v in versions] == ["created", "updated", "submitted", "published"]
    diff = client.get(f"/api/v1/catalog/resources/{code}/diff", params={"from": 1, "to": 2}).json()
    assert diff["changes"] == [
        {"field": "summary", "before": "全市户籍人口的身份与户籍基础信息。", "after": "新"}
    ]
    retired = client.post(
        f"/api/v1/catalog/resources/{code}/retire", json={"reason": "职能调整"}, headers=officer
    )
    assert retired.json()["status"] == "retired"


def test_search_endpoint_filters_and_pages(client, city):
    officer, admin = city.headers("police_officer"), city.headers("admin")
    for name in ("人口基础信息", "流动人口信息", "法人基础信息"):
        code = client.post(
            "/api/v1/catalog/resources", json=body(name=name, summary=name), headers=officer
        ).json()["code"]
        client.post(f"/api/v1/catalog/resources/{code}/submit", headers=officer)
        client.post(f"/api/v1/catalog/resources/{code}/publish", headers=admin)
    page = client.get("/api/v1/catalog/resources", params={"q": "人口", "page_size": 1}).json()
    assert page["total"] == 2 and len(page["results"]) == 1
    assert (
        client.get("/api/v1/catalog/resources", params={"q": "人口", "sharing_type": "none"}).json()["total"]
        == 0
    )
    provider = client.get("/api/v1/catalog/resources", params={"provider": city.market.code}).json()
    assert provider["total"] == 0


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"name": "名" * 51}, "name_too_long"),
        ({"items": [{"name": "公民身份号码", "data_type": "Q", "is_key": True}]}, "invalid_data_type"),
        ({"sharing_type": "none", "sharing_methods": []}, "legal_basis_required"),
        ({"sharing_type": "conditional", "sharing_condition": ""}, "sharing_condition_required"),
        ({"classification_code": "999"}, "invalid_classification"),
    ],
)
def test_bad_declarations_get_stable_codes_and_store_nothing(client, city, overrides, code):
    r = client.post(
        "/api/v1/catalog/resources", json=body(**overrides), headers=city.headers("police_officer")
    )
    err = assert_error(r, 422, code)
    assert err["details"]["errors"][0]["code"] == code
    listing = client.get(
        "/api/v1/catalog/resources", params={"status": "draft"}, headers=city.headers("admin")
    )
    assert listing.json()["total"] == 0


def test_negative_list_review_over_http(client, city):
    officer, admin = city.headers("police_officer"), city.headers("admin")
    payload = body(classification_code="212", name="侦查信息", sharing_type="none", sharing_methods=[],
                   legal_basis="《刑事诉讼法》", subject_key_type="none", items=[{"name": "案件编号", "is_key": True}])  # fmt: skip
    client.post("/api/v1/catalog/resources", json=payload, headers=officer)
    assert_error(client.get("/api/v1/catalog/negative-list/queue", headers=officer), 403, "role_not_allowed")
    queue = client.get("/api/v1/catalog/negative-list/queue", headers=admin).json()
    assert len(queue) == 1 and queue[0]["legal_basis"] == "《刑事诉讼法》"
    assert_error(client.post(f"/api/v1/catalog/negative-list/{queue[0]['id']}/decision",
                             json={"accept": False, "reason": ""}, headers=admin), 422, "reason_required")  # fmt: skip
    decided = client.post(f"/api/v1/catalog/negative-list/{queue[0]['id']}/decision",
                          json={"accept": True, "reason": "依据充分"}, headers=admin)  # fmt: skip
    assert decided.json()["status"] == "accepted"
    public = client.get("/api/v1/catalog/negative-list").json()
    assert [e["resource_name"] for e in public] == ["侦查信息"]


def test_error_shape_is_the_same_across_endpoints(client, city):
    """Pins the one JSON error shape: domain errors, validation errors, unknown routes, wrong methods."""
    assert_error(client.get("/api/v1/catalog/resources/101/999999"), 404, "resource_not_found")
    assert_error(client.post("/api/v1/catalog/resources", json={"name": 1}, headers=city.headers("admin")),
                 422, "invalid_request")  # fmt: skip
    assert_error(client.post("/api/v1/catalog/resources", content=b"{not json",
                             headers=city.headers("admin") | {"content-type": "application/json"}),
                 422, "invalid_request")  # fmt: skip
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_error(client.delete("/api/v1/departments"), 405, "method_not_allowed")
    assert_error(client.get("/api/v1/catalog/resources", params={"page": 0}), 422, "invalid_request")
    assert_error(client.get("/api/v1/departments/91110000600037341L"), 404, "department_not_found")
    assert_error(client.post("/api/v1/catalog/resources/101/000404/submit", headers=city.headers("admin")),
                 404, "resource_not_found")  # fmt: skip


def test_oversized_body_is_refused_with_the_error_shape(client, city, app):
    limit = app.state.settings.max_upload_bytes
    big = {"name": "x", "summary": "y" * (limit + 10)}
    r = client.post("/api/v1/catalog/resources", json=big, headers=city.headers("admin"))
    assert_error(r, 413, "payload_too_large")


def test_body_in_wrong_encoding_is_a_clear_error(client, city):
    payload = '{"name": "人口基础信息"}'.encode("gb18030")
    r = client.post(
        "/api/v1/catalog/resources",
        content=payload,
        headers=city.headers("admin") | {"content-type": "application/json"},
    )
    assert "UTF-8" in assert_error(r, 400, "invalid_body")["message"]


def test_vocabularies_list_the_national_code_lists(client):
    v = client.get("/api/v1/catalog/vocabularies").json()
    assert set(v["data_types"]) == set("CNYDTLMGBIF")
    assert v["sharing_types"]["none"] == "不予共享"
    assert v["classifications"]["101"] == "基础信息资源 / 人口"


def test_api_docs_use_only_local_assets(client):
    page = client.get("/docs").text
    assert "cdn" not in page.lower()
    assert "/docs-assets/swagger-ui-bundle.js" in page
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"].startswith("govshare")


def test_every_operation_in_the_openapi_schema_has_its_own_id(client):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI warns of a duplicate operation id while it builds the schema
        paths = client.get("/openapi.json").json()["paths"]
    ids = [op["operationId"] for methods in paths.values() for op in methods.values() if "operationId" in op]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    ckan = paths["/api/3/action/{action}"]
    assert set(ckan) == {"get", "post"} and ckan["get"]["operationId"] != ckan["post"]["operationId"]
