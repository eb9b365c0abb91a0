"""The flags that concern observations, as the read surfaces carry them (`QualityNote`).

Every read fetches the notes of a page (or an export) at once: one statement per chunk of ids,
on the `quality_flag_observations.observation_id` index.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import cache
from typing import Any

from sqlalchemy import ARRAY, Integer, Select, any_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chiso_indicators.db.models import QualityFlag, QualityFlagObservation
from chiso_shared.quality import QualityNote

# Ids per statement: under the bound-parameter limits of SQLite and asyncpg (32,766), as the
# importer's CHUNK (PostgreSQL takes the ids as one array parameter and needs no chunks).
CHUNK = 20_000
# Severities, most serious first: the order of an observation's notes.
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
# Severities that ask for a person's attention (DHIS2 `followup`).
FOLLOW_UP = frozenset({"error", "warning"})


async def notes_for(
    session: AsyncSession, observation_ids: Collection[int]
) -> dict[int, list[QualityNote]]:
    """The flags, open and resolved, that involve each of the observations (those without
    any are absent), open ones first, then by severity and flag id."""
    connection = await session.connection()
    postgresql = session.get_bind().dialect.name == "postgresql"
    rows = await note_rows(connection, observation_ids, postgresql=postgresql)
    return {
        observation_id: [QualityNote.model_validate(note) for note in notes]
        for observation_id, notes in rows.items()
    }


async def note_rows(
    connection: AsyncConnection, observation_ids: Collection[int], *, postgresql: bool
) -> dict[int, list[dict[str, Any]]]:
    """`notes_for` as plain dicts in `QualityNote`'s field order (the JSON reads serialise
    them without building models)."""
    ids = sorted(set(observation_ids))
    if not ids:
        return {}
    query = _notes_query(postgresql)
    size = len(ids) if postgresql else CHUNK
    found: dict[int, dict[int, dict[str, Any]]] = {}
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        for row in (await connection.execute(query, {"ids": chunk})).all():
            # A flag that involves a version in two parts (say level and total) is one note.
            found.setdefault(row[0], {})[row[1]] = {
                "flag_id": row[1],
                "rule": row[2],
                "severity": row[3],
                "status": "open" if row[4] is None else "resolved",
                "message_vi": row[5],
                "message_en": row[6],
            }
    return {observation_id: _ordered(notes.values()) for observation_id, notes in found.items()}


def _ordered(notes: Collection[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        notes,
        key=lambda note: (
            note["status"] != "open",
            SEVERITY_ORDER.get(note["severity"], len(SEVERITY_ORDER)),
            note["flag_id"],
        ),
    )


def open_notes(notes: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [note for note in notes or () if note["status"] == "open"]


@cache
def _notes_query(postgresql: bool) -> Select[*tuple[Any, ...]]:
    """The notes of the observations in `:ids`, built once (see `queries._sources_query`)."""
    ids = (
        any_(bindparam("ids", type_=ARRAY(Integer)))
        if postgresql
        else bindparam("ids", expanding=True)
    )
    column = QualityFlagObservation.observation_id
    where = column == ids if postgresql else column.in_(ids)
    return (
        select(
            column,
            QualityFlag.id,
            QualityFlag.rule,
            QualityFlag.severity,
            QualityFlag.resolution,
            QualityFlag.message_vi,
            QualityFlag.message_en,
        )
        .join(QualityFlag, QualityFlag.id == QualityFlagObservation.flag_id)
        .where(where)
    )
