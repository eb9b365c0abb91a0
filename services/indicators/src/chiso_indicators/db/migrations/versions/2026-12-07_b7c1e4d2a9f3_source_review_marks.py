"""source review marks: who reviewed a source's fact, when, and how

A provenance row read from a fact a person accepted, corrected or added in ingest keeps the
reviewer, the time and the action; the importer makes a version with such a source current
over every version without one. Rows stored before have none.

Revision ID: b7c1e4d2a9f3
Revises: e3b9d4a6c218
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7c1e4d2a9f3"
down_revision: str | None = "e3b9d4a6c218"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provenance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("review_action", sa.String(length=8), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_provenance_review_action"),
            "review_action IS NULL OR review_action IN ('accept', 'correct', 'add')",
        )
        batch_op.create_check_constraint(
            op.f("ck_provenance_review_mark"),
            "(review_action IS NULL) = (reviewed_by IS NULL) "
            "AND (review_action IS NULL) = (reviewed_at IS NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("provenance", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_provenance_review_mark"), type_="check")
        batch_op.drop_constraint(op.f("ck_provenance_review_action"), type_="check")
        batch_op.drop_column("review_action")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
