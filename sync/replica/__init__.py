"""The station's local replica: SQLite cache of assigned work, outbox, mutation log."""

from sync.replica.lookups import LocalEvent, holdings_checksum
from sync.replica.store import MutationSpec, Replica

__all__ = ["LocalEvent", "MutationSpec", "Replica", "holdings_checksum"]
