"""Tell keyboard-wedge scanner bursts from human typing, from key strokes and timestamps.

No Qt here: `wedge.py` turns QKeyEvents into `KeyStroke`s and feeds this decoder, which
tests drive directly with synthetic timestamps. Keys that might start a scan are held back;
if they turn out to be typing (a pause longer than the gap, or no suffix), they are handed
back in order through `on_replay`, so typing is only delayed by one gap (default 60 ms).

Two clocks: the gap between two keys is measured on the keys' own timestamps (`at`, when
the keyboard produced them), so a burst the event loop delivers late is still one burst;
"no more keys came" is measured on the local clock from when the last key *arrived*. That
judgement is only made on a loop seen running the whole time: while keys are held the
decoder asks to be polled every `tick_s`, and a poll that finds the loop silent for longer
than `late_poll_s` (it was stalled, so keys typed meanwhile may still be queued) waits one
more gap. A timer that is only a little late is no proof: a stall that began before the
deadline can hide the burst's last key behind it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from app.i18n import _
from app.scanning.errors import ScannerError

_SUFFIXES = {
    "ANY": frozenset({"\r", "\n", "\t"}),
    "CR": frozenset({"\r", "\n"}),  # CR, LF and CR+LF all end a scan; the LF of CR+LF is eaten
    "LF": frozenset({"\r", "\n"}),
    "CRLF": frozenset({"\r", "\n"}),
    "TAB": frozenset({"\t"}),
    "NONE": frozenset(),
}
_PREFIXES = {"STX": "\x02", "NONE": ""}


@dataclass(frozen=True)
class WedgeConfig:
    """How to recognise a scanner on the keyboard; defaults suit 20–50 ms-per-key scanners.

    A burst is a scan when every key follows the previous within `gap_s`, it has at least
    `min_length` characters, and it ends with a suffix (unless suffix NONE). A configured
    `prefix` marks a scan regardless of timing.
    """

    gap_s: float = 0.06
    min_length: int = 4
    prefix: str = ""
    suffixes: frozenset[str] = field(default_factory=lambda: _SUFFIXES["ANY"])
    prefix_timeout_s: float = 0.5  # after a prefix, how long a slow scanner may pause
    tick_s: float = 0.005  # while keys are held, how often the loop is checked for stalls
    late_poll_s: float = 0.015  # the loop silent longer than this: it stalled
    max_late_polls: int = 5  # how often a stalled loop may put off judging one burst

    @property
    def require_suffix(self) -> bool:
        """False when the scanner sends no suffix: a scan then ends when the keys stop."""
        return bool(self.suffixes)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> WedgeConfig:
        """Build from device-URL parameters: gap_ms, min_length, prefix, suffix."""
        suffix = params.get("suffix", "ANY").upper()
        if suffix not in _SUFFIXES:
            raise ScannerError(f"suffix={suffix!r}: use one of {', '.join(_SUFFIXES)}.")
        prefix = params.get("prefix", "")
        prefix = _PREFIXES.get(prefix.upper(), prefix)
        try:
            gap_ms = int(params.get("gap_ms", "60"))
            min_length = int(params.get("min_length", "4"))
            prefix_timeout_ms = int(params.get("prefix_timeout_ms", "500"))
        except ValueError as exc:
            raise ScannerError(f"Wedge settings must be whole numbers: {exc}") from exc
        if not 5 <= gap_ms <= 500 or min_length < 1:
            raise ScannerError("gap_ms must be 5–500 and min_length at least 1.")
        return cls(gap_ms / 1000, min_length, prefix, _SUFFIXES[suffix], prefix_timeout_ms / 1000)


@dataclass(frozen=True, slots=True)
class KeyStroke:
    """One key event as the decoder sees it. `native` carries what the Qt layer replays."""

    text: str = ""  # what the key types; "\r" for Enter, "\t" for Tab, "" for F-keys
    command: bool = False  # Ctrl, Alt or Meta held (a shortcut, unless mid-scan)
    alt: bool = False
    keypad_digit: str = ""  # "0".."9" for a numeric-keypad digit key
    modifier_key: bool = False  # Shift, Ctrl, Alt, Meta, AltGr, CapsLock pressed by itself
    alt_key: bool = False  # the Alt key itself
    auto_repeat: bool = False
    native: object = None


@dataclass(slots=True)
class _Held:
    char: str
    stroke: KeyStroke | None  # None: a character composed from Alt+numpad digits


OnScanText = Callable[[str], None]
OnReplay = Callable[[list[KeyStroke | str]], None]
OnProblem = Callable[[str, str], None]


class WedgeDecoder:
    """Feeds of key presses/releases with timestamps in, scans and replays out."""

    def __init__(
        self,
        config: WedgeConfig,
        on_scan: OnScanText,
        on_replay: OnReplay,
        on_problem: OnProblem,
    ) -> None:
        self.config = config
        self._on_scan = on_scan
        self._on_replay = on_replay
        self._on_problem = on_problem
        self._held: list[_Held] = []
        self._last_t = 0.0  # key time (the event's own timestamp) of the last held key
        self._last_arrival = 0.0  # local time the last held key was handled
        self._alive_at = 0.0  # local time the loop was last seen running (a key or a poll)
        self._late_polls = 0
        self._prefix_seen = 0  # how many prefix characters the held burst starts with
        self._alt_digits: str | None = None
        self._swallow_lf_until = -1.0
        self._swallow: tuple[str, float] | None = None

    @property
    def busy(self) -> bool:
        """True while keys are held back waiting to be judged."""
        return bool(self._held) or bool(self._alt_digits)

    @property
    def in_prefix_scan(self) -> bool:
        """True once the whole configured prefix has been seen."""
        return bool(self.config.prefix) and self._prefix_seen == len(self.config.prefix)

    def deadline(self) -> float | None:
        """Local time when `poll` must next run (None: nothing held): the next tick, or the
        moment the held keys are judged if that comes first."""
        if not self.busy:
            return None
        return min(self._judge_at(), self._alive_at + self.config.tick_s)

    def poll(self, now: float) -> None:
        """Judge held keys once no key has arrived for a gap (local clock `now`).

        A poll that finds the loop silent for more than `late_poll_s` (no key, no poll) means
        it was stalled, so keys typed meanwhile may still be queued: it waits one more gap
        instead, at most `max_late_polls` times for one burst.
        """
        if not self.busy:
            return
        stalled = now - self._alive_at > self.config.late_poll_s
        self._alive_at = now
        if stalled and self._late_polls < self.config.max_late_polls:
            self._late_polls += 1
            self._last_arrival = now
            return
        if now > self._judge_at():
            self._judge()

    def flush(self) -> None:
        """Judge whatever is held now (the scanner is stopping)."""
        if self.busy:
            self._judge()

    def _judge_at(self) -> float:
        """Local time after which the held keys are judged, if no key came meanwhile."""
        return self._last_arrival + self._limit()

    def _limit(self) -> float:
        return self.config.prefix_timeout_s if self.in_prefix_scan else self.config.gap_s

    def _expire(self, at: float) -> None:
        """Judge held keys when the key stamped `at` came more than a gap after them."""
        if self.busy and at - self._last_t > self._limit():
            self._judge()

    def _judge(self) -> None:
        chars = "".join(h.char for h in self._held)
        self._late_polls = 0
        if self.in_prefix_scan:
            self._clear()
            self._on_problem(
                chars[len(self.config.prefix) :],
                _(
                    "A scan started but never ended: check the scanner's suffix setting, "
                    "then scan again."
                ),
            )
        elif not self.config.require_suffix and len(chars) >= self.config.min_length:
            self._emit(chars)
        else:
            self._replay()

    def press(self, key: KeyStroke, now: float, at: float | None = None) -> bool:
        """Handle a key press handled at local time `now`, stamped `at` by the keyboard.

        Returns True when it was consumed (held or part of a scan). `at` defaults to `now`.
        """
        at = now if at is None else at
        self._alive_at = now
        self._expire(at)
        if key.auto_repeat:  # a held-down key is a person, never a scanner
            self._replay()
            return False
        if key.modifier_key:
            if key.alt_key:
                self._alt_digits = ""
            return False  # Shift between digits (AZERTY) must not break a burst
        if self._alt_digits is not None and key.alt and key.keypad_digit:
            self._alt_digits += key.keypad_digit
            self._last_t, self._last_arrival = at, now
            return True
        if self._swallow is not None:
            char, until = self._swallow
            self._swallow = None
            if key.text == char and at <= until:
                return True  # Windows also types the Alt+numpad character itself
        text = key.text
        if text and text in self.config.suffixes:
            return self._terminator(key, at)
        # Control characters (GS as Ctrl+], STX) belong to a scan only once one has begun.
        usable = text.isprintable() or bool(self._held) or self._starts_prefix(text)
        if len(text) != 1 or not usable or text in "\r\n\t":
            self._replay()
            return False
        if key.command and not self._held and not self._starts_prefix(text):
            return False  # a shortcut such as Ctrl+C
        self._hold(_Held(text, key), at, now)
        return True

    def release(self, key: KeyStroke, now: float, at: float | None = None) -> bool:
        """Handle a key release; releases always pass, the Alt release ends Alt+numpad."""
        at = now if at is None else at
        self._alive_at = now
        if key.alt_key and self._alt_digits is not None:
            digits, self._alt_digits = self._alt_digits, None
            if digits:
                char = _alt_code_char(digits)
                self._hold(_Held(char, None), at, now)
                self._swallow = (char, at + self.config.gap_s)
        return False

    # -- internals -------------------------------------------------------------------------

    def _starts_prefix(self, text: str) -> bool:
        return bool(self.config.prefix) and not self._held and text == self.config.prefix[0]

    def _hold(self, held: _Held, at: float, now: float) -> None:
        prefix = self.config.prefix
        # The prefix counts only as an unbroken run at the very start of the burst.
        seen = self._prefix_seen
        if prefix and seen == len(self._held) and seen < len(prefix) and held.char == prefix[seen]:
            self._prefix_seen += 1
        self._held.append(held)
        self._last_t, self._last_arrival = at, now
        self._late_polls = 0

    def _terminator(self, key: KeyStroke, at: float) -> bool:
        if not self._held:
            if key.text == "\n" and at <= self._swallow_lf_until:
                self._swallow_lf_until = -1.0
                return True  # the LF of a CR+LF suffix
            return False
        chars = "".join(h.char for h in self._held)
        fast = at - self._last_t <= self.config.gap_s
        long_enough = len(chars) - self._prefix_seen >= self.config.min_length
        if self.in_prefix_scan or (fast and long_enough):
            self._emit(chars)
            if key.text == "\r":
                self._swallow_lf_until = at + self.config.gap_s
            return True
        self._replay()
        return False

    def _emit(self, chars: str) -> None:
        if self._prefix_seen == len(self.config.prefix):
            chars = chars[self._prefix_seen :]
        self._clear()
        self._on_scan(chars)

    def _replay(self) -> None:
        if not self._held:
            return
        items: list[KeyStroke | str] = [h.stroke or h.char for h in self._held]
        self._clear()
        self._on_replay(items)

    def _clear(self) -> None:
        self._held.clear()
        self._prefix_seen = 0


def _alt_code_char(digits: str) -> str:
    """Alt+numpad code to a character: Alt+0nnn is Windows-1252, Alt+nnn is code page 437."""
    code = int(digits) % 256
    if code < 128:
        return chr(code)
    return bytes([code]).decode("cp1252" if digits.startswith("0") else "cp437", "replace")


class KeyClock:
    """Turns key-event timestamps (ms, the window system's clock) into local seconds.

    The window system's clock has its own zero, so the offset is the smallest seen
    (arrival - stamp): the least-delayed key. An event without a stamp (0) counts as
    arriving on time; a stamp that runs backwards or wraps re-bases the offset.
    """

    REBASE_S = 30.0  # a key "older" than this on arrival means the window clock changed base

    def __init__(self) -> None:
        self._offset: float | None = None

    def at(self, stamp_ms: int, now: float) -> float:
        """The local time at which the key stamped `stamp_ms` was pressed."""
        if stamp_ms <= 0:
            return now
        stamp = stamp_ms / 1000
        offset = self._offset
        if offset is None or not 0 <= now - (stamp + offset) <= self.REBASE_S:
            offset = self._offset = now - stamp
        return stamp + offset
