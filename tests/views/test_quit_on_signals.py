"""A SIGTERM that lands before the station's event loop runs still stops it."""

from __future__ import annotations

import os
import signal
from typing import Any

from PySide6.QtCore import QTimer

from app.views.run import _quit_on_signals


def test_a_sigterm_between_the_handler_and_the_event_loop_still_quits(qapp: Any) -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        _quit_on_signals(qapp)
        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs here, before exec()
        # Without the signal, nothing else ends the loop but this: exit code 3.
        QTimer.singleShot(5000, lambda: qapp.exit(3))
        assert qapp.exec() == 0
    finally:
        signal.signal(signal.SIGTERM, before[0])
        signal.signal(signal.SIGINT, before[1])
