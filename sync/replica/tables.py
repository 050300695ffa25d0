"""SQLAlchemy Core tables of the station replica (the shape migration steps build).

Server-owned rows keep their full wire document in `data` (JSON text): they are always read
whole, so only the columns lookups filter on are broken out and indexed. Order lines live
inside the order's document for the same reason.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Table, Text

metadata = MetaData()

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("number_key", Text, nullable=False),  # upper-cased number, what a scan matches
    Column("tote_key", Text),  # upper-cased tote code
    Column("status", Text, nullable=False),
    Column("batch_id", Integer),
    Column("version", Integer, nullable=False),
    Column("lease_epoch", Integer),
    Column("lease_station_id", Integer),
    Column("lease_expires_at", Text),  # ISO-8601 UTC
    Column("data", Text, nullable=False),  # OrderSnapshot JSON
)

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("sku_key", Text, nullable=False),
    Column("data", Text, nullable=False),  # ProductSnapshot JSON
)

product_gtins = Table(
    "product_gtins",
    metadata,
    Column("gtin14", Text, primary_key=True),
    Column("product_id", Integer, nullable=False),
)

product_aliases = Table(
    "product_aliases",
    metadata,
    Column("code_key", Text, primary_key=True),
    Column("product_id", Integer, nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("station_id", Integer),
    Column("data", Text, nullable=False),  # BatchSnapshot JSON
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("badge", Text, nullable=False),
    Column("data", Text, nullable=False),  # UserSnapshot JSON (includes pin_hash, role)
)

labels = Table(
    "labels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_id", Integer, nullable=False),
    Column("parcel_no", Integer, nullable=False),
    Column("data", Text, nullable=False),  # LabelSnapshot JSON
)

# Learned weights of repeated contents sets (sync.contents.contents_key), for offline checks.
weight_profiles = Table(
    "weight_profiles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("contents_key", Text, nullable=False),
    Column("data", Text, nullable=False),  # WeightProfileSnapshot JSON
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # the station's counter
    Column("type", Text, nullable=False),
    Column("order_id", Integer),
    Column("lease_epoch", Integer),
    Column("at", Text, nullable=False),
    Column("payload", Text, nullable=False),
)

# Every mutation this station ever recorded, with the service's verdict once known. Kept
# after the outbox row is gone so a pack session can be restored and rejections shown.
mutation_log = Table(
    "mutation_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("type", Text, nullable=False),
    Column("order_id", Integer),
    Column("lease_epoch", Integer),
    Column("at", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", Text, nullable=False),  # pending | applied | rejected | acknowledged
    Column("reason", Text),
    Column("message", Text),
    Column("result", Text),
    Column("acked_at", Text),
)

# Server changes that arrived while the row had pending local mutations (see apply.py).
held_changes = Table(
    "held_changes",
    metadata,
    Column("entity", Text, primary_key=True),
    Column("entity_id", Integer, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("data", Text),  # None: the entity left this station's view
)

counters = Table(
    "counters",
    metadata,
    Column("name", Text, primary_key=True),  # pull_cursor | mutation_id
    Column("value", Integer, nullable=False),
)

station_state = Table(
    "station_state",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),  # JSON
)
