"""/metrics: Prometheus counters and latency histograms for the engineers who run the platform.

Requests are counted and timed by route template (``/api/v1/catalog/resources/{code}``, never the
concrete path, so the number of series stays bounded), method and status class. Modules add their own
metrics through govshare.core.metrics (:func:`counter` / :func:`histogram`), e.g. the exchange
counts data calls by operation and outcome.

Who may read it: with ``GOVSHARE_METRICS_TOKEN`` set, a scraper sends ``Authorization: Bearer <token>``;
without it, only clients on this machine (loopback) — a Prometheus beside the platform, not the internet.
One registry per process: run one uvicorn worker per process and let Prometheus scrape each, or put
the platform behind several processes each with its own port.
"""

from __future__ import annotations

import hmac
import time

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govshare.core.errors import PermissionDenied
from govshare.core.metrics import REGISTRY, counter, histogram, labelled

REQUESTS = counter(
    "govshare_http_requests_total", "HTTP requests answered, by route template, method and status class",
    ("route", "method", "status"),
)  # fmt: skip
LATENCY = histogram(
    "govshare_http_request_duration_seconds", "Time to answer an HTTP request, by route template and method",
    ("route", "method"),
)  # fmt: skip

UNMATCHED = "<unmatched>"  # 404s for paths no route knows: one series, however many paths are probed


class MetricsMiddleware:
    """Pure ASGI (no per-request task or body buffering); times until the response has been sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            method = scope.get("method", "")
            labelled(REQUESTS, template, method, f"{status // 100}xx").inc()
            labelled(LATENCY, template, method).observe(time.perf_counter() - started)


router = APIRouter(tags=["运维 operations"])

LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}  # "testclient": Starlette's TestClient


@router.get("/metrics", include_in_schema=True, summary="Prometheus metrics (运行指标)")
def metrics(request: Request) -> Response:
    """Counters and latency histograms in the Prometheus text format, for the platform's operators."""
    token: str | None = request.app.state.settings.metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
            raise PermissionDenied("metrics_forbidden", "运行指标需携带 GOVSHARE_METRICS_TOKEN 令牌")
    elif (request.client.host if request.client else "") not in LOOPBACK:
        raise PermissionDenied(
            "metrics_forbidden", "运行指标仅对本机开放；从其他主机采集请设置 GOVSHARE_METRICS_TOKEN"
        )
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
