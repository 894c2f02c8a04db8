"""spaces: a space's code is unique in its building, not across all buildings

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 09:00:00

Every building may have its own 3F-A-001: spaces get building_id (their floor's, filled in from
floors), the UNIQUE (code) becomes UNIQUE (building_id, code), and the foreign key to the floor
becomes (floor_id, building_id) → floors (id, building_id), so a space's building is always its
floor's. floors gets the unique index that key refers to.

PostgreSQL alters the tables in place. SQLite cannot drop a table's UNIQUE constraint: spaces is
rebuilt (batch), which needs foreign keys OFF — with them on, dropping the old table would cascade
to space_outages and be refused by leases — and SQLite changes that setting only outside a
transaction. So on SQLite the migrations run so far are committed, the rebuild runs in a
transaction of its own with foreign keys off and checked before it commits (PRAGMA
foreign_key_check), and the setting is restored. The rebuild drops the table's page-cache triggers
(migration 0008): they are created again in the same transaction. A rebuild that committed is
recognised (the column exists) and not run twice.
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# The page-cache triggers of spaces on SQLite, as migration 0008 created them (frozen here).
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER spaces_{operation}_bumps_spaces AFTER {operation.upper()} ON spaces "
    f"BEGIN INSERT OR REPLACE INTO data_versions (name, version) "
    f"VALUES ('spaces', 1 + abs(random() % 4000000000000000000)); END"
    for operation in ("insert", "update", "delete")
]


def _sqlite_rebuild(change) -> None:
    """Run `change` (which rebuilds spaces) in a transaction of its own with foreign keys off."""
    raw = op.get_bind().connection.driver_connection
    was_in_transaction = raw.in_transaction
    if was_in_transaction:
        raw.execute("COMMIT")
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        raw.execute("BEGIN IMMEDIATE")
        try:
            change()
            for operation in ("insert", "update", "delete"):
                raw.execute(f"DROP TRIGGER IF EXISTS spaces_{operation}_bumps_spaces")
            for statement in SQLITE_TRIGGERS:
                raw.execute(statement)
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"rebuilding spaces would break foreign keys: {broken[:5]}")
            raw.execute("COMMIT")
        except BaseException:
            raw.execute("ROLLBACK")
            raise
    finally:
        raw.execute("PRAGMA foreign_keys = ON")
        if was_in_transaction:
            raw.execute("BEGIN IMMEDIATE")  # the migration run goes on in a transaction, as it began


def _has_building_id() -> bool:
    return any(c["name"] == "building_id" for c in sa.inspect(op.get_bind()).get_columns("spaces"))


def _upgrade_tables() -> None:
    op.create_index('ix_floors_id_building_id', 'floors', ['id', 'building_id'], unique=True)
    op.add_column('spaces', sa.Column('building_id', sa.Integer(), nullable=True))
    op.execute("UPDATE spaces SET building_id = (SELECT floors.building_id FROM floors "
               "WHERE floors.id = spaces.floor_id)")
    with op.batch_alter_table('spaces', schema=None) as batch_op:
        batch_op.alter_column('building_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint('uq_spaces_code', type_='unique')
        batch_op.drop_constraint('fk_spaces_floor_id_floors', type_='foreignkey')
        batch_op.create_foreign_key('fk_spaces_floor_id_floors', 'floors', ['floor_id', 'building_id'],
                                    ['id', 'building_id'], ondelete='CASCADE')
        batch_op.create_unique_constraint('uq_spaces_building_id_code', ['building_id', 'code'])


def _downgrade_tables() -> None:
    duplicated = op.get_bind().execute(sa.text(
        "SELECT code FROM spaces GROUP BY code HAVING count(*) > 1 ORDER BY code LIMIT 5")).scalars().all()
    if duplicated:
        raise RuntimeError("cannot make space codes unique across buildings again: these codes are used in "
                           f"several buildings: {', '.join(duplicated)}")
    with op.batch_alter_table('spaces', schema=None) as batch_op:
        batch_op.drop_constraint('uq_spaces_building_id_code', type_='unique')
        batch_op.drop_constraint('fk_spaces_floor_id_floors', type_='foreignkey')
        batch_op.create_foreign_key('fk_spaces_floor_id_floors', 'floors', ['floor_id'], ['id'], ondelete='CASCADE')
        batch_op.create_unique_constraint('uq_spaces_code', ['code'])
        batch_op.drop_column('building_id')
    op.drop_index('ix_floors_id_building_id', table_name='floors')


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        if not _has_building_id():
            _sqlite_rebuild(_upgrade_tables)
    else:
        _upgrade_tables()


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        if _has_building_id():
            _sqlite_rebuild(_downgrade_tables)
    else:
        _downgrade_tables()
