"""Loopback TCP printer: records jobs and answers Zebra ~HS / ESC-POS DLE EOT queries.

`PrinterEmulator(state=...)` listens on 127.0.0.1:0 in a thread. States: ready, paper_out,
head_open, paused, ribbon_out, silent (never answers status), garbage (answers nonsense).
`drop_after=N` closes the connection after N job bytes, like a printer switched off
mid-job. `state_after_job` switches the state as soon as a job has been received (a printer
that runs out of paper on this label).
"""

from __future__ import annotations

import socket
import struct
import threading
from dataclasses import dataclass, field

from app.printing.status import host_status_answer

ESCPOS_ANSWERS = {
    "ready": (0x12, 0x12, 0x12),
    "paper_out": (0x1A, 0x32, 0x72),
    "head_open": (0x1A, 0x16, 0x12),
    "paused": (0x1A, 0x12, 0x12),
    "paper_low": (0x12, 0x12, 0x1E),
}


@dataclass
class PrinterEmulator:
    """A fake network printer for tests; use as a context manager."""

    state: str = "ready"
    language: str = "zpl"
    drop_after: int | None = None
    state_after_job: str | None = None
    jobs: list[bytes] = field(default_factory=list)
    status_queries: int = 0

    def __post_init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{self.language}+tcp://127.0.0.1:{self.port}?timeout=0.5"

    def __enter__(self) -> PrinterEmulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        self._server.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _answer(self, query: bytes) -> bytes | None:
        with self._lock:
            self.status_queries += 1
            state = self.state
        if state == "silent":
            return None
        if state == "garbage":
            return b"\x02HELLO?\x03\r\n\xff\xfe"
        if self.language == "escpos":
            byte = {1: 0, 2: 1, 4: 2}[query[2]]
            return bytes([ESCPOS_ANSWERS.get(state, ESCPOS_ANSWERS["ready"])[byte]])
        return host_status_answer(
            paper_out=state == "paper_out",
            paused=state == "paused",
            head_open=state == "head_open",
            ribbon_out=state == "ribbon_out",
        )

    def _handle(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            conn.settimeout(5)
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    break
                buffer += chunk
                buffer = self._answer_queries(conn, buffer)
                if self.drop_after is not None and len(buffer) >= self.drop_after:
                    # Reset, not a clean close: what a printer losing power looks like.
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
            if buffer:
                with self._lock:
                    self.jobs.append(buffer)
                    if self.state_after_job is not None:
                        self.state, self.state_after_job = self.state_after_job, None

    def _answer_queries(self, conn: socket.socket, buffer: bytes) -> bytes:
        queries = (
            [b"~HS"]
            if self.language == "zpl"
            else [b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x04"]
        )
        for query in queries:
            if buffer == query:
                answer = self._answer(query)
                if answer is not None:
                    conn.sendall(answer)
                return b""
        return buffer
