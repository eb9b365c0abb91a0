"""POST dataValueSets: DHIS2 data values turned into facts and imported by the one importer."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from chiso_indicators.dhis2.mapping import from_category_combo
from chiso_indicators.observations import importer
from chiso_indicators.observations.schemas import PUBLISHED_PATTERN, DocumentMeta, FactBatch
from chiso_indicators.quality.rules import RuleBook
from chiso_shared.catalogue import indicators, resolve_area, scope_of
from chiso_shared.errors import FieldError, Unprocessable
from chiso_shared.facts import Fact, Role, Status
from chiso_shared.periods import Period

_STATUSES = {"A": Status.actual, "E": Status.estimate}


class DataValueIn(BaseModel):
    dataElement: str = Field(max_length=200, examples=["telecom.subscribers.total"])
    period: str = Field(max_length=20, examples=["2023"])
    orgUnit: str = Field(max_length=16, examples=["38"])
    categoryOptionCombo: str = Field(default="LEVEL_COUNT", max_length=64)
    attributeOptionCombo: str = Field(default="ACTUAL", max_length=16)
    value: str | float = Field(examples=["2980000"])
    # DHIS2's own bound; an export's comment carries its flags' messages and must read back.
    comment: str | None = Field(default=None, max_length=50_000, examples=["OBS_STATUS:E"])


class DataValueSetIn(BaseModel):
    dataSet: str | None = Field(default=None, max_length=200)
    completeDate: str | None = Field(default=None, pattern=PUBLISHED_PATTERN)
    dataValues: list[DataValueIn]


class ImportCount(BaseModel):
    imported: int
    updated: int
    ignored: int
    deleted: int = 0


class Dhis2ImportSummary(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "responseType": "ImportSummary",
                    "status": "SUCCESS",
                    "dryRun": False,
                    "importCount": {"imported": 2, "updated": 0, "ignored": 0, "deleted": 0},
                    "conflicts": [],
                    "revision": 7,
                }
            ]
        }
    )

    responseType: Literal["ImportSummary"] = "ImportSummary"
    status: Literal["SUCCESS", "WARNING"]
    dryRun: bool
    importCount: ImportCount
    conflicts: list[dict[str, str]] = Field(default_factory=list)
    revision: int


def _status(value: DataValueIn) -> Status | None:
    if value.attributeOptionCombo.upper() == "TARGET":
        return Status.target
    if not value.comment or not value.comment.startswith("OBS_STATUS:"):
        return Status.actual
    # An export's comment goes on with the messages of open quality flags after "; ".
    status = value.comment.removeprefix("OBS_STATUS:").split(";", 1)[0]
    return _STATUSES.get(status.strip())


def _period(value: DataValueIn) -> str | None:
    """The period in chiso's form (`2023Q1` -> `2023-Q1`), None when DHIS2 has no such one."""
    try:
        return str(Period.from_dhis2(value.period))
    except ValueError:
        return None


def to_batch(payload: DataValueSetIn) -> FactBatch:
    """The facts, or 422 naming every bad field (then nothing is written)."""
    known_indicators = {item.code for item in indicators()}
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True)
    name = "dhis2-" + hashlib.sha256(canonical.encode()).hexdigest()[:24]
    errors: list[FieldError] = []
    facts: list[Fact] = []
    for index, value in enumerate(payload.dataValues):
        at = f"body.dataValues.{index}"
        period = _period(value)
        combo = from_category_combo(value.categoryOptionCombo)
        status = _status(value)
        number = _number(value.value)
        checks = (
            (value.dataElement in known_indicators, "dataElement", "unknown data element"),
            (resolve_area(value.orgUnit) is not None, "orgUnit", "unknown org unit code"),
            (period is not None, "period", "not a DHIS2 period such as 2023, 2023Q1, 202311"),
            (combo is not None, "categoryOptionCombo", "unknown, e.g. LEVEL_COUNT"),
            (
                value.attributeOptionCombo.upper() in ("ACTUAL", "TARGET"),
                "attributeOptionCombo",
                "ACTUAL or TARGET",
            ),
            (
                status is not None,
                "comment",
                "OBS_STATUS must be A or E (targets: attributeOptionCombo TARGET)",
            ),
            (number is not None, "value", "not a number"),
        )
        bad = [FieldError(field=f"{at}.{f}", message=m) for ok, f, m in checks if not ok]
        if bad:
            errors.extend(bad)
            continue
        assert period is not None and combo is not None and status is not None
        assert number is not None
        role, basis, unit = combo
        facts.append(
            Fact(
                doc=name,
                start=index,
                end=index,
                text=str(value.value)[:200],
                value=number,
                unit=unit,
                role=role,
                basis=basis if role is not Role.level else None,
                period=period,
                status=status,
                indicator=value.dataElement,
                scope=scope_of(resolve_area(value.orgUnit) or value.orgUnit),
                label=payload.dataSet or "DHIS2 dataValueSets import",
            )
        )
    if errors:
        raise Unprocessable(
            f"{len(errors)} data value field(s) are invalid; nothing was imported.",
            code="indicators.dhis2_invalid",
            errors=errors[:100],
        )
    document = DocumentMeta(name=name, title=payload.dataSet, published=payload.completeDate)
    return FactBatch(documents=[document], facts=facts)


def _number(value: str | float) -> float | None:
    if isinstance(value, float | int):
        return float(value)
    try:
        return float(value.strip())
    except ValueError:
        return None


async def import_value_set(
    session: AsyncSession, payload: DataValueSetIn, *, dry_run: bool, book: RuleBook | None = None
) -> Dhis2ImportSummary:
    batch = to_batch(payload)
    summary = await importer.import_facts(session, batch, dry_run=dry_run, key=None, book=book)
    return Dhis2ImportSummary(
        status="WARNING" if summary.conflicts else "SUCCESS",
        dryRun=dry_run,
        importCount=ImportCount(
            imported=summary.imported, updated=summary.updated, ignored=summary.ignored
        ),
        conflicts=[{"object": c.field, "value": c.message} for c in summary.conflicts],
        revision=summary.revision,
    )
