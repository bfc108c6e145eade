"""HTML rendering (placeholder until the page layer lands)."""

from __future__ import annotations

from html import escape

from fastapi import Request
from fastapi.responses import HTMLResponse


def render_error(request: Request, status: int, code: str, message: str) -> HTMLResponse:
    return HTMLResponse(f"<h1>{status}</h1><p>{escape(message)}</p><code>{escape(code)}</code>", status_code=status)
