"""SDMX data queries: flow and key parsing, content negotiation, the rows behind a message."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from chiso_indicators.observations.queries import ObservationFilter, all_observations
from chiso_indicators.quality.notes import notes_for
from chiso_indicators.sdmx import negotiation, text, xml
from chiso_indicators.sdmx.model import (
    AGENCY,
    DIMENSIONS,
    FLOW,
    SDMX_FREQUENCIES,
    VERSION,
    series_key,
    to_chiso,
)
from chiso_indicators.sdmx.negotiation import Choice, Offer
from chiso_shared.errors import BadRequest, FieldError, NotFound, PayloadTooLarge
from chiso_shared.languages import Language
from chiso_shared.periods import Period
from chiso_shared.quality import QualityNote

Format = Literal["genericdata", "structurespecificdata", "jsondata", "csv"]
GENERIC = "application/vnd.sdmx.genericdata+xml;version=2.1"
SPECIFIC = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
JSON = "application/vnd.sdmx.data+json;version=1.0.0"
CSV = "application/vnd.sdmx.data+csv;version=1.0.0"
CSV2 = "application/vnd.sdmx.data+csv;version=2.0.0"
MEDIA_TYPES = (GENERIC, SPECIFIC, JSON, CSV, CSV2)
FORMATS: dict[str, str] = {
    "genericdata": GENERIC,
    "structurespecificdata": SPECIFIC,
    "jsondata": JSON,
    "csv": CSV,
}
XML_21 = frozenset({"2.1"})
V1 = frozenset({"1.0.0", "1.0"})
LABELS = {"labels": frozenset({"id", "both", "name"})}
_GENERIC = (Offer(GENERIC, XML_21),)
_JSON = (Offer(JSON, V1),)
_CSV = (Offer(CSV, V1, LABELS), Offer(CSV2, frozenset({"2.0.0", "2.0"}), LABELS))
# What a client may ask for (base media type) and what each one gets, the default first.
OFFERS = {
    "application/vnd.sdmx.genericdata+xml": _GENERIC,
    "application/vnd.sdmx.structurespecificdata+xml": (Offer(SPECIFIC, XML_21),),
    "application/vnd.sdmx.data+json": _JSON,
    "application/vnd.sdmx.data+csv": _CSV,
    "application/xml": _GENERIC,
    "text/xml": _GENERIC,
    "application/json": _JSON,
    "text/csv": _CSV,
    "*/*": _GENERIC,
    "application/*": _GENERIC,
}
NO_RESULTS = "No data match the query. / Không có số liệu khớp với truy vấn."
CODE = re.compile(r"^[A-Za-z0-9_@$\-]+$")
Labels = Literal["id", "both", "name"]


@dataclass(frozen=True)
class DataQuery:
    start_period: str | None
    end_period: str | None
    updated_after: datetime | None
    last_n: int | None
    flat: bool
    detail: str
    format: str | None
    labels: str | None = None


def negotiate(accept: str | None, query: DataQuery) -> tuple[str, Labels]:
    """The media type to answer with and, for SDMX-CSV, its `labels` (the Accept parameter,
    or the `labels` query parameter for clients that cannot set headers)."""
    if query.format:
        choice = Choice(FORMATS[query.format], {})
    else:
        choice = negotiation.negotiate(accept, OFFERS, "*/*")
    labels = query.labels or choice.params.get("labels", "id")
    return choice.media_type, "both" if labels == "both" else "name" if labels == "name" else "id"


def check_flow(flow: str) -> None:
    parts = flow.split(",")
    if parts[-1] in ("latest", VERSION) and len(parts) == 3:
        parts = parts[:-1]
    if parts not in ([FLOW], [AGENCY, FLOW], ["all", FLOW]):
        raise NotFound(
            f"No dataflow {flow!r}; this service has {AGENCY},{FLOW},{VERSION}. / Không có luồng "
            f"số liệu {flow!r}; dịch vụ này có {AGENCY},{FLOW},{VERSION}.",
            code="indicators.sdmx_unknown_flow",
            errors=[FieldError(field="path.flow", message="unknown dataflow")],
        )


def parse_key(key: str) -> list[list[str]]:
    """Chiso values per dimension (empty list = any), from `A.38+46.TELECOM_...`."""
    if key in ("all", ""):
        return [[] for _ in DIMENSIONS]
    parts = key.split(".")
    if len(parts) != len(DIMENSIONS):
        names = ".".join(d.id for d in DIMENSIONS)
        raise BadRequest(
            f"The key has {len(parts)} parts; this dataflow's key is {names}. / Khoá có "
            f"{len(parts)} phần; khoá của luồng số liệu này là {names}.",
            code="indicators.sdmx_bad_key",
            errors=[FieldError(field="path.key", message=f"expected {len(DIMENSIONS)} parts")],
        )
    wanted: list[list[str]] = []
    for dimension, part in zip(DIMENSIONS, parts, strict=True):
        values: list[str] = []
        for code in filter(None, part.split("+")):
            value = to_chiso(dimension.id, code) if CODE.match(code) else None
            if value is None:
                raise BadRequest(
                    f"{code!r} is not a code of {dimension.id} ({dimension.codelist}). / {code!r} "
                    f"không phải mã của {dimension.id} ({dimension.codelist}).",
                    code="indicators.sdmx_bad_key",
                    errors=[FieldError(field=f"path.key.{dimension.id}", message="unknown code")],
                )
            values.append(value)
        wanted.append(values)
    return wanted


def period_bound(value: str | None, name: str) -> str | None:
    """A startPeriod or endPeriod as given, refused with a 400 when it is not a period."""
    if value is not None and Period.try_parse(value) is None:
        raise BadRequest(
            f"{name} {value!r} is not a period such as 2023, 2023-Q1 or 2023-11. / {name} "
            f"{value!r} không phải kỳ số liệu như 2023, 2023-Q1 hoặc 2023-11.",
            code="indicators.bad_period",
            errors=[FieldError(field=f"query.{name}", message="not a period")],
        )
    return value


def _open_rules(notes: Iterable[QualityNote]) -> str:
    """QUALITY_FLAG: the rule codes of the open flags, each once, space-separated."""
    return " ".join(dict.fromkeys(note.rule for note in notes if note.status == "open"))


async def render(
    session: AsyncSession,
    flow: str,
    key: str,
    query: DataQuery,
    media_type: str,
    *,
    cap: int,
    language: Language,
    labels: Labels,
) -> bytes:
    check_flow(flow)
    wanted = parse_key(key)
    by_id = {d.id: values for d, values in zip(DIMENSIONS, wanted, strict=True)}
    filters = ObservationFilter(
        frequencies=by_id["FREQ"] or list(SDMX_FREQUENCIES),
        areas=by_id["REF_AREA"],
        indicators=by_id["INDICATOR"],
        measures=by_id["MEASURE"],
        transformations=by_id["TRANSFORMATION"],
        units=by_id["UNIT_MEASURE"],
        start_period=period_bound(query.start_period, "startPeriod"),
        end_period=period_bound(query.end_period, "endPeriod"),
        updated_after=query.updated_after,
        last_n=query.last_n,
    )
    rows = await all_observations(session, filters, cap=cap)
    if len(rows) > cap:
        raise PayloadTooLarge(
            f"The query matches more than {cap} observations; narrow the key or the periods. / "
            f"Truy vấn khớp hơn {cap} quan sát; hãy thu hẹp khoá hoặc các kỳ.",
            code="indicators.sdmx_too_large",
            errors=[FieldError(field="path.key", message="too many observations")],
        )
    if not rows:
        raise NotFound(NO_RESULTS, code="indicators.sdmx_no_results")
    with_values = query.detail not in ("serieskeysonly", "nodata")
    notes = await notes_for(session, [row[0].id for row in rows]) if with_values else {}
    grouped: dict[int, tuple[tuple[str, ...], list[xml.Obs]]] = {}
    for observation, series in rows:
        _, observations = grouped.setdefault(series.id, (series_key(series), []))
        if with_values:
            flags = _open_rules(notes.get(observation.id, ()))
            observations.append((observation.period, observation.value, observation.status, flags))
    data: list[xml.SeriesData] = list(grouped.values())
    if media_type == GENERIC:
        return xml.generic_data(data, flat=query.flat, detail=query.detail)
    if media_type == SPECIFIC:
        return xml.structure_specific_data(data, flat=query.flat, detail=query.detail)
    if media_type == JSON:
        return text.json_data(data, flat=query.flat, detail=query.detail, language=language)
    version = "2.0.0" if media_type == CSV2 else "1.0.0"
    return text.csv_data(
        data, detail=query.detail, labels=labels, language=language, version=version
    )
