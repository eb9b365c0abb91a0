"""job claimed by

Which worker (host and process id) claimed a job last. With several ingest replicas on one
database, it shows which one ran each job, and that no other claimed it meanwhile.

Revision ID: e7a1c4f9b206
Revises: 7f2a9c4e1d05
Create Date: 2026-12-10 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e7a1c4f9b206"
down_revision: str | None = "7f2a9c4e1d05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
