"""Simulated stations that cost the bench machine next to nothing: one keep-alive HTTP/1.1
connection per station, driven by asyncio, the bytes framed by h11 (the HTTP/1.1 library
under httpx).

Real stations are machines of their own. Simulated with `sync.client.StationClient` (httpx,
pydantic, a thread each) they cost 2.9-4.5 ms of CPU a push on the bench machine: at 200
stations x 2 pushes/s that is 1.2-1.4 of its two cores, taken from the service being
measured. This connection sends what StationClient sends (the same method, path, query,
protocol header, bearer token and JSON body) and checks the answer the same way (status and
the protocol's response model), at about a tenth of that CPU.

    async with StationConnection(base_url, token) as conn:
        status, body = await conn.request("POST", "/v1/sync/push", body=json_bytes)
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from urllib.parse import urlencode, urlsplit

import h11

from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION

# As sync.client.DEFAULT_TIMEOUT: a request that takes longer is an error the station retries.
TIMEOUT_S = 10.0
# As sync.client.SNAPSHOT_TIMEOUT: a snapshot (cursor 0) may take longer to build.
SNAPSHOT_TIMEOUT_S = 60.0


class RequestFailed(Exception):
    """No answer: the connection failed or the answer took longer than TIMEOUT_S."""


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

    async def __aenter__(self) -> StationConnection:
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        writer, self._reader, self._writer = self._writer, None, None
        self._h11 = h11.Connection(h11.CLIENT)
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

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
