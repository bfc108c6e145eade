"""A record's history, a data error report from filing to answer, and a subject profile, in a real browser.

Runs on the shared live server's demo city with fresh random resident IDs, so reruns on the same
database load new records and the demo data stays valid for the other tests.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.auth.models import User
from govshare.catalog.models import Resource
from govshare.core.db import make_engine
from govshare.data import profiles
from govshare.data import service as data
from tests.e2e import test_browser_catalog as catalog_e2e
from tests.e2e.test_browser_catalog import Ui, expect
from tests.e2e.test_browser_data import POPULATION, resident_ids, upload

pytestmark = pytest.mark.browser
browser = catalog_e2e.browser  # one Chromium per module, like the other browser tests


def person_csv(resident_id: str, name: str) -> bytes:
    return f"公民身份号码,姓名,性别,出生日期\r\n{resident_id},{name},男,1980-05-01\r\n".encode()


def load_twice(ui: Ui, resident_id: str) -> None:
    """Two loads through the upload page; the second renames the person."""
    for number, name in enumerate(("张三", "张叁"), start=1):
        ui.go(f"/data/resources/{POPULATION}/upload")
        upload(ui, f"人口{number}.csv", person_csv(resident_id, name))
        expect(ui.page.get_by_test_id("report-title")).to_contain_text("加载报告")


def disagree_on_the_name(database_url: str, resident_id: str) -> None:
    """The social-insurance bureau holds the person under another name, and the authority has declared
    the two 姓名 items equivalent (once per database: an item belongs to one concept)."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        insured = session.scalars(select(Resource).where(Resource.name == "社会保险参保缴费信息")).one()
        columns = ["公民身份号码", "姓名"]
        rows = [(2, dict(zip(columns, [resident_id, "王伍"], strict=True)))]
        data.load(session, users["hrss_officer"], insured.code, columns, rows, batch_key=f"e2e-{resident_id}")
        if not any(eq.concept == "姓名" for eq in profiles.list_equivalences(session)):
            pairs = [(POPULATION, "姓名"), (insured.code, "姓名")]
            profiles.create_equivalence(session, users["admin"], "姓名", pairs)
    engine.dispose()


def test_history_then_an_error_report_filed_listed_and_answered(browser, live_server, artifacts_dir):
    provider = Ui(browser, live_server, artifacts_dir)
    reporter = Ui(browser, live_server, artifacts_dir)
    try:
        p = provider.page
        provider.login("police_officer")
        resident_id = resident_ids(1)[0]
        load_twice(provider, resident_id)

        provider.go(f"/data/resources/{POPULATION}")
        p.fill("#key-0", resident_id.lower())
        p.get_by_test_id("record-lookup-submit").click()
        expect(p.get_by_test_id("record-title")).to_have_text("记录版本历史")
        expect(p.get_by_test_id("current-number")).to_have_text("2")
        changed = p.locator('[data-testid="versions"] tr[data-version="2"] td[data-changed="姓名"]')
        expect(changed).to_contain_text("张叁")
        expect(changed).to_contain_text("已变更")
        expect(p.locator('[data-testid="versions"] tr[data-version="1"]')).to_contain_text("张三")
        expect(p.locator("td[data-changed]")).to_have_count(1)
        provider.shot("record-history")

        r = reporter.page
        reporter.login("market_officer")
        reporter.go(f"/data/error-reports/new?resource={POPULATION}&key={resident_id}&item=姓名")
        expect(r.locator("#item")).to_have_value("姓名")
        r.get_by_test_id("report-submit").click()  # nothing typed yet: explained next to the field
        expect(r.locator('[data-error-for="proposed_value"]')).to_be_visible()
        r.fill("#proposed_value", "张三")
        r.fill("#evidence", "营业执照（2026-11-03 换发）经营者姓名为张三")
        reporter.shot("error-report-form")
        r.get_by_test_id("report-submit").click()
        expect(r.get_by_test_id("flash-success")).to_contain_text("已提交")
        due = r.get_by_test_id("due-date").inner_text()
        report_id = r.url.rstrip("/").split("/")[-1]
        reporter.shot("error-report-filed")

        p.get_by_test_id("nav-error-reports").click()
        row = p.locator(f'tr[data-report="{report_id}"]')
        expect(row).to_contain_text(due)
        expect(row).to_contain_text("待答复")
        expect(row).to_contain_text("深圳市市场监督管理局")
        provider.shot("error-report-inbox")

        row.get_by_role("link", name=f"#{report_id}").click()
        p.check('input[name="decision"][value="rejected"]')
        p.get_by_test_id("answer-submit").click()
        expect(p.locator('[data-error-for="reason"]')).to_be_visible()
        p.check('input[name="decision"][value="confirmed"]')
        p.fill("#corrected_value", "张三")
        p.fill("#reason", "已核对户籍档案，下次加载更正")
        p.get_by_test_id("answer-submit").click()
        expect(p.get_by_test_id("flash-success")).to_be_visible()
        expect(p.get_by_test_id("answer")).to_contain_text("已确认有误")
        provider.shot("error-report-answered")

        reporter.go("/data/error-reports?box=filed")
        expect(r.locator(f'tr[data-report="{report_id}"]')).to_contain_text("已确认有误")
    finally:
        provider.close()
        reporter.close()


def test_subject_profile_from_the_form(browser, live_server, artifacts_dir):
    ui = Ui(browser, live_server, artifacts_dir)
    try:
        p = ui.page
        ui.login("police_officer")
        resident_id = resident_ids(1)[0]
        ui.go(f"/data/resources/{POPULATION}/upload")
        upload(ui, "人口.csv", person_csv(resident_id, "王五"))
        expect(p.locator('[data-count="inserted"]')).to_have_text("1")

        p.get_by_role("link", name="主体画像").click()
        p.fill("#key", resident_id[:-1] + "0" if resident_id[-1] != "0" else resident_id[:-1] + "1")
        p.get_by_test_id("profile-submit").click()
        expect(p.locator('[data-error-for="key"]')).to_contain_text("校验码")
        ui.shot("profile-invalid-key")

        p.fill("#key", resident_id.lower())
        p.get_by_test_id("profile-submit").click()
        expect(p.get_by_test_id("profile-key")).to_have_text(resident_id)
        fields = p.get_by_test_id("profile-fields")
        expect(fields.locator('tr[data-field="姓名"]')).to_contain_text("王五")
        expect(fields.locator('tr[data-field="姓名"]')).to_contain_text("人口基础信息")
        expect(fields.locator('tr[data-field="姓名"]')).to_contain_text("深圳市公安局")
        ui.shot("profile")

        disagree_on_the_name(live_server.database_url, resident_id)
        ui.go(f"/data/profiles/person_id/{resident_id}")
        own = p.get_by_test_id("profile-fields").locator('tr[data-field="姓名"]')
        expect(own).to_contain_text("王五")  # a data officer sees only the own department's value
        expect(own).not_to_contain_text("王伍")
    finally:
        ui.close()

    admin = Ui(browser, live_server, artifacts_dir)
    try:
        a = admin.page
        admin.login("admin")
        admin.go("/data/profiles")
        a.select_option("#type", "person_id")
        a.fill("#key", resident_id)
        a.get_by_test_id("profile-submit").click()
        name = a.get_by_test_id("profile-fields").locator('tr[data-field="姓名"]')
        expect(name.get_by_test_id("conflict-badge")).to_have_text("冲突")
        expect(name.get_by_test_id("conflict-value")).to_have_count(2)
        expect(name).to_contain_text("王五")
        expect(name).to_contain_text("王伍")
        expect(name).to_contain_text("深圳市人力资源和社会保障局")
        admin.shot("profile-conflict")

        a.get_by_role("link", name="主体画像", exact=True).first.click()
        expect(a.get_by_test_id("conflicts")).to_contain_text(resident_id)
        admin.go("/data/conflicts")
        expect(a.get_by_test_id("conflicts")).to_contain_text("王伍")
        admin.shot("conflicts")
    finally:
        admin.close()
