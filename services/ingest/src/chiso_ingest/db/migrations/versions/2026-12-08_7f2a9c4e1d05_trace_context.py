"""trace context of jobs and outbox rows

`jobs` and `outbox` gain the W3C `traceparent` and `tracestate` of the request their work was
asked in (nullable: rows from before, and requests that came without one, have none), so the
worker's extraction and the delivery to indicators continue that request's trace. A
`tracestate` is only kept with its `traceparent`.

Revision ID: 7f2a9c4e1d05
Revises: c3d8f1a6b2e9
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7f2a9c4e1d05"
down_revision: str | None = "c3d8f1a6b2e9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("jobs", "outbox")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("traceparent", sa.String(length=55), nullable=True))
            batch_op.add_column(sa.Column("tracestate", sa.Text(), nullable=True))
            batch_op.create_check_constraint(
                op.f(f"ck_{table}_trace_context"), "traceparent IS NOT NULL OR tracestate IS NULL"
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_trace_context"), type_="check")
            batch_op.drop_column("tracestate")
            batch_op.drop_column("traceparent")
