"""Demo data for `make run`: realistic people of 青创城. Each feature adds its own part to seed()."""
from __future__ import annotations

from .enums import Role
from .extensions import db

DEMO_PASSWORD = "qcc2026demo"

DEMO_USERS = [
    # (email, name, roles, mobile)
    ("manager@qcc.demo", "沈晓岚", [Role.MANAGER], "13957300001"),
    ("judge.wang@qcc.demo", "王建国", [Role.JUDGE], "13957300011"),
    ("judge.li@qcc.demo", "李雪梅", [Role.JUDGE], "13957300012"),
    ("judge.zhao@qcc.demo", "赵志远", [Role.JUDGE], "13957300013"),
    ("judge.chen@qcc.demo", "陈思源", [Role.JUDGE], "13957300014"),
    ("founder.zhou@qcc.demo", "周子涵", [Role.FOUNDER], "13857300021"),
    ("founder.xu@qcc.demo", "徐一鸣", [Role.FOUNDER], "13857300022"),
    ("founder.he@qcc.demo", "何佳怡", [Role.FOUNDER], "13857300023"),
]


def demo_logins() -> list[tuple[str, str]]:
    return [(",".join(r.value for r in roles), email) for email, _name, roles, _m in DEMO_USERS]


def seed(force: bool = False) -> bool:
    from .accounts.models import User
    from .accounts.services import create_user, find_user_by_email

    if not force and db.session.scalar(db.select(db.func.count(User.id)).where(User.email.like("%@qcc.demo"))):
        return False
    for email, name, roles, mobile in DEMO_USERS:
        if find_user_by_email(email) is None:
            create_user(email, name, DEMO_PASSWORD, roles=roles, mobile=mobile)
    db.session.flush()
    seed_features()
    return True


def seed_features() -> None:
    """Each feature's own demo data, in dependency order; every step is idempotent."""
    from .accounts.services import find_user_by_email
    from .applications import demo as applications_demo
    from .competitions import demo as competitions_demo
    from .judging import demo as judging_demo
    from .spaces import demo as spaces_demo

    manager = find_user_by_email(DEMO_USERS[0][0])
    competition = competitions_demo.seed(actor=manager)
    applications_demo.seed(competition)
    db.session.flush()
    judging_demo.seed(actor=manager)
    db.session.flush()
    spaces_demo.seed()
    db.session.flush()
