"""Bulk exports: the refusal of a selection too large for one file, worded once for every
service that serves or passes on such a file (never a quiet cut)."""

from __future__ import annotations

from typing import Any

from chiso_shared.errors import FieldError, PayloadTooLarge

EXPORT_TOO_LARGE = "indicators.export_too_large"


def export_too_large(total: int, most: int, *, code: str = EXPORT_TOO_LARGE) -> PayloadTooLarge:
    """413: `total` rows match, more than the `most` one export may hold; how to narrow."""
    return PayloadTooLarge(
        f"The selection holds {total} observations, more than the {most} one export may hold "
        "(MAX_EXPORT_OBSERVATIONS). Narrow it with indicator, area, start_period, end_period, "
        "measure or status, or read it page by page with limit and cursor. / Vùng chọn có "
        f"{total} quan sát, nhiều hơn mức tối đa {most} của một lần xuất. Hãy thu hẹp bằng "
        "indicator, area, start_period, end_period, measure hoặc status, hoặc đọc từng trang "
        "với limit và cursor.",
        code=code,
        errors=[FieldError(field="query", message=f"{total} rows match; at most {most}")],
    )


def _example(total: int, most: int) -> dict[str, Any]:
    error = export_too_large(total, most)
    return {
        "type": f"urn:chiso:problem:{EXPORT_TOO_LARGE}",
        "title": PayloadTooLarge.title,
        "status": PayloadTooLarge.status_code,
        "code": EXPORT_TOO_LARGE,
        "detail": error.detail,
        "instance": "/v1/observations",
        "request_id": "5f0c9a52b1d44e3c8f8f2d4a6b7c9e01",
        "errors": [e.model_dump() for e in error.errors],
    }


# The OpenAPI example of that refusal.
EXPORT_TOO_LARGE_EXAMPLE = _example(250_000, 100_000)
EXPORT_TOO_LARGE_DESCRIPTION = (
    "The selection holds more rows than one export may (indicators' MAX_EXPORT_OBSERVATIONS): "
    "nothing is sent but this problem, saying how many rows matched and how to narrow them."
)
