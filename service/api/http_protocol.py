"""uvicorn's HTTP protocol with TCP_NODELAY on every connection, whatever made the socket.

asyncio turns Nagle's algorithm off only for sockets whose `proto` is IPPROTO_TCP. uvicorn's
multi-worker mode binds its listening socket with `socket.socket(family)` (proto 0), so the
accepted connections keep Nagle on, and a small response waits for the client's delayed
ACK: every request took ~44 ms with `serve --workers 2` (0.7 ms with one worker). uvloop
sets the option itself; asyncio (Windows, or uvloop missing) does not.

The service runs uvicorn's C parser (httptools, a dependency).
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Send small writes at once on a TCP transport (no-op for Unix sockets)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that switches Nagle's algorithm off before the first read."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)


# What uvicorn's `http=` setting takes; a dotted path survives the spawn into each worker.
HTTP_PROTOCOL = "service.api.http_protocol:NoDelayHttpToolsProtocol"
