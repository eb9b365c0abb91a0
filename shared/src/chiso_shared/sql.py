"""Small SQL helpers that must behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignore(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str]
) -> None:
    """INSERT ... ON CONFLICT (conflict) DO NOTHING, for whichever database `session` uses."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(list(rows))
    await session.execute(statement.on_conflict_do_nothing(index_elements=list(conflict)))
