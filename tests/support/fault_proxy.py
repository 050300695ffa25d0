"""A fault-injecting TCP proxy between a station and the service (127.0.0.1, threads).

Modes, switchable at run time (`proxy.mode = ...` or `proxy.fail_next(mode, times)`), are
checked on every chunk, so they also hit keep-alive connections opened earlier:

- ``pass``: forward both ways.
- ``drop_request``: close the client's connection before forwarding what it sent.
- ``drop_response``: forward the request, swallow the service's answer (the service has
  committed by then) and close the client's connection.
- ``delay``: forward after sleeping ``delay`` seconds per chunk.
- ``reset``: abort the client's connection with a TCP RST (SO_LINGER 0).
- ``http_502`` / ``http_503``: answer the request with that status, never forward it.
- ``blackhole``: accept and read, never answer (the station's read timeout fires).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time

MODES = (
    "pass",
    "drop_request",
    "drop_response",
    "delay",
    "reset",
    "http_502",
    "http_503",
    "blackhole",
)


class FaultProxy:
    """Listen on 127.0.0.1:<port>, forward to `target`, inject the current fault."""

    def __init__(
        self, target_port: int, target_host: str = "127.0.0.1", delay: float = 0.5
    ) -> None:
        self.target = (target_host, target_port)
        self.delay = delay
        self._mode = "pass"
        self._remaining: int | None = None  # faults left before falling back to pass
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self.faults_injected = 0
        self._thread = threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mode(self) -> str:
        with self._lock:
            return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"unknown mode {value!r}")
        with self._lock:
            self._mode = value
            self._remaining = None

    def fail_next(self, mode: str, times: int = 1) -> None:
        """Inject `mode` for the next `times` requests/responses, then pass again."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        with self._lock:
            self._mode = mode
            self._remaining = times

    def _take(self, applies_to: set[str]) -> str:
        """The mode for this chunk, counting one use of a limited fault."""
        with self._lock:
            mode = self._mode
            if mode not in applies_to:
                return "pass"
            if self._remaining is not None:
                self._remaining -= 1
                if self._remaining <= 0:
                    self._mode, self._remaining = "pass", None
            self.faults_injected += 1
            return mode

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            # close() alone does not wake a thread blocked in accept() on Linux: the join
            # below then waited its whole 5 s at the end of every test with a proxy.
            self._server.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._server.close()
        for conn in list(self._conns):
            _close(conn)
        self._thread.join(5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def cut_all(self) -> None:
        """Reset every open connection now (a cable pulled mid-request)."""
        for conn in list(self._conns):
            _reset(conn)

    # ---------------------------------------------------------------- plumbing

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        self._conns.add(client)
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _reset(client)  # service down: the station sees a connection reset
            self._conns.discard(client)
            return
        upstream.settimeout(None)
        self._conns.add(upstream)
        back = threading.Thread(target=self._pump_back, args=(upstream, client), daemon=True)
        back.start()
        try:
            self._pump_forward(client, upstream)
        finally:
            back.join(30)
            for s in (client, upstream):
                _close(s)
                self._conns.discard(s)

    def _pump_forward(self, client: socket.socket, upstream: socket.socket) -> None:
        request_faults = {"drop_request", "reset", "http_502", "http_503", "delay", "blackhole"}
        while True:
            try:
                data = client.recv(65536)
            except OSError:
                break
            if not data:
                break
            mode = self._take(request_faults)
            if mode == "drop_request":
                _close(client)
                break
            if mode == "reset":
                _reset(client)
                break
            if mode in ("http_502", "http_503"):
                code = mode[-3:]
                body = b'{"error":"bad_gateway","message":"injected by the fault proxy"}'
                head = (
                    f"HTTP/1.1 {code} Injected\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                ).encode()
                with contextlib.suppress(OSError):
                    client.sendall(head + body)
                _close(client)
                break
            if mode == "blackhole":
                while not self._stopping.is_set():  # hold the connection, answer nothing
                    time.sleep(0.05)
                break
            if mode == "delay":
                time.sleep(self.delay)
            try:
                upstream.sendall(data)
            except OSError:
                _reset(client)
                break
        with contextlib.suppress(OSError):
            upstream.shutdown(socket.SHUT_WR)

    def _pump_back(self, upstream: socket.socket, client: socket.socket) -> None:
        while True:
            try:
                data = upstream.recv(65536)
            except OSError:
                break
            if not data:
                break
            if self._take({"drop_response"}) == "drop_response":
                _close(client)
                _close(upstream)
                break
            try:
                client.sendall(data)
            except OSError:
                break
        _close(client)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()
