"""Scale emulators on pseudo-terminals: the driver opens `emulator.port` with pyserial.

Each emulator runs a thread that reads commands from the pty master and answers the way the
real device does (see the protocol notes in the matching `app/weighing/*` module). Knobs a
test can turn: `weight`/`unit`, `moving`, `overload`, `underload`, `silent`, `garbage`
(noise sent before the next answer), `split` (next answer written in two parts with a pause),
`unplug_on_command` (half an answer, then the "cable" is pulled).
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty
from decimal import Decimal

STX, CR, LF, ETX = b"\x02", b"\r", b"\n", b"\x03"


class PtyScaleEmulator:
    """Base: pty pair, command splitting, answer writing with fault injection."""

    #: bytes that end a command; None means every byte is a command (Toledo).
    terminator: bytes | None = b"\r\n"

    def __init__(self, weight: Decimal | str | int = 0, unit: str = "g") -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo or line editing before pyserial configures it
        self.port = os.ttyname(self.slave)
        self.weight = Decimal(weight)
        self.unit = unit
        self.moving = False
        self.overload = False
        self.underload = False
        self.silent = False
        self.garbage = b""
        self.split = False
        self.unplug_on_command = False
        self.received: list[bytes] = []
        #: perf_counter() just before the final write of the latest answer (its last byte).
        self.last_answer_at = 0.0
        self._stop = threading.Event()
        self._plugged = True
        self._thread = threading.Thread(target=self._run, name="scale-emulator", daemon=True)
        self._thread.start()

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        """Stop the thread and close both ends."""
        self._stop.set()
        self._thread.join(2)
        self.unplug()
        with contextlib.suppress(OSError):
            os.close(self.slave)

    def unplug(self) -> None:
        """Pull the cable: the driver's next read or write fails at the OS level."""
        if self._plugged:
            self._plugged = False
            os.close(self.master)

    def __enter__(self) -> PtyScaleEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- I/O -------------------------------------------------------------------------------
    def _run(self) -> None:
        pending = b""
        while not self._stop.is_set() and self._plugged:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.02)
            except (OSError, ValueError):  # unplugged while waiting
                return
            self.tick()
            if not ready or not self._plugged:
                continue
            try:
                data = os.read(self.master, 256)
            except OSError:
                return
            pending += data
            for command in self._split_commands(pending):
                pending = pending[len(command) :]
                self.received.append(command)
                self._on_command(command.rstrip(b"\r\n"))

    def _split_commands(self, pending: bytes) -> list[bytes]:
        if self.terminator is None:
            return [bytes([b]) for b in pending]
        out, rest = [], pending
        while (end := rest.find(self.terminator)) >= 0:
            out.append(rest[: end + len(self.terminator)])
            rest = rest[end + len(self.terminator) :]
        return out

    def _on_command(self, command: bytes) -> None:
        answer = self.answer(command)
        if answer is None or self.silent:
            return
        if self.unplug_on_command:
            self.write(answer[: len(answer) // 2])
            time.sleep(0.02)
            self.unplug()
            return
        self.send(answer)

    def send(self, answer: bytes) -> None:
        """Write an answer, with any noise or split the test asked for."""
        if self.garbage:
            self.write(self.garbage)
            self.garbage = b""
        if self.split:
            self.split = False
            half = len(answer) // 2
            self.write(answer[:half])
            time.sleep(0.03)
            answer = answer[half:]
        # Stamp before writing: the driver may read the bytes before write() returns.
        self.last_answer_at = time.perf_counter()
        self.write(answer)

    def write(self, data: bytes) -> None:
        """Write raw bytes to the driver (ignored once unplugged)."""
        if self._plugged:
            with contextlib.suppress(OSError):
                os.write(self.master, data)

    # -- protocol ----------------------------------------------------------------------
    def answer(self, command: bytes) -> bytes | None:
        """The device's answer to one command (without terminator); None for no answer."""
        raise NotImplementedError

    def tick(self) -> None:
        """Called every loop; streaming emulators write frames here."""


class MtSicsEmulator(PtyScaleEmulator):
    """A Mettler Toledo balance speaking MT-SICS level 0."""

    terminator = b"\r\n"
    capacity = Decimal(30000)
    zero_range = Decimal(600)  # +-2 % of capacity, typical

    def __init__(self, weight: Decimal | str | int = 0, unit: str = "g") -> None:
        super().__init__(weight, unit)
        self.busy = False
        self.tare_value = Decimal(0)

    def _line(self, text: str) -> bytes:
        return text.encode("ascii") + b"\r\n"

    def _weight(self, status: str) -> bytes:
        return self._line(f"S {status} {self.weight - self.tare_value:>10} {self.unit}")

    def answer(self, command: bytes) -> bytes | None:
        """Answer SI, S, Z, T, I4; anything else is a syntax error (ES)."""
        cmd = command.decode("ascii", errors="replace").strip()
        if cmd in ("SI", "S"):
            if self.busy:
                return self._line("S I")
            if self.overload:
                return self._line("S +")
            if self.underload:
                return self._line("S -")
            if self.moving:
                # SI reports the dynamic value; S gives up waiting for stability.
                return self._weight("D") if cmd == "SI" else self._line("S I")
            return self._weight("S")
        if cmd == "Z":
            if self.moving:
                return self._line("Z I")
            if abs(self.weight) > self.zero_range:
                return self._line("Z +" if self.weight > 0 else "Z -")
            self.weight, self.tare_value = Decimal(0), Decimal(0)
            return self._line("Z A")
        if cmd == "T":
            if self.moving:
                return self._line("T I")
            if self.weight <= 0:
                return self._line("T -")
            self.tare_value = self.weight
            return self._line(f"T S {self.tare_value:>10} {self.unit}")
        if cmd == "I4":
            return self._line('I4 A "0123456789"')
        return self._line("ES")


class ToledoEmulator(PtyScaleEmulator):
    """A checkout scale in Toledo 8213 mode (weight in lb, 7E1)."""

    terminator = None
    capacity = Decimal(30)

    def _status(self, zero_attempt: bool = False) -> bytes:
        bits = 0x60
        if self.moving:
            bits |= 0x01
        if self.overload or self.weight > self.capacity:
            bits |= 0x02
        if self.underload or self.weight < 0:
            bits |= 0x04
        if zero_attempt and abs(self.weight) > Decimal("0.6"):
            bits |= 0x08
        if self.weight == 0 and not self.moving:
            bits |= 0x10
        return STX + b"?" + bytes([bits]) + CR

    def answer(self, command: bytes) -> bytes | None:
        """Answer W (weight or status record) and Z (status record); others: status."""
        if command == b"W":
            status = self._status()
            if status[2] & 0x07:
                return status
            return STX + f"{self.weight:06.2f}".encode("ascii") + CR
        if command == b"Z":
            if not self.moving and abs(self.weight) <= Decimal("0.6"):
                self.weight = Decimal(0)
            return self._status(zero_attempt=True)
        if command in (b"\r", b"\n"):
            return None
        return self._status()


class NciEmulator(PtyScaleEmulator):
    """A Weigh-Tronix / NCI scale speaking SCP-01."""

    terminator = b"\r"
    capacity = Decimal(150)

    def __init__(self, weight: Decimal | str | int = 0, unit: str = "lb") -> None:
        super().__init__(weight, unit)
        self.ram_error = False

    def _status(self) -> bytes:
        s1 = 0x30 | (0x01 if self.moving else 0) | (0x02 if self.weight == 0 else 0)
        s1 |= 0x04 if self.ram_error else 0
        s2 = 0x30 | (0x01 if self.underload or self.weight < 0 else 0)
        s2 |= 0x02 if self.overload or self.weight > self.capacity else 0
        return bytes([s1, s2])

    def answer(self, command: bytes) -> bytes | None:
        """Answer W, S, Z; anything else gets ``<LF>?<CR><ETX>``."""
        cmd = command.strip(b"\n")
        status = self._status()
        if cmd == b"W":
            if status[0] & 0x01 or status[1] & 0x03:
                return LF + status + CR + ETX
            weight = f"{self.weight:07.2f}{self.unit}".encode("ascii")
            return LF + weight + CR + LF + status + CR + ETX
        if cmd == b"S":
            return LF + status + CR + ETX
        if cmd == b"Z":
            if not self.moving and abs(self.weight) <= Decimal(3):
                self.weight = Decimal(0)
            return LF + self._status() + CR + ETX
        return LF + b"?" + CR + ETX


class CasEmulator(PtyScaleEmulator):
    """A CAS indicator streaming ``ST,GS,+  1.234kg`` lines every `interval_s`."""

    terminator = b"\r\n"

    def __init__(
        self, weight: Decimal | str | int = 0, unit: str = "kg", interval_s: float = 0.02
    ) -> None:
        self.interval_s = interval_s
        self._next = 0.0
        self.frames_sent = 0  # whole frames written: a test waits for one made after a change
        super().__init__(weight, unit)

    def frame(self) -> bytes:
        """The line the indicator would send now."""
        if self.overload:
            return b"OL,GS,+       " + self.unit.rjust(2).encode() + b"\r\n"
        header = "US" if self.moving else "ST"
        sign = "-" if self.weight < 0 else "+"
        number = f"{abs(self.weight)}".rjust(7)
        return f"{header},GS,{sign}{number}{self.unit.rjust(2)}\r\n".encode("ascii")

    def tick(self) -> None:
        """Stream a frame when one is due."""
        now = time.monotonic()
        if self.silent or now < self._next:
            return
        self._next = now + self.interval_s
        if self.unplug_on_command:
            self.write(self.frame()[:6])
            self.unplug()
            return
        self.send(self.frame())
        self.frames_sent += 1

    def answer(self, command: bytes) -> bytes | None:
        """A streaming indicator ignores input."""
        return None
