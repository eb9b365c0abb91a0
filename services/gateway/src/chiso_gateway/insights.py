"""Views built from observations: one province's key figures, and provinces side by side."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from datetime import date
from typing import Any, Literal

from chiso_shared.catalogue import area_on, area_versions, areas, indicators
from chiso_shared.periods import Period

Language = Literal["vi", "en"]


def area_name(code: str, lang: Language, period: str | None = None) -> str | None:
    """The area's name when `period` ended (a 2025 merger may have renamed the code), else
    its latest name."""
    parsed = Period.try_parse(period) if period else None
    area = area_on(code, parsed.end if parsed is not None else None)
    if area is None:
        return None
    return area.name_vi if lang == "vi" else area.name_en


def _sort_key(name: str) -> str:
    """A name without its diacritics, for an order a reader of either language expects."""
    decomposed = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def org_units(lang: Language) -> list[dict[str, Any]]:
    """Every area code once, the country first, then provinces by name: its latest name and
    each name it has had, with the code list and dates of each."""
    rows: list[dict[str, Any]] = []
    for code in dict.fromkeys(area.code for area in areas()):
        versions = area_versions(code)
        latest = versions[-1]
        rows.append(
            {
                "code": code,
                "name": latest.name_vi if lang == "vi" else latest.name_en,
                "level": latest.level,
                "versions": [
                    {
                        "name": v.name_vi if lang == "vi" else v.name_en,
                        "code_list": v.code_list,
                        "valid_from": v.valid_from,
                        "valid_to": v.valid_to,
                    }
                    for v in versions
                ],
            }
        )
    rows.sort(key=lambda row: (row["level"] != "country", _sort_key(str(row["name"]))))
    return rows


def _end(period: str) -> date:
    """The last day `period` covers; the earliest date for text the grammar does not take."""
    parsed = Period.try_parse(period)
    return parsed.end if parsed is not None else date.min


def indicator_label(code: str, lang: Language) -> tuple[str, str]:
    """(name, unit) from the shared catalogue; the code itself when it is not listed."""
    for row in indicators():
        if row.code == code:
            return (row.name_vi if lang == "vi" else row.name_en), row.unit
    return code, ""


def source_of(item: dict[str, Any]) -> dict[str, Any] | None:
    sources = item.get("sources") or []
    if not sources:
        return None
    # a source a person reviewed is why the value is current: shown first
    first = next((source for source in sources if source.get("reviewed_by")), sources[0])
    return {
        "document": first["document_name"],
        "document_id": first["document_id"],
        "published": first["published"],
        "text": first["text"],
        "start": first["start"],
        "end": first["end"],
        # why the extractor doubts the fact the value was read from (none before it said)
        "doubts": first.get("doubts", []),
        "confidence": first.get("confidence", 1.0),
        "reviewed_by": first.get("reviewed_by"),
        "reviewed_at": first.get("reviewed_at"),
    }


def quality_of(item: dict[str, Any]) -> dict[str, Any]:
    """The data-quality flags of a value and the precedence rule that chose it, as indicators
    gives them (`chiso_shared.quality`)."""
    return {"quality": item.get("quality", []), "chosen_by": item.get("chosen_by")}


def _annual_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items of the best frequency (annual when there is any), oldest period first."""
    by_frequency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_frequency[item["frequency"]].append(item)
    chosen = by_frequency.get("A") or max(by_frequency.values(), key=len, default=[])
    return sorted(chosen, key=lambda item: item["period"])


def _change(latest: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any] | None:
    if previous is None:
        return None
    absolute = latest["value"] - previous["value"]
    percent = round(100 * absolute / previous["value"], 2) if previous["value"] else None
    return {
        "previous_period": previous["period"],
        "previous_value": previous["value"],
        "absolute": absolute,
        "percent": percent,
    }


def summary(
    code: str, items: list[dict[str, Any]], wanted: list[str], lang: Language
) -> dict[str, Any]:
    """The latest value of each wanted indicator with its change since the period before.

    `reported_change_percent` is the growth the report itself states for that period, which
    may differ from the computed change when the earlier value was revised.
    """
    levels: dict[str, list[dict[str, Any]]] = defaultdict(list)
    reported: dict[tuple[str, str], float] = {}
    for item in items:
        if item["transformation"] == "level":
            levels[item["indicator"]].append(item)
        elif item["transformation"] == "change_previous":
            reported[(item["indicator"], item["period"])] = item["value"]
    rows = []
    for indicator in wanted:
        series = _annual_first(levels.get(indicator, []))
        if not series:
            continue
        latest = series[-1]
        name, unit = indicator_label(indicator, lang)
        rows.append(
            {
                "indicator": indicator,
                "name": name,
                "unit": latest["unit"] or unit,
                "period": latest["period"],
                "value": latest["value"],
                "status": latest["status"],
                "change": _change(latest, series[-2] if len(series) > 1 else None),
                "reported_change_percent": reported.get((indicator, latest["period"])),
                "source": source_of(latest),
                **quality_of(latest),
            }
        )
    newest = max((row["period"] for row in rows), default=None, key=_end)
    return {"area": code, "name": area_name(code, lang, newest), "indicators": rows}


def compare(
    indicator: dict[str, Any], codes: list[str], items: list[dict[str, Any]], lang: Language
) -> dict[str, Any]:
    """One row per province (in the order asked), each with its values by period."""
    by_area: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_area[item["area"]].append(item)
    periods: set[str] = set()
    units = []
    for code in codes:
        series = _annual_first(by_area.get(code, []))
        periods.update(item["period"] for item in series)
        units.append(
            {
                "area": code,
                "name": area_name(code, lang, series[-1]["period"] if series else None),
                "latest": (
                    {
                        "period": series[-1]["period"],
                        "value": series[-1]["value"],
                        "status": series[-1]["status"],
                        "source": source_of(series[-1]),
                        **quality_of(series[-1]),
                    }
                    if series
                    else None
                ),
                "observations": [
                    {
                        "period": item["period"],
                        "value": item["value"],
                        "status": item["status"],
                        "source": source_of(item),
                        **quality_of(item),
                    }
                    for item in series
                ],
            }
        )
    return {
        "indicator": indicator["code"],
        "name": indicator.get(f"name_{lang}") or indicator["code"],
        "unit": indicator.get("unit", ""),
        "periods": sorted(periods),
        "areas": units,
    }
