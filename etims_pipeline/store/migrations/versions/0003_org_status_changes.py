"""org status change log: org_status_changes, filled by triggers on vendor_orgs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 08:05:00.000000

A row is inserted after every org INSERT, and after every UPDATE that changes kra_pin or tax_status,
whoever makes it (loader, CLI, hand-written SQL). Existing orgs get one row each, so the replay sensor
knows every org's state before its next change. Note for later migrations: on SQLite, a batch
(copy-and-move) alteration of vendor_orgs drops its triggers; recreate them in that migration.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_INSERT_CHANGE = (
    "INSERT INTO org_status_changes (org_id, kra_pin, tax_status) VALUES (NEW.id, NEW.kra_pin, NEW.tax_status)"
)

_SQLITE_UP = (
    f"""CREATE TRIGGER org_status_changes_on_insert AFTER INSERT ON vendor_orgs
    BEGIN {_INSERT_CHANGE}; END""",
    f"""CREATE TRIGGER org_status_changes_on_update AFTER UPDATE OF kra_pin, tax_status ON vendor_orgs
    WHEN OLD.kra_pin IS NOT NEW.kra_pin OR OLD.tax_status IS NOT NEW.tax_status
    BEGIN {_INSERT_CHANGE}; END""",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS org_status_changes_on_update",
    "DROP TRIGGER IF EXISTS org_status_changes_on_insert",
)

_POSTGRES_UP = (
    f"""CREATE FUNCTION record_org_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {_INSERT_CHANGE}; RETURN NULL; END $$""",
    """CREATE TRIGGER org_status_changes_on_insert AFTER INSERT ON vendor_orgs
    FOR EACH ROW EXECUTE FUNCTION record_org_status_change()""",
    """CREATE TRIGGER org_status_changes_on_update AFTER UPDATE OF kra_pin, tax_status ON vendor_orgs
    FOR EACH ROW WHEN (OLD.kra_pin IS DISTINCT FROM NEW.kra_pin OR OLD.tax_status IS DISTINCT FROM NEW.tax_status)
    EXECUTE FUNCTION record_org_status_change()""",
)
_POSTGRES_DOWN = (
    "DROP TRIGGER IF EXISTS org_status_changes_on_update ON vendor_orgs",
    "DROP TRIGGER IF EXISTS org_status_changes_on_insert ON vendor_orgs",
    "DROP FUNCTION IF EXISTS record_org_status_change()",
)


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "org_status_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("kra_pin", sa.String(length=20), nullable=True),
        sa.Column("tax_status", sa.String(length=20), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.func.current_timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_status_changes")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_org_status_changes_org_id_id", "org_status_changes", ["org_id", "id"], unique=False)
    op.execute(
        "INSERT INTO org_status_changes (org_id, kra_pin, tax_status) "
        "SELECT id, kra_pin, tax_status FROM vendor_orgs ORDER BY id"
    )
    for statement in _POSTGRES_UP if _is_postgres() else _SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in _POSTGRES_DOWN if _is_postgres() else _SQLITE_DOWN:
        op.execute(statement)
    op.drop_index("ix_org_status_changes_org_id_id", table_name="org_status_changes")
    op.drop_table("org_status_changes")
