"""Typed errors of the sync protocol; each carries the wire body the station expects."""

from __future__ import annotations

from datetime import datetime

from service.errors import Conflict, ServiceError
from sync.protocol import CLAIM_MESSAGES, ClaimRefused, CursorExpired, MutationGap


class MutationGapError(Conflict):
    """A push whose ids do not continue the station's counter; nothing was applied."""

    code = "mutation_gap"

    def __init__(self, expected: int, message: str) -> None:
        super().__init__(message)
        self.expected = expected

    def body(self) -> MutationGap:
        """The 409 body: the next id the service will accept."""
        return MutationGap(expected=self.expected, message=self.message)


class CursorExpiredError(Conflict):
    """The station's pull cursor points at changes that were pruned; it must re-snapshot."""

    code = "cursor_expired"

    def __init__(self, oldest_cursor: int, message: str) -> None:
        super().__init__(message)
        self.oldest_cursor = oldest_cursor

    def body(self) -> CursorExpired:
        """The 409 body, with the oldest cursor still served incrementally."""
        return CursorExpired(oldest_cursor=self.oldest_cursor, message=self.message)


def claim_message(code: str, params: dict[str, str]) -> str:
    """The English sentence of a claim refusal (sync.protocol.CLAIM_MESSAGES), filled in."""
    words = dict(params)
    if "status" in words:  # a status code, said as words ("on_hold" -> "on hold")
        words["status"] = words["status"].replace("_", " ")
    return CLAIM_MESSAGES[code].format(**words)


class ClaimRefusedError(ServiceError):
    """A claim the service will not grant (held by another station, not packable, unknown).

    What it says is a message code and its parameters (the station words it in the packer's
    language); the English sentence goes along for stations older than protocol 3."""

    code = "claim_refused"
    http_status = 409

    def __init__(
        self,
        error: str,
        message_code: str,
        params: dict[str, str] | None = None,
        *,
        station_name: str | None = None,
        claimed_at: datetime | None = None,
        http_status: int = 409,
    ) -> None:
        self.message_code = message_code
        self.params = dict(params or {})
        super().__init__(claim_message(message_code, self.params))
        self.error = error
        self.station_name = station_name
        self.claimed_at = claimed_at
        self.http_status = http_status

    def body(self, with_code: bool = True) -> ClaimRefused:
        """The ClaimRefused wire body (`with_code`: for a station that speaks protocol 3)."""
        data: dict[str, object] = {
            "error": self.error,
            "message": self.message,
            "station_name": self.station_name,
            "claimed_at": self.claimed_at,
        }
        if with_code:
            data |= {"code": self.message_code, "params": self.params}
        return ClaimRefused.model_validate(data)


class EnrollCodeUsed(Conflict):
    """The enrolment code was already traded for a token."""

    code = "enroll_code_used"
