"""clients: the area an agency's client serves, the scope hint of its uploads

Revision ID: 5b0d7e3a9c41
Revises: 7a4e2c9b1d53
Create Date: 2026-12-06 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b0d7e3a9c41"
down_revision: str | None = "7a4e2c9b1d53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing clients serve no particular area: their uploads keep only their own hint.
    with op.batch_alter_table("clients") as batch_op:
        batch_op.add_column(
            sa.Column("area", sa.String(length=8), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch_op:
        batch_op.drop_column("area")
