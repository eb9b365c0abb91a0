"""job states as constraints

A job is queued, running, done or failed (the dead letter after too many attempts), and its
attempt count is never negative: declared, so no code path can leave a job in a state the
claim query does not know.

Revision ID: 5d2e8f1a7c3b
Revises: 9b40ccb41edb
Create Date: 2026-12-05 19:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5d2e8f1a7c3b"
down_revision: str | None = "9b40ccb41edb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_jobs_status"), "status IN ('queued', 'running', 'done', 'failed')"
        )
        batch_op.create_check_constraint(op.f("ck_jobs_attempts"), "attempts >= 0")


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_jobs_attempts"), type_="check")
        batch_op.drop_constraint(op.f("ck_jobs_status"), type_="check")
