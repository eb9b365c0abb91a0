"""clients.area: the GSO's own area code (`46`), no longer the `VN-46` that looked like ISO

Revision ID: 8c2f4a6e1b97
Revises: d4e9a2c7f1b8
Create Date: 2026-12-09 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8c2f4a6e1b97"
down_revision: str | None = "d4e9a2c7f1b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE clients SET area = substr(area, 4) WHERE area LIKE 'VN-__'")


def downgrade() -> None:
    op.execute("UPDATE clients SET area = 'VN-' || area WHERE area LIKE '__' AND area <> 'VN'")
