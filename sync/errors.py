"""Typed errors of the station's sync layer; the station UI turns each into a next step."""

from __future__ import annotations

from sync.protocol import ClaimRefused


class SyncError(Exception):
    """Base of every error raised by `sync`."""


# --------------------------------------------------------------------------- replica


class ReplicaError(SyncError):
    """The station's local database cannot be used."""


class ReplicaLocked(ReplicaError):
    """Another process already owns this station database (one writer per station)."""

    def __init__(self, path: str, pid: int | None) -> None:
        holder = f"process {pid}" if pid else "another process"
        super().__init__(
            f"The station database {path} is in use by {holder}. Close the other Packbench "
            "window on this station (or end that process) and start again."
        )
        self.path = path
        self.pid = pid


class ReplicaCorrupt(ReplicaError):
    """The database file is damaged; `Replica.quarantine_and_reset` moves it aside."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(
            f"The station database {path} is damaged ({detail}). Move it aside with "
            "Replica.quarantine_and_reset() and let the station re-sync from the service; "
            "events not yet uploaded stay in the quarantined file for support."
        )
        self.path = path
        self.detail = detail


class ReplicaTooNew(ReplicaError):
    """The file was written by a newer Packbench; an older one must not touch it."""


# --------------------------------------------------------------------------- network


class KeyringUnavailable(SyncError):
    """No usable OS keyring, so the station token has nowhere safe to live."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"No usable OS keyring ({detail}). Packbench keeps the station token only in the "
            "keyring, never in a plain file. Install/unlock the desktop keyring (Secret "
            "Service, macOS Keychain, Windows Credential Locker) or select a backend with the "
            "PYTHON_KEYRING_BACKEND environment variable, then enroll again."
        )


class NotEnrolled(SyncError):
    """The keyring holds no token for this server: the station must be enrolled first."""


class SyncUnavailable(SyncError):
    """Transient: the service could not be reached or failed (connect, timeout, 5xx). Retry."""


class SyncRejected(SyncError):
    """Permanent: the service refused the request (4xx). Retrying the same request won't help."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message


class PushRefused(SyncRejected):
    """The service refused a whole push outright (400, 413, 422): sending it again can never
    succeed. `mutation_index` is the position in the push of the mutation it names, if any."""

    def __init__(
        self, status: int, error: str, message: str, field: str | None, mutation_index: int | None
    ) -> None:
        super().__init__(status, error, message)
        self.field = field
        self.mutation_index = mutation_index


class StationUnauthorized(SyncRejected):
    """401: the station token is unknown or revoked; enroll the station again."""


class MutationGap(SyncRejected):
    """409 mutation_gap: the service expects mutation id `expected` next."""

    def __init__(self, expected: int, message: str) -> None:
        super().__init__(409, "mutation_gap", message)
        self.expected = expected


class CursorExpired(SyncRejected):
    """409 cursor_expired: the pull cursor is older than the feed; fetch a snapshot."""

    def __init__(self, oldest_cursor: int, message: str) -> None:
        super().__init__(409, "cursor_expired", message)
        self.oldest_cursor = oldest_cursor


class ClaimRefusedError(SyncRejected):
    """The service would not grant the claim; `refusal.message` tells the packer why."""

    def __init__(self, status: int, refusal: ClaimRefused) -> None:
        super().__init__(status, refusal.error, refusal.message)
        self.refusal = refusal
