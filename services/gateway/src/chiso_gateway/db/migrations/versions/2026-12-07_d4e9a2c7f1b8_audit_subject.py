"""audit_log: what a request acted on (a review's document and review id)

Rows written before have none (""), and hash as they did: the chain still verifies.

Revision ID: d4e9a2c7f1b8
Revises: 5b0d7e3a9c41
Create Date: 2026-12-07 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4e9a2c7f1b8"
down_revision: str | None = "5b0d7e3a9c41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.add_column(
            sa.Column("subject", sa.String(length=300), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_column("subject")
