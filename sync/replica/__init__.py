"""The station's local replica: SQLite cache of assigned work, outbox, mutation log."""

from sync.protocol import holdings_checksum
from sync.replica.lookups import LocalEvent
from sync.replica.store import MutationSpec, Replica

__all__ = ["LocalEvent", "MutationSpec", "Replica", "holdings_checksum"]
