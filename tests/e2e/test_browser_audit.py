"""The audit pages in a real browser: a profile read shows up in the citizen's access log that a hall
clerk opens (and in a signed link the citizen opens without an account), in the auditors' search, and
the chain verifies.

Runs on the shared live server's demo city with a fresh random resident ID, so reruns find only their
own reads."""

from __future__ import annotations

import pytest

from tests.e2e import test_browser_catalog as catalog_e2e
from tests.e2e.test_browser_catalog import Ui, expect
from tests.e2e.test_browser_data import POPULATION, resident_ids, upload
from tests.e2e.test_browser_data_profiles import person_csv

pytestmark = pytest.mark.browser
browser = catalog_e2e.browser


def test_a_profile_read_is_seen_by_the_citizen_the_auditor_and_the_chain(browser, live_server, artifacts_dir):
    officer = Ui(browser, live_server, artifacts_dir)
    clerk = Ui(browser, live_server, artifacts_dir)
    citizen = Ui(browser, live_server, artifacts_dir)
    auditor = Ui(browser, live_server, artifacts_dir)
    try:
        resident_id = resident_ids(1)[0]
        officer.login("police_officer")
        officer.go(f"/data/resources/{POPULATION}/upload")
        upload(officer, "人口.csv", person_csv(resident_id, "赵六"))
        expect(officer.page.locator('[data-count="inserted"]')).to_have_text("1")
        officer.go(f"/data/profiles?type=person_id&key={resident_id}")
        expect(officer.page.get_by_test_id("profile-key")).to_have_text(resident_id)

        c = clerk.page
        clerk.login("hall_clerk")
        c.get_by_test_id("nav-audit").click()
        expect(c.get_by_test_id("my-data-form")).to_be_visible()
        c.fill("#key", resident_id)
        c.get_by_test_id("my-data-submit").click()  # the identity card not yet checked
        expect(c.locator('[data-error-for="identity_checked"]')).to_be_visible()
        c.fill("#key", resident_id)
        c.check('[data-testid="identity-checked"]')
        c.check('[data-testid="issue-link"]')
        c.get_by_test_id("my-data-submit").click()
        reads = c.get_by_test_id("citizen-reads")
        expect(reads.locator("tbody tr")).to_have_count(1)
        expect(reads).to_contain_text("主体画像")
        expect(reads).to_contain_text("公安局")
        expect(reads).to_contain_text("姓名")
        clerk.shot("audit-citizen-log")
        link = c.get_by_test_id("subject-link").locator("code").inner_text()
        assert resident_id not in link

        citizen.page.goto(link)  # no account
        expect(citizen.page.get_by_test_id("citizen-reads").locator("tbody tr")).to_have_count(1)
        citizen.shot("audit-subject-link")

        a = auditor.page
        auditor.login("auditor")
        auditor.go("/audit?operation=citizen_log")
        expect(a.get_by_test_id("audit-events")).to_contain_text("南山区政务服务大厅窗口"[:2])
        auditor.go("/audit?operation=profile")
        expect(a.get_by_test_id("audit-events").locator("tbody tr").first).to_contain_text("police_officer")
        auditor.shot("audit-search")
        auditor.go("/audit/chain")
        a.get_by_test_id("verify-now").click()
        expect(a.get_by_test_id("flash-success")).to_contain_text("核验完成。完好")
        auditor.shot("audit-chain")
    finally:
        for ui in (officer, clerk, citizen, auditor):
            ui.close()
