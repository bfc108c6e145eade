"""The data API's own path (govshare.exchange.plane) on a database it opens itself, as `govshare serve`
runs it: cached views, the kept connection, the audit group commit — and that a change made anywhere
(another session, another process) takes effect at the very next call."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from govshare.audit.models import AuditEvent
from govshare.audit.verify import verify
from govshare.core.db import make_engine
from govshare.core.migrate import upgrade
from govshare.exchange import grants, service
from govshare.exchange.models import Application
from govshare.web.app import create_app
from tests import factories
from tests.conftest import BACKENDS, drop_isolated_schema, isolated_postgres_url, make_test_settings
from tests.integration.data_exchange_support import BASE, CASE, grant, market_registration, population
from tests.integration.test_data_load import pid


@dataclass
class World:
    engine: Engine
    client: TestClient
    app: object
    city: factories.City
    application: Application
    grant_id: int
    code: str
    auth: dict[str, str]

    def session(self) -> Session:
        return sessionmaker(bind=self.engine, expire_on_commit=False)()

    def get(self, key: str, **headers: str) -> httpx.Response:
        return self.client.get(
            f"{BASE}/resources/{self.code}/records/{key}", headers=self.auth | CASE | headers
        )

    def audit_count(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(AuditEvent)) or 0)

    @property
    def plane(self):  # type: ignore[no-untyped-def]
        return self.app.state.data_plane  # type: ignore[attr-defined]


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('plane') / 'govshare.db'}"
    else:
        url = isolated_postgres_url("plane")
    engine = make_engine(url)
    upgrade(engine)
    with sessionmaker(bind=engine, expire_on_commit=False)() as s:
        city = factories.make_city(s)
        resource = population(s, city, count=4)
        registered = market_registration(s, city)
        granted = grant(s, city, registered[0], resource, unmasked=("姓名",))
        s.commit()
        code, grant_id = resource.code, granted.id
    settings = make_test_settings(database_url=url, base_url="http://testserver", redis_url=None)
    app = create_app(settings)  # no session factory given: the app opens the database itself
    with TestClient(app) as client:
        form = {"grant_type": "client_credentials", "client_id": registered[0].client_id,
                "client_secret": registered[1]}  # fmt: skip
        token = client.post("/api/v1/oauth/token", data=form).json()["access_token"]
        yield World(
            engine, client, app, city, registered[0], grant_id, code, {"Authorization": f"Bearer {token}"}
        )
    app.state.data_plane.close()
    engine.dispose()
    if request.param == "postgresql":
        drop_isolated_schema("plane")


def test_repeated_lookup_is_answered_from_the_cached_views_masked_and_audited(world: World) -> None:
    world.get(pid(1))  # warms the views
    before, cached = world.audit_count(), world.plane.answered["cached"]
    response = world.get(pid(1))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["values"]["姓名"] == "张三"  # approved unmasked
    assert body["values"]["公民身份号码"] == pid(1)[:4] + "*" * 10 + pid(1)[-4:]
    assert "宗教信仰" not in body["values"]  # never shareable
    assert world.plane.answered["cached"] == cached + 1
    assert world.audit_count() == before + 1  # committed before the answer came back
    with world.session() as s:
        event = s.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
        assert event is not None
        assert (event.outcome, event.case_id, event.resource_code) == (
            "allowed",
            CASE["X-Case-Id"],
            world.code,
        )
        assert verify(s).ok


def test_suspending_the_grant_elsewhere_refuses_the_next_call_and_resuming_restores_it(world: World) -> None:
    assert world.get(pid(2)).status_code == 200
    with world.session() as s:
        grants.change_grant(s, world.city.police_officer, world.grant_id, "suspend", "核查用途")
    refused = world.get(pid(2))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "grant_suspended"
    with world.session() as s:
        event = s.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
        assert event is not None and event.refusal_code == "grant_suspended"
        grants.change_grant(s, world.city.police_officer, world.grant_id, "resume", "核查完毕")
    assert world.get(pid(2)).status_code == 200


def test_unknown_key_is_a_404_and_still_audited_as_a_read_attempt(world: World) -> None:
    world.get(pid(1))
    before = world.audit_count()
    response = world.get(pid(9))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "record_not_found"
    assert world.audit_count() == before + 1


def test_missing_case_header_is_refused_and_audited(world: World) -> None:
    before = world.audit_count()
    response = world.client.get(
        f"{BASE}/resources/{world.code}/records/{pid(1)}", headers=world.auth | {"X-Operator": "clerk01"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_case_id"
    assert world.audit_count() == before + 1


def test_concurrent_calls_share_commits_and_every_answer_has_its_entry(world: World) -> None:
    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=world.app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            url = f"{BASE}/resources/{world.code}/records/"
            calls = [client.get(url + pid(1 + n % 4), headers=world.auth | CASE) for n in range(60)]
            return await asyncio.gather(*calls)

    before, batches, entries = world.audit_count(), world.plane.audit.batches, world.plane.audit.entries
    responses = asyncio.run(burst())
    assert [r.status_code for r in responses] == [200] * 60
    assert world.audit_count() == before + 60
    assert world.plane.audit.entries - entries == 60
    assert world.plane.audit.batches - batches < 60  # entries written together, not one commit each
    with world.session() as s:
        assert verify(s).ok


@pytest.mark.parametrize(
    "key, headers",
    [
        (pid(1), {}),  # answered
        (pid(9), {}),  # record_not_found
        (pid(1), {"X-Case-Id": ""}),  # missing_case_id
        (pid(1), {"Authorization": "Bearer not-a-token"}),  # invalid_token, with WWW-Authenticate
        (pid(1), {"Authorization": ""}),  # missing_access_token
    ],
)
def test_the_lane_and_the_framework_route_give_the_same_answer(
    world: World, key: str, headers: dict[str, str]
) -> None:
    settings = world.app.state.settings  # type: ignore[attr-defined]
    answers = []
    for lane in (True, False):
        settings.exchange_data_lane = lane
        try:
            response = world.get(key + "?items=姓名,公民身份号码", **headers)
        finally:
            settings.exchange_data_lane = True
        kept = {n: v for n, v in response.headers.items() if n in ("content-type", "www-authenticate")}
        answers.append(
            (response.status_code, response.json(), kept, "ratelimit-remaining" in response.headers)
        )
    assert answers[0] == answers[1]
    if answers[0][0] == 200:
        assert list(answers[0][1]["values"]) == ["公民身份号码", "姓名"]  # catalog order, only those asked


def test_lane_calls_are_counted_under_the_route_template(world: World) -> None:
    world.get(pid(1))
    metrics = world.client.get("/metrics").text
    assert 'route="/api/v1/exchange/data/resources/{code:path}/records/{key}"' in metrics


def test_revoked_credentials_refuse_the_next_call(world: World) -> None:
    """Runs last: the module's application has no valid token afterwards."""
    assert world.get(pid(3)).status_code == 200
    with world.session() as s:
        service.revoke_credentials(s, world.city.market_officer, world.application.id, "密钥泄露")
    refused = world.get(pid(3))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "credentials_revoked"
