"""A founder's first visit in a real Chromium on a phone-sized screen."""
from __future__ import annotations

import pytest

from tests.conftest import end_test_transaction

pytestmark = pytest.mark.browser


def test_founder_registers_in_chinese_switches_to_english_logs_out_and_in(live_server, page, output_dir):
    end_test_transaction()
    page.goto(live_server.url + "/")
    assert "中国南湖·青创城" in page.content()
    page.get_by_role("link", name="注册并报名").click()
    page.fill("#name", "周子涵")
    page.fill("#email", "zihan.browser@example.cn")
    page.fill("#mobile", "13812345678")
    page.fill("#password", "Startup2026")
    page.fill("#confirm", "Startup2026")
    page.get_by_role("button", name="注册").click()
    page.wait_for_url("**/founder")
    assert "欢迎你，周子涵" in page.content()
    page.screenshot(path=str(output_dir / "founder-registered-zh.png"), full_page=True)

    page.click(".navbar-toggler")
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/founder")
    assert "Hello, 周子涵" in page.content()

    page.click(".navbar-toggler")
    page.click("#logout-button")
    page.wait_for_url("**/login")
    assert "You have logged out." in page.content()

    page.fill("#email", "zihan.browser@example.cn")
    page.fill("#password", "Startup2026")
    page.locator("#login-form").get_by_role("button", name="Log in").click()
    page.wait_for_url("**/founder")
    assert "Hello, 周子涵" in page.content()
    page.screenshot(path=str(output_dir / "founder-logged-in-en.png"), full_page=True)
