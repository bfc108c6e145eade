"""Helpers shared by the exchange tests: a valid registration and a token request."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from govshare.auth.models import User
from govshare.exchange import service
from govshare.exchange.models import Application
from govshare.exchange.schemas import ApplicationIn


def application_in(**overrides: Any) -> ApplicationIn:
    data: dict[str, Any] = {
        "name": "综合受理系统",
        "channel": "hall",
        "contact_name": "张三",
        "contact_phone": "13800138000",
        "description": "市民中心窗口办件时调取材料",
    }
    return ApplicationIn(**(data | overrides))


def register(session: Session, actor: User, **overrides: Any) -> tuple[Application, str]:
    return service.register_application(session, actor, application_in(**overrides))


def request_token(client: TestClient, client_id: str, secret: str) -> Response:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return client.post("/api/v1/oauth/token", data=form)


def bearer(client: TestClient, client_id: str, secret: str) -> dict[str, str]:
    response = request_token(client, client_id, secret)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
