"""Page sizes of the list routes (documents, the review queue)."""

from __future__ import annotations

from chiso_ingest.settings import Settings
from chiso_shared.errors import FieldError, Unprocessable


def page_size(limit: int | None, settings: Settings) -> int:
    """The `limit` asked, within the setting (422 above it), or the default."""
    if limit is None:
        return settings.default_page_size
    if limit > settings.max_page_size:
        raise Unprocessable(
            f"limit tối đa là {settings.max_page_size}. / limit may be at most "
            f"{settings.max_page_size}.",
            code="ingest.invalid",
            errors=[FieldError(field="query.limit", message=f"at most {settings.max_page_size}")],
        )
    return limit
