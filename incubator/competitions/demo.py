"""Demo data: the 2026 青聚南湖·创赢未来 competition with its four tracks, three rounds and rubrics."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from ..extensions import db
from ..timeutils import local_to_utc, local_today
from . import services
from .models import Competition

NAME_ZH = "2026 青聚南湖·创赢未来 青年科创大赛"
TRACKS = [("生物技术", "Biotechnology"), ("人工智能", "Artificial intelligence"),
          ("高端装备制造", "High-end equipment manufacturing"), ("微电子", "Microelectronics")]
RUBRIC = [("技术创新性", "Technical innovation", 30, "核心技术的先进性、原创性与知识产权布局"),
          ("市场前景", "Market prospects", 25, "目标市场规模、需求真实性与竞争格局"),
          ("团队能力", "Team", 25, "团队专业背景、分工互补与执行力"),
          ("商业模式", "Business model", 20, "盈利模式清晰、可持续，并能在南湖高新区落地")]
# Scoring windows as days after today (Beijing time), so the demo is always usable.
ROUNDS = [("初赛", "Preliminary round", 3, True, "mean", "top_n_per_track", 15, 67, 80),
          ("复赛", "Semi-final", 5, False, "trimmed_mean", "top_n_per_track", 5, 95, 100),
          ("决赛", "Final roadshow", 7, False, "trimmed_mean", "top_percent_overall", 50, 120, 121)]


def _local(days_from_today: int, hour: int):
    day = local_today() + timedelta(days=days_from_today)
    return local_to_utc(datetime(day.year, day.month, day.day, hour))


def seed(actor=None) -> Competition:
    """Create the demo competition once and publish it, with its application window open now (from 30
    days ago 09:00 to 60 days ahead 17:00, Beijing time) so demo founders can apply; returns the
    existing one when it is already there."""
    existing = db.session.scalar(db.select(Competition).where(Competition.name_zh == NAME_ZH))
    if existing is not None:
        return existing
    comp = services.create_competition(
        actor, name_zh=NAME_ZH,
        name_en="2026 Nanhu Youth Startup Competition (Qing Ju Nan Hu · Chuang Ying Wei Lai)",
        description_zh=("中国南湖·青创城位于南湖高新区（嘉兴科技城）科创CBD，围绕生物技术、人工智能、高端装备制造等"
                        "产业方向集聚青年创业要素。大赛面向35周岁以下青年创业者及毕业5年内的高校毕业生，"
                        "优胜项目可获青创城入驻工位及产业基金对接。"),
        description_en=("China Nanhu Youth Startup City, in the science CBD of Nanhu High-tech Zone (Jiaxing Science "
                        "City), gathers young founders in biotechnology, AI, high-end equipment and microelectronics. "
                        "Open to founders aged 35 or under and graduates of the last five years; winners get desks "
                        "in the building and meetings with the park's industry funds."),
        opens_at=_local(-30, 9), closes_at=_local(60, 17),
        max_founder_age=35, graduated_within_years=5, seats_offered=40,
    )
    for zh, en in TRACKS:
        services.add_track(actor, comp, name_zh=zh, name_en=en)
    for zh, en, judges, blind, agg, kind, value, opens, closes in ROUNDS:
        rnd = services.add_round(actor, comp, name_zh=zh, name_en=en, judges_per_entry=judges, blind=blind,
                                 aggregation=agg, advancement_kind=kind, advancement_value=value,
                                 scoring_opens_at=_local(opens, 9), scoring_closes_at=_local(closes, 18))
        for c_zh, c_en, weight, desc in RUBRIC:
            services.add_criterion(actor, rnd, name_zh=c_zh, name_en=c_en, weight=Decimal(weight),
                                   max_score=Decimal(10), step=Decimal("0.5"), description_zh=desc)
    services.add_question(actor, comp, label_zh="项目是否已有专利或软件著作权？", label_en="Does the project hold patents or software copyrights?",
                          kind="yes_no", required=True)
    services.add_question(actor, comp, label_zh="是否愿意落户南湖高新区？", label_en="Would you register the company in Nanhu High-tech Zone?",
                          kind="choice", choices=["愿意", "视条件而定", "暂不考虑"], required=True)
    services.add_question(actor, comp, label_zh="项目信息来源", label_en="How did you hear about the competition?",
                          kind="text", required=False)
    db.session.refresh(comp)
    services.publish_competition(actor, comp)
    return comp
