"""One JSON error shape for every API error: ``{"error": {"code", "message", "details"}}``.

Domain errors carry their own code; framework errors (404 routes, bad JSON, 405) are mapped to
stable codes here, so a client never has to parse two shapes.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from govshare.core.errors import DomainError

HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


def error_body(code: str, message: str, details: object = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "details": details}}


def _wants_html(request: Request) -> bool:
    path = request.url.path
    return not path.startswith("/api") and "text/html" in request.headers.get("accept", "")


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if _wants_html(request):
        from govshare.web.rendering import render_error

        return render_error(request, exc.status, exc.code, exc.message)
    headers = None
    if request.url.path.startswith("/api"):
        headers = api_error_headers(exc, request.headers.get("authorization"))
    return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)


def api_error_headers(exc: DomainError, authorization: str | None) -> dict[str, str] | None:
    """Headers an API refusal carries: a 401 names the scheme (RFC 6750 §3 / RFC 7235), and a token that
    was sent but refused is ``invalid_token``; a 429 its Retry-After and RateLimit fields."""
    if exc.status == 401:
        sent = (authorization or "").lower().startswith("bearer ")
        return {"WWW-Authenticate": 'Bearer realm="govshare", error="invalid_token"' if sent else "Bearer"}
    return getattr(exc, "headers", None)


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "code": e["type"], "message": e["msg"]}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "", "message": ""}
    message = f"请求格式不正确：{first['field']} {first['message']}".strip()
    return JSONResponse(error_body("invalid_request", message, {"errors": errors}), status_code=422)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    message = exc.detail if isinstance(exc.detail, str) else code
    if exc.status_code == 400 and message == "There was an error parsing the body":
        # Starlette's words for a body it cannot decode, most often a GBK-encoded file or form.
        code, message = (
            "invalid_body",
            "请求体无法解析：JSON 须为 UTF-8 编码，表单须为合法的 multipart/urlencoded",
        )
    if _wants_html(request):
        from govshare.web.rendering import render_error

        return render_error(request, exc.status_code, code, message)
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
