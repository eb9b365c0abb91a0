"""audit log: index for an agency's rows

Revision ID: 7a4e2c9b1d53
Revises: 3c8e5a1f9d27
Create Date: 2026-12-05 19:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7a4e2c9b1d53"
down_revision: str | None = "3c8e5a1f9d27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # GET /v1/audit with `audit:read` reads only the caller's agency's rows, in chain order.
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.create_index("ix_audit_log_org_id", ["org", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_index("ix_audit_log_org_id")
