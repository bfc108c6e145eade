"""The catalog pages in a real browser: headless Debian Chromium driven by Playwright.

Each test signs in as a demo user of the shared live server and creates its own resources (unique
names), so the demo entries stay as they are for every other test. Screenshots of every page go to
``test-artifacts/`` (``<backend>-<page>.png``) as evidence of what users see.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "govshare-demo"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/ensure-test-env installs it)")
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Ui:
    """One signed-in (or anonymous) browser tab on the live server, with screenshot naming."""

    def __init__(self, browser, live_server, artifacts_dir: str, javascript: bool = True) -> None:
        self.base = live_server.url
        self.prefix = os.path.join(artifacts_dir, live_server.backend + "-")
        self.context = browser.new_context(
            viewport={"width": 1366, "height": 900}, locale="zh-CN", java_script_enabled=javascript
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=f"{self.prefix}{name}.png", full_page=True)

    def login(self, username: str) -> None:
        self.go("/login")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click(".login-card button[type=submit]")
        expect(self.page.get_by_test_id("current-user")).to_be_visible()

    def fill_resource(self, name: str, withheld_item: str | None = None) -> None:
        """Fill the registration form: a department resource (class 3) with two or three items."""
        p = self.page
        p.fill("#f-classification_code", "301")
        p.fill("#f-name", name)
        p.fill("#f-summary", "浏览器测试登记的部门信息资源，用于验证登记、提交和审核流程。")
        p.fill("#item-1-name", "事项编号")
        p.check("#item-1-is_key")
        p.fill("#item-2-name", "申请人姓名")
        p.select_option("#item-2-masking_rule", "name")
        if withheld_item:
            p.fill("#item-3-name", withheld_item)
            p.uncheck("#item-3-shareable")
            p.fill("#item-3-legal_basis", "《中华人民共和国个人信息保护法》第二十八条")

    def register(self, name: str, withheld_item: str | None = None) -> str:
        self.go("/catalog/new")
        self.fill_resource(name, withheld_item)
        self.page.get_by_test_id("save").click()
        expect(self.page.get_by_test_id("resource-name")).to_have_text(name)
        return self.page.get_by_test_id("resource-code").inner_text()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def ui(browser, live_server, artifacts_dir) -> Iterator[Ui]:
    tab = Ui(browser, live_server, artifacts_dir)
    yield tab
    tab.close()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def test_officer_searches_opens_registers_and_submits(ui):
    p = ui.page
    ui.go("/login")
    ui.shot("login")
    ui.login("police_officer")

    p.fill("#q", "人口")
    p.get_by_role("button", name="搜索", exact=True).click()
    result = p.locator(".result h2 a", has_text="人口基础信息")
    expect(result).to_be_visible()
    ui.shot("search")

    result.click()
    expect(p.get_by_test_id("resource-name")).to_have_text("人口基础信息")
    expect(p.get_by_test_id("items-table")).to_contain_text("公民身份号码")
    ui.shot("detail")

    p.get_by_role("link", name="登记资源").first.click()
    name = unique("浏览器登记测试资源")
    ui.fill_resource("超长名称" * 13)  # 52 characters: the counter warns, the server refuses
    expect(p.locator(".counter.over")).to_be_visible()
    p.get_by_test_id("save").click()
    expect(p.locator('[data-error-for="name"]')).to_contain_text("不能超过 50 个字符")
    expect(p.locator("#f-summary")).to_have_value(
        "浏览器测试登记的部门信息资源，用于验证登记、提交和审核流程。"
    )
    ui.shot("form-inline-error")

    p.fill("#f-name", name)
    p.get_by_test_id("save").click()
    expect(p.get_by_test_id("resource-name")).to_have_text(name)
    expect(p.get_by_test_id("status").first).to_have_text("草稿")
    ui.shot("registered-draft")

    p.get_by_role("button", name="提交审核").click()
    expect(p.get_by_test_id("flash-success")).to_contain_text("已提交")
    expect(p.get_by_test_id("status").first).to_have_text("待审核")
    ui.shot("submitted")


def test_authority_reviews_declarations_and_publishes(browser, live_server, artifacts_dir):
    officer = Ui(browser, live_server, artifacts_dir)
    officer.login("police_officer")
    kept, rejected = unique("负面清单同意测试"), unique("负面清单驳回测试")
    for name in (kept, rejected):
        officer.register(name, withheld_item="宗教信仰")
        officer.page.get_by_role("button", name="提交审核").click()
        expect(officer.page.get_by_test_id("flash-success")).to_be_visible()
    officer.close()

    admin = Ui(browser, live_server, artifacts_dir)
    p = admin.page
    admin.login("admin")
    p.get_by_role("link", name="审核队列").click()
    entry = p.locator(f'[data-testid="review-entry"][data-resource="{kept}"]')
    expect(entry).to_contain_text("宗教信仰")
    expect(entry).to_contain_text("个人信息保护法")
    admin.shot("review-queue")

    entry.get_by_role("button", name="同意（列入负面清单）").click()
    expect(p.get_by_test_id("flash-success")).to_contain_text("已同意")
    other = p.locator(f'[data-testid="review-entry"][data-resource="{rejected}"]')
    other.get_by_role("textbox").fill("宗教信仰不属于本事项办理所需，但可经脱敏后共享")
    other.get_by_role("button", name="驳回").click()
    expect(p.get_by_test_id("flash-success")).to_contain_text("已驳回")
    expect(p.locator(f'[data-testid="review-entry"][data-resource="{kept}"]')).to_have_count(0)
    admin.shot("review-decided")

    p.locator('[data-testid="submitted-row"]', has_text=kept).get_by_role("button", name="审核发布").click()
    expect(p.get_by_test_id("flash-success")).to_contain_text("已发布")
    p.locator('[data-testid="submitted-row"]', has_text=rejected).get_by_role(
        "button", name="审核发布"
    ).click()
    expect(p.get_by_test_id("flash-error")).to_contain_text("已被驳回")
    admin.shot("publish-blocked")

    admin.go("/catalog/negative-list")
    expect(p.get_by_test_id("negative-list")).to_contain_text(kept)
    admin.shot("negative-list")
    p.get_by_role("link", name=kept).click()
    expect(p.get_by_test_id("status").first).to_have_text("已发布")
    p.get_by_role("button", name="版本比较").click()
    expect(p.get_by_test_id("diff-table")).to_contain_text("状态")
    admin.shot("version-diff")
    admin.close()


def test_language_switch_to_english_and_back(ui):
    p = ui.page
    ui.go("/catalog")
    p.get_by_role("link", name="English").click()
    expect(p.locator("h1")).to_have_text("Resource catalog")
    expect(p.locator(".main-nav")).to_contain_text("Negative list")
    ui.shot("search-english")
    p.locator(".result h2 a", has_text="人口基础信息").click()
    expect(p.locator("#sharing")).to_contain_text("Unconditional")
    ui.shot("detail-english")
    ui.go("/catalog/resources/101/999999")
    expect(p.get_by_test_id("error-page")).to_contain_text("Not found")
    ui.shot("error-english")
    p.get_by_role("link", name="中文").click()
    expect(p.get_by_test_id("error-page")).to_contain_text("未找到")


def test_registration_form_works_without_javascript(browser, live_server, artifacts_dir):
    tab = Ui(browser, live_server, artifacts_dir, javascript=False)
    p = tab.page
    tab.login("police_officer")
    tab.go("/catalog/new")
    expect(p.locator('input[name^="items-"][name$="-name"]')).to_have_count(8)
    tab.fill_resource(unique("无脚本登记测试"))
    p.get_by_role("button", name="增加空行").click()
    expect(p.locator('input[name^="items-"][name$="-name"]')).to_have_count(7)  # 2 filled + 5 new
    expect(p.locator("#item-2-name")).to_have_value("申请人姓名")
    tab.shot("form-no-javascript")
    p.get_by_test_id("save").click()
    expect(p.get_by_test_id("items-table")).to_contain_text("申请人姓名")
    tab.close()
