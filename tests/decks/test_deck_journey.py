"""The issue's browser journey on Chromium: a founder registers, fills the application over two
visits, uploads a PDF deck straight to SeaweedFS with the progress bar reaching 100 %, submits; a
manager finds it, downloads the deck (original name) and exports the list to XLSX."""
from __future__ import annotations

import io
import urllib.parse

from tests.conftest import PASSWORD, click_and_follow, end_test_transaction

from .conftest import pdf_bytes

EMAIL = "zihan.deck@example.cn"
SECRET = "Startup2026"
PROJECT = "柔性电子皮肤传感器"

# Remembers the highest value the progress bar showed, across the redirect after the upload.
WATCH_PROGRESS = """
() => {
  const bar = document.getElementById('deck-progress');
  new MutationObserver(() => {
    const v = parseInt(bar.getAttribute('aria-valuenow') || '0', 10);
    if (v > parseInt(sessionStorage.getItem('maxProgress') || '0', 10)) sessionStorage.setItem('maxProgress', String(v));
  }).observe(bar, {attributes: true});
}
"""


def _log_in(page, base, email, password):
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("#login-form").get_by_role("button").click()
    # Wait for the navigation the click starts, not for the current page's load state: that is
    # already reached, and the next goto would cancel the login in flight (seen under load).
    page.wait_for_url(lambda url: "/login" not in url)


def _log_out(page):
    page.click(".navbar-toggler")
    page.click("#logout-button")
    page.wait_for_url("**/login")  # (as _log_in: a goto before the POST lands would cancel it)


def test_founder_uploads_deck_and_manager_downloads_and_exports(app, db, live_server, page, output_dir, make_user):
    import openpyxl

    from incubator.enums import Role
    from incubator.storage.commands import init_bucket
    from tests.applications.helpers import open_competition

    comp = open_competition(db, questions=False)
    manager = make_user(Role.MANAGER, email="manager.deck@example.cn")
    init_bucket()  # the CORS rule for this live server's origin, as `flask storage init` sets it
    comp_id, manager_email = comp.id, manager.email
    end_test_transaction()  # and no ORM access below: on SQLite it would hold the write lock
    base = live_server.url

    # Visit 1: register, start the application, save the project step as a draft.
    page.goto(base + "/register")
    page.fill("#name", "周子涵")
    page.fill("#email", EMAIL)
    page.fill("#mobile", "13812345678")
    page.fill("#password", SECRET)
    page.fill("#confirm", SECRET)
    click_and_follow(page, page.locator("form").get_by_role("button", name="注册"))
    page.goto(base + "/apply")
    page.click(f"a[href='/apply/{comp_id}/new']")
    page.fill("#project_name", PROJECT)
    page.select_option("#track_id", index=1)
    page.fill("#one_line_pitch", "为康复医疗提供可穿戴触觉传感")
    page.fill("#description", "基于柔性电子技术的高灵敏度压力传感阵列。")
    page.select_option("#stage", "prototype")
    click_and_follow(page, "#save-draft")
    app_path = urllib.parse.urlsplit(page.url).path.rsplit("/", 1)[0]  # /applications/<id>
    _log_out(page)

    # Visit 2: log in again; the draft is there; finish the steps.
    _log_in(page, base, EMAIL, SECRET)
    page.goto(base + app_path + "/project")
    assert page.input_value("#project_name") == PROJECT
    page.goto(base + app_path + "/team")
    page.fill("#team_name", "南湖柔电")
    page.fill("#members-0-school_or_employer", "浙江清华长三角研究院")
    page.fill("#members-0-birth_year", "2000")
    page.fill("#members-0-contact", "13857300021")
    page.click("#next-step")
    page.wait_for_url("**/company")
    page.fill("#funding_sought", "200")
    page.fill("#desks_wanted", "4")
    page.click("#next-step")
    page.wait_for_url("**/questions")
    page.click("#next-step")
    page.wait_for_url("**/deck")

    # The deck: straight to SeaweedFS with a progress bar, then confirmed by the platform.
    page.evaluate(WATCH_PROGRESS)
    page.set_input_files("#deck-file", files=[{"name": "商业计划书.pdf", "mimeType": "application/pdf",
                                               "buffer": pdf_bytes(3 * 1024 * 1024)}])
    page.click("#deck-upload")
    page.wait_for_selector("#deck-versions >> text=商业计划书.pdf")
    assert page.evaluate("sessionStorage.getItem('maxProgress')") == "100"
    page.screenshot(path=str(output_dir / "deck-uploaded.png"), full_page=True)
    page.click("#deck-next")
    page.click("#submit-button")
    page.wait_for_selector("#application-status >> text=已提交")
    _log_out(page)

    # The manager finds it, downloads the deck and exports the list.
    _log_in(page, base, manager_email, PASSWORD)
    page.goto(base + f"/manage/applications?competition_id={comp_id}")
    page.get_by_role("link", name=PROJECT).click()
    link = page.locator("#manage-decks a.deck-download").first
    assert link.inner_text() == "商业计划书.pdf"
    page.screenshot(path=str(output_dir / "deck-manager-detail.png"), full_page=True)
    download = page.request.get(base + link.get_attribute("href"))
    assert download.status == 200 and download.body()[:5] == b"%PDF-"
    assert "商业计划书.pdf" in urllib.parse.unquote(download.headers["content-disposition"])

    page.goto(base + f"/manage/applications?competition_id={comp_id}")
    xlsx = page.request.get(base + page.get_attribute("#export-xlsx", "href"))
    assert xlsx.status == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.body()), read_only=True).active
    rows = [[str(c) for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert any(PROJECT in row for row in rows[1:])
