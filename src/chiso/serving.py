"""How `chiso serve` runs a service: uvicorn, with a deadline on each request head.

uvicorn bounds only the idle time between requests (`timeout_keep_alive`, and only once a
first answer was sent), and any byte received cancels it: a client that trickles a request
head one byte every few seconds holds a connection, and its slot, for as long as it likes
(slowloris; uvicorn's own issue #157 lists `--timeout-request-start` as not done). ASGI
middleware cannot help, as it runs only once the head is complete.

So the connection protocol is uvicorn's own httptools one (the parser stays httptools), with
one timer added: armed when the connection opens and again after each answer, disarmed when
a request head is complete, and closing the connection when it fires. The request body and
the work of the app are not limited by it. Switching to a server with such a timeout built
in (granian's `http1` header-read timeout, or hypercorn's `read_timeout`, which limits every
read rather than the head) would change the server, its logging and its tuning for every
service; this is the smaller change.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger("chiso.serving")


class HeadTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that closes a connection whose next request head is not
    complete within `head_timeout` seconds."""

    head_timeout: ClassVar[float] = 10.0

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Wait for the next head unless one already arrived (a pipelined request, now
        # running or queued) or the connection is closing.
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        # A context of its own: armed after an answer, it would otherwise log under the
        # request id of that answer.
        self._head_timer = self.loop.call_later(
            self.head_timeout, self._head_timed_out, context=contextvars.Context()
        )

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            logger.warning(
                "request head not complete in %gs; connection closed",
                self.head_timeout,
                extra={"client": f"{self.client[0]}:{self.client[1]}" if self.client else None},
            )
            self.transport.close()


def head_timeout_protocol(seconds: float) -> type[HeadTimeoutProtocol]:
    """The protocol class with its head timeout (uvicorn builds one instance per connection
    from the class alone, so the value travels on the class)."""
    return type("HeadTimeoutProtocol", (HeadTimeoutProtocol,), {"head_timeout": seconds})


def run(app: str, *, host: str, port: int, head_timeout: float, **options: Any) -> None:
    """Run the ASGI app factory `app` ("module:function") with uvicorn until stopped."""
    uvicorn.run(
        app,
        factory=True,
        host=host,
        port=port,
        http=head_timeout_protocol(head_timeout),
        **options,
    )
