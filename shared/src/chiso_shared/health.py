"""/healthz (the process answers) and /readyz (the service's own dependencies answer).

Readiness is about this replica: whether traffic should be sent to it rather than to another.
Only what the service owns counts (its database): when a shared upstream (another chiso
service, the gateway's Redis) is down it is down for every replica, so failing readiness for
it would only take every replica out of service together, cascading one outage into all of
them (ingest's durable queue could keep accepting uploads while indicators is away, and the
gateway can serve cached answers). Those are reported in the body, never required.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

Check = Callable[[], Awaitable[None]]
Checks = Callable[[], Mapping[str, Check]]


class Health(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "checks": {"database": "ok"},
                    "reported": {"indicators": "ok"},
                },
                {
                    "status": "ok",
                    "checks": {"database": "ok"},
                    "reported": {
                        "indicators": "error: BadGateway: The indicators service cannot be reached."
                    },
                },
            ]
        }
    )

    status: str = Field(
        description="`ok` when every check in `checks` passes (200), `unavailable` otherwise (503)."
    )
    checks: dict[str, str] = Field(
        default={},
        description="The service's own dependencies (its database): `ok`, or the error. Any "
        "error makes the answer 503.",
    )
    reported: dict[str, str] = Field(
        default={},
        description="Dependencies reported but not required (upstream services, the gateway's "
        "Redis): `ok`, or the error. An error here leaves the answer 200.",
    )


async def _outcome(check: Check, timeout: float) -> str:
    try:
        await asyncio.wait_for(check(), timeout)
    except Exception as exc:  # any failure is an answer to report; say which
        return f"error: {type(exc).__name__}: {exc}"[:300]
    return "ok"


async def _run(checks: Mapping[str, Check], timeout: float) -> dict[str, str]:
    """Every check at once, so a hanging dependency costs the probe one timeout, not one each."""
    outcomes = await asyncio.gather(*(_outcome(check, timeout) for check in checks.values()))
    return dict(zip(checks, outcomes, strict=True))


def health_router(
    checks: Checks, reported: Checks | None = None, timeout: float = 2.0
) -> APIRouter:
    """`checks`: the service's own dependencies, required for readiness; `reported`: the
    dependencies whose state /readyz tells but does not require."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
    async def healthz() -> Health:
        return Health(status="ok")

    @router.get(
        "/readyz",
        response_model=Health,
        summary="Readiness: the service's own database answers (upstreams are reported)",
        responses={503: {"model": Health, "description": "The service's database does not answer"}},
    )
    async def readyz() -> JSONResponse:
        required, optional = await asyncio.gather(
            _run(checks(), timeout), _run(reported() if reported else {}, timeout)
        )
        ready = all(value == "ok" for value in required.values())
        body = Health(status="ok" if ready else "unavailable", checks=required, reported=optional)
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    return router
