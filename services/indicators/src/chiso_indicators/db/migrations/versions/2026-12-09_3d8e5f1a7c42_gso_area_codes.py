"""GSO area codes: `VN-38` becomes `38`, and each area version gets its ISO 3166-2 code

The old form looked like ISO 3166-2 but was the GSO code with a prefix (ISO's VN-01 is Lai
Châu, the GSO's 01 is Hà Nội), so a join with ISO-coded data matched the wrong provinces. The
public code is now the GSO's own; `VN` stays the country. Rows keep their identity: each area
is copied under its new code, its series and flags moved to it, then the old row removed.

Revision ID: 3d8e5f1a7c42
Revises: 65f67a7f3361
Create Date: 2026-12-09 09:00:00
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3d8e5f1a7c42"
down_revision: str | None = "65f67a7f3361"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AREA_COLUMNS = "name_vi, name_en, level, code_list, valid_from, valid_to"
VERSION_COLUMNS = "code_list, name_vi, name_en, valid_from, valid_to"
Recode = Callable[[str], str]  # an SQL expression of a column: the column's new value


def _gso(column: str) -> str:
    return f"CASE WHEN {column} LIKE 'VN-__' THEN substr({column}, 4) ELSE {column} END"


def _legacy(column: str) -> str:
    return (
        f"CASE WHEN {column} LIKE '__' AND {column} <> 'VN' THEN 'VN-' || {column} "
        f"ELSE {column} END"
    )


def _recode(new: Recode) -> None:
    """Copy every province under its new code, move the series and flags that refer to it,
    then drop the old rows (the country's `VN` is the same in both forms)."""
    moved = f"code <> 'VN' AND code <> {new('code')}"
    op.execute(
        f"INSERT INTO areas (code, {AREA_COLUMNS}, successor) "
        f"SELECT {new('code')}, {AREA_COLUMNS}, {new('successor')} FROM areas WHERE {moved}"
    )
    op.execute(
        f"INSERT INTO area_versions (code, {VERSION_COLUMNS}, successor) "
        f"SELECT {new('code')}, {VERSION_COLUMNS}, {new('successor')} FROM area_versions "
        f"WHERE {moved}"
    )
    for table in ("series", "quality_flags"):
        op.execute(
            f"UPDATE {table} SET area_code = {new('area_code')} "
            f"WHERE area_code <> {new('area_code')}"
        )
    op.execute(f"DELETE FROM area_versions WHERE {moved}")
    op.execute(f"DELETE FROM areas WHERE {moved}")


def upgrade() -> None:
    _recode(_gso)
    with op.batch_alter_table("area_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("iso_3166_2", sa.String(length=8), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("area_versions", schema=None) as batch_op:
        batch_op.drop_column("iso_3166_2")
    _recode(_legacy)
