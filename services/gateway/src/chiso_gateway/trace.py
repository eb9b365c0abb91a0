"""Trace one value back to what reported it: every version of a (series, period), the current
one first, each with its sources; which documents agree with the served value and which not."""

from __future__ import annotations

from typing import Any

SOURCE_FIELDS = (
    "document_id",
    "document_name",
    "published",
    "extractor_version",
    "start",
    "end",
    "text",
    "label",
    "doubts",
    "confidence",
    "reviewed_by",
    "reviewed_at",
    "review_action",
)


def versions(items: list[dict[str, Any]], period: str) -> list[dict[str, Any]]:
    """The versions of `period` that stand on a source (or are current), current first, then
    the newest recorded."""
    chosen = [i for i in items if i["period"] == period and (i["sources"] or i["is_current"])]
    chosen.sort(key=lambda item: item["recorded_at"], reverse=True)
    chosen.sort(key=lambda item: not item["is_current"])
    return chosen


def source_view(source: dict[str, Any]) -> dict[str, Any]:
    """A source as the trace shows it (a review mark is null where indicators has none)."""
    return {field: source.get(field) for field in SOURCE_FIELDS}


def version_view(item: dict[str, Any], sources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "value": item["value"],
        "of": item.get("of"),
        "max": item.get("max"),
        "status": item["status"],
        "published": item["published"],
        "recorded_at": item["recorded_at"],
        "current": item["is_current"],
        # which precedence rule made the current version current; the flags that concern it
        "chosen_by": item.get("chosen_by"),
        "sources": sources,
        "quality": item.get("quality", []),
    }


def agreement(shown: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The documents that report the current value, and those that report another."""
    current = next((v for v in shown if v["current"]), None)
    same: list[str] = []
    other: list[str] = []
    for version in shown:
        names = [s["document_name"] for s in version["sources"]]
        agrees = current is not None and version["value"] == current["value"]
        (same if agrees else other).extend(names)
    return {"same_value": list(dict.fromkeys(same)), "other_value": list(dict.fromkeys(other))}
