"""source doubts: why the extractor doubts each fact, and its confidence

Each provenance row keeps the doubts (`DoubtCode`s, space-separated) and the confidence of
the fact it was read from. Rows stored before have none and a confidence of 1.0.

Revision ID: e3b9d4a6c218
Revises: a75bc607e009
Create Date: 2026-12-06 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e3b9d4a6c218"
down_revision: str | None = "a75bc607e009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("provenance", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("doubts", sa.String(length=500), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("confidence", sa.Float(), server_default=sa.text("1.0"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("provenance", schema=None) as batch_op:
        batch_op.drop_column("confidence")
        batch_op.drop_column("doubts")
