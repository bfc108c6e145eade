"""Registering an application in a real browser: the secret shown once, then a rotation."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e import test_browser_catalog as catalog_e2e
from tests.e2e.test_browser_catalog import Ui, expect

pytestmark = pytest.mark.browser
browser = catalog_e2e.browser  # one Chromium per module, like the other browser tests


def test_register_see_the_secret_once_and_rotate(browser, live_server, artifacts_dir):
    ui = Ui(browser, live_server, artifacts_dir)
    try:
        p = ui.page
        ui.login("police_officer")
        ui.go("/exchange/applications")
        p.get_by_test_id("register-application").click()
        p.click("form[data-testid=application-form] button[type=submit]")  # empty: every problem at once
        expect(p.locator('[data-error-for="name"]')).to_be_visible()
        expect(p.locator('[data-error-for="channel"]')).to_be_visible()
        name = f"窗口受理系统-{uuid.uuid4().hex[:6]}"
        p.fill("#name", name)
        p.select_option("#channel", "hall")
        p.fill("#contact_name", "张三")
        p.fill("#contact_phone", "0755-88886666")
        p.click("form[data-testid=application-form] button[type=submit]")
        secret = p.get_by_test_id("client-secret").inner_text()
        assert secret.startswith("gss_")
        ui.shot("application-secret")
        p.get_by_test_id("secret-stored").click()
        expect(p.get_by_test_id("credential-events")).to_contain_text("签发首个密钥")
        assert secret not in p.content()  # never again
        p.fill("#grace", "30")
        p.click("form[data-testid=rotate-form] button[type=submit]")
        rotated = p.get_by_test_id("client-secret").inner_text()
        assert rotated.startswith("gss_") and rotated != secret
        expect(p.get_by_test_id("old-until")).to_be_visible()
        p.get_by_test_id("secret-stored").click()
        expect(p.get_by_test_id("credential-events")).to_contain_text("更换密钥")
        ui.shot("application-detail")
        ui.go("/exchange/applications")
        expect(p.get_by_test_id("applications")).to_contain_text(name)
    finally:
        ui.context.close()
