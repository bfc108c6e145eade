"""/metrics: request counts and latencies by route template, readable from this machine or with a token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from govshare.web.app import create_app
from tests.conftest import make_test_settings


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample, 0 if absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line[len(name) : line.rindex("}") + 1]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_requests_are_counted_by_route_template_and_status_class(client):
    before = client.get("/metrics").text
    client.get("/api/v1/catalog/resources/101/000001")
    client.get("/api/v1/catalog/resources/999/999999")  # a 404 of the same route
    client.get("/no/such/path/at/all")
    after = client.get("/metrics")
    assert after.status_code == 200 and after.headers["content-type"].startswith("text/plain")
    route = "/api/v1/catalog/resources/{code:path}"
    counted = "govshare_http_requests_total"
    assert (
        sample(after.text, counted, route=route, status="4xx")
        - sample(before, counted, route=route, status="4xx")
        >= 1
    )
    assert sample(after.text, counted, route="<unmatched>", method="GET", status="4xx") > sample(
        before, counted, route="<unmatched>", method="GET", status="4xx"
    )
    assert "/no/such/path" not in after.text  # concrete paths never become series
    assert sample(after.text, "govshare_http_request_duration_seconds_count", route=route, method="GET") >= 2


def test_oversized_bodies_refused_by_the_size_limit_are_counted_too(client):
    before = sample(
        client.get("/metrics").text,
        "govshare_http_requests_total",
        route="<unmatched>",
        method="POST",
        status="4xx",
    )
    client.post("/api/v1/catalog/resources", content=b"x" * (11 * 1024 * 1024))
    after = sample(
        client.get("/metrics").text,
        "govshare_http_requests_total",
        route="<unmatched>",
        method="POST",
        status="4xx",
    )
    assert after == before + 1


def test_other_hosts_need_the_metrics_token(session):
    session_factory = session.info["factory"]
    app = create_app(make_test_settings(metrics_token="s3cret-scraper"), session_factory)
    with TestClient(app) as remote:
        refused = remote.get("/metrics")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "metrics_forbidden"
        assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
        assert remote.get("/metrics", headers={"Authorization": "Bearer s3cret-scraper"}).status_code == 200
    with TestClient(create_app(make_test_settings(), session_factory), client=("203.0.113.9", 5000)) as far:
        assert far.get("/metrics").json()["error"]["code"] == "metrics_forbidden"


def test_an_unexpected_failure_is_answered_500_and_counted_under_its_route(session):
    app = create_app(make_test_settings(), session.info["factory"])

    @app.get("/api/v1/test-only/fails/{n}")
    def fails(n: int) -> None:
        raise RuntimeError(f"boom {n}")

    with TestClient(app, raise_server_exceptions=False) as local:
        before = local.get("/metrics").text
        answer = local.get("/api/v1/test-only/fails/7")
        assert answer.status_code == 500
        after = local.get("/metrics").text
    counted = "govshare_http_requests_total"
    labels = {"route": "/api/v1/test-only/fails/{n}", "method": "GET", "status": "5xx"}
    assert sample(after, counted, **labels) == sample(before, counted, **labels) + 1
