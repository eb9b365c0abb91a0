"""declared foreign keys again for observations and provenance on PostgreSQL

Migration 9b1d3c2e7f40 replaced the three foreign keys of the append-only tables with
statement-level triggers to speed bulk imports. Integrity belongs in declared constraints: the
catalogue shows them, tools and the planner know them, and no trigger can be dropped or
disabled without the schema saying so. The triggers and their functions go; the foreign keys
come back (SQLite always kept them). Downgrade puts the triggers back.

Revision ID: a75bc607e009
Revises: c4a7e2b91d05
Create Date: 2026-12-05 19:00:00
"""

from collections.abc import Sequence
from types import ModuleType

from alembic import context, op

revision: str = "a75bc607e009"
down_revision: str | None = "c4a7e2b91d05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS_REVISION = "9b1d3c2e7f40"

# (child table, column, parent table, foreign key name), as 9b1d3c2e7f40 dropped them
REFERENCES = (
    ("observations", "series_id", "series", "fk_observations_series_id_series"),
    ("provenance", "observation_id", "observations", "fk_provenance_observation_id_observations"),
    ("provenance", "document_id", "documents", "fk_provenance_document_id_documents"),
)
# (trigger, table) and functions that migration created
TRIGGERS = (
    ("chiso_check_series_unreferenced", "series"),
    ("chiso_check_observations_unreferenced", "observations"),
    ("chiso_check_documents_unreferenced", "documents"),
    ("chiso_check_observations_references", "observations"),
    ("chiso_check_provenance_references", "provenance"),
    ("chiso_observations_keys_immutable", "observations"),
    ("chiso_provenance_keys_immutable", "provenance"),
    ("chiso_series_keys_immutable", "series"),
    ("chiso_documents_keys_immutable", "documents"),
    ("chiso_observations_id_immutable", "observations"),
)
FUNCTIONS = (
    "chiso_check_series_unreferenced",
    "chiso_check_observations_unreferenced",
    "chiso_check_documents_unreferenced",
    "chiso_check_observations_references",
    "chiso_check_provenance_references",
    "chiso_refuse_key_change",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for trigger, table in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    # Validates every existing row: a reference the triggers let through fails the upgrade
    # rather than staying hidden behind a constraint marked valid.
    for table, column, parent, name in REFERENCES:
        op.create_foreign_key(name, table, parent, [column], ["id"])


def _triggers_migration() -> ModuleType:
    """The module of 9b1d3c2e7f40, whose statements rebuild the triggers on downgrade."""
    script = context.script.get_revision(TRIGGERS_REVISION)
    assert script is not None
    return script.module


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, _, _, name in REFERENCES:
        op.drop_constraint(name, table, type_="foreignkey")
    old = _triggers_migration()
    op.execute(old.REFUSE)
    for child, columns in old.CHILDREN.items():
        for statement in old._inserted_check(child):
            op.execute(statement)
        op.execute(old._immutable(child, columns))
    for parent in old.PARENTS:
        for statement in old._deleted_check(parent):
            op.execute(statement)
    for parent in old.PARENTS:
        if parent not in old.CHILDREN:
            op.execute(old._immutable(parent, ("id",)))
    op.execute(
        "CREATE TRIGGER chiso_observations_id_immutable BEFORE UPDATE OF id ON observations"
        " FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)"
        " EXECUTE FUNCTION chiso_refuse_key_change()"
    )
