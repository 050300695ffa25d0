"""Simulated stations that cost the bench machine next to nothing: one keep-alive HTTP/1.1
connection per station, driven by asyncio, the bytes framed by h11 (the HTTP/1.1 library
under httpx).

Real stations are machines of their own. Simulated with `sync.client.StationClient` (httpx,
pydantic, a thread each) they cost 2.9-4.5 ms of CPU a push on the bench machine: at 200
stations x 2 pushes/s that is 1.2-1.4 of its two cores, taken from the service being
measured. This connection sends what StationClient sends (the same method, path, query,
protocol header, bearer token and JSON body) and checks the answer the same way (status and
the protocol's response model), at about a tenth of that CPU.

    conn = StationConnection(base_url, token)
    answer = await conn.push(PushRequest(...))       # RequestFailed if there is none
    page = await conn.pull(cursor)
    status, body = await conn.request("POST", "/bare", body=json_bytes)
    await conn.close()

`run()` runs a coroutine on uvloop (uvicorn's own loop, installed with it): about half the
client CPU of asyncio's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import h11
import uvloop

from sync.client import DEFAULT_TIMEOUT, SNAPSHOT_TIMEOUT
from sync.protocol import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    PullResponse,
    PushRequest,
    PushResponse,
)

# The station's own read timeouts: an answer that takes longer is an error it retries.
TIMEOUT_S = DEFAULT_TIMEOUT.read or 10.0
SNAPSHOT_TIMEOUT_S = SNAPSHOT_TIMEOUT.read or 60.0  # a snapshot (cursor 0) may take longer
PULL_LIMIT = 500  # what a station asks for (sync.client.StationClient.pull's default)

_T = TypeVar("_T")


def run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run `coroutine` to its end on a new uvloop event loop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


class RequestFailed(Exception):
    """No usable answer: the connection failed, the answer took too long, or (push and pull)
    the service answered with an error status."""


class StationConnection:
    """One station's connection to `base_url` (http://host:port); reconnects after a failure."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"plain http://host:port only, not {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self._headers = [
            ("host", parts.netloc),
            ("user-agent", "packbench-bench-station"),
            ("accept", "*/*"),
            (PROTOCOL_HEADER, str(PROTOCOL_VERSION)),
        ]
        if token is not None:
            self._headers.append(("authorization", f"Bearer {token}"))
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._h11 = h11.Connection(h11.CLIENT)

    async def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        writer, self._reader, self._writer = self._writer, None, None
        self._h11 = h11.Connection(h11.CLIENT)
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def push(self, request: PushRequest) -> PushResponse:
        """POST /v1/sync/push, the answer read as StationClient.push reads it."""
        body = request.model_dump_json().encode()
        status, data = await self.request("POST", "/v1/sync/push", body=body)
        if status != 200:
            raise RequestFailed(f"push {status}: {data[:200]!r}")
        return PushResponse.model_validate_json(data)

    async def pull(self, cursor: int, *, page: str | None = None) -> PullResponse:
        """GET /v1/sync/pull from `cursor` (a snapshot page with `page`), as StationClient.pull
        asks and reads it."""
        params: dict[str, str | int] = {"cursor": cursor, "limit": PULL_LIMIT}
        if page is not None:
            params["page"] = page
        timeout = SNAPSHOT_TIMEOUT_S if cursor == 0 else TIMEOUT_S
        status, data = await self.request("GET", "/v1/sync/pull", params=params, timeout=timeout)
        if status != 200:
            raise RequestFailed(f"pull {status}: {data[:200]!r}")
        return PullResponse.model_validate_json(data)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str | int] | None = None,
        body: bytes | None = None,
        timeout: float = TIMEOUT_S,
    ) -> tuple[int, bytes]:
        """Send one request, wait for its whole answer: (status, body). RequestFailed if the
        connection failed or `timeout` seconds passed (the connection is then closed)."""
        try:
            return await asyncio.wait_for(self._exchange(method, path, params, body), timeout)
        except (TimeoutError, OSError, h11.ProtocolError, RequestFailed) as exc:
            await self.close()
            if isinstance(exc, RequestFailed):
                raise
            raise RequestFailed(f"{method} {path}: {type(exc).__name__}: {exc}") from exc

    async def _exchange(
        self, method: str, path: str, params: dict[str, str | int] | None, body: bytes | None
    ) -> tuple[int, bytes]:
        if self._reader is not None and self._reader.at_eof():
            # The service closed the kept-alive connection while it was idle (uvicorn after
            # 5 s): a new one, as httpx opens, rather than a request into a closed socket.
            await self.close()
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        conn = self._h11
        headers = list(self._headers)
        if body is not None:
            headers += [("content-type", "application/json"), ("content-length", str(len(body)))]
        target = f"{path}?{urlencode(params)}" if params else path
        out = conn.send(h11.Request(method=method, target=target, headers=headers)) or b""
        if body is not None:
            out += conn.send(h11.Data(data=body)) or b""
        out += conn.send(h11.EndOfMessage()) or b""
        self._writer.write(out)
        status = 0
        chunks: list[bytes] = []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await self._reader.read(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise RequestFailed(f"{method} {path}: the service closed the connection")
        if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
            await self.close()
        else:
            conn.start_next_cycle()
        return status, b"".join(chunks)
