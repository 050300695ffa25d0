"""Screenshots of the station in one language, to check a translation on screen.

    python -m tests.views.screens --lang de --size 1366x768 --out docs/screenshots/i18n/
    python -m tests.views.screens --lang x-pseudo          # accents, 40 % longer: clipping

Every screen of tests/support/screens.py (login, batches, the pack screen in each state,
the wrong-weight state, the supervisor tabs), the dialogs and the settings dialog, with the
longest messages of each kind, on the offscreen platform; files are named
`<lang>-<screen>-<size>.png`. After the pictures it lists, per screen, every visible text
that is clipped (the clipping test's measure) and, for `x-pseudo`, every visible text that
did not come through `app.i18n` (no accents: a sentence nobody marked). Exit status 1 when
anything was listed, so a rerun after new catalogues says at once whether the layout holds.
A language without a catalogue in this build is refused (it would only show English).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTabWidget,
    QWidget,
)

from app import i18n

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "docs" / "screenshots" / "i18n"
PANEL_INCHES = 15.6
# Text that is data or a code, never a sentence: product names, SKUs, order numbers, times,
# figures, device URLs, the symbols of the banner and the status bar.
_DATA = re.compile(
    r"^[\W\d_]*$|^[A-Z0-9][A-Z0-9_:./-]+$|^(ORD|B|T|PB|BADGE)-|://|^bench-|^shopify|^\S+@"
    r"|^Packbench \d"
)
_PSEUDO_MARK = re.compile(r"[\u00c0-\u024f\u1e00-\u1eff]")  # an accented letter


def per_mm(width: int, height: int) -> float:
    """Pixels per millimetre of a 15.6" panel at this resolution."""
    return math.hypot(width, height) / PANEL_INCHES / 25.4


def visible_texts(root: QWidget) -> Iterator[tuple[str, str]]:
    """(where, text) for every text a person sees in `root`."""
    for widget in [root, *root.findChildren(QWidget)]:
        if widget is not root and not widget.isVisibleTo(root):
            continue
        kind = type(widget).__name__
        if isinstance(widget, QLabel | QAbstractButton):
            yield kind, widget.text()
        if isinstance(widget, QLineEdit):
            yield f"{kind} placeholder", widget.placeholderText()
        if isinstance(widget, QTabWidget):
            for i in range(widget.count()):
                yield "tab", widget.tabText(i)
        if isinstance(widget, QTableWidget):
            for c in range(widget.columnCount()):
                item = widget.horizontalHeaderItem(c)
                if item is not None:
                    yield "header", item.text()


def unmarked(root: QWidget) -> list[str]:
    """Visible sentences with no pseudo accents: they skipped `app.i18n` (x-pseudo only)."""
    found = []
    for where, text in visible_texts(root):
        words = text.replace("&", "").strip()
        if not words or _DATA.search(words) or _PSEUDO_MARK.search(words):
            continue
        if not re.search(r"[a-z]{3}", words):  # no word of three letters: a figure or code
            continue
        found.append(f"{where}: {words[:90]!r}")
    return sorted(set(found))


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1366x768")
    return int(match[1]), int(match[2])


def _language(code: str) -> str:
    if code != i18n.PSEUDO and code not in i18n.shipped():
        have = ", ".join([*i18n.shipped(), i18n.PSEUDO])
        raise argparse.ArgumentTypeError(f"no {code!r} catalogue in this build (have: {have})")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.views.screens", description=__doc__)
    parser.add_argument("--lang", type=_language, default=i18n.PSEUDO)
    parser.add_argument("--size", type=_size, action="append", help="WIDTHxHEIGHT (repeatable)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    sizes: list[tuple[int, int]] = args.size or [(1366, 768)]

    from tests.support.screens import dialogs, screens, settle, station
    from tests.views.test_clipping import clipped

    app = QApplication.instance() or QApplication(sys.argv[:1])
    i18n.set_site_language(args.lang)
    i18n.set_language(args.lang)
    args.out.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}

    def shoot(widget: QWidget, name: str, size: tuple[int, int]) -> None:
        path = args.out / f"{args.lang}-{name}-{size[0]}x{size[1]}.png"
        widget.grab().save(str(path))
        print(path)
        found = clipped(widget)
        if args.lang == i18n.PSEUDO:
            found += [f"not translated: {t}" for t in unmarked(widget)]
        if found:
            problems[f"{name} {size[0]}x{size[1]}"] = found

    for size in sizes:
        window = station()
        window.apply_sizes(per_mm(*size))
        window.resize(*size)
        window.show()
        settle()
        for name, widget in screens(window):
            window.show_model(window.runtime.model)
            settle()
            shoot(widget, name, size)
        for name, dialog in dialogs(window):
            shoot(dialog, name, size)
        if window.settings_factory is None:
            from app.views.settings_dialog import PrinterActions, SettingsDialog

            done = lambda: "done"  # noqa: E731
            settings = SettingsDialog(
                window,
                PrinterActions(done, done, done),
                {"Scanner": "wedge", "Scale": "manual", "Label printer": "file:///tmp/labels"},
                window.change_language,
            )
            for index in range(settings.tabs.count()):
                settings.tabs.setCurrentIndex(index)
                settings.show()
                settle()
                shoot(settings, f"settings-{index + 1}", size)
            settings.close()
        window.close()
        window.deleteLater()
        app.processEvents()
    for name, found in problems.items():
        print(f"\n{name}:")
        for line in found:
            print(f"  {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
