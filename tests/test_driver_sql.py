"""driver_sql runs a SQLAlchemy statement on psycopg's own connection: the same SQL, the same values
in and out as SQLAlchemy's execution (the judges' submit lane writes with it on PostgreSQL)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from incubator.enums import Role

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def conn(db):
    """A connection of the app's engine in autocommit, as the lane takes it, and its driver connection."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection, connection.connection.driver_connection


def test_rows_and_their_values_are_sqlalchemys(db, conn, make_user):
    from incubator.accounts.models import User, UserRole
    from incubator.driver_sql import DriverStatement

    connection, driver = conn
    user = make_user(Role.JUDGE, Role.MANAGER, name="评委甲")
    db.session.commit()
    statement = (sa.select(User.id, User.name, User.active, User.created_at, UserRole.role)
                 .join(UserRole, UserRole.user_id == User.id)
                 .where(User.id == sa.bindparam("user_id", type_=sa.Integer), UserRole.role != Role.FOUNDER)
                 .order_by(UserRole.role))
    ours = DriverStatement(statement, db.engine.dialect).rows(driver, {"user_id": user.id})
    theirs = [tuple(row) for row in connection.execute(statement, {"user_id": user.id})]
    assert ours == theirs
    assert [row[4] for row in ours] == [Role.JUDGE, Role.MANAGER]  # the enum converted back, as the ORM reads it
    assert isinstance(ours[0][3], datetime) and ours[0][3].tzinfo is not None


def test_values_written_are_converted_as_sqlalchemy_converts_them(db, conn, make_user):
    """A JSON value and an enum member go in as SQLAlchemy sends them; the RETURNING value comes back."""
    from incubator.accounts.models import UserRole
    from incubator.audit.models import AuditRecord
    from incubator.driver_sql import DriverStatement

    _, driver = conn
    user = make_user(Role.FOUNDER)
    db.session.commit()
    add_role = (sa.insert(UserRole).returning(UserRole.id)
                .values(user_id=sa.bindparam("user_id"), role=sa.bindparam("role", type_=UserRole.role.type)))
    [(role_row_id,)] = DriverStatement(add_role, db.engine.dialect).rows(driver, {"user_id": user.id,
                                                                                  "role": Role.JUDGE})
    audit = sa.insert(AuditRecord).values(
        created_at=sa.bindparam("at", type_=AuditRecord.created_at.type), actor_id=sa.bindparam("actor"),
        action="test.driver", target_type="users", target_id="1",
        after=sa.bindparam("after", type_=AuditRecord.after.type)).returning(AuditRecord.id)
    moment = datetime(2026, 11, 27, 8, 30, tzinfo=timezone.utc)
    DriverStatement(audit, db.engine.dialect).rows(driver, {"at": moment, "actor": user.id,
                                                            "after": {"分数": [7.5, None], "ok": True}})
    db.session.expire_all()
    assert db.session.get(UserRole, role_row_id).role is Role.JUDGE
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "test.driver"))
    assert record.after == {"分数": [7.5, None], "ok": True} and record.created_at == moment
    assert record.target_type == "users"  # a constant of the statement, sent without being passed


def test_a_statement_whose_sql_changes_per_execution_is_refused(db):
    from incubator.accounts.models import User
    from incubator.driver_sql import DriverStatement

    with pytest.raises(ValueError, match="rendered at execution"):
        DriverStatement(sa.select(User.id).where(User.id.in_(sa.bindparam("ids", expanding=True))), db.engine.dialect)
    with pytest.raises(ValueError, match="rendered at execution"):
        DriverStatement(sa.select(sa.func.aggregate_strings(User.name, ",")), db.engine.dialect)


def test_a_statement_is_compiled_once_per_process(db):
    from incubator.accounts.models import User
    from incubator.driver_sql import driver_statement

    statement = sa.select(User.id).where(User.email == sa.bindparam("email"))
    assert driver_statement(statement, db.engine.dialect) is driver_statement(statement, db.engine.dialect)
    other = sa.select(User.id).where(User.email == sa.bindparam("email"))
    assert driver_statement(other, db.engine.dialect) is not driver_statement(statement, db.engine.dialect)
