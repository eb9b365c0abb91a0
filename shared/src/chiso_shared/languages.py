"""The two languages chiso speaks, and the one a request's Accept-Language prefers."""

from __future__ import annotations

from typing import Literal

Language = Literal["vi", "en"]
LANGUAGES: tuple[Language, ...] = ("vi", "en")


def preferred_language(accept_language: str | None) -> Language:
    """`vi` or `en` from an Accept-Language header (highest q wins, Vietnamese when neither
    is asked: chiso's readers are Vietnamese first)."""
    best: tuple[float, Language] = (0.0, "vi")
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("vi", "en"):
            continue
        try:
            quality = float(params.strip().removeprefix("q=")) if params else 1.0
        except ValueError:
            quality = 0.0
        if quality > best[0]:
            best = (quality, "vi" if primary == "vi" else "en")
    return best[1]
