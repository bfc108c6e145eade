import httpx


def test_live_server_serves_published_demo_catalog(live_server):
    body = httpx.get(f"{live_server.url}/api/v1/catalog/resources", params={"q": "人口"}).json()
    assert any(r["name"] == "人口基础信息" for r in body["results"])
