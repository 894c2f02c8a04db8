"""Factories for judging tests: a competition with tracks, a round with a rubric, submitted entries
with teams, judges with profiles."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest


class World:
    def __init__(self, db, make_user):
        self.db = db
        self.make_user = make_user
        self.n = 0

    def competition(self, *, tracks=("人工智能", "生物技术"), rounds=1, judges_per_entry=2, blind=False,
                    aggregation="mean", open_=True, advancement=("top_n_per_track", 1), criteria=None):
        from incubator.competitions.models import Competition, Criterion, Round, Track
        from incubator.timeutils import utcnow

        now = utcnow()
        comp = Competition(name_zh="测试大赛", name_en="Test competition", status="published",
                           opens_at=now - timedelta(days=30), closes_at=now - timedelta(days=1))
        self.db.session.add(comp)
        for i, name in enumerate(tracks):
            comp.tracks.append(Track(name_zh=name, name_en=name, position=i))
        for i in range(rounds):
            opens = now - timedelta(days=1) if open_ else now + timedelta(days=5)
            rnd = Round(name_zh=["初赛", "复赛", "决赛"][i] if rounds > 1 else "初赛", name_en=f"Round {i + 1}",
                        position=i, judges_per_entry=judges_per_entry, blind=blind if i == 0 else False,
                        aggregation=aggregation, advancement_kind=advancement[0], advancement_value=advancement[1],
                        scoring_opens_at=opens, scoring_closes_at=opens + timedelta(days=7))
            for j, (name, weight, mx, step) in enumerate(criteria or [("创新", 60, 10, "0.5"), ("市场", 40, 10, "1")]):
                rnd.criteria.append(Criterion(name_zh=name, name_en=name, weight=Decimal(weight), max_score=Decimal(mx),
                                              step=Decimal(step), position=j, description_zh=f"{name}的说明"))
            comp.rounds.append(rnd)
        self.db.session.flush()
        return comp

    def entry(self, comp, track_index=0, *, founder=None, school="某某大学", company="", project=None, team=None):
        from incubator.applications.models import Application, Team, TeamMember
        from incubator.timeutils import utcnow

        self.n += 1
        founder = founder or self.make_user("founder", email=f"founder{self.n}@example.cn")
        t = Team(name=team or f"团队{self.n}", created_by_id=founder.id)
        t.members.append(TeamMember(is_lead=True, name=f"队长{self.n}", school_or_employer=school, user_id=founder.id))
        self.db.session.add(t)
        app = Application(competition=comp, team=t, track=comp.tracks[track_index], project_name=project or f"项目{self.n}",
                          one_line_pitch="一句话介绍", description="项目描述", company_name=company,
                          status="submitted", submitted_at=utcnow(), version=1)
        self.db.session.add(app)
        self.db.session.flush()
        return app

    def judge(self, organization="", tracks=(), email=None):
        from incubator.judging import services

        self.n += 1
        user = self.make_user("judge", email=email or f"judge{self.n}@example.cn", name=f"评委{self.n}")
        services.save_profile(user, organization, list(tracks))
        self.db.session.commit()
        return user

    def assign(self, rnd, judge, app, source="manual"):
        from incubator.judging.models import Assignment

        a = Assignment(round_id=rnd.id, application_id=app.id, judge_id=judge.id, source=source)
        self.db.session.add(a)
        self.db.session.flush()
        return a

    def one_assignment(self):
        """An open round with the default two-criterion rubric, one judge assigned one entry,
        committed: (round, judge, assignment)."""
        comp = self.competition()
        rnd = comp.rounds[0]
        judge = self.judge()
        a = self.assign(rnd, judge, self.entry(comp))
        self.db.session.commit()
        return rnd, judge, a

    def score(self, a, values, status="submitted", feedback=""):
        from incubator.judging import services
        from incubator.judging.models import Score
        from incubator.timeutils import utcnow

        values = {str(k): float(v) for k, v in values.items()}
        total = services.ranking_algo.weighted_total(services.rubric_of(a.round), values)
        s = Score(assignment_id=a.id, values=values, total=total, status=status, feedback_to_team=feedback,
                  submitted_at=utcnow() if status == "submitted" else None)
        self.db.session.add(s)
        self.db.session.flush()
        return s


@pytest.fixture
def world(db, make_user, client):  # client: sets the committing, isolated test client class
    return World(db, make_user)
