"""The gateway's answer shape: `{data, meta, links}`."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


def example(body: Any) -> dict[int | str, dict[str, Any]]:
    """An OpenAPI `responses=` entry showing `body` as the 200 answer."""
    return {200: {"content": {"application/json": {"example": body}}}}


class Envelope(BaseModel, Generic[T]):
    data: T
    meta: dict[str, Any] = Field(default_factory=dict)
    links: dict[str, str | None] = Field(default_factory=dict)
