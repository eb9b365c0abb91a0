"""The names of the people behind client ids, for answers that name someone.

An officer is an OAuth2 client, and who uploaded a document or reviewed a fact is stored (by
ingest and indicators) as that client's id, which a reader cannot tell apart. Identity stays
the id everywhere it is stored; an answer that carries ids adds `meta.people`, `{client_id:
name}` from the gateway's `clients` table, read once per answer for only the ids present. An
id no longer in the table (or not a client's) maps to nothing: the page shows the id.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chiso_gateway.db.models import Client

# The fields that hold a client id: a document's uploader, a review's reviewer, a source's
# reviewer in indicators; and `by` in a fact's review mark (`{"action", "by", "at"}`) and in a
# quality flag's resolution.
PERSON_FIELDS = frozenset({"uploaded_by", "reviewer", "reviewed_by"})
# the marks whose `by` is a client id: a fact's review, a data-quality flag's resolution
MARK_FIELDS = frozenset({"review", "resolution"})
ID_MAX = 64  # the length of `clients.client_id`: a longer value is no client's


def ids_in(value: Any) -> set[str]:
    """Every client id `value` (JSON as read from an upstream) names, at any depth."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if key in PERSON_FIELDS and isinstance(inner, str):
                    found.add(inner)
                elif key in MARK_FIELDS and isinstance(inner, dict):
                    if isinstance(by := inner.get("by"), str):
                        found.add(by)
                elif isinstance(inner, dict | list):
                    stack.append(inner)
        elif isinstance(item, list):
            stack.extend(inner for inner in item if isinstance(inner, dict | list))
    # An id a client could have: PostgreSQL refuses a NUL in a parameter outright.
    return {one for one in found if 0 < len(one) <= ID_MAX and "\x00" not in one}


async def names(request: Request, ids: Collection[str]) -> dict[str, str]:
    """`{client_id: name}` of the clients among `ids` (revoked ones too: their past work
    still bears their name); no query when there are none."""
    if not ids:
        return {}
    sessionmaker = cast(async_sessionmaker[AsyncSession], request.state.sessionmaker)
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Client.client_id, Client.name).where(Client.client_id.in_(sorted(ids)))
        )
    return {row.client_id: row.name for row in rows}


async def people(request: Request, value: Any) -> dict[str, str]:
    """`meta.people` of an answer whose data is `value`."""
    return await names(request, ids_in(value))
