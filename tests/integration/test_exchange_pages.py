"""Exchange pages through the app (SQLite and PostgreSQL): request form, the provider's inbox with due
dates and overdue rows, the decision form and history, grants with suspend/revoke, the demand list."""

from __future__ import annotations

from datetime import timedelta

import pytest

from govshare.core.types import utcnow
from govshare.exchange import demands, grants
from govshare.exchange.grant_schemas import DemandIn
from govshare.exchange.models import GrantStatus, RequestStatus
from tests.integration.grant_support import approve, market_app, publish_people, submit
from tests.integration.test_pages import HTML, csrf, login, visible_text

application = pytest.fixture(market_app)
people = pytest.fixture(publish_people)


def test_request_form_lists_items_and_files_a_conditional_request(client, city, application, people):
    login(client, "market_officer")
    page = client.get(f"/exchange/requests/new?resource={people.code}", headers=HTML)
    assert page.status_code == 200 and 'value="宗教信仰"' in page.text and "disabled" in page.text
    token = csrf(client, f"/exchange/requests/new?resource={people.code}")
    data = {"csrf_token": token, "resource": people.code, "application": str(application.id), "items": ["姓名"],
            "operations": ["verify"], "purpose": ""}  # fmt: skip
    refused = client.post("/exchange/requests/new", data=data, headers=HTML)
    assert refused.status_code == 422 and 'data-error-for="purpose"' in refused.text
    filed = client.post(
        "/exchange/requests/new", data=data | {"purpose": "核验身份"}, headers=HTML, follow_redirects=False
    )
    assert filed.status_code == 303
    detail = client.get(filed.headers["location"], headers=HTML)
    assert "审核中" in visible_text(detail.text) and 'data-testid="decision-form"' not in detail.text


def test_inbox_shows_due_dates_and_flags_overdue_requests(client, session, city, application, people):
    late = submit(session, city, application, people, now=utcnow() - timedelta(days=40))
    fresh = submit(session, city, application, people, now=utcnow())
    login(client, "police_officer")
    inbox = client.get("/exchange/requests", headers=HTML).text
    assert f'data-request="{late.id}" class="overdue"' in inbox and f'data-request="{fresh.id}" >' in inbox
    assert (fresh.due_at + timedelta(hours=8)).strftime("%Y-%m-%d") in inbox
    assert '<p class="stat-value" data-testid="overdue-count" style="color: var(--red-700)">1</p>' in inbox
    only_overdue = client.get("/exchange/requests?overdue=true", headers=HTML).text
    assert f'data-request="{late.id}"' in only_overdue and f'data-request="{fresh.id}"' not in only_overdue


def test_the_provider_approves_with_narrowed_items_through_the_form(
    client, session, city, application, people
):
    request = submit(session, city, application, people)
    login(client, "police_officer")
    url = f"/exchange/requests/{request.id}"
    token = csrf(client, url)
    data = {
        "csrf_token": token,
        "decision": "reject",
        "items": ["姓名"],
        "operations": ["lookup"],
        "reason": "",
    }
    refused = client.post(url + "/decision", data=data, headers=HTML)
    assert refused.status_code == 422 and 'data-error-for="reason"' in refused.text
    approved = client.post(
        url + "/decision", data=data | {"decision": "approve"}, headers=HTML, follow_redirects=False
    )
    assert approved.status_code == 303
    session.refresh(request)
    grant = session.get(grants.Grant, request.grant_id)
    assert (
        request.status == RequestStatus.APPROVED
        and grant.items == ["姓名"]
        and grant.operations == ["lookup"]
    )
    history = visible_text(client.get(url, headers=HTML).text)
    assert "提供方审核" in history and "已同意" in history


def test_another_department_sees_no_decision_form_and_cannot_decide(
    client, session, city, application, people
):
    request = submit(session, city, application, people)
    login(client, "market_officer")
    url = f"/exchange/requests/{request.id}"
    page = client.get(url, headers=HTML).text
    assert 'data-testid="decision-form"' not in page and 'data-testid="escalation-form"' in page
    posted = client.post(
        url + "/decision", data={"csrf_token": csrf(client, url), "decision": "approve"}, headers=HTML
    )
    assert posted.status_code == 403


def test_grants_page_suspends_and_revokes(client, session, city, application, people):
    request = submit(session, city, application, people)
    approve(session, city, request)
    login(client, "police_officer")
    page = client.get("/exchange/grants?box=provided", headers=HTML).text
    assert f'data-grant="{request.grant_id}"' in page and 'data-testid="grant-actions"' in page
    token = csrf(client, "/exchange/grants?box=provided")
    form = {"csrf_token": token, "box": "provided", "action": "suspend", "reason": ""}
    client.post(f"/exchange/grants/{request.grant_id}/change", data=form, headers=HTML)
    grant = session.get(grants.Grant, request.grant_id)
    session.refresh(grant)
    assert grant.status == GrantStatus.ACTIVE  # a reason is required
    client.post(f"/exchange/grants/{request.grant_id}/change", data=form | {"reason": "核查"}, headers=HTML)
    session.refresh(grant)
    assert grant.status == GrantStatus.SUSPENDED
    login(client, "market_officer")
    mine = client.get("/exchange/grants?box=mine", headers=HTML).text
    assert "已暂停" in visible_text(mine) and 'data-testid="grant-actions"' not in mine


def test_grants_page_renews(client, session, city, application, people):
    request = submit(session, city, application, people, now=utcnow())
    approve(session, city, request)
    grant = session.get(grants.Grant, request.grant_id)
    new_last_day = grant.valid_to + timedelta(days=30)
    login(client, "police_officer")
    token = csrf(client, "/exchange/grants?box=provided")
    form = {"csrf_token": token, "box": "provided", "action": "renew", "reason": "续期", "valid_to": ""}
    url = f"/exchange/grants/{grant.id}/change"
    assert "请选择授权新的截止日期" in client.post(url, data=form, headers=HTML).text
    client.post(url, data=form | {"valid_to": new_last_day.isoformat()}, headers=HTML)
    session.refresh(grant)
    assert grant.valid_to == new_last_day and grant.events[-1].kind.value == "renewed"


def test_demand_list_shows_status_and_overdue(client, session, city):
    demand = demands.file_demand(
        session, city.market_officer, DemandIn(title="婚姻登记信息", reason="贷款核验")
    )
    demands.assign_demand(session, city.admin, demand.id, city.police.code, deadline_days=1,
                          now=utcnow() - timedelta(days=30))  # fmt: skip
    login(client, "clerk")
    page = client.get("/exchange/demands", headers=HTML).text
    assert f'data-demand="{demand.id}" class="overdue"' in page and "婚姻登记信息" in page
    login(client, "police_officer")
    assert 'data-testid="demand-answer"' in client.get("/exchange/demands", headers=HTML).text
