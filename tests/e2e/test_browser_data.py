"""The shared-data pages in a real browser: upload through the form, read the report, the data tab.

Runs on the shared live server's demo city; the rows use fresh random resident IDs so a rerun on the
same database is a new batch, and the demo records stay valid for other tests.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from govshare.core.ids import make_resident_id
from tests.e2e import test_browser_catalog as catalog_e2e
from tests.e2e.test_browser_catalog import Ui, expect

pytestmark = pytest.mark.browser
POPULATION = "101/000001"
browser, ui = catalog_e2e.browser, catalog_e2e.ui  # the catalog tests' fixtures: one Chromium per session


def resident_ids(n: int) -> list[str]:
    rng = random.Random()
    days = rng.sample(range(15000), n)
    return [
        make_resident_id("440305", date(1970, 1, 1) + timedelta(days=d), rng.randrange(100, 999))
        for d in days
    ]


def people_csv(ids: list[str], fixed: bool = False) -> bytes:
    """Five people in a GB18030 export; unless ``fixed`` the fourth has a 17-character ID."""
    lines = [
        "公民身份号码,姓名,性别,出生日期",
        f"{ids[0]},张三,男,1980-05-01",
        f"{ids[1]},李四,女,1985/6/2",
        f"{ids[2]},王五,男,1990年7月3日",
        f"{ids[4] if fixed else ids[4][:17]},赵六,女,19900101",
        f"{ids[3]},,男,20000101",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


def upload(ui: Ui, name: str, content: bytes, shot: str = "") -> None:
    ui.page.set_input_files("#file", files=[{"name": name, "mimeType": "text/csv", "buffer": content}])
    if shot:
        ui.shot(shot)
    ui.page.get_by_test_id("upload-submit").click()


def test_officer_uploads_a_file_sees_the_report_then_quality_and_history(ui: Ui):
    p = ui.page
    ui.login("police_officer")
    ui.go(f"/catalog/resources/{POPULATION}")
    p.get_by_test_id("data-tab").click()
    expect(p.get_by_test_id("resource-name")).to_have_text("人口基础信息")
    p.get_by_test_id("upload-link").click()

    ids = resident_ids(5)
    expect(p.locator("#encoding option:checked")).to_have_text("自动")
    upload(ui, "人口导出.csv", people_csv(ids), shot="data-upload-form")

    expect(p.get_by_test_id("report-title")).to_contain_text("加载报告")
    expect(p.locator('[data-count="rows_read"]')).to_have_text("5")
    expect(p.locator('[data-count="inserted"]')).to_have_text("4")
    expect(p.locator('[data-count="rejected"]')).to_have_text("1")
    expect(p.get_by_test_id("rejections")).to_contain_text("公民身份号码")
    expect(p.get_by_test_id("rejections-csv")).to_be_visible()
    ui.shot("data-load-report")

    p.get_by_role("link", name="继续上传").click()
    upload(ui, "人口导出（更正）.csv", people_csv(ids, fixed=True))
    expect(p.locator('[data-count="inserted"]')).to_have_text("1")
    expect(p.locator('[data-count="unchanged"]')).to_have_text("4")

    p.get_by_test_id("data-link").click()
    expect(p.get_by_test_id("freshness")).to_have_text("按时")
    expect(p.get_by_test_id("quality-table")).to_contain_text("完整性")
    expect(p.get_by_test_id("quality-table")).to_contain_text("姓名")
    expect(p.get_by_test_id("trend-chart")).to_be_visible()
    expect(p.get_by_test_id("load-history")).to_contain_text("深圳市公安局数据管理员")
    expect(p.get_by_test_id("load-history")).to_contain_text("人口导出（更正）.csv")
    ui.shot("data-resource")


def test_a_file_the_resource_cannot_take_is_explained_on_the_form(ui: Ui):
    """The script's upload path shows the server's answer in place, like the plain POST does."""
    p = ui.page
    ui.login("police_officer")
    ui.go(f"/data/resources/{POPULATION}/upload")
    upload(ui, "籍贯.csv", "公民身份号码,籍贯\r\n440305198001010011,广东\r\n".encode())
    expect(p.get_by_test_id("upload-error")).to_contain_text("籍贯")
    expect(p.get_by_test_id("upload-form")).to_be_visible()
    ui.shot("data-upload-error")
