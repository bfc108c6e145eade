"""Interoperability endpoints (目录互通): the DCAT-AP export and a CKAN-compatible read API.

- ``GET /catalog.ttl``, ``GET /catalog.jsonld`` and ``GET /api/v1/catalog/dcat?format=ttl|jsonld``:
  the published catalog as DCAT-AP 3.0.0.
- ``/api/3/action/{action}`` and ``/api/action/{action}``, by GET (query parameters) or POST (a JSON
  object): CKAN's read actions, answered in CKAN's envelope so CKAN clients work unchanged.

How to harvest, and every mapping: docs/interop.md.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from govshare.catalog import ckan, dcat
from govshare.core.errors import DomainError
from govshare.core.errors import NotFound as DomainNotFound
from govshare.web.deps import SessionDep, SettingsDep

log = logging.getLogger(__name__)

MEDIA_TYPES = {"ttl": "text/turtle; charset=utf-8", "jsonld": "application/ld+json"}

dcat_router = APIRouter(tags=["interop 目录互通"])
ckan_router = APIRouter(tags=["interop 目录互通"])


def _dcat_response(session: SessionDep, settings: SettingsDep, fmt: str) -> Response:
    graph = dcat.export(session, settings.base_url)
    body = dcat.to_turtle(graph) if fmt == "ttl" else dcat.to_jsonld(graph, settings.base_url)
    return Response(body, media_type=MEDIA_TYPES[fmt])


@dcat_router.get("/catalog.ttl", response_class=Response)
def catalog_turtle(session: SessionDep, settings: SettingsDep) -> Response:
    """The published catalog as DCAT-AP 3.0.0 in Turtle."""
    return _dcat_response(session, settings, "ttl")


@dcat_router.get("/catalog.jsonld", response_class=Response)
def catalog_jsonld(session: SessionDep, settings: SettingsDep) -> Response:
    """The published catalog as DCAT-AP 3.0.0 in JSON-LD (compact, inline @context)."""
    return _dcat_response(session, settings, "jsonld")


@dcat_router.get("/api/v1/catalog/dcat", response_class=Response)
def catalog_dcat(
    session: SessionDep,
    settings: SettingsDep,
    format: Annotated[
        Literal["ttl", "jsonld"], Query(description="ttl (Turtle) or jsonld (JSON-LD)")
    ] = "ttl",
) -> Response:
    """The published catalog as DCAT-AP 3.0.0 (目录 DCAT-AP 导出), for harvesters such as data.europa.eu."""
    return _dcat_response(session, settings, format)


def _bad_request(message: str) -> JSONResponse:
    # CKAN answers a bad request with a bare JSON string, not with its envelope.
    return JSONResponse(f"Bad request - {message}", status_code=400)


@dataclass
class CkanRequest:
    """The action's parameters, or why they could not be read."""

    params: dict[str, Any]
    problem: str | None = None


async def _ckan_request(request: Request) -> CkanRequest:
    """CKAN reads GET parameters from the query string and POST parameters from a JSON body."""
    if request.method == "GET":
        keys = request.query_params.keys()
        lists = {k: request.query_params.getlist(k) for k in keys}
        return CkanRequest({k: v[0] if len(v) == 1 else v for k, v in lists.items()})
    raw = await request.body()
    if not raw.strip():
        return CkanRequest({})
    try:
        data = json.loads(raw)
    except ValueError as err:
        return CkanRequest({}, f"JSON Error: Error decoding JSON data. Error: {err}")
    if not isinstance(data, dict):
        return CkanRequest(
            {}, f"Bad request data: Request data JSON decoded to {data!r} but it needs to be a dictionary."
        )
    return CkanRequest(data)


def ckan_action(
    action: str,
    call: Annotated[CkanRequest, Depends(_ckan_request)],
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """A CKAN action (package_list, package_show, package_search, organization_list,
    organization_show, status_show, help_show), answered as
    ``{"help": …, "success": true, "result": …}`` or ``{"success": false, "error": {"__type", "message"}}``."""
    handler = ckan.ACTIONS.get(action)
    if handler is None:
        return _bad_request(f"Action name not known: {action}")
    if call.problem:
        return _bad_request(call.problem)
    envelope: dict[str, Any] = {"help": f"{settings.base_url}/api/3/action/help_show?name={action}"}
    try:
        envelope.update(success=True, result=handler(ckan.Context(session, settings.base_url), call.params))
        return JSONResponse(envelope)
    except ckan.CkanError as err:
        failure = err
    except DomainNotFound as err:
        failure = ckan.NotFoundError(f"Not found: {err.message}")
    except DomainError as err:
        failure = ckan.ValidationError(err.message, **{err.code: [err.message]})
    except Exception:
        log.exception("CKAN action %s failed", action)
        failure = ckan.ServerError("Internal Server Error")
    envelope.update(success=False, error=failure.error())
    return JSONResponse(envelope, status_code=failure.status)


# One route a path and method, each with its own OpenAPI operation id (a route of two methods would
# give both the same id, which client generators refuse).
for _path, _version in (("/api/3/action/{action}", "v3"), ("/api/action/{action}", "unversioned")):
    for _method in ("GET", "POST"):
        ckan_router.add_api_route(
            _path,
            ckan_action,
            methods=[_method],
            response_class=JSONResponse,
            operation_id=f"ckan_action_{_version}_{_method.lower()}",
        )


@ckan_router.get("/api/3")
def ckan_api_version() -> dict[str, int]:
    """CKAN's API root: the action API version."""
    return {"version": 3}


def register(app: FastAPI) -> None:
    """Called by the app factory: adds the DCAT and CKAN routes."""
    app.include_router(dcat_router)
    app.include_router(ckan_router)
