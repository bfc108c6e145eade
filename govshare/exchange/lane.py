"""The data lane: the lookup route answered by a lean ASGI handler in front of the framework.

A lookup's own work — cached views, one statement, masking, the audit entry — takes a fraction of
what the web framework spends around it: matching the path against every route of the platform,
solving the route's dependencies, the session-cookie middleware. Measured with py-spy at 32
connections, FastAPI and Starlette were 54% of the CPU of an answer (docs/benchmarks.md). This
middleware recognises ``GET /api/v1/exchange/data/resources/{code}/records/{key}`` by one regular
expression and hands it straight to ``DataPlane.lookup`` — the same call the framework route
makes — and answers with the same body, headers and error shape; everything else passes through.
``web.app.Platform`` puts it ahead of FastAPI's whole middleware stack, behind the metrics only.

The framework route stays: it is what /docs describes, and what answers when
``GOVSHARE_EXCHANGE_DATA_LANE=false``. tests/integration/test_exchange_data_plane.py asks both the
same questions and compares the answers.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from govshare.core.errors import DomainError
from govshare.exchange import query
from govshare.web.errors import api_error_headers

_LOOKUP = re.compile(r"/api/v1/exchange/data/resources/(?P<code>.*)/records/(?P<key>[^/]+)")
_JSON = (b"content-type", b"application/json")


def header_text(value: str | None) -> str | None:
    """HTTP headers arrive as Latin-1; a UTF-8 operator name (张三) is re-read as UTF-8."""
    if value is None:
        return None
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def wanted_items(values: list[str]) -> list[str] | None:
    """``items`` as given: repeated and/or comma-separated names; None when none."""
    return [n.strip() for part in values for n in part.split(",") if n.strip()] or None


class DataLane:
    """ASGI middleware; ``app`` is the rest of the stack, ``platform`` the FastAPI app (its state and
    its lookup route, named in the scope so /metrics counts the call under the route's template)."""

    def __init__(self, app: ASGIApp, platform: Any) -> None:
        self.app, self.platform = app, platform

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            match = _LOOKUP.fullmatch(scope["path"])
            if match is not None and self.platform.state.settings.exchange_data_lane:
                await self._lookup(scope, send, match["code"], match["key"])
                return
        await self.app(scope, receive, send)

    async def _lookup(self, scope: Scope, send: Send, code: str, key: str) -> None:
        scope["route"] = self.platform.state.lookup_route  # set by data_api.register
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        client = scope.get("client")
        call = query.Call(
            application=None, case_id=header_text(headers.get("x-case-id")),
            operator=header_text(headers.get("x-operator")),
            service_item=header_text(headers.get("x-service-item")),
            request_id=query.request_id(headers.get("x-request-id")),
            client_address=client[0] if client else None,
        )  # fmt: skip
        params = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        items = wanted_items([value for name, value in params if name == "items"])
        authorization = headers.get("authorization")
        plane = self.platform.state.data_plane
        try:
            answer = await plane.lookup(call, authorization, code, key, items)
        except DomainError as refusal:
            extra = api_error_headers(refusal, authorization) or {}
            await _send(send, refusal.status, orjson.dumps(refusal.to_dict()), extra)
            return
        await _send(send, 200, orjson.dumps(answer.to_dict()), query.answer_headers(call))


async def _send(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = [_JSON, (b"content-length", str(len(body)).encode())]
    raw += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
