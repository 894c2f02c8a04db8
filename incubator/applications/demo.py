"""Demo applications from the demo founders (run after accounts and competitions demo seeds)."""
from __future__ import annotations

from ..accounts.services import find_user_by_email
from ..competitions.models import Competition
from ..extensions import db
from . import services

DEMO = [
    # email, track, project, pitch, stage, team, members, submit?
    ("founder.zhou@qcc.demo", "微电子", "柔性电子皮肤传感器", "为康复医疗提供高灵敏度的可穿戴触觉传感阵列", "prototype", "南湖柔电",
     [("周子涵", "CEO", "浙江清华长三角研究院", 2000, 2023), ("陈一帆", "CTO", "嘉兴学院", 2001, 2024)], True),
    ("founder.xu@qcc.demo", "人工智能", "工业质检视觉大模型", "让中小制造企业用上低成本的 AI 缺陷检测", "revenue", "智检未来",
     [("徐一鸣", "创始人", "浙江大学", 1998, 2021)], True),
    ("founder.he@qcc.demo", "生物技术", "快速病原体检测试剂盒", "15 分钟完成常见呼吸道病原体检测", "idea", "",
     [("何佳怡", "负责人", "嘉兴大学", 2002, 2025)], False),
]


def seed(competition: Competition | None = None) -> int:
    """Create the demo applications once (a draft and two submitted); returns how many were created."""
    comp = competition or db.session.scalar(db.select(Competition).where(Competition.status == "published"))
    if comp is None:
        return 0
    created = 0
    tracks = {t.name_zh: t.id for t in comp.tracks}
    for email, track, project, pitch, stage, team_name, members, submit in DEMO:
        user = find_user_by_email(email)
        if user is None or services.application_of(user, comp.id) is not None:
            continue
        app = services.start_application(user, comp)
        services.save_fields(user, app, "project", {
            "project_name": project, "one_line_pitch": pitch, "stage": stage, "track_id": tracks.get(track),
            "description": f"{project}：{pitch}。团队来自长三角高校与研究院，计划落户中国南湖·青创城。"})
        rows = [{"name": n, "role_in_team": r, "school_or_employer": s, "birth_year": b, "graduation_year": g,
                 "contact": user.mobile or email} for n, r, s, b, g in members]
        services.save_team(user, app, team_name, rows)
        services.save_fields(user, app, "company", {"desks_wanted": 2 + created, "funding_sought": 100 * (created + 1)})
        answers = {}
        for q in comp.questions:
            answers[q.id] = "yes" if q.kind == "yes_no" else (q.choices[0] if q.choices else "朋友推荐")
        services.save_answers(user, app, answers)
        db.session.refresh(app)
        if submit and not services.submission_blockers(app):
            services.submit(user, app)
        created += 1
    return created
