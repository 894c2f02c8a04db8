from __future__ import annotations

from datetime import timedelta

from incubator.competitions import services as comp_services
from incubator.timeutils import utcnow


def open_competition(db, *, days_open: int = 10, questions: bool = True):
    """A published competition whose window is open now, with two tracks and one required question."""
    comp = comp_services.create_competition(
        None, name_zh="青聚南湖·创赢未来", name_en="Youth competition",
        opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=days_open),
        max_founder_age=35, graduated_within_years=5)
    comp_services.add_track(None, comp, name_zh="人工智能", name_en="AI")
    comp_services.add_track(None, comp, name_zh="微电子", name_en="Microelectronics")
    if questions:
        comp_services.add_question(None, comp, label_zh="是否愿意落户南湖？", kind="yes_no", required=True)
    comp_services.publish_competition(None, comp)
    db.session.commit()
    return comp


PROJECT = {"project_name": "柔性电子皮肤传感器", "one_line_pitch": "为康复医疗提供可穿戴触觉传感",
           "description": "基于柔性电子技术的高灵敏度压力传感阵列。", "stage": "prototype"}
TEAM = {"team_name": "南湖柔电", "members-0-name": "周子涵", "members-0-role_in_team": "CEO",
        "members-0-school_or_employer": "浙江清华长三角研究院", "members-0-birth_year": "2000",
        "members-0-graduation_year": "2023", "members-0-contact": "13857300021",
        "members-1-name": "徐一鸣", "members-1-role_in_team": "CTO", "members-1-school_or_employer": "嘉兴学院",
        "members-1-birth_year": "2001", "members-1-contact": "xu@example.cn"}
COMPANY = {"company_name": "", "credit_code": "", "funding_sought": "200", "desks_wanted": "4"}


def fill_everything(client, post_form, app_id: int, question_id: int | None):
    base = f"/applications/{app_id}"
    assert post_form(client, f"{base}/team", TEAM).status_code == 302
    assert post_form(client, f"{base}/company", COMPANY).status_code == 302
    if question_id is not None:
        assert post_form(client, f"{base}/questions", {f"q_{question_id}": "yes"}).status_code == 302
