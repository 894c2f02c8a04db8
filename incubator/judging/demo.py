"""Demo judging data: profiles of the demo judges, the preliminary round assigned automatically and
partly scored. Call after incubator.demo.seed() (users) and incubator.competitions.demo.seed() (the
2026 competition). When the competition has no submitted application yet (the applications demo may
add its own), three demo entries of the demo founders are created first, so the judging pages have
something to show. Idempotent: a second call changes nothing."""
from __future__ import annotations

import random

from ..accounts.services import find_user_by_email
from ..competitions.models import Competition
from ..extensions import db
from ..timeutils import utcnow
from . import services
from .models import Assignment, Score

DEMO_ENTRIES = [
    # founder email, track, project, one-line pitch, school or employer
    ("founder.zhou@qcc.demo", "人工智能", "南湖智巡：变电站巡检机器人", "用视觉大模型替代人工巡检，降低七成巡检成本", "浙江大学"),
    ("founder.xu@qcc.demo", "生物技术", "禾康生物：快速病原体检测试剂", "15 分钟完成多种病原体现场检测", "嘉兴学院"),
    ("founder.he@qcc.demo", "微电子", "芯凉科技：芯片级相变散热材料", "让高功率芯片降温 12℃ 的国产散热材料", "上海交通大学"),
]

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
    _demo_entries(comp, tracks)
    assigned = scored = 0
    if services.round_entries(rnd) and not services.active_assignments(rnd):
        # Four demo judges, some of them conflicted with demo teams (same university): ask for as
        # many judges per entry as the demo can meet (the demo round is changed, nothing else).
        preview = services.preview_auto_assign(rnd)
        while not preview.feasible and rnd.judges_per_entry > 1:
            rnd.judges_per_entry -= 1
            preview = services.preview_auto_assign(rnd)
        if preview.feasible:
            _batch, assigned = services.apply_auto_assign(actor, rnd)
            rng = random.Random(2026)
            # Scores only once the round's scoring window has opened (the demo competition's dates
            # follow today's date, so early on there is nothing to score yet).
            started = rnd.scoring_opens_at is not None and rnd.scoring_opens_at <= utcnow()
            for a in db.session.scalars(db.select(Assignment).where(Assignment.round_id == rnd.id)):
                if started and rng.random() < 0.6:
                    values = {str(c.id): float(round(rng.uniform(5, 10) * 2) / 2) for c in rnd.criteria}
                    total = services.ranking_algo.weighted_total(services.rubric_of(rnd), values)
                    db.session.add(Score(assignment_id=a.id, values=values, total=total, status="submitted",
                                         submitted_at=utcnow(), feedback_to_team="技术路线清晰，建议补充市场验证数据。"))
                    scored += 1
    db.session.flush()
    return {"profiles": profiles, "assignments": assigned, "scores": scored}


def _demo_entries(comp, tracks) -> int:
    from ..applications.models import Application, Team, TeamMember
    from ..timeutils import utcnow

    if db.session.scalar(db.select(db.func.count(Application.id)).where(Application.competition_id == comp.id,
                                                                          Application.submitted_at.is_not(None))):
        return 0
    made = 0
    for email, track, project, pitch, school in DEMO_ENTRIES:
        founder = find_user_by_email(email)
        if founder is None or track not in tracks:
            continue
        team = Team(name=project.split("：")[0], created_by_id=founder.id)
        team.members.append(TeamMember(is_lead=True, name=founder.name, school_or_employer=school, user_id=founder.id,
                                       role_in_team="负责人", birth_year=2000))
        db.session.add(team)
        db.session.add(Application(competition=comp, team=team, track=tracks[track], project_name=project,
                                   one_line_pitch=pitch, description=pitch, stage="prototype", status="submitted",
                                   submitted_at=utcnow(), version=1, last_step="review"))
        made += 1
    db.session.flush()
    return made
