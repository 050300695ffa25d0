"""The station's sync engine: ONE background thread that pushes the outbox and pulls changes.

It wakes when a mutation is recorded, retries failures on a timer with exponential backoff
(so "one failed upload, then no more scans" still drains), sends a heartbeat every 30 s and
checks its holdings against the service's checksum after a sync. No Qt here: the UI layer
bridges `on_status` / `on_rejection` callbacks (called on the engine thread) to signals.

Mutation-gap rule (409 {expected: N} for a push starting at our first pending id P):
- N > P: the service already applied P..N-1 but cannot return their results (e.g. its
  result rows were cleared). Those ids are acknowledged locally as `acknowledged` and the
  push continues from N. Nothing is sent twice.
- N < P: the service lost N..P-1 after acknowledging them (restored from a backup). Their
  payloads are still in the mutation log, so they go back into the outbox and are resent.
- N == P cannot be a gap; it is treated as a protocol error and retried with backoff.

Set-aside rule: a push the service refuses outright (400, 413, 422: malformed, too large, a
value out of range) would be refused again forever and block every later event. The
mutation it names (or, when it names none, the one found by pushing one at a time) is set
aside: kept in the mutation log as rejected (reason `set_aside`) and reported like any
rejection, while a stand-in under its id tells the service to skip it (docs/security.md,
"Input limits").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from sync.client import SNAPSHOT_TIMEOUT, StationClient
from sync.clock import utcnow
from sync.errors import (
    CursorExpired,
    MutationGap,
    PushRefused,
    ReplicaError,
    StationUnauthorized,
    SyncError,
    SyncRejected,
    SyncUnavailable,
)
from sync.protocol import (
    MAX_MUTATIONS_PER_PUSH,
    SET_ASIDE_TYPE,
    ClaimRequest,
    ClaimResponse,
    Heartbeat,
    Mutation,
    PullResponse,
    PushRequest,
)
from sync.replica import Replica
from sync.status import Backoff, Rejection, SyncStatus

log = logging.getLogger(__name__)

# While scans keep coming, pull at most this often (seconds). Every scan is pushed at once;
# pulling after each one too tripled a busy station's requests for little: its own changes
# need no round trip back, and a refused mutation still triggers an immediate pull.
PULL_SPACING = 2.0
# Pushes whose answer comes back through the feed and that a packer waits for: a closed
# parcel whose weight needs a new carrier label. Their pull is never put off.
_ANSWER_AWAITED = frozenset({"parcel_closed"})
# Entities per snapshot page: big enough that 50,000 orders are a few dozen requests, small
# enough that the first page (users, batches, leased orders) arrives in well under a second.
SNAPSHOT_PAGE_LIMIT = 2000
FIRST_PAGE = "first"  # the `page` value that starts a paged snapshot


class SyncEngine:
    """Keeps one station's replica and the service in step, on its own thread."""

    def __init__(
        self,
        replica: Replica,
        client: StationClient,
        station_id: int,
        *,
        on_status: Callable[[SyncStatus], None] | None = None,
        on_rejection: Callable[[list[Rejection]], None] | None = None,
        heartbeat_source: Callable[[], Heartbeat] | None = None,
        poll_interval: float = 15.0,
        pull_spacing: float = PULL_SPACING,
        heartbeat_interval: float = 30.0,
        checksum_interval: float = 30.0,
        backoff: Backoff | None = None,
        push_batch: int = MAX_MUTATIONS_PER_PUSH,
        pull_limit: int = 500,
        snapshot_page_limit: int = SNAPSHOT_PAGE_LIMIT,
    ) -> None:
        self.replica = replica
        self.client = client
        self.station_id = station_id
        self._on_status = on_status
        self._on_rejection = on_rejection
        self._heartbeat_source = heartbeat_source
        self.poll_interval = poll_interval
        self.pull_spacing = pull_spacing
        self.heartbeat_interval = heartbeat_interval
        self.checksum_interval = checksum_interval
        self.backoff = backoff or Backoff()
        self.push_batch = min(push_batch, MAX_MUTATIONS_PER_PUSH)
        self.pull_limit = pull_limit
        self.snapshot_page_limit = snapshot_page_limit
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status_lock = threading.Lock()
        self._status = SyncStatus(queue_depth=replica.queue_depth())
        self._last_heartbeat = float("-inf")
        self._last_checksum = float("-inf")
        self._last_pull = float("-inf")
        self._pull_now = threading.Event()  # pull on the next cycle, however recent the last
        self._pull_owed = False  # a cycle pushed but put its pull off (see PULL_SPACING)
        self._isolating = False  # push one at a time to find a mutation the service refuses
        replica.add_listener(lambda _ids: self.wake(pull=False))

    # ------------------------------------------------------------------ control

    @property
    def status(self) -> SyncStatus:
        """The current state (also delivered to `on_status` whenever it changes)."""
        with self._status_lock:
            return self._status

    def start(self) -> None:
        """Start the background thread."""
        if self._thread is not None:
            raise RuntimeError("sync engine already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="packbench-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Ask the thread to finish its current request and join it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("sync thread did not stop within %.0f s", timeout)
            self._thread = None

    def flush(self) -> int:
        """Push the outbox once on the caller's thread, after `stop` (at shutdown); returns
        how many mutations are still queued. A failure is logged: they stay in the outbox."""
        if self._thread is not None:
            raise RuntimeError("stop the sync engine before flushing its outbox")
        self._stop.clear()
        try:
            self._push_all()
        except SyncError as exc:
            log.warning("outbox not flushed at shutdown: %s", exc)
        finally:
            self._stop.set()
        return self.replica.queue_depth()

    def wake(self, *, pull: bool = True) -> None:
        """Sync now. A recorded mutation wakes with pull=False: its push goes at once, the
        pull that follows it waits until `pull_spacing` has passed since the last one."""
        if pull:
            self._pull_now.set()
        self._wake.set()

    def run_once(self) -> bool:
        """One full cycle (push and pull) on the caller's thread; True if it succeeded."""
        self._pull_now.set()
        return self._step() == self.poll_interval

    # ------------------------------------------------------------------ claims

    def claim_order(self, order_id: int) -> ClaimResponse:
        """Claim one order (synchronous, short timeouts; call from a worker, not the GUI).

        Raises ClaimRefusedError (with the packer-facing message) or SyncUnavailable.
        """
        return self._claim(ClaimRequest(order_id=order_id))

    def claim_batch(self, batch_id: int) -> ClaimResponse:
        """Claim every order of a batch at once."""
        return self._claim(ClaimRequest(batch_id=batch_id))

    def release_claim(self, claim_id: int) -> None:
        """Give a claim back to the service."""
        self.client.release_claim(claim_id)
        self.wake(pull=True)

    def _claim(self, request: ClaimRequest) -> ClaimResponse:
        granted = self.client.claim(request)
        cached = self.replica.apply_leases(granted.leases)
        if cached < len(granted.leases):
            self.wake(pull=True)  # some claimed orders are not cached yet: pull them now
        log.info(
            "claim granted", extra={"claim_id": granted.claim_id, "orders": len(granted.leases)}
        )
        return granted

    # ------------------------------------------------------------------ the loop

    def _run(self) -> None:
        while not self._stop.is_set():
            delay = self._step()
            self._sleep(delay)

    def _sleep(self, delay: float) -> None:
        # Online, a new mutation cuts the wait short. Offline the backoff timer stands (a burst
        # of scans must not hammer a dead link), but the queue depth shown still updates.
        deadline = time.monotonic() + delay
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._wake.wait(remaining):
                self._wake.clear()
                if self._stop.is_set() or self.status.online:
                    return
                self._update(queue_depth=self.replica.queue_depth())

    def _step(self) -> float:
        """Run one cycle; returns how long to wait before the next."""
        self._wake.clear()
        try:
            self._cycle()
        except SyncUnavailable as exc:
            log.warning("service unreachable: %s", exc)
            self._went_offline(str(exc))
            return self.backoff.next_delay()
        except StationUnauthorized as exc:
            log.error("station token refused: %s", exc)
            self._went_offline(str(exc))
            return max(self.backoff.next_delay(), 60.0)
        except (SyncRejected, ReplicaError) as exc:
            log.error("sync cycle failed: %s", exc)
            self._update(last_error=str(exc), queue_depth=self.replica.queue_depth())
            return self.backoff.next_delay()
        except Exception as exc:  # the sync thread must never die: log, back off, retry
            log.exception("unexpected sync failure")
            self._update(last_error=f"{type(exc).__name__}: {exc}")
            return self.backoff.next_delay()
        self.backoff.reset()
        now = utcnow()
        self._update(
            online=True,
            offline_since=None,
            last_successful_sync=now,
            last_error=None,
            queue_depth=self.replica.queue_depth(),
        )
        if self._pull_owed:  # come back for the pull that was put off, then poll as usual
            return max(0.0, self._last_pull + self.pull_spacing - time.monotonic())
        return self.poll_interval

    def _cycle(self) -> None:
        if self.replica.needs_counter_seed():
            me = self.client.me()
            self.replica.seed_mutation_counter(me.last_mutation_id)
        if self._push_all():
            self._pull_now.set()
        started = time.monotonic()
        if not self._pull_now.is_set() and started - self._last_pull < self.pull_spacing:
            # A scan woke us: its push is done; its pull waits for the cycle that comes
            # back when pull_spacing has passed (the station's own changes need no hurry).
            self._pull_owed = True
            return
        self._pull_now.clear()
        self._pull_owed = False
        changed = self._pull_all()
        self._last_pull = started
        now = time.monotonic()
        if now - self._last_heartbeat >= self.heartbeat_interval:
            self._send_heartbeat()
            self._last_heartbeat = now
        if changed or now - self._last_checksum >= self.checksum_interval:
            self._verify_holdings()
            self._last_checksum = now

    # ------------------------------------------------------------------ push

    def _push_all(self) -> bool:
        """Push the whole outbox; True if the feed should be pulled at once (a rejection, or
        a mutation whose answer a packer waits for)."""
        pull_now = False
        while not self._stop.is_set():
            batch = self.replica.pending_outbox(1 if self._isolating else self.push_batch)
            if not batch:
                self._isolating = False
                return pull_now
            pull_now = pull_now or any(m.type in _ANSWER_AWAITED for m in batch)
            try:
                response = self.client.push(
                    PushRequest(station_id=self.station_id, mutations=batch)
                )
            except MutationGap as gap:
                self._handle_gap(gap.expected, batch[0].id)
                continue
            except PushRefused as refused:
                pull_now = self._set_aside(batch, refused) or pull_now
                continue
            up_to = min(batch[-1].id, response.last_mutation_id)
            if up_to < batch[0].id:
                raise SyncRejected(200, "no_progress", f"push acknowledged nothing (last={up_to})")
            self.replica.ack(up_to, response.results)
            rejected = [
                Rejection(r.id, _order_of(batch, r.id), r.reason, r.message)
                for r in response.results
                # A stand-in's rejection was reported when its original was set aside.
                if r.status == "rejected" and r.id <= up_to and r.reason != SET_ASIDE_TYPE
            ]
            for rej in rejected:
                log.warning(
                    "mutation rejected: %s",
                    rej.message,
                    extra={
                        "mutation_id": rej.mutation_id,
                        "order_id": rej.order_id,
                        "reason": rej.reason,
                    },
                )
            if rejected:
                pull_now = True
                self._update(last_rejection=rejected[-1])
                if self._on_rejection is not None:
                    self._on_rejection(rejected)
            self._update(queue_depth=self.replica.queue_depth())
        return pull_now

    def _set_aside(self, batch: Sequence[Mutation], refused: PushRefused) -> bool:
        """Set aside the mutation a refused push names (see the module docstring); returns
        whether one was. A push naming none is retried one mutation at a time."""
        index = refused.mutation_index
        if index is not None and 0 <= index < len(batch):
            culprit = batch[index]
        elif len(batch) == 1:
            culprit = batch[0]
        else:
            log.warning("push refused (%s); pushing one event at a time", refused.error)
            self._isolating = True
            return False
        if culprit.type == SET_ASIDE_TYPE:
            raise refused  # even the stand-in is refused: nothing the station can fix alone
        detail = {"status": refused.status, "error": refused.error, "field": refused.field}
        self.replica.set_aside(culprit.id, refused.message, detail)
        self._isolating = False
        rejection = Rejection(culprit.id, culprit.order_id, "set_aside", refused.message)
        log.error(
            "mutation set aside: the service refused it outright (%s)",
            refused.error,
            extra={"mutation_id": culprit.id, "order_id": culprit.order_id},
        )
        self._update(last_rejection=rejection)
        if self._on_rejection is not None:
            self._on_rejection([rejection])
        return True

    def _handle_gap(self, expected: int, first_pending: int) -> None:
        if expected > first_pending:
            log.warning(
                "service already has mutations %d..%d; acknowledging them without results",
                first_pending,
                expected - 1,
            )
            self.replica.ack(expected - 1)
        elif expected < first_pending:
            requeued = self.replica.requeue_from(expected)
            log.warning("service lost mutations from %d; resending %d", expected, requeued)
            if requeued == 0:
                raise SyncRejected(
                    409, "mutation_gap", f"service expects {expected}, the log cannot fill the gap"
                )
        else:
            raise SyncRejected(409, "mutation_gap", f"gap reported at our own first id {expected}")

    # ------------------------------------------------------------------ pull

    def _pull_all(self) -> bool:
        """Pull until the feed has no more; returns whether anything changed."""
        cursor = self.replica.pull_cursor()
        changed = False
        if cursor == 0:  # a new (or reset) replica: a paged snapshot, then the feed
            self.fetch_snapshot()
            changed, cursor = True, self.replica.pull_cursor()
        # After a snapshot, the feed from its head (what changed while it was paged in)
        # comes at once: the holdings check that follows compares against the service now.
        while cursor and not self._stop.is_set():
            try:
                page = self.client.pull(cursor, self.pull_limit)
            except CursorExpired as exc:
                log.warning("pull cursor %d expired (%s); fetching a snapshot", cursor, exc.message)
                self.fetch_snapshot()
                return True
            if page.snapshot:  # cursor 0: the service sends everything in one response
                self._finish_snapshot(page)
                return True
            self.replica.apply_pull(page)
            changed = changed or bool(page.changes)
            cursor = page.cursor
            if not page.more:
                break
        return changed

    def fetch_snapshot(self) -> None:
        """Replace the replica's server data with everything the station is assigned now.

        Asked for in pages, most urgent first (users, batches, leased orders, products, the
        rest), each applied as it arrives so the station packs what it has while the rest
        comes; what no page listed is removed at the end. A service that predates pages
        answers the whole snapshot at once, applied as before.
        """
        for _attempt in range(3):
            first = self.client.pull(
                0, self.snapshot_page_limit, timeout=SNAPSHOT_TIMEOUT, page=FIRST_PAGE
            )
            if first.next_page is None and not first.more:
                self._finish_snapshot(first)  # one page, or an older service's whole snapshot
                return
            try:
                self._paged_snapshot(first)
                return
            except CursorExpired as exc:  # pruned past its head while paging: start again
                log.warning("snapshot outlived its change head (%s); starting again", exc.message)
        raise SyncRejected(409, "cursor_expired", "the snapshot kept expiring while paging")

    def _paged_snapshot(self, page: PullResponse) -> None:
        seen: dict[str, set[int]] = {}
        pages = 0
        while True:
            self.replica.apply_snapshot_page(page)
            pages += 1
            for c in page.changes:
                if c.data is not None:
                    seen.setdefault(c.entity, set()).add(c.entity_id)
            if page.next_page is None:
                break
            if self._stop.is_set():
                return  # stopping: the cursor stays, the next start fetches a snapshot again
            page = self.client.pull(
                0, self.snapshot_page_limit, timeout=SNAPSHOT_TIMEOUT, page=page.next_page
            )
        self.replica.finish_snapshot(seen, page.cursor)
        log.info("paged snapshot fetched", extra={"pages": pages, "cursor": page.cursor})

    def _finish_snapshot(self, first: PullResponse) -> None:
        pages = [first]
        while pages[-1].more and not self._stop.is_set():
            pages.append(self.client.pull(pages[-1].cursor, self.pull_limit))
        if pages[-1].more:
            return  # stopping: a partial snapshot is never applied
        self.replica.apply_snapshot(pages)

    # ------------------------------------------------------------------ checks

    def _verify_holdings(self) -> None:
        if self.replica.queue_depth() or self.replica.held_count():
            return  # local work in flight legitimately differs from the service's view
        remote = self.client.checksum()
        count, digest = self.replica.holdings()
        if (count, digest) == (remote.order_count, remote.checksum):
            return
        log.warning(
            "holdings differ from the service (local %d orders, service %d); fetching a snapshot",
            count,
            remote.order_count,
        )
        self.fetch_snapshot()

    def _send_heartbeat(self) -> None:
        beat = self._heartbeat_source() if self._heartbeat_source else Heartbeat()
        status = self.status
        beat = beat.model_copy(
            update={
                "queue_depth": self.replica.queue_depth(),
                "offline_since": status.offline_since,
            }
        )
        self.client.heartbeat(beat)

    # ------------------------------------------------------------------ status

    def _went_offline(self, error: str) -> None:
        current = self.status
        since = current.offline_since or utcnow()
        self._update(
            online=False,
            offline_since=since,
            last_error=error,
            queue_depth=self.replica.queue_depth(),
        )

    def _update(self, **changes: object) -> None:
        with self._status_lock:
            new = replace(self._status, **changes)  # type: ignore[arg-type]
            if new == self._status:
                return
            self._status = new
        if self._on_status is not None:
            try:
                self._on_status(new)
            except Exception:
                log.exception("sync status callback failed")


def _order_of(batch: Sequence[Mutation], mutation_id: int) -> int | None:
    for m in batch:
        if m.id == mutation_id:
            return m.order_id
    return None
