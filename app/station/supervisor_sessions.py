"""Service sessions of the supervisors signed in at this station (badge + PIN, by user id).

The service trusts no user id from a station: a supervisor call carries the session the
service gave for the badge and PIN typed here. Sessions are kept in memory only. Signing in
runs on this class's own worker, and a supervisor call waits for a sign-in still under way,
so the supervisor screen's first fetch never races the login.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from app.i18n import N_, _
from app.station.ports import UserRecord
from app.station.supervisor import SupervisorApi
from sync.protocol import SupervisorSessionOut

log = logging.getLogger(__name__)

SIGN_IN_WAIT = 15.0  # seconds a supervisor call waits for a sign-in under way


class NotSignedIn(Exception):
    """No service session for this supervisor (offline at login, or it expired)."""

    message = N_(
        "The service has not signed this supervisor in. Log out, then scan the badge and "
        "type the PIN again while the service is reachable."
    )


class SupervisorSessions:
    """Opens a session when a supervisor logs in; gives the supervisor screen its API."""

    def __init__(
        self,
        open_session: Callable[[str, str], SupervisorSessionOut],
        call: Callable[[str, str, str, dict[str, Any] | None], Any],
        close_session: Callable[[str], object] | None = None,
    ) -> None:
        self._open = open_session
        self._call = call
        self._close = close_session
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="supervisor-session")
        self._by_user: dict[int, Future[str]] = {}

    def sign_in(self, user: UserRecord, pin: str) -> None:
        """Start opening the user's session (returns at once; the PIN is not kept)."""
        self._by_user[user.id] = self._worker.submit(lambda: self._open(user.badge, pin).session)

    def sign_out(self, user: UserRecord) -> None:
        """Forget the user's session here and end it at the service (in the background)."""
        pending = self._by_user.pop(user.id, None)
        if pending is None or self._close is None:
            return
        close = self._close

        def end() -> None:
            try:
                close(pending.result(SIGN_IN_WAIT))
            except Exception as exc:  # noqa: BLE001 (best effort: it also expires by itself)
                log.info("supervisor session not ended at the service: %s", exc)

        self._worker.submit(end)

    def api_for(self, user_id: int) -> SupervisorApi:
        """The supervisor API as this user; NotSignedIn when there is no session."""

        def call(method: str, path: str, body: dict[str, Any] | None) -> Any:
            pending = self._by_user.get(user_id)
            if pending is None:
                raise NotSignedIn(_(NotSignedIn.message))
            try:
                session = pending.result(SIGN_IN_WAIT)
            except FutureTimeout:
                raise NotSignedIn(_(NotSignedIn.message)) from None
            except Exception as exc:
                raise NotSignedIn(f"{_(NotSignedIn.message)} ({exc})") from exc
            return self._call(session, method, path, body)

        return call

    def close(self) -> None:
        """Stop the worker (station shutdown)."""
        self._worker.shutdown(wait=False, cancel_futures=True)
