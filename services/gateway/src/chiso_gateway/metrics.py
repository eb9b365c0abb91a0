"""The gateway's own metrics, beside the HTTP metrics every service has."""

from __future__ import annotations

from typing import cast

from fastapi import Request
from prometheus_client import Counter

from chiso_gateway import __version__
from chiso_shared.metrics import Metrics

# What an upstream failure was (`Upstream`): no answer in time, no connection, an answer
# that cannot be read, the gateway's service token refused (401/403), a 5xx, a redirect, a
# streamed export's body cut off mid-way.
UPSTREAM_ERROR_KINDS = (
    "timeout",
    "unreachable",
    "invalid",
    "refused",
    "5xx",
    "redirect",
    "interrupted",
)


class GatewayMetrics(Metrics):
    def __init__(self) -> None:
        super().__init__("gateway", __version__)
        self.quota_rejections = Counter(
            "chiso_gateway_quota_rejections",
            "API requests refused with 429 because the client's quota was spent, by tier.",
            ["tier"],
            registry=self.registry,
        )
        self.cache_hits = Counter(
            "chiso_gateway_cache_hits",
            "Reads answered from the response cache.",
            ["cache"],
            registry=self.registry,
        )
        self.cache_misses = Counter(
            "chiso_gateway_cache_misses",
            "Cacheable reads the cache did not hold (computed and stored).",
            ["cache"],
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "chiso_gateway_upstream_errors",
            "Calls to an upstream service that failed, by upstream and kind ("
            + ", ".join(UPSTREAM_ERROR_KINDS)
            + ").",
            ["upstream", "kind"],
            registry=self.registry,
        )
        self.tokens_issued = Counter(
            "chiso_gateway_tokens_issued",
            "Access tokens issued by POST /oauth2/token.",
            registry=self.registry,
        )
        self.token_refusals = Counter(
            "chiso_gateway_token_refusals",
            "Token requests refused, by OAuth error (invalid_client, token_rate_limited, ...).",
            ["reason"],
            registry=self.registry,
        )
        self.auth_refusals = Counter(
            "chiso_gateway_auth_refusals",
            "API requests refused for their bearer token (401) or its scopes (403), by reason "
            "(token_missing, token_expired, token_invalid, client_revoked, token_revoked, "
            "scope_missing).",
            ["reason"],
            registry=self.registry,
        )
        self.cache_hits.labels("response")
        self.cache_misses.labels("response")

    def upstream_error(self, upstream: str, kind: str) -> None:
        self.upstream_errors.labels(upstream, kind).inc()


def gateway_metrics(request: Request) -> GatewayMetrics:
    return cast(GatewayMetrics, request.state.metrics)
