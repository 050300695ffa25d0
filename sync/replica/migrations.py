"""Step-by-step schema migrations of the station replica, with a backup before migrating.

Each step is frozen DDL: it builds exactly what that version needed, whatever `tables.py`
says later. `PRAGMA user_version` records the version reached. A file from a newer
Packbench is refused rather than guessed at.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sync.clock import utcnow
from sync.errors import ReplicaTooNew

log = logging.getLogger(__name__)

_V1 = """
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    number_key TEXT NOT NULL,
    tote_key TEXT,
    status TEXT NOT NULL,
    batch_id INTEGER,
    version INTEGER NOT NULL,
    lease_epoch INTEGER,
    lease_station_id INTEGER,
    lease_expires_at TEXT,
    data TEXT NOT NULL
);
CREATE INDEX ix_orders_number ON orders (number_key);
CREATE INDEX ix_orders_tote ON orders (tote_key);
CREATE INDEX ix_orders_batch ON orders (batch_id);
CREATE TABLE products (id INTEGER PRIMARY KEY, sku_key TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX ix_products_sku ON products (sku_key);
CREATE TABLE product_gtins (gtin14 TEXT PRIMARY KEY, product_id INTEGER NOT NULL);
CREATE INDEX ix_product_gtins_product ON product_gtins (product_id);
CREATE TABLE product_aliases (code_key TEXT PRIMARY KEY, product_id INTEGER NOT NULL);
CREATE INDEX ix_product_aliases_product ON product_aliases (product_id);
CREATE TABLE batches (id INTEGER PRIMARY KEY, station_id INTEGER, data TEXT NOT NULL);
CREATE TABLE users (id INTEGER PRIMARY KEY, badge TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX ix_users_badge ON users (badge);
CREATE TABLE labels (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL,
    parcel_no INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX ix_labels_order ON labels (order_id);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    order_id INTEGER,
    lease_epoch INTEGER,
    at TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX ix_outbox_order ON outbox (order_id);
CREATE TABLE mutation_log (
    id INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    order_id INTEGER,
    lease_epoch INTEGER,
    at TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    message TEXT,
    result TEXT,
    acked_at TEXT
);
CREATE INDEX ix_mutation_log_order ON mutation_log (order_id);
CREATE TABLE held_changes (
    entity TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT,
    PRIMARY KEY (entity, entity_id)
);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters (name, value) VALUES ('pull_cursor', 0), ('mutation_id', 0);
CREATE TABLE station_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _run_ddl(conn: sqlite3.Connection, ddl: str) -> None:
    # Not executescript(): it commits first, and a step must be one transaction.
    for statement in ddl.split(";"):
        if statement.strip():
            conn.execute(statement)


def _to_v1(conn: sqlite3.Connection) -> None:
    _run_ddl(conn, _V1)


_V2 = """
CREATE TABLE weight_profiles (
    id INTEGER PRIMARY KEY,
    contents_key TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE UNIQUE INDEX ix_weight_profiles_key ON weight_profiles (contents_key);
UPDATE counters SET value = 0 WHERE name = 'pull_cursor'
"""


def _to_v2(conn: sqlite3.Connection) -> None:
    # Learned weight profiles (protocol 2). The cursor goes back to 0 so the next pull is a
    # snapshot: profiles learned before this version are in it (local work is kept).
    _run_ddl(conn, _V2)


def _to_v3(conn: sqlite3.Connection) -> None:
    # Orders carry packing slip, pickup point and cash on delivery (protocol 3). The cursor
    # goes back to 0 so the next pull is a snapshot that brings them (local work is kept).
    _run_ddl(conn, "UPDATE counters SET value = 0 WHERE name = 'pull_cursor'")


def _to_v4(conn: sqlite3.Connection) -> None:
    # Users carry their language (protocol 4). The cursor goes back to 0 so the next pull is
    # a snapshot that brings every user's (local work is kept).
    _run_ddl(conn, "UPDATE counters SET value = 0 WHERE name = 'pull_cursor'")


# STEPS[n] migrates a file at version n to n + 1.
STEPS: list[Callable[[sqlite3.Connection], None]] = [_to_v1, _to_v2, _to_v3, _to_v4]
CURRENT_VERSION = len(STEPS)


def user_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the file."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Bring the file up to CURRENT_VERSION one step at a time; returns the old version.

    A file that already holds data is copied to `<db>.v<old>-<stamp>.bak` first, so a
    failed or buggy migration never costs the station its unsent events.
    """
    found = user_version(conn)
    if found > CURRENT_VERSION:
        raise ReplicaTooNew(
            f"{path} has schema version {found}, newer than this Packbench ({CURRENT_VERSION})."
            " Install the newer version again; do not open the file with this one."
        )
    if found == CURRENT_VERSION:
        return found
    if found > 0:
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        backup = path.with_name(f"{path.name}.v{found}-{stamp}.bak")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy2(path, backup)
        log.info("replica backed up before migration", extra={"backup": str(backup)})
    for version in range(found, CURRENT_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            STEPS[version](conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        log.info("replica migrated", extra={"from_version": version, "to_version": version + 1})
    return found
