"""Access requests in a real browser: a conditional request filed through the form, seen in the
provider's inbox with its due date on the working-day calendar, and approved with narrowed items."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.auth.models import User
from govshare.core.db import make_engine
from govshare.core.types import utcnow
from govshare.core.workdays import add_working_days
from govshare.exchange import service
from tests.e2e import test_browser_catalog as catalog_e2e
from tests.e2e.test_browser_catalog import Ui, expect
from tests.integration.exchange_support import application_in

pytestmark = pytest.mark.browser
MARRIAGE = "201/000001"  # 婚姻登记信息 of 民政局, conditional in the demo catalog
browser = catalog_e2e.browser  # one Chromium per session


def register_application(database_url: str) -> int:
    """A fresh application of the market regulator (a rerun on the same database registers another)."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        officer = session.scalars(select(User).where(User.username == "market_officer")).one()
        app, _ = service.register_application(
            session, officer, application_in(name=f"企业开办{uuid.uuid4().hex[:6]}")
        )
        app_id = app.id
    engine.dispose()
    return app_id


def test_conditional_request_filed_seen_in_the_inbox_with_its_due_date_and_approved_narrowed(
    browser, live_server, artifacts_dir
):
    app_id = register_application(live_server.database_url)
    requester, provider = Ui(browser, live_server, artifacts_dir), Ui(browser, live_server, artifacts_dir)
    try:
        p = requester.page
        requester.login("market_officer")
        requester.go("/exchange/requests")
        p.get_by_role("link", name="+ 申请共享").click()
        p.fill("#pick", MARRIAGE)
        p.get_by_role("button", name="列出信息项").click()
        p.select_option("#application", str(app_id))
        for item in ("公民身份号码", "姓名", "婚姻状况"):
            p.get_by_label(item, exact=True).check()
        p.get_by_label("查询", exact=True).check()
        p.get_by_label("核验", exact=True).check()
        p.fill("#purpose", "企业开办时核验股东婚姻状况")
        requester.shot("exchange-request-form")
        p.get_by_test_id("request-submit").click()
        expected = add_working_days(utcnow(), 10).due_date.isoformat()
        expect(p.get_by_test_id("flash-success")).to_contain_text(expected)
        request_id = p.url.rstrip("/").rsplit("/", 1)[-1]
        expect(p.get_by_test_id("request-status")).to_have_text("审核中")

        q = provider.page
        provider.login("civil_officer")
        provider.go("/exchange/requests")
        row = q.locator(f'tr[data-request="{request_id}"]')
        expect(row.get_by_test_id("due-date")).to_have_text(expected)
        expect(row.get_by_test_id("overdue")).to_have_count(0)
        provider.shot("exchange-inbox")
        row.get_by_role("link", name=f"#{request_id}").click()
        form = q.get_by_test_id("decision-form")
        form.get_by_label("同意", exact=True).check()
        form.get_by_label("婚姻状况", exact=True).uncheck()
        form.get_by_label("查询", exact=True).uncheck()
        q.fill("#conditions", "仅限企业开办使用")
        provider.shot("exchange-decision-form")
        q.get_by_test_id("decision-submit").click()
        expect(q.get_by_test_id("request-status")).to_have_text("已同意")
        expect(q.get_by_test_id("grant")).to_contain_text("公民身份号码")
        expect(q.get_by_test_id("grant")).not_to_contain_text("婚姻状况")
        expect(q.get_by_test_id("history")).to_contain_text("提供方审核")
        provider.shot("exchange-approved")
    finally:
        requester.close()
        provider.close()
