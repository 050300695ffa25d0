"""uvicorn's HTTP protocol with TCP_NODELAY on every connection, whatever made the socket.

asyncio turns Nagle's algorithm off only for sockets whose `proto` is IPPROTO_TCP. uvicorn's
multi-worker mode binds its listening socket with `socket.socket(family)` (proto 0), so the
accepted connections keep Nagle on, and a small response waits for the client's delayed
ACK: every request took ~44 ms with `serve --workers 2` (0.7 ms with one worker). uvloop
sets the option itself; asyncio (Windows, or uvloop missing) does not.

It also closes connections that do not finish a request's headers in time: uvicorn's
`timeout_keep_alive` only runs between requests, so a client that sends half a request line
(or nothing) held a connection, and its memory, forever. The header clock starts when the
connection opens and again at the first byte of each later request, and stops when the
headers are complete (PACKBENCH_HEADER_TIMEOUT_S, default 10 s). Bodies are not timed here.

The service runs uvicorn's C parser (httptools, a dependency).
"""

from __future__ import annotations

import asyncio
import logging
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.limits import header_timeout_s

log = logging.getLogger(__name__)


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Send small writes at once on a TCP transport (no-op for Unix sockets)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that switches Nagle's algorithm off before the first read and closes
    connections whose request headers do not arrive within the header timeout."""

    header_timeout: float = float(header_timeout_s())
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)
        self._start_header_clock()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_header_clock()  # a later request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._stop_header_clock()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_clock()
        super().connection_lost(exc)

    def _start_header_clock(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _stop_header_clock(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            log.info(
                "closing a connection whose request headers took over %.0f s", self.header_timeout
            )
            self.transport.close()


# What uvicorn's `http=` setting takes; a dotted path survives the spawn into each worker.
HTTP_PROTOCOL = "service.api.http_protocol:NoDelayHttpToolsProtocol"
