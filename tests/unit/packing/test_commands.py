"""Command barcodes: parsed strictly, printable as a sheet, and run when scanned."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.packing.commands import Command, CommandName, parse_command, printable_commands
from app.packing.errors import UnknownCommand
from app.packing.progress import PackState
from app.packing.step import Outcome
from app.scanning.scan import ScanKind
from sync.protocol import HoldReason
from tests.support.text import en

from .factories import MUG_GTIN13, MUG_ORDER, Station, kind


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("PB:CLOSE", Command(CommandName.CLOSE)),
        ("pb:close", Command(CommandName.CLOSE)),
        (" PB:NEW-BOX\r", Command(CommandName.NEW_BOX)),
        ("PB:NEW_BOX", Command(CommandName.NEW_BOX)),
        ("PB:REPRINT", Command(CommandName.REPRINT)),
        ("PB:HOLD", Command(CommandName.HOLD)),
        ("PB:HOLD:SHORT-PICK", Command(CommandName.HOLD, hold_reason=HoldReason.SHORT_PICK)),
        ("PB:HOLD:wrong_item_in_tote", Command(CommandName.HOLD, HoldReason.WRONG_ITEM_IN_TOTE)),
        ("PB:LOGOUT", Command(CommandName.LOGOUT)),
        ("PB:REWEIGH", Command(CommandName.REWEIGH)),
        ("PB:CANCEL", Command(CommandName.CANCEL)),
        ("PB:BOX:mailer", Command(CommandName.BOX, box_type="MAILER")),
    ],
)
def test_known_commands_parse(text: str, command: Command) -> None:
    assert parse_command(text) == command


@pytest.mark.parametrize(
    "text",
    [
        "PB:CLOSED",
        "PB:CLOSE:NOW",
        "PB:",
        "PB:HOLD:LOST",
        "PB:BOX:",
        "PB:BOX:WAY-TOO-LONG-A-BOX-NAME",
        "PB:LOGOUT:",
        "CLOSE",
        "PB:CLOSE\x00",
        "PB:HOLD:SHORT-PıCK",  # dotless i upper-cases to I: that would be a guess
    ],
)
def test_unknown_commands_are_refused_not_guessed(text: str) -> None:
    with pytest.raises(UnknownCommand):
        parse_command(text)


@given(st.text(max_size=80))
def test_parsing_any_text_either_gives_a_command_or_unknown_command(text: str) -> None:
    try:
        command = parse_command(text)
    except UnknownCommand as error:
        assert str(error).endswith(".")
    else:
        assert parse_command(command.barcode) == command


def test_the_command_sheet_lists_every_command_and_each_parses_back() -> None:
    cards = printable_commands(["S", "M", "Mailer"])
    barcodes = [card.barcode for card in cards]
    assert len(barcodes) == len(set(barcodes))
    for card in cards:
        assert card.caption
        assert parse_command(card.barcode).barcode == card.barcode
    assert {"PB:CLOSE", "PB:NEW-BOX", "PB:REPRINT", "PB:HOLD", "PB:LOGOUT"} <= set(barcodes)
    assert {"PB:REWEIGH", "PB:CANCEL", "PB:BOX:MAILER", "PB:HOLD:ADDRESS-PROBLEM"} <= set(barcodes)


def command(text: str):
    return kind(text, ScanKind.COMMAND)


def test_the_whole_flow_runs_from_the_scanner_alone() -> None:
    station = Station()
    station.open(MUG_ORDER)
    assert station.scan(command("PB:BOX:L")).outcome is Outcome.BOX_TYPE_SET
    station.scan_text(MUG_GTIN13)
    assert station.scan(command("PB:NEW-BOX")).state is PackState.WEIGHING
    station.weigh(350 + 400)  # box 2 opens; box 1's label waits for the last box
    station.scan_text(MUG_GTIN13)
    station.scan_text(MUG_GTIN13)
    station.weigh(700 + 250)
    assert station.scan(command("PB:REWEIGH")).state is PackState.WEIGHING
    station.weigh(700 + 250)
    station.label(1)
    station.label(2)
    done = station.scan(command("PB:CLOSE"))
    assert (done.outcome, done.state) == (Outcome.PACKED, PackState.PACKED)


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("PB:CLOSE", Outcome.NOT_NOW),  # items are still missing
        ("PB:REWEIGH", Outcome.NOT_NOW),
        ("PB:BOX:CRATE", Outcome.NOT_NOW),  # not in the box catalogue
        ("PB:FROBNICATE", Outcome.UNKNOWN_COMMAND),
    ],
)
def test_a_command_that_cannot_run_now_is_red_and_changes_nothing(text, outcome) -> None:
    station = Station()
    station.open(MUG_ORDER)
    station.scan_text(MUG_GTIN13)
    before = station.session.progress
    step = station.scan(command(text))
    assert (step.outcome, step.tone, step.events) == (outcome, "red", ())
    assert en(step.message).endswith(".")
    assert station.session.progress is before


def test_hold_commands() -> None:
    station = Station()
    station.open(MUG_ORDER)
    ask = station.scan(command("PB:HOLD"))
    assert (ask.outcome, ask.command) == (Outcome.CHOOSE_HOLD_REASON, Command(CommandName.HOLD))
    other = station.scan(command("PB:HOLD:OTHER"))
    assert other.outcome is Outcome.CHOOSE_HOLD_REASON  # the station asks for the text
    held = station.scan(command("PB:HOLD:DAMAGED-ITEM"))
    assert (held.state, held.events[0].payload.reason) == (
        PackState.HELD,
        HoldReason.DAMAGED_ITEM,
    )


@pytest.mark.parametrize("text", ["PB:REPRINT", "PB:LOGOUT"])
def test_reprint_and_logout_are_handed_to_the_station(text: str) -> None:
    station = Station()
    station.open(MUG_ORDER)
    step = station.scan(command(text))
    assert step.outcome is Outcome.COMMAND
    assert step.command == parse_command(text)
