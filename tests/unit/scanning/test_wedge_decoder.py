"""Keyboard-wedge burst detection on synthetic key streams with injected timestamps."""

from __future__ import annotations

import pytest

from app.scanning.wedge_decoder import KeyStroke, WedgeConfig, WedgeDecoder

SHIFT = KeyStroke(modifier_key=True)
ALT = KeyStroke(modifier_key=True, alt_key=True)


class Run:
    """A decoder plus what it produced; `t` is the injected clock in seconds."""

    def __init__(self, config: WedgeConfig | None = None) -> None:
        self.scans: list[str] = []
        self.typed: list[str] = []  # what reached the focused widget, in order
        self.problems: list[str] = []
        self.decoder = WedgeDecoder(
            config or WedgeConfig(), self.scans.append, self._replayed, self._problem
        )
        self.t = 0.0

    def _replayed(self, items: list[KeyStroke | str]) -> None:
        self.typed.extend(i if isinstance(i, str) else i.text for i in items)

    def _problem(self, text: str, reason: str) -> None:
        self.problems.append(reason)

    def key(self, stroke: KeyStroke, dt: float) -> None:
        self.t += dt
        if not self.decoder.press(stroke, self.t):
            self.typed.append(stroke.text)
        self.decoder.release(stroke, self.t + 0.002)

    def type(self, text: str, dt: float) -> None:
        for ch in text:
            self.key(KeyStroke(text=ch), dt)

    def idle(self, seconds: float = 1.0) -> None:
        """No key for `seconds` on a live event loop: the timer polls at each deadline."""
        end = self.t + seconds
        while (deadline := self.decoder.deadline()) is not None and deadline < end:
            self.t = deadline + 0.001
            self.decoder.poll(self.t)
        self.t = end


@pytest.mark.parametrize("per_key_s", [0.002, 0.02, 0.05])
def test_scanner_speed_burst_with_enter_is_one_scan(per_key_s: float) -> None:
    run = Run()
    run.type("ORD-100123\r", per_key_s)
    run.idle()
    assert run.scans == ["ORD-100123"]
    assert "".join(run.typed) == ""


@pytest.mark.parametrize("per_key_s", [0.12, 0.2, 0.35])
def test_human_speed_typing_is_passed_through_in_order(per_key_s: float) -> None:
    run = Run()
    run.type("4711\r", per_key_s)
    run.idle()
    assert run.scans == []
    assert "".join(run.typed) == "4711\r"


def test_fast_human_rollover_of_a_few_keys_is_not_a_scan() -> None:
    run = Run()
    run.type("12", 0.15)
    run.type("34", 0.03)  # two keys rolled over quickly
    run.key(KeyStroke(text="\r"), 0.11)
    run.idle()
    assert run.scans == []
    assert "".join(run.typed) == "1234\r"


def test_short_fast_burst_below_min_length_is_typing() -> None:
    run = Run()
    run.type("ab\r", 0.01)
    assert run.scans == []
    assert "".join(run.typed) == "ab\r"


@pytest.mark.parametrize(
    ("suffix", "after"),
    [("\r", ""), ("\n", ""), ("\t", ""), ("\r\n", "")],
)
def test_every_suffix_variant_ends_a_scan_and_is_not_typed(suffix: str, after: str) -> None:
    run = Run()
    run.type("T-A17" + suffix, 0.01)
    run.idle()
    assert run.scans == ["T-A17"]
    assert "".join(run.typed) == after


def test_lf_long_after_a_scan_is_typed_normally() -> None:
    run = Run()
    run.type("T-A17\r", 0.01)
    run.idle(0.5)
    run.key(KeyStroke(text="\n", command=True), 0.01)
    assert run.typed == ["\n"]


def test_tab_only_suffix_leaves_enter_to_the_widget() -> None:
    run = Run(WedgeConfig(suffixes=frozenset({"\t"})))
    run.type("T-A17\r", 0.01)
    run.idle()
    assert run.scans == []
    assert "".join(run.typed) == "T-A17\r"


def test_alt_numpad_029_becomes_gs_inside_a_gs1_scan() -> None:
    run = Run()
    run.type("0109506000134352", 0.005)
    run.t += 0.005
    assert not run.decoder.press(ALT, run.t)  # Alt held down while the digits are typed
    for digit in "029":
        run.key(KeyStroke(alt=True, command=True, keypad_digit=digit), 0.005)
    run.t += 0.005
    run.decoder.release(ALT, run.t)
    run.key(KeyStroke(text="\x1d"), 0.001)  # Windows also types the composed character
    run.type("10LOT1\r", 0.005)
    assert run.scans == ["0109506000134352\x1d10LOT1"]


def test_digits_that_need_shift_on_azerty_still_form_a_scan() -> None:
    run = Run()
    for ch in "4006381333931":
        run.key(SHIFT, 0.004)
        run.key(KeyStroke(text=ch), 0.004)
    run.key(KeyStroke(text="\r"), 0.004)
    assert run.scans == ["4006381333931"]


def test_prefix_marks_a_scan_even_from_a_slow_scanner() -> None:
    run = Run(WedgeConfig(prefix="\x02"))
    run.key(KeyStroke(text="\x02", command=True), 0.0)
    run.type("ORD-1001\r", 0.2)  # slower than the gap: only the prefix says "scanner"
    assert run.scans == ["ORD-1001"]
    assert run.typed == []


def test_prefix_scan_that_never_ends_is_reported() -> None:
    run = Run(WedgeConfig(prefix="\x02"))
    run.key(KeyStroke(text="\x02", command=True), 0.0)
    run.type("ORD-1", 0.01)
    run.idle(1.0)
    assert run.scans == [] and run.typed == []
    assert "never ended" in run.problems[0]


def test_no_suffix_scanner_ends_scan_when_keys_stop() -> None:
    run = Run(WedgeConfig(suffixes=frozenset()))
    run.type("ORD-2002", 0.01)
    run.idle(0.1)
    assert run.scans == ["ORD-2002"]


def test_auto_repeat_of_a_held_key_is_typing() -> None:
    run = Run()
    run.key(KeyStroke(text="0"), 0.0)
    for _ in range(10):
        run.key(KeyStroke(text="0", auto_repeat=True), 0.03)
    run.key(KeyStroke(text="\r"), 0.03)
    assert run.scans == []
    assert "".join(run.typed) == "0" * 11 + "\r"


def test_ctrl_shortcut_passes_straight_through() -> None:
    run = Run()
    run.key(KeyStroke(text="\x03", command=True), 0.0)  # Ctrl+C
    assert run.typed == ["\x03"]
    assert not run.decoder.busy


def test_ten_kilobyte_burst_is_delivered_as_one_scan() -> None:
    run = Run()
    run.type("7" * 10_240 + "\r", 0.001)
    assert len(run.scans) == 1 and len(run.scans[0]) == 10_240
    assert run.typed == []


def test_url_parameters() -> None:
    config = WedgeConfig.from_params(
        {"gap_ms": "40", "min_length": "6", "suffix": "TAB", "prefix": "STX"}
    )
    assert (config.gap_s, config.min_length, config.prefix) == (0.04, 6, "\x02")
    assert config.suffixes == frozenset({"\t"})
