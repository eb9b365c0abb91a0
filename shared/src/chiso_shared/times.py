"""Instants in UTC: what the databases store and compare, and what the APIs accept.

A time with an offset can lie outside the range of `datetime` once converted to UTC
(`9999-12-31T23:59:59-14:00`); converting it at the door turns that into a 422 naming the
parameter, where the database driver would have raised an OverflowError (a 500).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def as_utc(value: datetime) -> datetime:
    """`value` as an aware UTC datetime; a naive one is taken to be UTC already.

    Raises ValueError (not OverflowError, which pydantic would not report) when the instant
    has no UTC representation."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is outside the range of representable times in UTC") from exc


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
"""A datetime request field, converted to UTC (a naive value is taken as UTC)."""
