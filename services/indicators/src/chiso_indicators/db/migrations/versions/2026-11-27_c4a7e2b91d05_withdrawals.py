"""withdrawals: when a version lost its last source, so as_of reads can leave it out

Versions already without a source are taken as withdrawn when this migration runs: when it
happened was not recorded, so an `as_of` read before the upgrade still shows them.

Revision ID: c4a7e2b91d05
Revises: 9b1d3c2e7f40
Create Date: 2026-11-27 01:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "c4a7e2b91d05"
down_revision: str | None = "9b1d3c2e7f40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_withdrawals_observation_id_observations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawals")),
    )
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_withdrawals_observation_id"), ["observation_id"], unique=False
        )
    # The time is bound from Python, so it is stored as the models store times (to the
    # microsecond on SQLite, where CURRENT_TIMESTAMP would keep only seconds).
    now = sa.literal(datetime.now(UTC), sa.DateTime(timezone=True))
    observations = sa.table("observations", sa.column("id"))
    provenance = sa.table("provenance", sa.column("observation_id"))
    withdrawals = sa.table("withdrawals", sa.column("observation_id"), sa.column("withdrawn_at"))
    sourced = sa.select(provenance.c.observation_id).where(
        provenance.c.observation_id == observations.c.id
    )
    op.execute(
        withdrawals.insert().from_select(
            ["observation_id", "withdrawn_at"],
            sa.select(observations.c.id, now).where(~sa.exists(sourced)),
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_withdrawals_observation_id"))
    op.drop_table("withdrawals")
