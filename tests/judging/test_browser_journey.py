"""The judging journey in Chromium: the manager auto-assigns, a judge scores on a 375x812 phone, the
big-screen leaderboard updates without a reload, the manager advances and publishes, the founder
sees the result."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, click_and_follow, end_test_transaction

pytestmark = pytest.mark.browser


def _login(page, base, email):
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    click_and_follow(page, page.locator("#login-form").locator("button[type=submit]"))


def test_manager_assigns_judge_scores_on_phone_leaderboard_updates_founder_sees_result(
        app, db, world, make_user, live_server, browser, output_dir):
    comp = world.competition(judges_per_entry=1, advancement=("top_n_per_track", 1), tracks=("人工智能",))
    rnd = comp.rounds[0]
    e1 = world.entry(comp, project="智能巡检机器人")
    e2 = world.entry(comp, project="芯片散热材料")
    judge = world.judge(tracks=[comp.tracks[0]])
    manager = make_user("manager", email="boss@example.cn")
    # Plain values only from here on: on SQLite a lazy load would open a write transaction in the
    # test thread and lock out the live server.
    rnd_id, crit_ids = rnd.id, [c.id for c in rnd.criteria]
    entries = [(e1.id, e1.project_name), (e2.id, e2.project_name)]
    judge_name, judge_email = judge.name, judge.email
    manager_email, founder_email = manager.email, e1.team.created_by.email
    end_test_transaction()
    db.session.close()
    base = live_server.url

    desk = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    mpage = desk.new_page()
    mpage.set_default_timeout(15000)
    _login(mpage, base, manager_email)
    mpage.goto(f"{base}/manage/judging/rounds/{rnd_id}/auto")
    mpage.click("#apply-auto")
    mpage.wait_for_url(f"**/manage/judging/rounds/{rnd_id}/assignments")
    assert mpage.locator(f"#entry-{entries[0][0]}").inner_text().count(judge_name) == 1

    board = desk.new_page()
    board.set_default_timeout(15000)
    # The big screen runs on a clock the test moves: "within 2 seconds of each submitted score" is
    # then shown on the page's own time, whatever the load on this machine.
    board.clock.install()
    board.goto(f"{base}/manage/judging/rounds/{rnd_id}/leaderboard")
    board.select_option("#reveal", "scores")
    click_and_follow(board, board.locator(".judging-reveal button"))
    # Installed, the fake clock still runs at the wall's pace: paused, it moves only when the test
    # moves it, and no poll can come early.
    board.clock.pause_at(board.evaluate("Date.now()") + 10)
    board.evaluate("window.__noReload = 'still here'")
    assert board.locator("#lb-rows li").count() == 0

    phone = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 812}, is_mobile=True,
                                has_touch=True)
    jpage = phone.new_page()
    jpage.set_default_timeout(15000)
    _login(jpage, base, judge_email)
    jpage.goto(base + "/judging/")
    assert "0 / 2" in jpage.content() or "2 个中已提交 0 个" in jpage.content() or "0 of 2" in jpage.content()
    for (entry_id, project), values in zip(entries, (("9", "8"), ("6", "5"))):
        first = entry_id == entries[0][0]
        jpage.goto(base + "/judging/")
        jpage.get_by_text(project).click()
        for crit_id, value in zip(crit_ids, values):
            jpage.fill(f"#c{crit_id}", value)
        jpage.fill("#feedback_to_team", "路演清晰，建议补充量产计划。" if first else "")
        assert jpage.evaluate("document.documentElement.scrollWidth") <= 375
        box = jpage.locator("#submit-score").bounding_box()
        assert box["height"] >= 44 and box["width"] >= 300  # thumb-sized, full width
        if first:
            jpage.screenshot(path=str(output_dir / "judging-score-phone-375.png"), full_page=True)
        click_and_follow(jpage, "#submit-score")
        assert jpage.locator("#submit-score").count() == 0  # locked after submission
        # The big screen shows the new score without reloading, from the first poll after it: one
        # second of the page's clock (its poll interval) and the one request that poll makes.
        assert board.locator("#lb-rows li", has_text=project).count() == 0
        board.clock.run_for(1000)
        board.locator("#lb-rows li", has_text=project).wait_for()
    assert board.evaluate("window.__noReload") == "still here"
    assert board.locator("#lb-rows li").first.inner_text().startswith("1")
    assert "86.00" in board.locator("#lb-rows").inner_text()
    board.screenshot(path=str(output_dir / "judging-leaderboard.png"), full_page=True)
    # The hall's screen opens the link from the manager's page, logged in as nobody.
    screen_link = board.locator("#screen-url").input_value()
    hall = browser.new_context(locale="zh-CN", viewport={"width": 1920, "height": 1080}).new_page()
    hall.goto(screen_link)
    assert "86.00" in hall.locator("#lb-rows").inner_text() and hall.locator("#manager-menu").count() == 0
    hall.screenshot(path=str(output_dir / "judging-hall-screen.png"))
    # The link went further than the hall: the manager withdraws it (after confirming), and the
    # screen holding it empties and says so at its next poll.
    mpage.goto(f"{base}/manage/judging/rounds/{rnd_id}/leaderboard")
    mpage.once("dialog", lambda dialog: dialog.accept())
    click_and_follow(mpage, "#revoke-screen-links")
    assert mpage.locator("#screen-url").input_value() != screen_link
    hall.locator("#lb-withdrawn").wait_for(state="visible")
    assert hall.locator("#lb-rows li").count() == 0 and hall.locator("#lb-offline").is_hidden()
    hall.context.close()

    mpage.goto(f"{base}/manage/judging/rounds/{rnd_id}/advancement")
    assert mpage.locator(f"#adv-{entries[0][0]}").is_checked() and not mpage.locator(f"#adv-{entries[1][0]}").is_checked()
    click_and_follow(mpage, "#confirm-advancement")
    mpage.goto(f"{base}/manage/judging/rounds/{rnd_id}")
    click_and_follow(mpage, "#publish-results")
    assert mpage.locator("#published").count() == 1

    fctx = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 812})
    fpage = fctx.new_page()
    fpage.set_default_timeout(15000)
    _login(fpage, base, founder_email)
    fpage.goto(f"{base}/results/{entries[0][0]}")
    assert fpage.locator("#decision").count() == 1
    assert "路演清晰" in fpage.content()
    fpage.screenshot(path=str(output_dir / "judging-founder-result.png"), full_page=True)
    for ctx in (desk, phone, fctx):
        ctx.close()
