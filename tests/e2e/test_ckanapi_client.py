"""The real CKAN client (ckanapi) lists, searches and reads the demo catalog over HTTP."""

from __future__ import annotations

import ckanapi
import pytest

from govshare.demo.seed import department_code


@pytest.fixture(params=["POST", "GET"])
def remote(live_server, request):
    """ckanapi posts JSON by default; ``get_only`` makes it send query strings like a browser."""
    with ckanapi.RemoteCKAN(live_server.url, get_only=request.param == "GET") as client:
        yield client


def test_package_list_names_published_demo_entries(remote):
    names = remote.action.package_list()
    assert "gov-101-000001" in names
    assert names == sorted(names)
    assert all(n.startswith("gov-") for n in names)


def test_package_search_finds_population_in_chinese(remote):
    found = remote.action.package_search(q="人口", rows=5)
    titles = [p["title"] for p in found["results"]]
    assert found["count"] >= 1
    assert titles[0] == "人口基础信息"


def test_package_show_reads_the_entry_the_search_found(remote):
    hit = remote.action.package_search(q="人口基础信息")["results"][0]
    package = remote.action.package_show(id=hit["name"])
    assert package["id"] == hit["id"]
    assert package["organization"]["title"] == "深圳市公安局"
    assert package["resources"][0]["format"] == "JSON"
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert extras["sharing_type"] == "unconditional"


def test_organization_list_and_show(remote):
    police = department_code("police").lower()
    assert police in remote.action.organization_list()
    org = remote.action.organization_show(id=police, include_datasets=True)
    assert org["title"] == "深圳市公安局"
    assert {p["title"] for p in org["packages"]} >= {"人口基础信息"}
    detailed = remote.action.organization_list(all_fields=True)
    assert any(o["name"] == police and o["package_count"] == org["package_count"] for o in detailed)


def test_missing_package_raises_not_found(remote):
    with pytest.raises(ckanapi.NotFound):
        remote.action.package_show(id="gov-999-999999")


def test_missing_id_raises_validation_error(remote):
    with pytest.raises(ckanapi.ValidationError) as raised:
        remote.action.package_show()
    assert raised.value.error_dict["id"] == ["Missing value"]


def test_versioned_prefix_works_for_the_client_too(live_server):
    client = ckanapi.RemoteCKAN(live_server.url)
    client.base_url = "api/3/action/"
    assert "gov-101-000001" in client.action.package_list()
    with pytest.raises(ckanapi.NotFound):
        client.action.organization_show(id="nobody")
