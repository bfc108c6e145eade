"""Grants (授权): deny by default through check_grant — each refusal code — and the grant lifecycle:
suspend, resume, revoke (effective at the next call), renew, expire, supersede."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event

from govshare.core.errors import Conflict, PermissionDenied, ValidationFailed
from govshare.exchange import grants
from govshare.exchange.models import GrantEventKind, GrantStatus
from tests.integration.grant_support import SERVICE_ITEM, approve, market_app, publish_people, submit

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)

application = pytest.fixture(market_app)  # an application of 市场监管局
people = pytest.fixture(publish_people)  # the police's conditional population resource


@pytest.fixture
def grant(session, city, application, people):
    request = submit(session, city, application, people, now=NOW, valid_to=date(2027, 6, 30))
    approve(session, city, request, items=["公民身份号码", "姓名"], operations=["lookup", "verify"])
    return session.get(grants.Grant, request.grant_id)


def refusal(session, app, resource, operation="lookup", items=("姓名",), service_item=SERVICE_ITEM, now=NOW):
    with pytest.raises(PermissionDenied) as err:
        grants.check_grant(session, app, resource, operation, list(items), service_item, now)
    return err.value.code


def test_no_grant_no_data(session, application, people):
    assert refusal(session, application, people) == "no_grant"


def test_a_live_grant_answers_with_one_indexed_query(session, engine, application, people, grant):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        found = grants.check_grant(
            session, application.id, people.id, "verify", ["公民身份号码"], SERVICE_ITEM, NOW
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert found == grant
    assert len(statements) == 1 and "exchange_grant" in statements[0] and "JOIN" not in statements[0]


def test_each_refusal_code(session, application, people, grant):
    assert refusal(session, application, people, operation="search") == "operation_not_granted"
    assert refusal(session, application, people, items=("姓名", "出生日期")) == "item_not_granted"
    assert refusal(session, application, people, service_item=None) == "service_item_required"
    assert refusal(session, application, people, service_item="OTHER-ITEM") == "service_item_not_covered"
    last_evening = datetime(2027, 6, 30, 15, 0, tzinfo=UTC)  # 23:00 on 30 June in Beijing
    assert grants.check_grant(session, application, people, "lookup", ["姓名"], SERVICE_ITEM, last_evening)
    next_day = datetime(2027, 6, 30, 16, 0, tzinfo=UTC)  # midnight in Beijing
    assert refusal(session, application, people, now=next_day) == "grant_expired"


def test_a_grant_without_service_items_needs_none(session, city, application, people):
    request = submit(session, city, application, people, now=NOW, service_items=[])
    approve(session, city, request)
    assert (
        grants.check_grant(session, application, people, "lookup", ["出生日期"], None, NOW).id
        == request.grant_id
    )


def test_suspension_takes_effect_at_once_and_resuming_restores(session, city, application, people, grant):
    with pytest.raises(ValidationFailed) as err:
        grants.change_grant(session, city.police_officer, grant.id, "suspend", "")
    assert err.value.code == "reason_required"
    grants.change_grant(session, city.police_officer, grant.id, "suspend", "调用量异常，核查中")
    assert refusal(session, application, people) == "grant_suspended"
    grants.change_grant(session, city.admin, grant.id, "resume", "核查完毕")
    assert grants.check_grant(session, application, people, "lookup", ["姓名"], SERVICE_ITEM, NOW) == grant
    assert [e.kind for e in grant.events] == [
        GrantEventKind.GRANTED,
        GrantEventKind.SUSPENDED,
        GrantEventKind.RESUMED,
    ]
    assert (
        grant.events[1].actor_id == city.police_officer.id and grant.events[1].reason == "调用量异常，核查中"
    )


def test_revocation_is_final(session, city, application, people, grant):
    grants.change_grant(session, city.admin, grant.id, "revoke", "违规转授他人")
    assert refusal(session, application, people) == "grant_revoked"
    for action in ("resume", "suspend", "revoke"):
        with pytest.raises(Conflict) as err:
            grants.change_grant(session, city.police_officer, grant.id, action, "再试")
        assert err.value.code == "invalid_grant_status"


def test_only_the_provider_or_the_authority_manages_a_grant(session, city, grant):
    for outsider in (city.market_officer, city.auditor, city.clerk):
        with pytest.raises(PermissionDenied):
            grants.change_grant(session, outsider, grant.id, "suspend", "想暂停")
    assert grant.status == GrantStatus.ACTIVE


def test_expiry_and_renewal(session, city, application, people, grant):
    after = datetime(2027, 7, 1, 2, 0, tzinfo=UTC)
    assert refusal(session, application, people, now=after) == "grant_expired"
    assert grants.expire_grants(session, NOW) == []
    assert grants.expire_grants(session, after) == [grant] and grant.status == GrantStatus.EXPIRED
    with pytest.raises(ValidationFailed) as err:
        grants.renew_grant(session, city.police_officer, grant.id, date(2027, 6, 1), max_days=1095, now=after)
    assert err.value.code == "invalid_period"
    with pytest.raises(ValidationFailed) as err:
        grants.renew_grant(session, city.police_officer, grant.id, date(2030, 7, 1), max_days=365, now=after)
    assert err.value.code == "period_too_long"
    grants.renew_grant(
        session, city.police_officer, grant.id, date(2028, 6, 30), "续期一年", max_days=1095, now=after
    )
    assert grant.status == GrantStatus.ACTIVE and grant.valid_to == date(2028, 6, 30)
    assert grant.events[-1].details == {"old_valid_to": "2027-06-30", "new_valid_to": "2028-06-30"}
    assert grants.check_grant(session, application, people, "lookup", ["姓名"], SERVICE_ITEM, after) == grant


def test_a_newer_grant_supersedes_the_older(session, city, application, people, grant):
    newer = submit(session, city, application, people, now=NOW)
    approve(session, city, newer, items=["出生日期"], operations=["lookup"])
    assert grant.status == GrantStatus.REVOKED and f"#{newer.grant_id}" in grant.status_reason
    assert (
        grants.check_grant(session, application, people, "lookup", ["出生日期"], SERVICE_ITEM, NOW).id
        == newer.grant_id
    )
    assert refusal(session, application, people, items=("姓名",)) == "item_not_granted"


def test_grant_lists_per_side(session, city, grant):
    assert grants.list_grants(session, city.market_officer, "mine") == [grant]
    assert grants.list_grants(session, city.police_officer, "mine") == []
    assert grants.list_grants(session, city.police_officer, "provided", "active") == [grant]
    assert grants.list_grants(session, city.police_officer, "provided", "suspended") == []
    with pytest.raises(ValidationFailed):
        grants.list_grants(session, city.police_officer, "provided", "bogus")
    assert grants.get_grant(session, city.admin, grant.id) == grant
