"""Data-quality flags in the gateway's answers: whose area a caller may see, and the review
queue's flagged items (a flag with the ingest facts its figures were read from).

Pure functions over the JSON indicators and ingest answer; the calls are in views/quality.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chiso_gateway.auth.tokens import Principal
from chiso_shared.catalogue import is_province, resolve_area, resolve_areas
from chiso_shared.errors import FieldError, Forbidden, Unprocessable

# A fact's place: (document id, start, end) of its number in the document's text.
Span = tuple[str, int, int]


def bound_area(principal: Principal) -> str:
    """The province a client's agency serves, whose flags alone it sees; "" for a client of
    the country (`VN`), of no area, or anonymous: it sees every area's."""
    return principal.area if is_province(principal.area) else ""


def checked(areas: list[str] | None) -> list[str]:
    """The asked areas as codes (`iso:VN-21` -> `38`); 422 for one that names no area."""
    wrong = [area for area in areas or [] if resolve_area(area) is None]
    if wrong:
        raise Unprocessable(
            "An area is a GSO code (38), VN, or iso:VN-21. / Mã địa bàn là mã của Tổng cục "
            "Thống kê (38), VN, hoặc iso:VN-21.",
            code="gateway.invalid",
            errors=[
                FieldError(field="query.area", message=f"{area[:20]!r} is not an area code")
                for area in wrong
            ],
        )
    return resolve_areas(areas or [])


def visible_areas(principal: Principal, asked: list[str]) -> list[str]:
    """The `area` filter a read of flags is sent with: what was asked, or the caller's
    province; 403 when a province-bound client asks for another area."""
    bound = bound_area(principal)
    if not bound:
        return asked
    others = sorted({area for area in asked if area != bound})
    if others:
        raise Forbidden(
            f"This client serves {bound} and may not read the flags of {', '.join(others)}. / "
            f"Ứng dụng này thuộc {bound}, không xem được cảnh báo của {', '.join(others)}.",
            code="gateway.area_forbidden",
        )
    return [bound]


def queue_areas(principal: Principal, scope: str | None) -> list[str] | None:
    """The `area` filter of the flags a review queue puts first, or None for none at all:
    the asked scope, else the caller's province; a province-bound client sees only its own
    (another scope shows no flags, and `sub`, facts below a province, has none)."""
    bound = bound_area(principal)
    if scope == "sub" or (bound and scope not in (None, bound)):
        return None
    wanted = scope or bound
    return [wanted] if wanted else []


def sources_of(flag: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(observation, source) of every source of the flag's observations, in order."""
    return [
        (observation, source)
        for observation in flag.get("observations") or []
        for source in observation.get("sources") or []
    ]


def documents_of(flags: Iterable[dict[str, Any]]) -> list[str]:
    """The documents the flags' figures were read from, each once, in order."""
    found = (source["document_id"] for flag in flags for _, source in sources_of(flag))
    return list(dict.fromkeys(found))


def queue_item(flag: dict[str, Any], facts: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The queue's item of a flag: the flag, and for each of its sources that ingest holds,
    the fact at that span (`facts`: each document's effective facts) with the observation
    it stands behind. A source ingest does not hold (facts posted to indicators directly, a
    document deleted since) has no fact: the flag still lists its figure."""
    shown = []
    for observation, source in sources_of(flag):
        fact = _fact_at(facts.get(source["document_id"], []), source)
        if fact is not None:
            shown.append(
                {
                    "document_id": source["document_id"],
                    "filename": source.get("document_name"),
                    "fact": fact,
                    "observation_id": observation["id"],
                    "part": observation.get("part"),
                }
            )
    return {"kind": "quality", "flag": flag, "facts": shown}


def _fact_at(facts: list[dict[str, Any]], source: dict[str, Any]) -> dict[str, Any] | None:
    return next(
        (f for f in facts if (f.get("start"), f.get("end")) == (source["start"], source["end"])),
        None,
    )


def spans_of(items: Iterable[dict[str, Any]]) -> set[Span]:
    """The places of the facts the flagged items show."""
    return {
        (fact["document_id"], fact["fact"]["start"], fact["fact"]["end"])
        for item in items
        for fact in item["facts"]
    }


def fact_items(items: Iterable[dict[str, Any]], flagged: set[Span]) -> list[dict[str, Any]]:
    """The queue's own items marked `kind: fact`, less those a flagged item already shows."""
    return [
        {"kind": "fact", **item}
        for item in items
        if (item["document_id"], item["fact"]["start"], item["fact"]["end"]) not in flagged
    ]
