"""GET /v1/sync/pull and /v1/sync/checksum: the change feed as one station sees it.

Incremental (cursor > 0): change rows after the cursor that concern the station, each with
the entity's *current* snapshot, or `data=None` (a tombstone) when the entity is no longer in
the station's view. A tombstone is sent when the station could hold the entity: the change
row was targeted at it, or (orders, labels) the order's last lease was its own; for
products, users and batches (few rows) always. An entity that changed twice in one page is
sent once, at its last position.

Snapshot (cursor == 0): everything visible, in one response (`snapshot=True`), with the
cursor equal to the change counter read in the same database snapshot (REPEATABLE READ on
PostgreSQL; SQLite serialises transactions), so no change can fall between the two. The
station replaces its cache with it: whatever it holds that is not in it left its view.

Paged snapshot (cursor == 0 with `page`, see `snapshot_page`): the same content in pages of
at most `limit` entities, walked by a keyset token (`next_page`), most urgent first: users,
the station's batches, the orders it holds a lease on (with their labels), products, the
rest of its orders (with labels), weight profiles. The change head is read once, by the
first page, and carried in the token: each page shows the rows as they are when it is
read, and everything committed after the first page is numbered above that head, so the
feed from there brings every change the pages could have missed (an order that joined the
view behind the walk, one that left it, one that changed after its page).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from service.errors import ValidationFailed
from service.models import (
    Batch,
    ChangeCounter,
    ChangeRow,
    Label,
    Lease,
    Order,
    OrderLine,
    Product,
    Station,
    User,
    WeightProfile,
)
from service.sync_server import snapshots
from service.sync_server.errors import CursorExpiredError
from service.sync_server.snapshots import STATION
from service.sync_server.visibility import (
    StationId,
    held_by,
    last_holders,
    station_batch_ids,
    visible_among,
    visible_order_ids,
    visible_order_versions_query,
    visible_orders_query,
)
from service.weights.stats import MIN_PARCELS
from sync.protocol import Change, HoldingsChecksum, PullResponse, holdings_checksum

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
# Rows scanned per request at most, in chunks of `limit`: rows that concern other stations
# are skipped, so a page may need several chunks to fill.
MAX_SCAN_CHUNKS = 4


def use_snapshot_isolation(session: Session) -> None:
    """Make the session's next transaction REPEATABLE READ on PostgreSQL (call before it)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


_HEAD = select(ChangeCounter.value).where(ChangeCounter.id == 1)
_LAST_MUTATION_ID = select(Station.last_mutation_id).where(Station.id == STATION)

# A pull's first statement: the station with this token (id, last mutation id), whether any
# committed change waits for a number, and the change head; one round trip instead of three.
_PULL_START = select(
    Station.id,
    Station.last_mutation_id,
    exists().where(ChangeRow.seq.is_(None)).label("pending"),
    _HEAD.scalar_subquery().label("head"),
).where(Station.token_hash == bindparam("token_hash"))


def pull_start(session: Session, token_hash: str) -> tuple[int, int, bool, int] | None:
    """(station id, its last mutation id, changes waiting for a number, change head) for
    the station with this token hash, or None if no station has it."""
    row = session.execute(_PULL_START, {"token_hash": token_hash}).first()
    if row is None:
        return None
    return row.id, row.last_mutation_id or 0, bool(row.pending), row.head or 0


def change_head(session: Session) -> int:
    """The highest change number committed (as seen by this transaction)."""
    return session.scalar(_HEAD) or 0


def _last_mutation_id(session: Session, station_id: int) -> int:
    return session.scalar(_LAST_MUTATION_ID, {"station_id": station_id}) or 0


def check_cursor(session: Session, cursor: int, head: int) -> None:
    """Raise CursorExpiredError if changes after `cursor` were pruned (or it is from the future).

    Change numbers are gap-free (service.changes numbers runs of rows), so the retained
    rows are exactly [oldest, head] and no separate prune watermark is needed.
    """
    _check_cursor(session.scalar(select(func.min(ChangeRow.seq))), cursor, head)


# What an incremental pull reads first, in one round trip instead of three: the change
# head, the oldest change kept, and the station's last mutation id.
_FEED_STATE = select(
    _HEAD.scalar_subquery(),
    select(func.min(ChangeRow.seq)).scalar_subquery(),
    select(Station.last_mutation_id).where(Station.id == bindparam("station_id")).scalar_subquery(),
)


def _check_cursor(oldest: int | None, cursor: int, head: int) -> None:
    oldest_cursor = (oldest - 1) if oldest is not None else head
    if cursor > head:
        raise CursorExpiredError(
            oldest_cursor,
            f"Cursor {cursor} is ahead of the service (at {head}); the service database was "
            "restored or replaced. Fetch a new snapshot.",
        )
    if cursor < oldest_cursor:
        raise CursorExpiredError(
            oldest_cursor,
            f"Changes after {cursor} are no longer kept (oldest cursor {oldest_cursor}). "
            "Fetch a new snapshot.",
        )


def pull(
    session: Session,
    station_id: int,
    cursor: int,
    limit: int = DEFAULT_LIMIT,
    *,
    weight_profiles: bool = True,
    order_fields_v3: bool = True,
) -> PullResponse:
    """One page of the station's change feed (cursor 0: a full snapshot).

    `weight_profiles=False` for a station older than protocol 2, which cannot read them;
    `order_fields_v3=False` for one older than 3 (no slip, pickup point or COD in orders).
    """
    if cursor < 0:
        raise ValidationFailed("cursor must be 0 or more.", field="cursor")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    if cursor == 0:
        return snapshot(
            session, station_id, weight_profiles=weight_profiles, order_fields_v3=order_fields_v3
        )
    state = session.execute(_FEED_STATE, {"station_id": station_id}).one()
    head, oldest, last_mutation_id = state[0] or 0, state[1], state[2] or 0
    if cursor == head:
        # Most pulls: nothing numbered since the last one. No row after `head` can be seen
        # in this snapshot and a cursor at the head is never expired: nothing more to read.
        return PullResponse(cursor=head, changes=[], more=False, last_mutation_id=last_mutation_id)
    _check_cursor(oldest, cursor, head)
    changes: list[Change] = []
    position = cursor
    more = False
    for _ in range(MAX_SCAN_CHUNKS):
        rows = session.execute(
            _FEED, {"station_id": station_id, "position": position, "limit": limit}
        ).all()
        found = [tuple(r) for r in rows]
        if not weight_profiles:
            found = [r for r in found if r[1] != "weight_profile"]
        resolved = _resolve(session, station_id, found, order_fields_v3) if found else []
        full = False
        for seq, items in resolved:
            if changes and len(changes) + len(items) > limit:
                full = True
                break
            changes.extend(items)
            position = seq
        if full:
            more = True
            break
        if len(rows) < limit:
            # Everything up to head was seen, including rows that concern other stations.
            position = max(position, head)
            break
    else:
        more = True
    return PullResponse(
        cursor=position,
        changes=_last_of_each(changes),
        more=more,
        last_mutation_id=last_mutation_id,
    )


def _concerns(station_id: StationId) -> ColumnElement[bool]:
    """Change rows that can give this station something, decided by the database.

    A row aimed at the station always does; one aimed at another never does. An untargeted
    order or label row does only if its order is in one of the station's batches or the
    station holds (or last held) its lease, or, for a label, if the label is gone (a
    tombstone): exactly the rows `_resolve` would turn into a change. Everything else, above
    all each new order from a webhook (in no batch and under no lease), is skipped here
    rather than read, looked up and dropped by every station's pull: after a flash sale
    that was every station times every order.
    """
    my_batches = select(Batch.id).where(Batch.station_id == station_id)

    def reaches(order_id: Any, *via: Any) -> ColumnElement[bool]:
        """The order is in one of the station's batches or under its (last) lease."""
        return or_(
            exists().where(*via, Order.id == order_id, Order.batch_id.in_(my_batches)),
            exists().where(*via, Lease.order_id == order_id, Lease.station_id == station_id),
        )

    of_row_label = Label.id == ChangeRow.entity_id
    return or_(
        ChangeRow.station_id == station_id,
        and_(
            ChangeRow.station_id.is_(None),
            or_(
                ChangeRow.entity.not_in(("order", "label")),
                and_(ChangeRow.entity == "order", reaches(ChangeRow.entity_id)),
                and_(
                    ChangeRow.entity == "label",
                    or_(~exists().where(of_row_label), reaches(Label.order_id, of_row_label)),
                ),
            ),
        ),
    )


# The feed's page query, built once (see snapshots.order_statements).
_FEED = (
    select(ChangeRow.seq, ChangeRow.entity, ChangeRow.entity_id, ChangeRow.station_id)
    .where(ChangeRow.seq > bindparam("position", type_=Integer()), _concerns(STATION))
    .order_by(ChangeRow.seq)
    .limit(bindparam("limit", type_=Integer()))
)


def _last_of_each(changes: list[Change]) -> list[Change]:
    last = {(c.entity, c.entity_id): i for i, c in enumerate(changes)}
    return [c for i, c in enumerate(changes) if last[(c.entity, c.entity_id)] == i]


# _resolve's and snapshot's statements, built once (see snapshots.order_statements).
_LABEL_ORDERS = select(Label.id, Label.order_id).where(Label.id.in_(snapshots.ids_param()))
_BATCH_STATIONS = select(Batch.id, Batch.station_id).where(Batch.id.in_(snapshots.ids_param()))
_ORDERS_OF_BATCHES = select(Order.id, Order.batch_id).where(
    Order.batch_id.in_(snapshots.ids_param())
)
_ALL_PRODUCTS = select(Product.id)
_ALL_USERS = select(User.id)
_VISIBLE = visible_orders_query(STATION).scalar_subquery()
_VISIBLE_ORDERS = snapshots.order_statements(
    Order.id.in_(_VISIBLE), OrderLine.order_id.in_(_VISIBLE)
)

Row4 = tuple[int, str, int, int | None]
EntityName = Literal["order", "product", "user", "batch", "label", "weight_profile"]


def _resolve(
    session: Session, station_id: int, rows: list[Row4], order_fields_v3: bool = True
) -> list[tuple[int, list[Change]]]:
    """The changes to send for each row (maybe none), with batch-loaded snapshots."""
    ids: dict[str, set[int]] = defaultdict(set)
    for _seq, entity, eid, _sid in rows:
        ids[entity].add(eid)
    label_orders: dict[int, int] = {}
    for chunk in snapshots.chunks(ids["label"]):
        label_orders.update(session.execute(_LABEL_ORDERS, {"ids": chunk}).tuples().all())
    batch_owner: dict[int, int | None] = {}
    for chunk in snapshots.chunks(ids["batch"]):
        batch_owner.update(session.execute(_BATCH_STATIONS, {"ids": chunk}).tuples().all())
    away_batches = [b for b in ids["batch"] if batch_owner.get(b) != station_id]
    away_batch_orders: dict[int, list[int]] = defaultdict(list)
    for chunk in snapshots.chunks(away_batches):
        for oid, bid in session.execute(_ORDERS_OF_BATCHES, {"ids": chunk}):
            away_batch_orders[bid].append(oid)
    candidate_orders = ids["order"] | set(label_orders.values())
    candidate_orders.update(o for os_ in away_batch_orders.values() for o in os_)
    visible = visible_among(session, station_id, candidate_orders)
    holders = last_holders(session, candidate_orders)
    order_snaps = snapshots.orders(session, ids["order"] & visible)
    if not order_fields_v3:
        order_snaps = {oid: snapshots.without_v3(snap) for oid, snap in order_snaps.items()}
    label_snaps = snapshots.labels(
        session, [lid for lid, oid in label_orders.items() if oid in visible]
    )
    product_snaps = snapshots.products(session, ids["product"])
    user_snaps = snapshots.users(session, ids["user"], station_id)
    batch_snaps = snapshots.batches(
        session, [b for b in ids["batch"] if batch_owner.get(b) == station_id]
    )
    profile_snaps = snapshots.weight_profiles(session, ids["weight_profile"])

    def mine(order_id: int | None, targeted: bool) -> bool:
        return targeted or (order_id is not None and holders.get(order_id) == station_id)

    out: list[tuple[int, list[Change]]] = []
    for seq, entity, eid, sid in rows:
        targeted = sid == station_id
        items: list[Change] = []
        if entity == "order":
            if eid in order_snaps:
                items.append(Change(seq=seq, entity="order", entity_id=eid, data=order_snaps[eid]))
            elif eid not in visible and mine(eid, targeted):
                items.append(Change(seq=seq, entity="order", entity_id=eid))
        elif entity == "label":
            oid = label_orders.get(eid)
            if eid in label_snaps:
                items.append(Change(seq=seq, entity="label", entity_id=eid, data=label_snaps[eid]))
            elif oid is None or mine(oid, targeted):
                items.append(Change(seq=seq, entity="label", entity_id=eid))
        elif entity == "product":
            items.append(
                Change(seq=seq, entity="product", entity_id=eid, data=product_snaps.get(eid))
            )
        elif entity == "user":
            items.append(Change(seq=seq, entity="user", entity_id=eid, data=user_snaps.get(eid)))
        elif entity == "weight_profile":
            data = profile_snaps.get(eid)
            items.append(Change(seq=seq, entity="weight_profile", entity_id=eid, data=data))
        elif entity == "batch":
            items.append(Change(seq=seq, entity="batch", entity_id=eid, data=batch_snaps.get(eid)))
            if eid not in batch_snaps and targeted:
                # Reassigned away from this station: its orders leave with it.
                items.extend(
                    Change(seq=seq, entity="order", entity_id=oid)
                    for oid in away_batch_orders.get(eid, [])
                    if oid not in visible
                )
        else:
            log.warning("unknown entity %r in the change feed (seq %d)", entity, seq)
        out.append((seq, items))
    return out


def snapshot(
    session: Session,
    station_id: int,
    *,
    weight_profiles: bool = True,
    order_fields_v3: bool = True,
) -> PullResponse:
    """Everything the station may see, with the cursor taken in the same database snapshot."""
    head = change_head(session)
    order_ids = visible_order_ids(session, station_id)
    batch_ids = station_batch_ids(session, station_id)
    changes: list[Change] = []

    def add(entity: EntityName, snaps: dict[int, snapshots.Snapshot]) -> None:
        changes.extend(
            Change.model_construct(seq=head, entity=entity, entity_id=eid, data=data)
            for eid, data in sorted(snaps.items())
        )

    add("product", snapshots.products(session, session.scalars(_ALL_PRODUCTS)))
    add("user", snapshots.users(session, session.scalars(_ALL_USERS), station_id))
    add("batch", snapshots.batches(session, batch_ids))
    orders = snapshots.orders_where(session, _VISIBLE_ORDERS, {"station_id": station_id})
    if not order_fields_v3:
        orders = {oid: snapshots.without_v3(snap) for oid, snap in orders.items()}
    add("order", orders)
    add("label", snapshots.labels(session, snapshots.labels_of_orders(session, order_ids)))
    if weight_profiles:
        ids = snapshots.usable_weight_profile_ids(session)
        add("weight_profile", snapshots.weight_profiles(session, ids))
    log.info(
        "snapshot served",
        extra={"station": station_id, "orders": len(order_ids), "cursor": head},
    )
    return PullResponse(
        cursor=head,
        changes=changes,
        more=False,
        last_mutation_id=_last_mutation_id(session, station_id),
        snapshot=True,
    )


# ------------------------------------------------------------------ paged snapshot

FIRST_PAGE = "first"
_TOKEN_VERSION = "s1"  # noqa: S105 (a format tag, not a secret)


def _leased_ids(station_id: StationId) -> Select[tuple[int]]:
    """Visible orders the station holds an unreleased lease on (what it packs first)."""
    visible = visible_orders_query(station_id).scalar_subquery()
    return select(Lease.order_id).where(held_by(station_id), Lease.order_id.in_(visible))


def _phase_ids(station_id: StationId, phase: str) -> Select[tuple[int]]:
    """SELECT of the ids one phase walks (a station older than protocol 2 skips the
    weight profiles' phase: snapshot_page)."""
    if phase == "user":
        return select(User.id)
    if phase == "batch":
        return select(Batch.id).where(Batch.station_id == station_id)
    if phase == "leased":
        return _leased_ids(station_id)
    if phase == "product":
        return select(Product.id)
    if phase == "order":
        # The visible orders the "leased" phase did not send, read from the visible set
        # itself (the batches' and leases' indexes): never a walk of the orders table, whose
        # history is a million rows at a big site and whose newest ids are the visible ones.
        # NOT EXISTS, not NOT IN: an anti-join however stale the statistics are (a NOT IN
        # over a misestimated subquery cost 0.5-6 s a page on an unanalysed million orders).
        visible = visible_orders_query(station_id).subquery()
        held = (
            select(Lease.order_id)
            .where(Lease.order_id == visible.c[0], held_by(station_id))
            .exists()
        )
        return select(visible.c[0].label("id")).where(~held)
    if phase == "weight_profile":
        return select(WeightProfile.id).where(WeightProfile.parcels >= MIN_PARCELS)
    raise AssertionError(phase)


# Most urgent first: who may log in, what the station was given, what it already holds.
PHASES = ("user", "batch", "leased", "product", "order", "weight_profile")


def _phase_page(phase: str) -> Select[tuple[int]]:
    """A page of one phase's ids: above `after`, at most `room` (bound parameters)."""
    sub = _phase_ids(STATION, phase).subquery()
    return (
        select(sub.c[0])
        .where(sub.c[0] > bindparam("after", type_=Integer()))
        .order_by(sub.c[0])
        .limit(bindparam("room", type_=Integer()))
    )


# Built once (see snapshots.order_statements).
_PHASE_PAGES = {phase: _phase_page(phase) for phase in PHASES}


def _phase_changes(
    session: Session,
    station_id: int,
    phase: str,
    ids: list[int],
    head: int,
    order_fields_v3: bool = True,
) -> list[Change]:
    def made(entity: EntityName, snaps: dict[int, snapshots.Snapshot]) -> list[Change]:
        return [
            Change.model_construct(seq=head, entity=entity, entity_id=eid, data=data)
            for eid, data in sorted(snaps.items())
        ]

    if phase == "user":
        return made("user", snapshots.users(session, ids, station_id))
    if phase == "batch":
        return made("batch", snapshots.batches(session, ids))
    if phase in ("leased", "order"):
        orders = snapshots.orders(session, ids)
        if not order_fields_v3:
            orders = {oid: snapshots.without_v3(snap) for oid, snap in orders.items()}
        return made("order", orders) + made(
            "label", snapshots.labels(session, snapshots.labels_of_orders(session, ids))
        )
    if phase == "product":
        return made("product", snapshots.products(session, ids))
    if phase == "weight_profile":
        return made("weight_profile", snapshots.weight_profiles(session, ids))
    raise AssertionError(phase)


class PageToken:
    """Where a paged snapshot stands: the head read by its first page, phase, last id."""

    def __init__(self, head: int, phase: int, after: int) -> None:
        self.head, self.phase, self.after = head, phase, after

    def dump(self) -> str:
        return f"{_TOKEN_VERSION}.{self.head}.{self.phase}.{self.after}"

    @classmethod
    def parse(cls, raw: str) -> PageToken:
        parts = raw.split(".")
        if (
            len(parts) == 4
            and parts[0] == _TOKEN_VERSION
            and all(p.isdigit() and len(p) < 19 for p in parts[1:])
            and int(parts[2]) < len(PHASES)
        ):
            return cls(int(parts[1]), int(parts[2]), int(parts[3]))
        raise ValidationFailed(
            f"Snapshot page {raw[:40]!r} is not one this service hands out; "
            f"start the snapshot again with page={FIRST_PAGE}.",
            field="page",
        )


def snapshot_page(
    session: Session,
    station_id: int,
    page: str,
    limit: int = DEFAULT_LIMIT,
    *,
    weight_profiles: bool = True,
    order_fields_v3: bool = True,
) -> PullResponse:
    """One page of a paged snapshot (`page`: FIRST_PAGE or the previous page's next_page).

    Each page holds at most `limit` entities plus the labels of its orders; `next_page` is
    None on the last one, whose `cursor` (the head the first page read) the station then
    follows the feed from. Keyset on ids within a phase: a page never repeats an entity of an
    earlier page of the same phase, whatever is written meanwhile.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    head_now = change_head(session)
    if page == FIRST_PAGE:
        token = PageToken(head_now, 0, 0)
    else:
        token = PageToken.parse(page)
        # Pruned past the snapshot's head (or a restored database): start again.
        check_cursor(session, token.head, head_now)
    changes: list[Change] = []
    room = limit
    phase, after = token.phase, token.after
    while phase < len(PHASES):
        ids: list[int] = []
        if weight_profiles or PHASES[phase] != "weight_profile":
            params = {"station_id": station_id, "after": after, "room": room}
            ids = list(session.scalars(_PHASE_PAGES[PHASES[phase]], params))
        if ids:
            changes.extend(
                _phase_changes(session, station_id, PHASES[phase], ids, token.head, order_fields_v3)
            )
            room -= len(ids)
            after = ids[-1]
        if room == 0:
            break  # the page is full; the next one looks past `after` in this phase
        phase, after = phase + 1, 0
    next_page = PageToken(token.head, phase, after).dump() if phase < len(PHASES) else None
    return PullResponse(
        cursor=token.head,
        changes=changes,
        more=next_page is not None,
        last_mutation_id=_last_mutation_id(session, station_id),
        snapshot=True,
        next_page=next_page,
    )


def checksum(session: Session, station_id: int) -> HoldingsChecksum:
    """Count and digest of (order id, version) of every order the station may see.

    One query either way (a site station sees tens of thousands of orders): on PostgreSQL
    the digest itself is computed there, `sync.protocol.holdings_checksum`'s exact recipe
    (sha256 of "id:version" lines in id order), so only two values cross the wire.
    """
    visible = visible_order_versions_query(station_id).subquery()
    ids, versions = visible.c[0], visible.c[1]
    if session.get_bind().dialect.name == "postgresql":
        line = func.concat(ids, ":", versions)
        text_ = func.coalesce(func.string_agg(line, aggregate_order_by(literal("\n"), ids)), "")
        count, digest = session.execute(
            select(func.count(), func.encode(func.sha256(func.convert_to(text_, "UTF8")), "hex"))
        ).one()
        return HoldingsChecksum(order_count=int(count), checksum=str(digest))
    pairs = session.execute(select(ids, versions)).tuples().all()
    return HoldingsChecksum(order_count=len(pairs), checksum=holdings_checksum(pairs))


def without_v4(answer: PullResponse) -> PullResponse:
    """The answer for a station older than protocol 4: users and orders without a language."""
    changes = [
        c.model_copy(update={"data": snapshots.without_v4(c.data, c.entity)})
        if c.entity in ("user", "order") and c.data is not None
        else c
        for c in answer.changes
    ]
    return answer.model_copy(update={"changes": changes})


def prune_changes(session: Session, keep_after_seq: int) -> int:
    """Delete change rows with seq <= keep_after_seq; cursors older than that then expire."""
    result = session.execute(delete(ChangeRow).where(ChangeRow.seq <= keep_after_seq))
    deleted: int = getattr(result, "rowcount", 0) or 0
    log.info("pruned change feed", extra={"through": keep_after_seq, "rows": deleted})
    return deleted


def prune_changes_before(session: Session, before: datetime) -> int:
    """Delete change rows recorded before `before` (a maintenance policy by age).

    The feed is cut before its first numbered row recorded at or after `before`, found by
    walking the seq index from the oldest row: the walk reads only the rows that go anyway
    (a max over `at` read the whole feed, a million rows at a big site, every night).
    Numbers follow commits, so a row may carry an older `at` than the row before it; such a
    row past the cut stays until the next run, which is the safe side.
    """
    newer = session.scalar(
        select(ChangeRow.seq)
        .where(ChangeRow.seq.is_not(None), ChangeRow.at >= before)
        .order_by(ChangeRow.seq)
        .limit(1)
    )
    # Nothing as new as `before`: everything numbered goes.
    through = session.scalar(select(func.max(ChangeRow.seq))) if newer is None else newer - 1
    return prune_changes(session, through) if through is not None and through > 0 else 0
