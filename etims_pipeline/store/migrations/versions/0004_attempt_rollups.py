"""attempt log rollups: attempt_rollups and the attempt_rollup_seal watermark

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:30:00.000000

Nothing is sealed yet (the seal row starts at NULL): the first scrape after this migration folds every
attempt older than yesterday into rollups. The bucket columns are the `etims_latency` bounds of this
revision, spelled out, so that the migration does not change when the application's constants do.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BUCKET_COLUMNS = (
    "bucket_le_0_05",
    "bucket_le_0_1",
    "bucket_le_0_25",
    "bucket_le_0_5",
    "bucket_le_1",
    "bucket_le_2_5",
    "bucket_le_5",
    "bucket_le_10",
    "bucket_le_30",
    "bucket_le_60",
    "bucket_le_120",
)


def upgrade() -> None:
    seal = op.create_table(
        "attempt_rollup_seal",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sealed_before", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempt_rollup_seal")),
    )
    op.bulk_insert(seal, [{"id": 1, "sealed_before": None}])
    op.create_table(
        "attempt_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=True),
        sa.Column("reached_etims", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("observed", sa.Integer(), nullable=False),
        sa.Column("latency_sum", sa.Float(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _BUCKET_COLUMNS),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempt_rollups")),
    )


def downgrade() -> None:
    op.drop_table("attempt_rollups")
    op.drop_table("attempt_rollup_seal")
