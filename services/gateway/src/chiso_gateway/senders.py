"""The upstream client chosen by `Settings.http_client` (see bench/bench_gateway.py)."""

from __future__ import annotations

from typing import Literal

from chiso_gateway.http11 import Http11Sender
from chiso_gateway.upstream import AiohttpSender, HttpxSender, Sender
from chiso_shared.http import HttpClientSettings, create_http_client

ClientName = Literal["builtin", "aiohttp", "httpx"]


def create_sender(kind: ClientName, base_url: str, settings: HttpClientSettings) -> Sender:
    if kind == "builtin":
        return Http11Sender(base_url, settings)
    if kind == "aiohttp":
        return AiohttpSender(base_url, settings)
    return HttpxSender(create_http_client(settings, base_url=base_url))
