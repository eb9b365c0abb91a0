"""quality flags and the chosen_by of current versions

A flag is a data-quality check that failed (issue 18), filed under an (indicator, area,
period) cell, with the versions it concerns and, once a person looked, its resolution.
`observations.chosen_by` says which precedence rule made a current version current; a
version alone in its (series, period) is `only`, and the rest get theirs when their pair is
imported again (null until then).

Revision ID: 65f67a7f3361
Revises: b7c1e4d2a9f3
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "65f67a7f3361"
down_revision: str | None = "b7c1e4d2a9f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quality_flags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("indicator_code", sa.String(length=200), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("message_vi", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolution", sa.String(length=8), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("resolved_observation_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "resolution IS NULL OR resolution IN ('accept', 'correct', 'explain')",
            name=op.f("ck_quality_flags_resolution"),
        ),
        sa.CheckConstraint(
            "severity IN ('error', 'warning', 'info')", name=op.f("ck_quality_flags_severity")
        ),
        sa.CheckConstraint(
            "(resolution IS NULL) = (resolved_by IS NULL) "
            "AND (resolution IS NULL) = (resolved_at IS NULL)",
            name=op.f("ck_quality_flags_resolution_mark"),
        ),
        sa.ForeignKeyConstraint(
            ["area_code"], ["areas.code"], name=op.f("fk_quality_flags_area_code_areas")
        ),
        sa.ForeignKeyConstraint(
            ["indicator_code"],
            ["indicators.code"],
            name=op.f("fk_quality_flags_indicator_code_indicators"),
        ),
        sa.ForeignKeyConstraint(
            ["resolved_observation_id"],
            ["observations.id"],
            name=op.f("fk_quality_flags_resolved_observation_id_observations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_flags")),
        sa.UniqueConstraint("key", name=op.f("uq_quality_flags_key")),
    )
    with op.batch_alter_table("quality_flags", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quality_flags_cell", ["indicator_code", "area_code", "period"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_quality_flags_rule"), ["rule"], unique=False)

    op.create_table(
        "quality_flag_observations",
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["flag_id"],
            ["quality_flags.id"],
            name=op.f("fk_quality_flag_observations_flag_id_quality_flags"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
            name=op.f("fk_quality_flag_observations_observation_id_observations"),
        ),
        sa.PrimaryKeyConstraint(
            "flag_id", "observation_id", "part", name=op.f("pk_quality_flag_observations")
        ),
    )
    with op.batch_alter_table("quality_flag_observations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_flag_observations_observation_id"),
            ["observation_id"],
            unique=False,
        )

    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chosen_by", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE observations SET chosen_by = 'only' WHERE is_current AND ("
        "SELECT count(*) FROM observations AS other WHERE other.series_id = "
        "observations.series_id AND other.period = observations.period) = 1"
    )



def downgrade() -> None:
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_column("chosen_by")

    with op.batch_alter_table("quality_flag_observations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_flag_observations_observation_id"))

    op.drop_table("quality_flag_observations")
    with op.batch_alter_table("quality_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_flags_rule"))
        batch_op.drop_index("ix_quality_flags_cell")

    op.drop_table("quality_flags")
