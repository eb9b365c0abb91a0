"""Request dependencies: settings and the one session per request (commit or roll back)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chiso_indicators.quality.rules import RuleBook
from chiso_indicators.settings import Settings
from chiso_shared.db import session_scope


async def get_settings(request: Request) -> Settings:
    return cast(Settings, request.state.settings)


async def get_quality_book(request: Request) -> RuleBook | None:
    """The checks' rule book, loaded once in the lifespan; None when checks are off."""
    return cast(RuleBook | None, request.state.quality_book)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    sessionmaker = cast(async_sessionmaker[AsyncSession], request.state.sessionmaker)
    async for session in session_scope(sessionmaker):
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": the session commits when the route returns, before the response is sent;
# FastAPI's default ("request") commits after it, so a caller could be told 2xx for a write
# that then failed to commit, or read the old state right after a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
QualityBookDep = Annotated[RuleBook | None, Depends(get_quality_book)]
