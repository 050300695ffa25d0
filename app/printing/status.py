"""Printer status: Zebra `~HS`, ESC/POS `DLE EOT n`, CUPS `lpstat -p`, as one value.

Each parser turns printer bytes into a `PrinterStatus` whose message is a sentence for the
packer; `DeviceStatus` carries it to the status bar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from app.device_status import DeviceKind, DeviceState, DeviceStatus
from app.i18n import N_, _
from app.printing.errors import (
    BufferFull,
    HeadOpen,
    PaperOut,
    PrinterError,
    PrinterOffline,
    PrinterPaused,
    RibbonOut,
    StatusUnknown,
)


class Problem(StrEnum):
    PAPER_OUT = "paper_out"
    HEAD_OPEN = "head_open"
    RIBBON_OUT = "ribbon_out"
    PAUSED = "paused"
    BUFFER_FULL = "buffer_full"
    OFFLINE = "offline"
    NO_ANSWER = "no_answer"
    GARBLED = "garbled"
    QUEUE_STOPPED = "queue_stopped"
    PAPER_LOW = "paper_low"  # a warning only: the job still prints


# Most urgent first: the first problem found names the exception and the sentence.
_SENTENCES: dict[Problem, tuple[type[PrinterError], str]] = {
    Problem.OFFLINE: (
        PrinterOffline,
        N_(
            "Printer not reachable: check its power and cable; "
            "the label prints automatically when it is back"
        ),
    ),
    Problem.HEAD_OPEN: (
        HeadOpen,
        N_("Printer head is open: close it and the label prints automatically"),
    ),
    Problem.PAPER_OUT: (
        PaperOut,
        N_("Printer out of paper: load labels and the label prints automatically"),
    ),
    Problem.RIBBON_OUT: (
        RibbonOut,
        N_("Printer ribbon is out: fit a new ribbon and the label prints automatically"),
    ),
    Problem.PAUSED: (
        PrinterPaused,
        N_("Printer is paused: press its pause button and the label prints automatically"),
    ),
    Problem.BUFFER_FULL: (
        BufferFull,
        N_("Printer is busy (buffer full): the label prints when it has room"),
    ),
    Problem.QUEUE_STOPPED: (
        PrinterPaused,
        N_(
            "Print queue is stopped: ask a supervisor to enable it; "
            "the document prints automatically"
        ),
    ),
    Problem.NO_ANSWER: (
        StatusUnknown,
        N_(
            "Printer does not answer: check that it is on and has "
            "no red light; the label prints when it answers"
        ),
    ),
    Problem.GARBLED: (
        StatusUnknown,
        N_("Printer answers but cannot be understood: check the printer address in settings"),
    ),
}
PAPER_LOW = N_("Printer paper is running low: have a new roll ready")
READY_SENTENCE = N_("Printer ready")

# A document printer (packing slips, A4 sheets) is told about in its own words: each label
# printer sentence has its document printer sentence, whole, so translators see both.
_DOCUMENT_SENTENCES: dict[str, str] = {
    _SENTENCES[Problem.OFFLINE][1]: N_(
        "Document printer not reachable: check its power and cable; "
        "the document prints automatically when it is back"
    ),
    _SENTENCES[Problem.HEAD_OPEN][1]: N_(
        "Document printer head is open: close it and the document prints automatically"
    ),
    _SENTENCES[Problem.PAPER_OUT][1]: N_(
        "Document printer out of paper: load paper and the document prints automatically"
    ),
    _SENTENCES[Problem.RIBBON_OUT][1]: N_(
        "Document printer ribbon is out: fit a new toner or ribbon and the document prints "
        "automatically"
    ),
    _SENTENCES[Problem.PAUSED][1]: N_(
        "Document printer is paused: press its pause button and the document prints automatically"
    ),
    _SENTENCES[Problem.BUFFER_FULL][1]: N_(
        "Document printer is busy (buffer full): the document prints when it has room"
    ),
    _SENTENCES[Problem.NO_ANSWER][1]: N_(
        "Document printer does not answer: check that it is on and has "
        "no red light; the document prints when it answers"
    ),
    _SENTENCES[Problem.GARBLED][1]: N_(
        "Document printer answers but cannot be understood: check the printer address in settings"
    ),
    PAPER_LOW: N_("Document printer paper is running low"),
    READY_SENTENCE: N_("Document printer ready"),
}

# A sentence not in the table (a printer's own detail) is reworded the old way.
_DOCUMENT_WORDS = (
    ("load labels", "load paper"),
    ("fit a new ribbon", "fit a new toner or ribbon"),
    ("the label prints", "the document prints"),
    ("whether the label printed", "whether the document printed"),
    ("Printer ", "Document printer "),
)


def document_words(sentence: str) -> str:
    """A printer sentence said of the document printer (paper, documents) not of labels."""
    known = _DOCUMENT_SENTENCES.get(sentence)
    if known is not None:
        return known
    for label_words, document in _DOCUMENT_WORDS:
        sentence = sentence.replace(label_words, document)
    return sentence


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """What a printer said about itself; `problems` empty means ready."""

    problems: frozenset[Problem] = frozenset()
    detail: str = ""

    @property
    def blocking(self) -> tuple[Problem, ...]:
        """Problems that stop printing, most urgent first."""
        return tuple(p for p in _SENTENCES if p in self.problems)

    @property
    def ready(self) -> bool:
        return not self.blocking

    @property
    def message(self) -> str:
        """A sentence for the packer."""
        if self.blocking:
            return _SENTENCES[self.blocking[0]][1]
        if Problem.PAPER_LOW in self.problems:
            return PAPER_LOW
        return READY_SENTENCE

    def error(self) -> PrinterError | None:
        """The typed error for the most urgent problem, or None when ready."""
        if not self.blocking:
            return None
        cls, sentence = _SENTENCES[self.blocking[0]]
        return cls(sentence, detail=self.detail)

    def raise_for_problem(self) -> None:
        """Raise the typed error for the most urgent problem."""
        error = self.error()
        if error is not None:
            raise error

    def device_status(self, kind: DeviceKind, url: str) -> DeviceStatus:
        """This status as the shared `DeviceStatus` the station shows."""
        if Problem.OFFLINE in self.problems:
            state = DeviceState.DISCONNECTED
        elif self.blocking:
            state = DeviceState.ERROR
        elif self.problems:
            state = DeviceState.WARNING
        else:
            state = DeviceState.READY
        message = self.message
        if kind is DeviceKind.DOCUMENT_PRINTER:
            message = document_words(message)
        # in the packer's language (the English stays in errors and logs)
        return DeviceStatus(kind=kind, state=state, message=_(message), url=url)


READY = PrinterStatus()
_HS_FRAME = re.compile(rb"\x02([^\x02\x03]*)\x03")


def parse_host_status(answer: bytes | None) -> PrinterStatus:
    """Parse the three STX...ETX lines a Zebra printer sends for `~HS`.

    No answer is a problem, not "ready": Zebra printers stay silent in some fault states.
    """
    if not answer:
        return PrinterStatus(frozenset({Problem.NO_ANSWER}), "no answer to ~HS")
    frames = [f.decode("ascii", "replace").split(",") for f in _HS_FRAME.findall(answer)]
    if len(frames) < 3 or len(frames[0]) < 12 or len(frames[1]) < 11 or len(frames[2]) < 2:
        return PrinterStatus(frozenset({Problem.GARBLED}), f"~HS answer {answer[:80]!r}")
    line1, line2 = frames[0], frames[1]
    flags = {
        Problem.PAPER_OUT: line1[1],
        Problem.PAUSED: line1[2],
        Problem.BUFFER_FULL: line1[5],
        Problem.HEAD_OPEN: line2[2],
        Problem.RIBBON_OUT: line2[3],
    }
    if any(v.strip() not in ("0", "1") for v in flags.values()):
        return PrinterStatus(frozenset({Problem.GARBLED}), f"~HS answer {answer[:80]!r}")
    problems = frozenset(p for p, v in flags.items() if v.strip() == "1")
    return PrinterStatus(problems, f"~HS formats in buffer={line1[4].strip()}")


def host_status_answer(
    paper_out: bool = False,
    paused: bool = False,
    head_open: bool = False,
    ribbon_out: bool = False,
    buffer_full: bool = False,
) -> bytes:
    """A `~HS` answer in the printer's own framing (used by emulators and tests)."""

    def flag(value: bool) -> str:
        return "1" if value else "0"

    line1 = f"030,{flag(paper_out)},{flag(paused)},1218,000,{flag(buffer_full)},0,0,000,0,0,0"
    line2 = f"001,0,{flag(head_open)},{flag(ribbon_out)},0,2,6,0,00000000,1,000"
    line3 = "1234,0"
    return b"".join(b"\x02" + line.encode() + b"\x03\r\n" for line in (line1, line2, line3))


ESCPOS_QUERIES = (b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x04")


def parse_escpos_status(answers: list[bytes | None]) -> PrinterStatus:
    """Parse the one-byte answers to DLE EOT 1 (printer), 2 (offline cause), 4 (paper)."""
    if len(answers) != 3 or any(not a for a in answers):
        return PrinterStatus(frozenset({Problem.NO_ANSWER}), "no answer to DLE EOT")
    printer, cause, paper = (a[-1] for a in answers if a)
    # Bits 1 and 4 are always 1 and bits 0 and 7 always 0 in a real status byte.
    if any(b & 0x93 != 0x12 for b in (printer, cause, paper)):
        return PrinterStatus(frozenset({Problem.GARBLED}), f"DLE EOT answers {answers!r}")
    problems = set()
    if paper & 0x60:
        problems.add(Problem.PAPER_OUT)
    elif paper & 0x0C:
        problems.add(Problem.PAPER_LOW)
    if cause & 0x04:
        problems.add(Problem.HEAD_OPEN)
    if cause & 0x20:
        problems.add(Problem.PAPER_OUT)
    if printer & 0x08 and not problems:
        problems.add(Problem.PAUSED)  # offline for another reason (e.g. feed button held)
    return PrinterStatus(frozenset(problems), f"DLE EOT {printer:#04x} {cause:#04x} {paper:#04x}")


def parse_lpstat(output: str, queue: str) -> PrinterStatus:
    """Parse `lpstat -p QUEUE`: "idle"/"now printing" are ready, "disabled" is stopped."""
    for line in output.splitlines():
        if line.startswith(f"printer {queue} "):
            if "disabled" in line:
                return PrinterStatus(frozenset({Problem.QUEUE_STOPPED}), line.strip())
            return PrinterStatus(frozenset(), line.strip())
    return PrinterStatus(frozenset({Problem.OFFLINE}), f"lpstat does not list {queue!r}")
