"""Two judges and two tabs of one judge submit at the same moment: no lost or duplicated score, and the
stale tab is told to reload."""
from __future__ import annotations

import threading

import pytest

from tests.conftest import csrf_from, login


@pytest.mark.postgres_only
def test_concurrent_submissions_lose_nothing_and_stale_tab_gets_conflict(app, db, world):
    from incubator.judging.models import Score

    comp = world.competition(judges_per_entry=2)
    rnd = comp.rounds[0]
    entry = world.entry(comp)
    judge_a, judge_b = world.judge(), world.judge()
    a_a = world.assign(rnd, judge_a, entry)
    a_b = world.assign(rnd, judge_b, entry)
    db.session.commit()
    c1, c2 = (c.id for c in rnd.criteria)

    tabs = []
    for judge, assignment, value in ((judge_a, a_a, "6"), (judge_a, a_a, "9"), (judge_b, a_b, "7")):
        c = app.test_client()
        login(c, judge)
        url = f"/judging/assignments/{assignment.id}"
        token = csrf_from(c, url)  # the page was opened at version 0 in every tab
        tabs.append((c, url, {"csrf_token": token, "version": "0", "action": "submit",
                              f"c{c1}": value, f"c{c2}": value}))

    barrier = threading.Barrier(len(tabs))
    results: list = [None] * len(tabs)

    def run(i):
        c, url, data = tabs[i]
        barrier.wait()
        r = c.post(url, data=data)
        results[i] = (r.status_code, r.get_data(as_text=True))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tabs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    statuses = [r[0] for r in results]
    assert statuses[2] == 302  # the other judge is unaffected
    assert sorted(statuses[:2]) == [302, 409]
    loser = results[0] if statuses[0] == 409 else results[1]
    assert "重新加载" in loser[1] or "reload" in loser[1].lower(), loser[1][loser[1].find("<main"):][:1500]
    db.session.expire_all()
    scores = {s.assignment_id: s for s in db.session.scalars(db.select(Score))}
    assert set(scores) == {a_a.id, a_b.id}  # no duplicate, nothing lost
    winner_value = 6.0 if statuses[0] == 302 else 9.0
    assert scores[a_a.id].values == {str(c1): winner_value, str(c2): winner_value}
    assert scores[a_a.id].version == 1 and scores[a_b.id].values[str(c1)] == 7.0
