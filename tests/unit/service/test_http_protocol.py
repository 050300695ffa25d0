"""The service's HTTP protocol turns Nagle's algorithm off on sockets uvicorn made itself.

uvicorn's multi-worker mode binds with `socket.socket(family)` (proto 0); asyncio then
leaves Nagle on for accepted connections, and each small response waited ~40 ms for the
client's delayed ACK. Checked here on a real listening socket made the same way.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from service.api.http_protocol import HTTP_PROTOCOL, NoDelayHttpToolsProtocol


async def _plain_app(scope: object, receive: object, send: object) -> None:
    raise AssertionError("no request is sent in this test")


def _accepted_nodelay(protocol_class: type[H11Protocol] | type[HttpToolsProtocol]) -> int:
    """TCP_NODELAY of the server side of one connection accepted through `protocol_class`."""
    config = uvicorn.Config(_plain_app, lifespan="off")
    config.load()
    seen: list[int] = []

    async def run() -> None:  # on plain asyncio: uvloop would set the option itself
        loop = asyncio.get_running_loop()
        listener = socket.socket(socket.AF_INET)  # as uvicorn's Config.bind_socket does
        listener.bind(("127.0.0.1", 0))
        made = asyncio.Event()

        class Probe(protocol_class):  # type: ignore[misc, valid-type]
            def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
                super().connection_made(transport)
                sock = transport.get_extra_info("socket")
                seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                made.set()

        state = ServerState()
        server = await loop.create_server(lambda: Probe(config, state, {}, loop), sock=listener)
        port = listener.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.wait_for(made.wait(), 5)
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(run())
    return seen[0]


@pytest.mark.parametrize("plain", [H11Protocol, HttpToolsProtocol])
def test_plain_uvicorn_protocols_leave_nagle_on_for_a_proto_zero_listener(
    plain: type[H11Protocol] | type[HttpToolsProtocol],
) -> None:
    # The reason the subclasses exist; if a uvicorn release fixes this, they can go.
    assert _accepted_nodelay(plain) == 0


def test_service_protocol_switches_nagle_off() -> None:
    assert _accepted_nodelay(NoDelayHttpToolsProtocol) != 0


def test_uvicorn_loads_the_c_parser_protocol_from_its_dotted_path() -> None:
    config = uvicorn.Config(_plain_app, http=HTTP_PROTOCOL, lifespan="off")
    config.load()
    assert config.http_protocol_class is NoDelayHttpToolsProtocol


def test_unix_sockets_are_left_alone() -> None:
    from service.api.http_protocol import set_nodelay

    a, b = socket.socketpair(socket.AF_UNIX)

    class Transport(asyncio.BaseTransport):
        def get_extra_info(self, name: str, default: object = None) -> object:
            return a if name == "socket" else default

    set_nodelay(Transport())  # must not raise on a socket without TCP options
    a.close()
    b.close()
