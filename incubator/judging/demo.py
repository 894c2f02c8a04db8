"""Demo judging data: profiles of the demo judges, the preliminary round assigned automatically and
partly scored. Call after incubator.demo.seed() and incubator.competitions.demo.seed() and after the
demo applications exist; does nothing when the demo competition or its entries are missing."""
from __future__ import annotations

import random

from ..accounts.services import find_user_by_email
from ..competitions.models import Competition
from ..extensions import db
from . import services
from .models import Assignment, Score

JUDGE_PROFILES = {
    "judge.wang@qcc.demo": ("浙江大学", ["生物技术", "人工智能"]),
    "judge.li@qcc.demo": ("嘉兴学院", ["人工智能", "微电子"]),
    "judge.zhao@qcc.demo": ("南湖高新区产业基金", ["高端装备制造", "微电子"]),
    "judge.chen@qcc.demo": ("浙江清华长三角研究院", ["生物技术", "高端装备制造"]),
}


def seed(actor=None) -> dict:
    from ..competitions.demo import NAME_ZH

    comp = db.session.scalar(db.select(Competition).where(Competition.name_zh == NAME_ZH))
    if comp is None or not comp.rounds:
        return {"profiles": 0, "assignments": 0, "scores": 0}
    tracks = {t.name_zh: t for t in comp.tracks}
    profiles = 0
    for email, (org, names) in JUDGE_PROFILES.items():
        judge = find_user_by_email(email)
        if judge is not None and services.profile_of(judge) is None:
            services.save_profile(judge, org, [tracks[n] for n in names if n in tracks])
            profiles += 1
    rnd = comp.rounds[0]
    assigned = scored = 0
    if services.round_entries(rnd) and not services.active_assignments(rnd):
        # Four demo judges: ask for as many per entry as can be met.
        rnd.judges_per_entry = min(rnd.judges_per_entry, max(1, len(services.all_judges())))
        preview = services.preview_auto_assign(rnd)
        if preview.feasible:
            _batch, assigned = services.apply_auto_assign(actor, rnd)
            rng = random.Random(2026)
            for a in db.session.scalars(db.select(Assignment).where(Assignment.round_id == rnd.id)):
                if rng.random() < 0.6:
                    values = {str(c.id): float(round(rng.uniform(5, 10) * 2) / 2) for c in rnd.criteria}
                    total = services.ranking_algo.weighted_total(services.rubric_of(rnd), values)
                    db.session.add(Score(assignment_id=a.id, values=values, total=total, status="submitted",
                                         submitted_at=rnd.scoring_opens_at, feedback_to_team="技术路线清晰，建议补充市场验证数据。"))
                    scored += 1
    db.session.flush()
    return {"profiles": profiles, "assignments": assigned, "scores": scored}
