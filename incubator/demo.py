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
    from .spaces.demo import seed as seed_spaces

    seed_spaces()
    return True
