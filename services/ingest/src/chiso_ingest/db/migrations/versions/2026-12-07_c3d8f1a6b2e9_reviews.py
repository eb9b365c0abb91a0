"""reviews: people's word on extracted facts, who uploaded a document, queue columns

`reviews` keeps every review of a fact's span (accept, correct, reject, add), each naming the
review it supersedes. `documents.uploaded_by` is the gateway client that sent the document.
`facts` gains `confidence`, `doubt_count` and `scope`, copies of fields of its JSON `data`
(filled here for the facts already stored), so the review queue is ordered in the database.

Revision ID: c3d8f1a6b2e9
Revises: 5d2e8f1a7c3b
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3d8f1a6b2e9"
down_revision: str | None = "5d2e8f1a7c3b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The stored facts' own fields, copied into the new columns (JSON functions differ).
BACKFILL = {
    "sqlite": (
        "UPDATE facts SET confidence = COALESCE(json_extract(data, '$.confidence'), 1.0), "
        "doubt_count = COALESCE(json_array_length(data, '$.doubts'), 0), "
        "scope = json_extract(data, '$.scope')"
    ),
    "postgresql": (
        "UPDATE facts SET confidence = COALESCE((data->>'confidence')::float, 1.0), "
        "doubt_count = CASE WHEN json_typeof(data->'doubts') = 'array' "
        "THEN json_array_length(data->'doubts') ELSE 0 END, "
        "scope = data->>'scope'"
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uploaded_by", sa.String(length=200), nullable=True))
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confidence", sa.Float(), server_default=sa.text("1.0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("doubt_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("scope", sa.String(length=8), nullable=True))
    backfill = BACKFILL.get(op.get_bind().dialect.name)
    if backfill:
        op.execute(backfill)
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("fact", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("before", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("supersedes", sa.Integer(), nullable=True),
        sa.CheckConstraint('0 <= start AND start <= "end"', name=op.f("ck_reviews_span")),
        sa.CheckConstraint(
            "action IN ('accept', 'correct', 'reject', 'add')", name=op.f("ck_reviews_action")
        ),
        sa.CheckConstraint("(fact IS NULL) = (action = 'reject')", name=op.f("ck_reviews_fact")),
        sa.CheckConstraint(
            "(before IS NULL) = (action = 'add')", name=op.f("ck_reviews_before")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_reviews_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes"], ["reviews.id"], name=op.f("fk_reviews_supersedes_reviews")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("supersedes", name=op.f("uq_reviews_supersedes")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index("ix_reviews_span", ["document_id", "start"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_reviews_span")
    op.drop_table("reviews")
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.drop_column("scope")
        batch_op.drop_column("doubt_count")
        batch_op.drop_column("confidence")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("uploaded_by")
