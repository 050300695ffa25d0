"""Service sessions of the supervisors signed in at this station (badge + PIN, by user id).

The service trusts no user id from a station: a supervisor call carries the session the
service gave for the badge and PIN typed here. Sessions are kept in memory only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.station.ports import UserRecord
from app.station.supervisor import SupervisorApi
from sync.protocol import SupervisorSessionOut


class NotSignedIn(Exception):
    """No service session for this supervisor (offline at login, or it expired)."""

    message = (
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
        self._by_user: dict[int, str] = {}

    def sign_in(self, user: UserRecord, pin: str) -> None:
        """Open (or replace) the user's session; raises what the client raises."""
        self._by_user[user.id] = self._open(user.badge, pin).session

    def sign_out(self, user: UserRecord) -> None:
        """Forget the user's session here, then end it at the service (best effort)."""
        session = self._by_user.pop(user.id, None)
        if session is not None and self._close is not None:
            self._close(session)

    def api_for(self, user_id: int) -> SupervisorApi:
        """The supervisor API as this user; NotSignedIn when there is no session."""

        def call(method: str, path: str, body: dict[str, Any] | None) -> Any:
            session = self._by_user.get(user_id)
            if session is None:
                raise NotSignedIn(NotSignedIn.message)
            return self._call(session, method, path, body)

        return call
