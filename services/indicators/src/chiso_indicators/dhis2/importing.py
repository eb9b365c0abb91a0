"""POST dataValueSets: DHIS2 data values turned into facts and imported by the one importer.

As DHIS2 does: `period`, `orgUnit` and `attributeOptionCombo` given on the set hold for every
value that gives none of its own; the valid values are imported and each invalid one is left
out with a conflict (DHIS2's error code, the offending identifier, the positions of the values
it hit); a set whose own `dataSet`, `orgUnit` or `attributeOptionCombo` is unknown is refused
whole (status ERROR). Identifiers are matched by code, then by the uid `/api/...` serves.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from chiso_indicators.dhis2 import metadata
from chiso_indicators.dhis2.mapping import (
    DEFAULT_COMBO,
    MEASURES,
    category_combo,
    from_category_combo,
)
from chiso_indicators.dhis2.webmessage import (
    Dhis2ImportConflict,
    Dhis2ImportCount,
    Dhis2ImportOptions,
    Dhis2ImportSummary,
)
from chiso_indicators.observations import importer
from chiso_indicators.observations.schemas import PUBLISHED_PATTERN, DocumentMeta, FactBatch
from chiso_indicators.quality.rules import RuleBook
from chiso_shared.catalogue import area_codes, indicators, resolve_area, scope_of
from chiso_shared.facts import Basis, Fact, Role, Status, Unit
from chiso_shared.periods import Period

_STATUSES = {"A": Status.actual, "E": Status.estimate}


class DataValueIn(BaseModel):
    # Every field may be missing or wrong: that makes a conflict for the value, not a 400.
    dataElement: str | None = Field(
        default=None, max_length=200, examples=["telecom.subscribers.total"]
    )
    period: str | None = Field(default=None, max_length=20, examples=["2023"])
    orgUnit: str | None = Field(default=None, max_length=64, examples=["38"])
    categoryOptionCombo: str | None = Field(default=None, max_length=64, examples=["LEVEL_COUNT"])
    attributeOptionCombo: str | None = Field(default=None, max_length=64, examples=["ACTUAL"])
    value: str | float | None = Field(default=None, examples=["2980000"])
    # DHIS2's own bound; an export's comment carries its flags' messages and must read back.
    comment: str | None = Field(default=None, max_length=50_000, examples=["OBS_STATUS:E"])


class DataValueSetIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dataSet": "CHISO_YEARLY",
                    "completeDate": "2024-01-15",
                    "period": "2023",
                    "orgUnit": "38",
                    "attributeOptionCombo": "ACTUAL",
                    "dataValues": [
                        {
                            "dataElement": "telecom.subscribers.total",
                            "categoryOptionCombo": "LEVEL_COUNT",
                            "value": "2980000",
                            "comment": "OBS_STATUS:E",
                        },
                        {
                            "dataElement": "telecom.subscribers.total",
                            "categoryOptionCombo": "CHANGE_PREVIOUS_PERCENT",
                            "value": "4.44",
                        },
                    ],
                },
                {
                    "dataValues": [
                        {
                            "dataElement": "telecom.subscribers.total",
                            "period": "2023Q4",
                            "orgUnit": "38",
                            "value": "2985000",
                        }
                    ]
                },
            ]
        }
    )

    dataSet: str | None = Field(default=None, max_length=200, examples=["CHISO_YEARLY"])
    completeDate: str | None = Field(default=None, pattern=PUBLISHED_PATTERN)
    period: str | None = Field(default=None, max_length=20, examples=["2023"])
    orgUnit: str | None = Field(default=None, max_length=64, examples=["38"])
    attributeOptionCombo: str | None = Field(default=None, max_length=64, examples=["ACTUAL"])
    dataValues: list[DataValueIn]


# DHIS2's data import error codes (ErrorCode E76xx): the property at fault, and the message in
# English (DHIS2's own words) and Vietnamese.
_ERRORS = {
    "E7600": ("dataSet", "Data set not found or not accessible", "Không tìm thấy bộ dữ liệu"),
    "E7603": ("orgUnit", "Org unit not found or not accessible", "Không tìm thấy đơn vị tổ chức"),
    "E7604": (
        "attributeOptionCombo",
        "Attribute option combo not found or not accessible",
        "Không tìm thấy tổ hợp thuộc tính (ACTUAL hoặc TARGET)",
    ),
    "E7610": (
        "dataElement",
        "Data element not found or not accessible",
        "Không tìm thấy phần tử dữ liệu (chỉ tiêu)",
    ),
    "E7611": (
        "period",
        "Period not valid",
        "Kỳ không hợp lệ (ví dụ 2023, 2023S1, 2023Q1, 202311, 20231220)",
    ),
    "E7612": (
        "orgUnit",
        "Organisation unit not found or not accessible",
        "Không tìm thấy đơn vị tổ chức",
    ),
    "E7613": (
        "categoryOptionCombo",
        "Category option combo not found or not accessible for writing data",
        "Không tìm thấy tổ hợp phân tổ (ví dụ LEVEL_COUNT)",
    ),
    "E7615": (
        "attributeOptionCombo",
        "Attribute option combo not found or not accessible for writing data",
        "Không tìm thấy tổ hợp thuộc tính (ACTUAL hoặc TARGET)",
    ),
    "E7619": (
        "value",
        "Value must match data element's `NUMBER` type constraints",
        "Giá trị phải là số",
    ),
    "E7620": (
        "comment",
        "Invalid comment (OBS_STATUS must be A or E)",
        "Ghi chú không hợp lệ (OBS_STATUS phải là A hoặc E)",
    ),
}


@dataclass
class _Conflicts:
    """Conflicts as DHIS2 lists them: one per (error, offending identifier), with the
    positions of every value it hit."""

    found: dict[tuple[str, str, str], Dhis2ImportConflict] = field(default_factory=dict)
    rejected: set[int] = field(default_factory=set)

    def add(self, index: int | None, code: str, given: object) -> None:
        prop, en, vi = _ERRORS[code]
        obj = "" if given is None else str(given)
        key = (code, prop, obj)
        conflict = self.found.get(key)
        if conflict is None:
            conflict = self.found[key] = Dhis2ImportConflict(
                object=obj,
                objects={prop: obj},
                value=f"{en}: `{obj}`. / {vi}: `{obj}`.",
                errorCode=code,
                property=prop,
                indexes=[],
            )
        if index is not None:
            conflict.indexes.append(index)
            self.rejected.add(index)

    def listed(self) -> list[Dhis2ImportConflict]:
        return list(self.found.values())


def _lookup(
    codes: set[str], kind: metadata.Kind, alias: Callable[[str], str | None] | None = None
) -> Callable[[str | None], str | None]:
    """The code an identifier (a code, the uid `/api/...` gives it, or an `alias` the
    catalogue resolves) stands for."""
    by_uid = {id_: code for id_, code in metadata.codes_by_uid(kind).items() if code in codes}

    def resolve(identifier: str | None) -> str | None:
        if identifier is None:
            return None
        if identifier in codes:
            return identifier
        return by_uid.get(identifier) or (alias(identifier) if alias else None)

    return resolve


@dataclass(frozen=True)
class _Resolvers:
    data_element: Callable[[str | None], str | None]
    org_unit: Callable[[str | None], str | None]
    combo: Callable[[str | None], str | None]
    data_set: Callable[[str | None], str | None]

    @classmethod
    def build(cls) -> _Resolvers:
        combo_codes = {*metadata.codes_by_uid("categoryOptionCombos").values()}
        return cls(
            data_element=_lookup({item.code for item in indicators()}, "dataElements"),
            # An area by its code (`38`), ISO's (`iso:VN-21`) or, for one release, chiso's
            # former one (`VN-38`).
            org_unit=_lookup(set(area_codes()), "organisationUnits", resolve_area),
            combo=_lookup(combo_codes | {c.lower() for c in combo_codes}, "categoryOptionCombos"),
            data_set=_lookup(set(metadata.data_set_codes()), "dataSets"),
        )


_UNIT_NAMES = {unit.value for unit in Unit}
_UNITS = {item.code: Unit(item.unit) for item in indicators() if item.unit in _UNIT_NAMES}


_UNGIVEN = ""  # a combo the value does not give: DHIS2's default


def _shape(combo: str | None, indicator: str | None) -> tuple[Role, Basis | None, Unit] | None:
    """Role, basis and unit of a categoryOptionCombo code (None: unknown); DHIS2's `default`
    (or none given) is the level in the indicator's own unit."""
    if combo is None:
        return None
    if combo in (_UNGIVEN, DEFAULT_COMBO):
        unit = _UNITS.get(indicator or "", Unit.count)
        return from_category_combo(category_combo("level", unit.value))
    return from_category_combo(combo)


def _measure(combo: str | None) -> str | None:
    """ACTUAL or TARGET for an attributeOptionCombo code (None: unknown)."""
    if combo in (_UNGIVEN, DEFAULT_COMBO):
        return "ACTUAL"
    return combo.upper() if combo and combo.upper() in MEASURES else None


def _status(measure: str, comment: str | None) -> Status | None:
    if measure == "TARGET":
        return Status.target
    if not comment or not comment.startswith("OBS_STATUS:"):
        return Status.actual
    # An export's comment goes on with the messages of open quality flags after "; ".
    status = comment.removeprefix("OBS_STATUS:").split(";", 1)[0]
    return _STATUSES.get(status.strip())


def _period(text: str | None) -> str | None:
    """The period in chiso's form (`2023Q1` -> `2023-Q1`), None when DHIS2 has no such one."""
    try:
        return str(Period.from_dhis2(text)) if text else None
    except ValueError:
        return None


def _number(value: str | float | None) -> float | None:
    """The value as a finite number, None when it is none (DHIS2's NUMBER takes no `nan`,
    `inf` or `1_000`, which Python's float() would)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        if "_" in value:
            return None
        try:
            value = float(value.strip())
        except ValueError:
            return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass
class Checked:
    """The facts of the valid values, and the conflicts of the others."""

    batch: FactBatch
    conflicts: _Conflicts
    refused: bool  # the set itself is invalid: nothing of it is imported


def _set_conflicts(payload: DataValueSetIn, find: _Resolvers, conflicts: _Conflicts) -> None:
    """DHIS2 refuses a set whose own data set, org unit or attribute option combo it does not
    know (E7600, E7603, E7604)."""
    if payload.dataSet is not None and find.data_set(payload.dataSet) is None:
        conflicts.add(None, "E7600", payload.dataSet)
    if payload.orgUnit is not None and find.org_unit(payload.orgUnit) is None:
        conflicts.add(None, "E7603", payload.orgUnit)
    aoc = payload.attributeOptionCombo
    if aoc is not None and _measure(find.combo(aoc)) is None:
        conflicts.add(None, "E7604", aoc)


def check(payload: DataValueSetIn) -> Checked:
    find = _Resolvers.build()
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True)
    name = "dhis2-" + hashlib.sha256(canonical.encode()).hexdigest()[:24]
    conflicts = _Conflicts()
    _set_conflicts(payload, find, conflicts)
    document = DocumentMeta(name=name, title=payload.dataSet, published=payload.completeDate)
    if conflicts.found:
        conflicts.rejected.update(range(len(payload.dataValues)))
        return Checked(FactBatch(documents=[document], facts=[]), conflicts, refused=True)
    facts = []
    for index, value in enumerate(payload.dataValues):
        fact = _fact(name, index, value, payload, find, conflicts)
        if fact is not None:
            facts.append(fact)
    return Checked(FactBatch(documents=[document], facts=facts), conflicts, refused=False)


def _fact(
    doc: str,
    index: int,
    value: DataValueIn,
    payload: DataValueSetIn,
    find: _Resolvers,
    conflicts: _Conflicts,
) -> Fact | None:
    """The fact of one data value, or None after adding its conflicts."""
    element = find.data_element(value.dataElement)
    period_text = value.period or payload.period
    period = _period(period_text)
    area = find.org_unit(value.orgUnit or payload.orgUnit)
    coc = value.categoryOptionCombo
    shape = _shape(_UNGIVEN if coc is None else find.combo(coc), element)
    aoc = value.attributeOptionCombo or payload.attributeOptionCombo
    measure = _measure(_UNGIVEN if aoc is None else find.combo(aoc))
    status = _status(measure, value.comment) if measure else Status.actual
    number = _number(value.value)
    checks = (
        (element, "E7610", value.dataElement),
        (period, "E7611", period_text),
        (area, "E7612", value.orgUnit or payload.orgUnit),
        (shape, "E7613", coc),
        (measure, "E7615", aoc),
        (status, "E7620", value.comment),
        (number, "E7619", value.value),
    )
    bad = False
    for found, code, given in checks:
        if found is None:
            conflicts.add(index, code, given)
            bad = True
    if bad:
        return None
    assert element and period and area and shape and status and number is not None
    role, basis, unit = shape
    return Fact(
        doc=doc,
        start=index,
        end=index,
        text=str(value.value)[:200],
        value=number,
        unit=unit,
        role=role,
        basis=basis if role is not Role.level else None,
        period=period,
        status=status,
        indicator=element,
        scope=scope_of(area),  # the facts' contract names areas as `VN-38`
        label=payload.dataSet or "DHIS2 dataValueSets import",
    )


async def import_value_set(
    session: AsyncSession,
    payload: DataValueSetIn,
    *,
    dry_run: bool,
    book: RuleBook | None = None,
    id_scheme: str = "CODE",
) -> Dhis2ImportSummary:
    checked = check(payload)
    conflicts = checked.conflicts
    options = Dhis2ImportOptions(dryRun=dry_run, idSchemes={"idScheme": id_scheme})
    complete = payload.completeDate or "false"
    if checked.refused:
        return Dhis2ImportSummary(
            status="ERROR",
            importOptions=options,
            description="The data value set was refused; nothing was imported. / "
            "Bộ giá trị bị từ chối; không giá trị nào được nhập.",
            importCount=Dhis2ImportCount(ignored=len(payload.dataValues)),
            conflicts=conflicts.listed(),
            rejectedIndexes=sorted(conflicts.rejected),
            dataSetComplete=complete,
        )
    count = Dhis2ImportCount(ignored=len(conflicts.rejected))
    revision = None
    if checked.batch.facts:
        summary = await importer.import_facts(
            session, checked.batch, dry_run=dry_run, key=None, book=book
        )
        count.imported, count.updated = summary.imported, summary.updated
        count.ignored += summary.ignored
        # A dry run writes nothing, so it has no revision of its own to report.
        revision = None if dry_run else summary.revision
    return Dhis2ImportSummary(
        status="WARNING" if conflicts.found else "SUCCESS",
        importOptions=options,
        description="Import process completed successfully. / Nhập dữ liệu hoàn tất.",
        importCount=count,
        conflicts=conflicts.listed(),
        rejectedIndexes=sorted(conflicts.rejected),
        dataSetComplete=complete,
        revision=revision,
    )
