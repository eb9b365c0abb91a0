"""Content negotiation for the SDMX routes: the Accept header's media ranges against what a
resource can be served as, with their `version` (and, for SDMX-CSV, `labels`) parameters.

A range whose `version` names a version chiso does not write is not served that type: a
client asking for SDMX-JSON 2.0.0 gets a 406 listing what there is, never SDMX-JSON 1.0
under a header that says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from chiso_shared.errors import FieldError, NotAcceptable


@dataclass(frozen=True)
class Offer:
    """One representation: the media type sent, the version parameter values that name it."""

    media_type: str
    versions: frozenset[str]
    # Other media-type parameters it honours, with their allowed values (`labels` of CSV).
    params: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Choice:
    media_type: str
    params: dict[str, str]


def _ranges(accept: str) -> list[tuple[float, int, str, dict[str, str]]]:
    """(-quality, position, base type, parameters) of each media range of an Accept header."""
    ranges = []
    for position, part in enumerate(accept.split(",")):
        media, *pieces = (piece.strip() for piece in part.split(";"))
        params: dict[str, str] = {}
        for piece in pieces:
            name, _, value = piece.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        try:
            quality = float(params.pop("q", "1"))
        except ValueError:
            quality = 0.0
        if media and quality > 0:
            ranges.append((-quality, position, media.lower(), params))
    return ranges


# Parameters any media range may carry that change nothing here (chiso writes UTF-8).
_NEUTRAL = frozenset({"version", "charset"})


def _fits(offer: Offer, params: Mapping[str, str]) -> bool:
    """Whether `offer` is what a range with `params` asks for: its version, and no other
    parameter it does not honour (`timeFormat=normalized` unheeded would be a silent lie)."""
    version = params.get("version")
    if version is not None and version not in offer.versions:
        return False
    return all(
        name in _NEUTRAL or (name in offer.params and value in offer.params[name])
        for name, value in params.items()
    )


Offers = Mapping[str, tuple[Offer, ...]]  # base media type -> its offers, the default first


def negotiate(accept: str | None, offers: Offers, default: str) -> Choice:
    """The offer the Accept header prefers (its first when several tie; for one media type,
    the first offer whose version fits), `offers[default][0]` when there is no header;
    NotAcceptable, listing every offer, when nothing fits."""
    if not accept or not accept.strip():
        return Choice(offers[default][0].media_type, {})
    for _, _, media, params in sorted(_ranges(accept), key=lambda r: (r[0], r[1])):
        for offer in offers.get(media, ()):
            if _fits(offer, params):
                kept = {k: v for k, v in params.items() if k not in _NEUTRAL}
                return Choice(offer.media_type, kept)
    served = sorted({offer.media_type for group in offers.values() for offer in group})
    listed = ", ".join(served)
    raise NotAcceptable(
        f"This resource can be served as: {listed}. / "
        f"Tài nguyên này chỉ có ở các định dạng: {listed}.",
        code="indicators.sdmx_not_acceptable",
        errors=[FieldError(field="header.Accept", message=media) for media in served],
    )
