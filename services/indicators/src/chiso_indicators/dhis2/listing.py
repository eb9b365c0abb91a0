"""DHIS2's metadata list parameters: `fields` (with `*`, `:all`, presets and `ref[sub,fields]`),
`filter=property:operator:value` and paging (`paging`, `page`, `pageSize`, the `pager`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import ceil
from typing import Any

from chiso_shared.errors import FieldError, Unprocessable

# DHIS2 lists `id,displayName` when no fields are asked for.
DEFAULT_FIELDS = "id,displayName"
_PRESETS = {
    ":identifiable": ("id", "code", "name", "displayName"),
    ":nameable": (
        "id",
        "code",
        "name",
        "displayName",
        "shortName",
        "displayShortName",
        "description",
    ),
}
_ALL = ("*", ":all", ":owner")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    sub: tuple[FieldSpec, ...] | None = None


def parse_fields(text: str) -> tuple[FieldSpec, ...]:
    """`id,name,parent[id,code]` -> its field specs; raises 422 on unbalanced brackets."""
    specs, rest = _parse(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise _bad("fields", f"unbalanced ']' in {text!r}")
    return specs


def _parse(text: str, at: int) -> tuple[tuple[FieldSpec, ...], int]:
    specs: list[FieldSpec] = []
    name = ""
    while at < len(text):
        char = text[at]
        if char == "[":
            sub, at = _parse(text, at + 1)
            if at >= len(text) or text[at] != "]":
                raise _bad("fields", f"unbalanced '[' in {text!r}")
            specs.append(FieldSpec(name, sub))
            name = ""
        elif char == "]":
            break
        elif char == ",":
            if name:
                specs.append(FieldSpec(name))
            name = ""
        else:
            name += char
        at += 1
    if name:
        specs.append(FieldSpec(name))
    return tuple(specs), at


def select(
    item: Mapping[str, Any], specs: Sequence[FieldSpec], index: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The fields of `item` that `specs` ask for; references (`{"id": ...}`) are expanded
    from `index` when sub-fields are asked for. Unknown fields are left out, as DHIS2 does."""
    chosen: dict[str, Any] = {}
    for spec in specs:
        if spec.name in _ALL:
            chosen.update(item)
        elif spec.name in _PRESETS:
            chosen.update({key: item[key] for key in _PRESETS[spec.name] if key in item})
        elif spec.name in item:
            value = item[spec.name]
            if spec.sub is not None:
                value = _expand(value, spec.sub, index)
            chosen[spec.name] = value
    return chosen


def _expand(value: Any, specs: Sequence[FieldSpec], index: Mapping[str, Mapping[str, Any]]) -> Any:
    if isinstance(value, list):
        return [_expand(part, specs, index) for part in value]
    if isinstance(value, dict):
        full = index.get(value.get("id", ""), value)
        return select(full, specs, index)
    return value


_OPERATORS = ("eq", "!eq", "ne", "in", "!in", "like", "ilike", "!like", "!ilike", "null", "!null")


def _value(item: Mapping[str, Any], path: str) -> Any:
    current: Any = item
    for part in path.split("."):
        current = current.get(part) if isinstance(current, Mapping) else None
    return current


def _matches(item: Mapping[str, Any], prop: str, operator: str, operand: str) -> bool:
    value = _value(item, prop)
    text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    if operator in ("null", "!null"):
        return (value is None) == (operator == "null")
    if operator in ("eq", "!eq", "ne"):
        return (text == operand) == (operator == "eq")
    if operator in ("in", "!in"):
        options = operand.strip("[]").split(",")
        return (text in options) == (operator == "in")
    found = operand.lower() in text.lower()
    return found == (not operator.startswith("!"))


def apply_filters(
    items: Sequence[Mapping[str, Any]], filters: Sequence[str]
) -> list[Mapping[str, Any]]:
    """The items every `property:operator:value` filter keeps (DHIS2's default AND)."""
    parsed = []
    for position, text in enumerate(filters):
        prop, _, rest = text.partition(":")
        operator, _, operand = rest.partition(":")
        if not prop or operator not in _OPERATORS:
            raise _bad(
                f"filter.{position}",
                f"{text!r} is not property:operator:value with an operator among "
                f"{', '.join(_OPERATORS)}",
            )
        parsed.append((prop, operator, operand))
    return [item for item in items if all(_matches(item, *f) for f in parsed)]


def _bad(field: str, message: str) -> Unprocessable:
    # 422, as every bad query parameter of chiso's reads.
    return Unprocessable(
        f"{message}. / Tham số {field.split('.')[0]} không hợp lệ.",
        code="indicators.dhis2_bad_query",
        errors=[FieldError(field=f"query.{field}", message=message)],
    )


@dataclass(frozen=True)
class Paging:
    paging: bool
    page: int
    page_size: int


def page_of(
    items: Sequence[dict[str, Any]], paging: Paging, path: str, query: str
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of `items` and DHIS2's `pager` (None with `paging=false`: every item)."""
    if not paging.paging:
        return list(items), None
    total = len(items)
    count = max(1, ceil(total / paging.page_size))
    start = (paging.page - 1) * paging.page_size
    pager: dict[str, Any] = {
        "page": paging.page,
        "pageCount": count,
        "total": total,
        "pageSize": paging.page_size,
    }
    # Relative links: the same path answers through the gateway.
    if paging.page < count:
        pager["nextPage"] = _link(path, query, paging.page + 1)
    if paging.page > 1:
        pager["prevPage"] = _link(path, query, min(paging.page - 1, count))
    return list(items[start : start + paging.page_size]), pager


def _link(path: str, query: str, page: int) -> str:
    kept = [part for part in query.split("&") if part and not part.startswith("page=")]
    return f"{path}?{'&'.join([*kept, f'page={page}'])}"
