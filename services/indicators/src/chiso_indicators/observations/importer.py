"""POST /v1/facts: turn GUIDELINE facts into series, versioned observations and provenance.

The result never depends on the order in which batches arrive: versions are keyed by their
content, and the current version of a (series, period) is recomputed from all of them by one
rule (a version a person reviewed first, then higher status, then the newer publication, then
the value).

A batch costs a fixed handful of statements whatever its size: the stored versions of its
(series, period) values and their sources are read once, the counts, new versions and current
flags are worked out in memory, and new rows go in by COPY on PostgreSQL (executemany on SQLite).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, TypeVar, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from chiso_indicators.db.models import (
    Area,
    DataRevision,
    ImportBatch,
    Indicator,
    Observation,
    Provenance,
    Series,
    SourceDocument,
    Withdrawal,
)
from chiso_indicators.observations.periods import (
    STATUS_CODES,
    Rank,
    deciding_rule,
    measure,
    rank,
    transformation,
)
from chiso_indicators.observations.schemas import (
    DocumentMeta,
    FactBatch,
    ImportConflict,
    ImportSummary,
)
from chiso_indicators.quality.engine import Obs
from chiso_indicators.quality.rules import RuleBook
from chiso_indicators.quality.store import (
    KnownValues,
    collector_paused,
    recompute,
    touched_values,
)
from chiso_shared.catalogue import area_of_scope
from chiso_shared.db import utcnow
from chiso_shared.errors import Conflict, FieldError, Unprocessable
from chiso_shared.facts import Basis, Fact, Role, Status
from chiso_shared.periods import Period
from chiso_shared.sql import insert_ignore
from chiso_shared.times import as_utc

T = TypeVar("T")
# Rows or ids per statement: under the bound-parameter limits of SQLite and asyncpg (32,766).
CHUNK = 20_000


@dataclass
class _Counts:
    imported: int = 0
    updated: int = 0
    ignored: int = 0
    withdrawn: int = 0
    conflicts: list[ImportConflict] = field(default_factory=list)


def body_hash(batch: FactBatch) -> str:
    """The hash of the parsed batch in its canonical JSON (field order of the models), so
    whitespace and key order in the request do not matter."""
    return hashlib.sha256(batch.model_dump_json().encode()).hexdigest()


def _legacy_body_hash(batch: FactBatch) -> str:
    """The hash stored by chiso 0.1 (sorted keys); still accepted, so a batch retried across an
    upgrade replays instead of being refused as a new body."""
    canonical = json.dumps(batch.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def fingerprint(fact: Fact) -> str:
    parts = [_number(fact.value), _number(fact.of), _number(fact.max), STATUS_CODES[fact.status]]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _number(value: float | None) -> str:
    return "" if value is None else format(value, ".12g")


def document_id(name: str) -> str:
    return "doc-" + hashlib.sha256(name.encode()).hexdigest()[:24]


async def replay(session: AsyncSession, key: str, batch: FactBatch) -> ImportSummary | None:
    """The stored summary for an `Idempotency-Key` already used with this same body."""
    await lock(session)
    stored = await session.get(ImportBatch, key)
    if stored is None:
        return None
    if stored.body_hash not in (body_hash(batch), _legacy_body_hash(batch)):
        raise Conflict(
            "This Idempotency-Key was already used with a different body.",
            code="indicators.idempotency_key_reused",
            errors=[FieldError(field="header.Idempotency-Key", message="reused with new body")],
        )
    return ImportSummary.model_validate(stored.summary)


async def import_facts(
    session: AsyncSession,
    batch: FactBatch,
    *,
    dry_run: bool,
    key: str | None,
    book: RuleBook | None = None,
) -> ImportSummary:
    await lock(session)
    await _validate_codes(session, batch)
    documents = await _resolve_documents(session, batch)
    counts = _Counts()
    withdrawn, lost = await _withdraw(session, batch, counts)
    usable = _usable(batch.facts)
    counts.ignored += len(batch.facts) - len(usable)
    series, keys, new = await _series_ids(session, usable)
    known = await _record_all(session, usable, series, documents, counts, withdrawn, lost)
    changed = bool(counts.imported or counts.updated or counts.withdrawn)
    flags = None
    if book is not None and changed:
        values = [
            (f.indicator, area_of_scope(f.scope), f.period) for f in (*usable, *batch.withdrawn)
        ]
        # The checks allocate a version object per value touched (and an index of them);
        # with the collector running, each import promoted them all to the oldest
        # generation and so set off a full collection of its whole heap. Paused until they
        # are freed (by reference counting, before the collector resumes) it sees none.
        with collector_paused():
            in_memory = _known_values(known, dict(zip(series, keys, strict=True)), new)
            flags = await recompute(session, book, touched_values(values), in_memory)
            del in_memory, known
    # A dry run is rolled back: a revision it bumped would never exist, so it reports the
    # current one.
    revision = await _bump_revision(session, changed=changed and not dry_run)
    summary = ImportSummary(
        status="WARNING" if counts.conflicts else "OK",
        dry_run=dry_run,
        imported=counts.imported,
        updated=counts.updated,
        ignored=counts.ignored,
        withdrawn=counts.withdrawn,
        conflicts=counts.conflicts,
        revision=revision,
        flags_raised=flags.raised if flags else 0,
        flags_cleared=flags.cleared if flags else 0,
    )
    if dry_run:
        await session.rollback()
        return summary
    if key:
        session.add(ImportBatch(key=key, body_hash=body_hash(batch), summary=summary.model_dump()))
    await session.flush()
    return summary


async def lock(session: AsyncSession) -> None:
    """Take the import lock until the transaction ends: a no-op write to the revision row.

    Imports read the stored versions, choose current flags in memory and reserve ids, so two
    at once must not interleave (two service replicas, or the DHIS2 and fact routes). A row
    lock on PostgreSQL and the write lock on SQLite both serialise them, and a waiting import
    then reads what the first one committed."""
    await session.execute(
        update(DataRevision).where(DataRevision.id == 1).values(revision=DataRevision.revision)
    )


async def _validate_codes(session: AsyncSession, batch: FactBatch) -> None:
    indicators = set((await session.scalars(select(Indicator.code))).all())
    areas = set((await session.scalars(select(Area.code))).all())
    errors: list[FieldError] = []
    for name, facts in (("facts", batch.facts), ("withdrawn", batch.withdrawn)):
        for index, fact in enumerate(facts):
            if fact.indicator and fact.indicator not in indicators:
                errors.append(_unknown(f"{name}.{index}", "indicator", fact.indicator))
            if fact.scope not in (None, "sub") and area_of_scope(fact.scope) not in areas:
                errors.append(_unknown(f"{name}.{index}", "scope", str(fact.scope)))
    names = [meta.name for meta in batch.documents]
    if len(names) != len(set(names)):
        errors.append(FieldError(field="body.documents", message="document names repeat"))
    if errors:
        raise Unprocessable(
            f"{len(errors)} fact(s) refer to unknown codes; nothing was imported.",
            code="indicators.unknown_code",
            errors=errors[:100],
        )


def _unknown(where: str, name: str, value: str) -> FieldError:
    return FieldError(field=f"body.{where}.{name}", message=f"unknown code {value!r}")


def _usable(facts: Sequence[Fact]) -> list[Fact]:
    """The facts that belong to a series: a catalogue indicator and a province or the country."""
    return [fact for fact in facts if fact.indicator and fact.scope not in (None, "sub")]


async def _withdraw(
    session: AsyncSession, batch: FactBatch, counts: _Counts
) -> tuple[set[_Pair], set[int]]:
    """Remove the sources that the withdrawn facts were; the (series, period) values they
    touched, whose current versions must be chosen again, and the versions that lost one."""
    facts = _usable(batch.withdrawn)
    if not batch.withdrawn:
        return set(), set()
    ids = {meta.name: meta.id or document_id(meta.name) for meta in batch.documents}
    keys = _series_keys(facts)
    known = await _known_series(session, list(dict.fromkeys(keys)))
    located = [(known[key], fact) for key, fact in zip(keys, facts, strict=True) if key in known]
    versions = await _stored_versions(session, {(series, f.period) for series, f in located})
    doomed: set[tuple[int, str, int]] = set()
    for series_id, fact in located:
        version = versions.get((series_id, fact.period), {}).get(fingerprint(fact))
        if version is not None and version.id is not None:
            doomed.add((version.id, ids.get(fact.doc) or document_id(fact.doc), fact.start))
    table = cast(Table, Provenance.__table__)
    key = tuple_(table.c.observation_id, table.c.document_id, table.c.start)
    lost: list[int] = []
    for chunk in _chunks(sorted(doomed), CHUNK // 3):
        statement = delete(table).where(key.in_(chunk)).returning(table.c.observation_id)
        lost.extend((await session.execute(statement)).scalars())
    counts.withdrawn += len(lost)
    counts.ignored += len(batch.withdrawn) - len(lost)
    return set(versions), set(lost)


async def _resolve_documents(session: AsyncSession, batch: FactBatch) -> dict[str, SourceDocument]:
    metas = {meta.name: meta for meta in batch.documents}
    resolved: dict[str, SourceDocument] = {}
    for name, periods in _periods_by_document(batch.facts).items():
        meta = metas.get(name) or DocumentMeta(name=name)
        published = meta.published or max(
            (Period.parse(p).end.isoformat() for p in periods), default=""
        )
        doc_id = meta.id or document_id(name)
        row = await session.get(SourceDocument, doc_id)
        if row is None:
            row = SourceDocument(id=doc_id, name=name, published=published)
            session.add(row)
        row.title = meta.title or row.title
        row.source_url = meta.source_url or row.source_url
        row.issuer = meta.issuer or row.issuer
        row.extractor_version = meta.extractor_version or row.extractor_version
        if meta.published:
            row.published = meta.published
        resolved[name] = row
    await session.flush()
    return resolved


def _periods_by_document(facts: Iterable[Fact]) -> dict[str, set[str]]:
    """The distinct periods of each document's facts, documents in order of first mention."""
    found: dict[str, set[str]] = {}
    for fact in facts:
        found.setdefault(fact.doc, set()).add(fact.period)
    return found


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for offset in range(0, len(items), size):
        yield items[offset : offset + size]


class _FactSeries(NamedTuple):
    ids: list[int]  # each fact's series, in order
    keys: list[tuple[str, ...]]  # and its key
    new: set[int]  # the series this import created: nothing of theirs was stored before


async def _series_ids(session: AsyncSession, facts: Sequence[Fact]) -> _FactSeries:
    """The series of each fact, in order, and its key; series new to the database are
    created (under the import lock, so no other import creates them meanwhile)."""
    keys = _series_keys(facts)
    distinct = list(dict.fromkeys(keys))
    found = await _known_series(session, distinct)
    missing = [key for key in distinct if key not in found]
    for chunk in _chunks(missing, CHUNK // len(SERIES_COLUMNS)):
        rows = [dict(zip(SERIES_COLUMNS, key, strict=True)) for key in chunk]
        await insert_ignore(session, Series.__table__, rows, SERIES_COLUMNS)  # type: ignore[arg-type]
    if missing:
        found |= await _known_series(session, missing)
    return _FactSeries([found[key] for key in keys], keys, {found[key] for key in missing})


def _series_keys(facts: Sequence[Fact]) -> list[tuple[str, ...]]:
    """The series key of each fact (indicator, area, frequency, measure, transformation, unit);
    the parts derived from the period or the role are computed once per distinct value."""
    periods: dict[str, str] = {}
    shapes: dict[tuple[Role, Basis | None, Status], tuple[str, str]] = {}
    keys: list[tuple[str, ...]] = []
    for fact in facts:
        freq = periods.get(fact.period)
        if freq is None:
            freq = periods[fact.period] = Period.parse(fact.period).frequency
        shape = shapes.get((fact.role, fact.basis, fact.status))
        if shape is None:
            shape = shapes[(fact.role, fact.basis, fact.status)] = (
                measure(fact.status),
                transformation(fact.role, fact.basis),
            )
        keys.append(
            (
                str(fact.indicator),
                area_of_scope(fact.scope),
                freq,
                shape[0],
                shape[1],
                fact.unit.value,
            )
        )
    return keys


SERIES_COLUMNS = ("indicator_code", "area_code", "frequency", "measure", "transformation", "unit")


async def _known_series(
    session: AsyncSession, keys: Sequence[tuple[str, ...]]
) -> dict[tuple[str, ...], int]:
    wanted = set(keys)
    found: dict[tuple[str, ...], int] = {}
    areas = sorted({key[1] for key in keys})
    for codes in _chunks(sorted({key[0] for key in keys})):
        query = select(Series.id, *(getattr(Series, c) for c in SERIES_COLUMNS)).where(
            Series.indicator_code.in_(codes), Series.area_code.in_(areas)
        )
        for row in (await session.execute(query)).all():
            key = tuple(row[1:])
            if key in wanted:
                found[key] = row[0]
    return found


@dataclass(slots=True)
class _Version:
    """A version of one of the batch's (series, period) values: stored, or new in this batch."""

    id: int | None
    status: str
    value: float
    fingerprint: str
    published: str  # the earliest publication among its sources
    is_current: bool
    latest: str | None = None  # the newest publication among its sources; None: no source
    fact: Fact | None = None  # the first fact of a version new in this batch
    series_id: int = 0
    reviewed: bool = False  # one of its sources is a fact a person reviewed
    chosen_by: str | None = None  # the precedence rule that made it current (None: not current)


class _Document(NamedTuple):
    id: str
    published: str
    extractor_version: str | None


_Pair = tuple[int, str]
_Source = tuple[_Pair, str, str, int]  # (series, period), fingerprint, document, span start
OBSERVATION_COLUMNS = (
    "id",
    "series_id",
    "period",
    "value",
    "of",
    "max",
    "status",
    "published",
    "fingerprint",
    "is_current",
    "chosen_by",
    "recorded_at",
)
PROVENANCE_COLUMNS = (
    "observation_id",
    "document_id",
    "start",
    "end",
    "text",
    "label",
    "extractor_version",
    "recorded_at",
    "doubts",
    "confidence",
    "reviewed_by",
    "reviewed_at",
    "review_action",
)


async def _record_all(
    session: AsyncSession,
    facts: Sequence[Fact],
    series: Sequence[int],
    documents: dict[str, SourceDocument],
    counts: _Counts,
    also: set[_Pair],
    lost: set[int],
) -> _Known:
    """New versions and sources in bulk; counts as if the facts were applied one by one. The
    current versions of the `also` pairs are chosen again too (their sources changed); of
    the `lost` versions (that lost a source), those left with none are recorded withdrawn.
    Returns the versions of every pair touched, as they now stand, for the quality checks."""
    prints = _fingerprints(facts)
    versions = await _stored_versions(
        session, set(zip(series, (f.period for f in facts), strict=True)) | also
    )
    sources = await _stored_sources(session, versions)
    new_versions: list[_Version] = []
    new_sources: list[tuple[_Version, Fact, _Document]] = []
    earlier: dict[int, str] = {}
    restored: set[int] = set()
    now = utcnow()
    # plain tuples: ORM attribute reads cost more than the rest of the loop
    plain = {
        name: _Document(row.id, row.published, row.extractor_version)
        for name, row in documents.items()
    }
    for fact, series_id, print_ in zip(facts, series, prints, strict=True):
        pair = (series_id, fact.period)
        document = plain[fact.doc]
        published = document.published
        held = versions.setdefault(pair, {})
        version = held.get(print_)
        source = (pair, print_, document.id, fact.start)
        if version is None:
            if held:
                counts.updated += 1
            else:
                counts.imported += 1
            status = STATUS_CODES[fact.status]
            version = _Version(
                None, status, fact.value, print_, published, False, None, fact, series_id
            )
            held[print_] = version
            new_versions.append(version)
        elif source in sources:
            counts.ignored += 1
        else:
            counts.updated += 1
        if published and (not version.published or published < version.published):
            version.published = published
            if version.id is not None:
                earlier[version.id] = published
        if source not in sources:
            sources.add(source)
            new_sources.append((version, fact, document))
            latest = version.latest
            if latest is None and version.id is not None:
                restored.add(version.id)
            version.latest = published if latest is None or published > latest else latest
            version.reviewed = version.reviewed or fact.review is not None
    changed = _choose_current(versions)
    await _insert_versions(session, new_versions, now)
    await _insert_sources(session, new_sources, now)
    await _update_stored(session, earlier, changed)
    emptied = {
        version.id
        for held in versions.values()
        for version in held.values()
        if version.id in lost and version.latest is None
    }
    await _record_withdrawals(session, emptied, restored, now)
    return _Known(versions, sources)


class _Known(NamedTuple):
    """The touched pairs' versions and live sources after an import."""

    versions: dict[_Pair, dict[str, _Version]]
    sources: set[_Source]


def _known_values(known: _Known, keys: dict[int, tuple[str, ...]], new: set[int]) -> KnownValues:
    """The touched pairs' versions with a live source, as the checks read them, so that the
    checks need not read back what the import just wrote. Pairs of series this batch has no
    key for (touched only by withdrawals) are left to the store to read. Only a version that
    shares its pair with another carries its documents: the checks of disagreeing versions
    alone look at where a value came from."""
    shared = {pair for pair, held in known.versions.items() if len(held) > 1 and pair[0] in keys}
    documents: dict[tuple[_Pair, str], set[str]] = {}
    if shared:
        for pair, print_, document, _start in known.sources:
            if pair in shared:
                documents.setdefault((pair, print_), set()).add(document)
    values: list[Obs] = []
    covered: dict[int, set[str]] = {}
    for pair, held in known.versions.items():
        key = keys.get(pair[0])
        if key is None:
            continue
        covered.setdefault(pair[0], set()).add(pair[1])
        indicator, area, frequency, measure_, transformation_, unit = key
        for version in held.values():
            if version.latest is None or version.id is None:
                continue
            found = documents.get((pair, version.fingerprint))
            values.append(
                Obs(
                    version.id,
                    indicator,
                    area,
                    frequency,
                    measure_,
                    transformation_,
                    unit,
                    pair[1],
                    version.value,
                    version.status,
                    version.is_current,
                    tuple(sorted(found)) if found else (),
                )
            )
    return KnownValues(values, covered, frozenset(new))


async def _record_withdrawals(
    session: AsyncSession, emptied: set[int], restored: set[int], now: datetime
) -> None:
    """Open a withdrawal for each version left without a source; close those of versions
    that got one back."""
    table = cast(Table, Withdrawal.__table__)
    for chunk in _chunks(sorted(restored)):
        await session.execute(
            update(table)
            .where(table.c.observation_id.in_(chunk), table.c.restored_at.is_(None))
            .values(restored_at=now)
        )
    if emptied:
        rows = [{"observation_id": id_, "withdrawn_at": now} for id_ in sorted(emptied)]
        await session.execute(insert(table), rows)


def _fingerprints(facts: Sequence[Fact]) -> list[str]:
    """`fingerprint` of each fact, computed once per distinct content."""
    found: dict[tuple[float, float | None, float | None, Status], str] = {}
    prints: list[str] = []
    for fact in facts:
        content = (fact.value, fact.of, fact.max, fact.status)
        print_ = found.get(content)
        if print_ is None:
            print_ = found[content] = fingerprint(fact)
        prints.append(print_)
    return prints


async def _stored_versions(
    session: AsyncSession, pairs: set[_Pair]
) -> dict[_Pair, dict[str, _Version]]:
    """Every stored version of the given (series, period) pairs, by pair and fingerprint."""
    found: dict[_Pair, dict[str, _Version]] = {}
    periods = sorted({pair[1] for pair in pairs})
    for chunk in _chunks(sorted({pair[0] for pair in pairs})):
        query = select(
            Observation.id,
            Observation.series_id,
            Observation.period,
            Observation.status,
            Observation.value,
            Observation.fingerprint,
            Observation.published,
            Observation.is_current,
            Observation.chosen_by,
        ).where(Observation.series_id.in_(chunk), Observation.period.in_(periods))
        for id_, series_id, period, status, value, print_, published, current, chosen in (
            await session.execute(query)
        ).all():
            if (series_id, period) in pairs:
                version = _Version(id_, status, value, print_, published, bool(current))
                version.chosen_by = chosen
                found.setdefault((series_id, period), {})[print_] = version
    return found


async def _stored_sources(
    session: AsyncSession, versions: dict[_Pair, dict[str, _Version]]
) -> set[_Source]:
    """The sources of the stored versions; sets each one's newest publication, and whether a
    person reviewed one of them, on the way."""
    by_id = {v.id: (pair, v) for pair, held in versions.items() for v in held.values() if v.id}
    found: set[_Source] = set()
    for chunk in _chunks(sorted(by_id)):
        query = (
            select(
                Provenance.observation_id,
                Provenance.document_id,
                Provenance.start,
                SourceDocument.published,
                Provenance.review_action,
            )
            .join(SourceDocument, SourceDocument.id == Provenance.document_id)
            .where(Provenance.observation_id.in_(chunk))
        )
        rows = (await session.execute(query)).all()
        for observation_id, document_id, start, published, review_action in rows:
            pair, version = by_id[observation_id]
            found.add((pair, version.fingerprint, document_id, start))
            if version.latest is None or published > version.latest:
                version.latest = published
            version.reviewed = version.reviewed or review_action is not None
    return found


class _Changes(NamedTuple):
    """Stored versions to update: ids by their new current flag, and by their new reason."""

    flags: dict[bool, list[int]]
    reasons: dict[str | None, list[int]]


def _choose_current(versions: dict[_Pair, dict[str, _Version]]) -> _Changes:
    """The current version of each pair by the one rule (a version with a source a person
    reviewed beats every version without one; then higher status, then the newer publication
    among its sources, then the higher value; the fingerprint settles full ties, so arrival
    order never does), and the rule that decided (`chosen_by`). New versions get their flag
    and reason; stored ones whose flag or reason changes are returned."""
    changes = _Changes({True: [], False: []}, {})
    for held in versions.values():
        if len(held) == 1:  # most pairs: no ranking to do
            (only,) = held.values()
            candidates = [only] if only.latest is not None else []
            reason = "only" if candidates else None
        else:
            candidates = sorted(
                (version for version in held.values() if version.latest is not None),
                key=_rank,
                reverse=True,
            )
            reason = _reason(candidates)
        best = candidates[0] if candidates else None
        for version in held.values():
            flag = version is best  # a version without sources (all withdrawn) is never current
            chosen = reason if flag else None
            if version.id is not None:
                if version.is_current is not flag:
                    changes.flags[flag].append(version.id)
                if version.chosen_by != chosen:
                    changes.reasons.setdefault(chosen, []).append(version.id)
            version.is_current = flag
            version.chosen_by = chosen
    return changes


def _reason(ranked: Sequence[_Version]) -> str | None:
    """The rule that put the first of the ranked versions ahead of the second."""
    return deciding_rule([_rank(version) for version in ranked[:2]])


def _rank(version: _Version) -> Rank:
    latest = version.latest or ""
    return rank(version.reviewed, version.status, latest, version.value, version.fingerprint)


async def _insert_versions(session: AsyncSession, versions: list[_Version], now: datetime) -> None:
    """Insert the new versions in arrival order and give each its id."""
    if not versions:
        return
    rows = [
        (
            version.series_id,
            fact.period,
            fact.value,
            fact.of,
            fact.max,
            version.status,
            version.published,
            version.fingerprint,
            version.is_current,
            version.chosen_by,
            now,
        )
        for version in versions
        if (fact := version.fact) is not None
    ]
    table = cast(Table, Observation.__table__)
    names = OBSERVATION_COLUMNS[1:]
    ids: Sequence[int]
    if session.get_bind().dialect.name == "postgresql":
        ids = await _reserve_ids(session, "observations", len(rows))
        records = [(id_, *row) for id_, row in zip(ids, rows, strict=True)]
        await _copy(session, table.name, OBSERVATION_COLUMNS, records)
    else:
        returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = []
        for chunk in _chunks(rows, CHUNK // len(names)):
            params = [dict(zip(names, row, strict=True)) for row in chunk]
            ids.extend((await session.scalars(returning, params)).all())
    for version, id_ in zip(versions, ids, strict=True):
        version.id = id_


async def _reserve_ids(session: AsyncSession, table: str, count: int) -> range:
    """`count` consecutive values of a table's id sequence (PostgreSQL), in one round trip.

    Moving the sequence past the block is safe because every writer of the table holds the
    import lock (`lock`); a writer that did not would fail loudly on the primary key."""
    sequence = func.pg_get_serial_sequence(table, "id")
    last = await session.scalar(select(func.setval(sequence, func.nextval(sequence) + count - 1)))
    return range(int(last or 0) - count + 1, int(last or 0) + 1)


async def _insert_sources(
    session: AsyncSession, sources: list[tuple[_Version, Fact, _Document]], now: datetime
) -> None:
    """One provenance row per new (version, document, span start), in arrival order."""
    rows = [
        (
            version.id,
            document.id,
            fact.start,
            fact.end,
            fact.text,
            fact.label,
            document.extractor_version,
            now,
            " ".join(doubt.value for doubt in fact.doubts),
            fact.confidence,
            *_review_columns(fact),
        )
        for version, fact, document in sources
    ]
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        await _copy(session, "provenance", PROVENANCE_COLUMNS, rows)
        return
    table = cast(Table, Provenance.__table__)
    for chunk in _chunks(rows, CHUNK // len(PROVENANCE_COLUMNS)):
        params = [dict(zip(PROVENANCE_COLUMNS, row, strict=True)) for row in chunk]
        await session.execute(insert(table), params)


def _review_columns(fact: Fact) -> tuple[str | None, datetime | None, str | None]:
    """reviewed_by, reviewed_at, review_action of the source a fact gives (None when no person
    reviewed it); the time in UTC, as COPY bypasses the column type's conversion."""
    review = fact.review
    if review is None:
        return None, None, None
    return review.by, as_utc(review.at), review.action


async def _copy(
    session: AsyncSession, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """COPY rows into a table (PostgreSQL): an order of magnitude faster than INSERTs."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(table, records=rows, columns=list(columns))


async def _update_stored(session: AsyncSession, earlier: dict[int, str], changed: _Changes) -> None:
    """Stored versions that got an earlier publication or whose current flag or its reason
    changed."""
    table = cast(Table, Observation.__table__)
    if earlier:
        statement = (
            update(table)
            .where(table.c.id == bindparam("version_id"))
            .values(published=bindparam("earliest"))
        )
        params = [{"version_id": id_, "earliest": pub} for id_, pub in sorted(earlier.items())]
        await session.execute(statement, params)
    for flag, ids in changed.flags.items():
        for chunk in _chunks(sorted(ids)):
            await session.execute(
                update(table).where(table.c.id.in_(chunk)).values(is_current=flag)
            )
    for reason, ids in changed.reasons.items():
        for chunk in _chunks(sorted(ids)):
            await session.execute(
                update(table).where(table.c.id.in_(chunk)).values(chosen_by=reason)
            )


async def bump_revision(session: AsyncSession) -> int:
    """A new data revision for a change that is not an import (a flag resolved): the caches
    keyed on the revision drop what they held."""
    await lock(session)
    return await _bump_revision(session, changed=True)


async def _bump_revision(session: AsyncSession, *, changed: bool) -> int:
    if changed:
        # One UPDATE, so concurrent imports cannot lose an increment.
        await session.execute(
            update(DataRevision)
            .where(DataRevision.id == 1)
            .values(revision=DataRevision.revision + 1, updated_at=utcnow())
        )
    revision = await session.scalar(select(DataRevision.revision).where(DataRevision.id == 1))
    return revision or 0
