"""Extraction cases kept as data (cases/*.toml, format in cases/README.md): the loader, which
rejects a malformed file with its path and the reason, and the check of one case."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chiso_ingest.extraction import extract
from chiso_shared.facts import Basis, DoubtCode, Fact, Role, Status, Unit
from chiso_shared.periods import Period

CASES_DIR = Path(__file__).parent / "cases"

Nullable = Literal["item", "basis", "of", "max", "indicator", "scope", "label"]
# The fact fields an expectation may name, in the order failure messages show them.
FIELDS = (
    "value", "unit", "item", "role", "basis", "of", "max",
    "period", "status", "indicator", "scope", "label", "doubts",
)  # fmt: skip


class CaseFileError(ValueError):
    """A case file that cannot be read as cases; the message names the file and the reason."""


class Expected(BaseModel):
    """One fact a case expects: its number as written and only the fields that matter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1)
    nth: int | None = Field(default=None, ge=1)
    value: float | None = None
    unit: Unit | None = None
    item: str | None = None
    role: Role | None = None
    basis: Basis | None = None
    of: float | None = None
    max: float | None = None
    period: str | None = None
    status: Status | None = None
    indicator: str | None = None
    scope: str | None = None
    label: str | None = None
    doubts: tuple[DoubtCode, ...] | None = None  # all of them, in `DoubtCode` order
    unset: tuple[Nullable, ...] = ()

    @field_validator("period")
    @classmethod
    def _check_period(cls, period: str | None) -> str | None:
        if period is not None and Period.try_parse(period) is None:
            raise ValueError(f"period {period!r} does not follow the period grammar")
        return period

    def checked(self) -> dict[str, object]:
        """The fields this expectation names, with the value each must have."""
        data = self.model_dump(mode="json")
        return {k: data[k] for k in FIELDS if k in self.model_fields_set} | dict.fromkeys(
            self.unset
        )


class Case(BaseModel):
    """One behaviour: a short text and what extraction must (and must not) find in it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    why: str = Field(pattern=r"^[^\n]+$")  # one line
    text: str = Field(min_length=1)
    header: bool = True
    published: str | None = None
    scope: str | None = None
    expect: tuple[Expected, ...] = ()
    absent: tuple[str, ...] = ()
    count: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _asserts_something(self) -> Case:
        if not (self.expect or self.absent or self.count is not None):
            raise ValueError(f"case {self.name!r} expects nothing: give expect, absent or count")
        keys = [(e.text, e.nth) for e in self.expect]
        if len(set(keys)) != len(keys):
            raise ValueError(f"case {self.name!r} expects the same number twice; use nth")
        return self


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    header: str = ""
    case: tuple[Case, ...] = ()

    @model_validator(mode="after")
    def _has_cases(self) -> CaseFile:
        if not self.case:
            raise ValueError("no [[case]] in the file")
        return self


@dataclass(frozen=True)
class LoadedCase:
    """A case with the document it runs on (the file's header, unless turned off)."""

    case: Case
    path: Path
    document: str


def _where(loc: tuple[int | str, ...], data: dict[str, object]) -> str:
    """`case 'name' > expect[0] > valeu` for pydantic's ('case', 3, 'expect', 0, 'valeu')."""
    parts = [str(p) for p in loc]
    cases = data.get("case")
    if len(loc) > 1 and isinstance(cases, list) and isinstance(loc[1], int):
        case = cases[loc[1]]
        name = case.get("name") if isinstance(case, dict) else None
        parts[:2] = [f"case {name!r}" if name else f"case #{loc[1] + 1}"]
    if len(parts) > 2 and parts[1] in ("expect", "absent") and parts[2].isdigit():
        parts[1:3] = [f"{parts[1]}[{parts[2]}]"]
    return " > ".join(parts) or "file"


def _read(path: Path) -> CaseFile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise CaseFileError(f"{path.name}: not TOML: {error}") from error
    try:
        return CaseFile.model_validate(data)
    except ValidationError as error:
        reasons = [f"{_where(e['loc'], data)}: {e['msg']}" for e in error.errors()]
        raise CaseFileError(f"{path.name}: " + "; ".join(reasons)) from error


def _loaded(path: Path, file: CaseFile, case: Case) -> LoadedCase:
    document = (file.header if case.header else "") + case.text
    for number in [e.text for e in case.expect] + list(case.absent):
        if number not in document:
            raise CaseFileError(f"{path.name}: case {case.name!r} names {number!r}, not in text")
    return LoadedCase(case, path, document)


def load_cases(directory: Path = CASES_DIR) -> list[LoadedCase]:
    """Every case of every *.toml file in `directory`; names are unique across files."""
    loaded: dict[str, LoadedCase] = {}
    for path in sorted(directory.glob("*.toml")):
        file = _read(path)
        for case in file.case:
            if case.name in loaded:
                first = loaded[case.name].path.name
                raise CaseFileError(f"{path.name}: case name {case.name!r} also in {first}")
            loaded[case.name] = _loaded(path, file, case)
    if not loaded:
        raise CaseFileError(f"{directory}: no case files")
    return list(loaded.values())


def _show(fact: Fact) -> str:
    fields = " ".join(
        f"{k}={v!r}" for k in FIELDS if (v := fact.model_dump(mode="json")[k]) is not None
    )
    return f"  {fact.text!r} @{fact.start}: {fields}"


def _pick(expected: Expected, facts: list[Fact]) -> tuple[Fact | None, str]:
    same = [f for f in facts if f.text == expected.text]
    if expected.nth is None and len(same) != 1:
        return None, f"{expected.text!r}: {len(same)} facts with this text, expected 1"
    index = (expected.nth or 1) - 1
    if index >= len(same):
        return None, f"{expected.text!r}: no fact #{index + 1} with this text ({len(same)} found)"
    return same[index], ""


def _mismatches(expected: Expected, facts: list[Fact]) -> list[str]:
    fact, problem = _pick(expected, facts)
    if fact is None:
        return [problem]
    found = fact.model_dump(mode="json")
    return [
        f"{expected.text!r}: {field} is {found[field]!r}, expected {want!r}"
        for field, want in expected.checked().items()
        if found[field] != want
    ]


def _invariants(document: str, facts: list[Fact]) -> list[str]:
    # Offsets count code points of the NFC text, whatever form the case file is saved in.
    nfc = unicodedata.normalize("NFC", document)
    wrong = [
        f"{f.text!r}: span is {nfc[f.start : f.end]!r}"
        for f in facts
        if nfc[f.start : f.end] != f.text
    ]
    if [f.start for f in facts] != sorted(f.start for f in facts):
        wrong.append("facts are not sorted by start")
    return wrong


def problems(loaded: LoadedCase, facts: list[Fact]) -> list[str]:
    """Every way `facts` differ from what the case expects; empty when the case holds."""
    case = loaded.case
    found = _invariants(loaded.document, facts)
    for expected in case.expect:
        found += _mismatches(expected, facts)
    found += [
        f"{n!r}: expected no fact, found one"
        for n in case.absent
        if any(f.text == n for f in facts)
    ]
    if case.count is not None and len(facts) != case.count:
        found.append(f"{len(facts)} facts, expected {case.count}")
    return found


def run(loaded: LoadedCase) -> list[Fact]:
    case = loaded.case
    return extract(loaded.document, doc="case.txt", published=case.published, scope=case.scope)


def report(loaded: LoadedCase, facts: list[Fact], found: list[str]) -> str:
    """What a failing case prints: which case, its text, the facts found and what is wrong."""
    text = "\n".join(f"  | {line}" for line in loaded.document.splitlines())
    shown = "\n".join(_show(f) for f in facts) or "  (none)"
    wrong = "\n".join(f"  - {p}" for p in found)
    return (
        f"case {loaded.case.name!r} ({loaded.path.name}): {loaded.case.why}\n"
        f"text:\n{text}\nfacts found:\n{shown}\nwrong:\n{wrong}"
    )
