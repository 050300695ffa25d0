"""The supervisor board: what the supervisor screen shows, online or from the local replica.

Qt-free. `SupervisorBoard.fetch()` runs off the GUI thread (the view hands it to the
background runner) and never raises: while the service answers it returns the live overview;
when it cannot be reached it returns the station's own batches from the replica, the last
live figures it had, and a clear "as of HH:MM, offline". Actions go to the service only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from app import i18n
from app.i18n import N_, Msg, Text, _
from app.packing import messages
from app.station.claims import coded_text
from app.station.exception_texts import exception_text
from app.station.ports import BatchRow
from sync.clock import utcnow

log = logging.getLogger(__name__)

# (method, path under /v1/supervisor, JSON body) -> parsed JSON; raises on failure.
SupervisorApi = Callable[[str, str, dict[str, Any] | None], Any]


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def hhmm(value: datetime | None) -> str:
    """A time as local HH:MM, or an em dash."""
    return value.astimezone().strftime("%H:%M") if value else "—"


@dataclass(frozen=True, slots=True)
class BatchProgress:
    """One batch's progress bar and whether it makes its cut-off."""

    id: int
    code: str
    name: str
    station: str
    total: int
    packed: int
    held: int
    remaining: int
    rate_per_hour: float | None  # None offline (no rates in the replica)
    cutoff_at: datetime | None
    projected_finish: datetime | None
    will_miss: bool

    @property
    def finish_text(self) -> str:
        """When the batch will be done at the recent packing rate; "—" with no rate yet."""
        if self.remaining == 0:
            # TRANSLATORS: a batch's projected finish when every order is packed
            return _("done")
        if self.projected_finish is None or not self.rate_per_hour:
            # No rate (offline, or nothing packed lately): nothing to project. A cut-off that
            # has passed with orders left is a fact, not a projection.
            if self.will_miss and self.rate_per_hour is None:
                return _("cut-off passed")
            return "—"
        if self.will_miss:
            return _("{time} — will miss cut-off", time=hhmm(self.projected_finish))
        return hhmm(self.projected_finish)

    @property
    def finish_hint(self) -> str:
        """Why the projected finish is what it is (the cell's tooltip)."""
        if self.remaining == 0:
            return _("Every order of this batch is packed.")
        if self.rate_per_hour is None:
            return _("No packing rate while offline.")
        if self.projected_finish is None or not self.rate_per_hour:
            when = self.cutoff_at.astimezone().strftime("%a %H:%M") if self.cutoff_at else None
            return str(messages.no_pace(when))
        return _(
            "At {rate} orders an hour (the last 15 minutes, or the last hour), "
            "{remaining} orders to go.",
            rate=i18n.number(self.rate_per_hour),
            remaining=self.remaining,
        )


@dataclass(frozen=True, slots=True)
class ExceptionRow:
    """One exception line and which actions fit it."""

    id: str  # "exc:12" | "mut:3:45"
    order_id: int | None
    order_number: str
    order_status: str
    order_version: int
    kind: str
    code: str
    message: Text  # in the reader's language when the service said it as a code
    station: str
    at: datetime | None
    open: bool
    labels_printed: int = 0  # a held order with a printed label: it must be voided

    def actions(self) -> tuple[str, ...]:
        """The actions a supervisor may take on this line (release, reassign, cancel, resolve)."""
        if not self.open:
            return ()
        found: list[str] = []
        if self.order_status == "on_hold":
            found.append("release")
        if self.order_id is not None and self.order_status in (
            "confirmed",
            "allocated",
            "picking",
            "on_hold",
        ):
            found += ["reassign", "cancel"]
        found.append("resolve")
        return tuple(found)


# Column headings of the returns board; the view shows each through `_()`.
DISPOSITION_HEADERS = (N_("Day"), N_("Restock"), N_("B-grade"), N_("Write-off"), N_("Missing"))
LOW_STOCK_HEADERS = (N_("SKU"), N_("On hand"), N_("Allocated"), N_("Available"))
OVERSOLD_HEADERS = (N_("Order"), N_("SKU"), N_("Packed at"))
COUNT_HEADERS = (N_("When"), N_("Bin"), N_("SKU"), N_("Difference"), N_("Counted by"))


@dataclass(frozen=True, slots=True)
class ReturnsBoard:
    """Returns and stock for the supervisor (GET /v1/supervisor/returns), as table rows."""

    expected: int
    waiting: int
    below: int
    dispositions: tuple[tuple[str, ...], ...]
    low_stock: tuple[tuple[str, ...], ...]
    oversold: tuple[tuple[str, ...], ...]
    counts: tuple[tuple[str, ...], ...]

    @property
    def summary(self) -> str:
        return _(
            "Returns announced, not here yet: {expected}.  Waiting for inspection: {waiting}.",
            expected=self.expected,
            waiting=self.waiting,
        )


def _day_time(value: Any) -> str:
    when = _time(value)
    return when.astimezone().strftime("%a %H:%M") if when else "—"


def parse_returns(body: dict[str, Any]) -> ReturnsBoard:
    """The service's returns figures as rows; days newest first, signed differences."""
    return ReturnsBoard(
        expected=int(body["expected"]),
        waiting=int(body["waiting_for_inspection"]),
        below=int(body["below"]),
        dispositions=tuple(
            (d["day"], str(d["restock"]), str(d["b_grade"]), str(d["write_off"]), str(d["missing"]))
            for d in reversed(body["dispositions"])
        ),
        low_stock=tuple(
            (x["sku"], str(x["on_hand"]), str(x["allocated"]), str(x["available"]))
            for x in body["low_stock"]
        ),
        oversold=tuple((o["order_number"], o["sku"], _day_time(o["at"])) for o in body["oversold"]),
        counts=tuple(
            (
                _day_time(c["at"]),
                c["location"],
                c["sku"],
                f"{c['difference']:+d}",
                c.get("counted_by") or c["actor"],
            )
            for c in body.get("count_differences", [])
        ),
    )


@dataclass(frozen=True, slots=True)
class SupervisorSnapshot:
    """Everything on the supervisor screen at one moment."""

    online: bool
    as_of: datetime
    batches: tuple[BatchProgress, ...] = ()
    packers: tuple[tuple[str, ...], ...] = ()
    stations: tuple[tuple[str, ...], ...] = ()
    exceptions: tuple[ExceptionRow, ...] = ()
    throughput: tuple[tuple[datetime, int], ...] = ()
    station_choices: tuple[tuple[int, str], ...] = ()  # (id, name) for assigning a batch
    problem: str = ""
    returns: ReturnsBoard | None = None  # None until the service answered once

    @property
    def headline(self) -> str:
        if self.online:
            return _("Live — as of {time}", time=hhmm(self.as_of))
        return _("As of {time}, offline — the service cannot be reached", time=hhmm(self.as_of))


PACKER_HEADERS = (
    N_("Packer"),
    N_("Orders"),
    N_("Orders/h"),
    N_("Items/h"),
    N_("Adjusted/h"),
    N_("Accuracy"),
    N_("s/order"),
    N_("Overrides"),
)
STATION_HEADERS = (
    N_("Station"),
    N_("Online"),
    N_("Orders/h"),
    N_("Adjusted/h"),
    N_("Accuracy"),
    N_("Queue"),
    N_("Last sync"),
    N_("Printer"),
    N_("Scale"),
)


def _pct(value: Any) -> str:
    return "—" if value is None else i18n.render(i18n.percent(float(value)))


def _num(value: Any, digits: int = 1) -> str:
    return "—" if value is None else i18n.render(i18n.number(float(value), digits))


def parse_overview(body: dict[str, Any]) -> SupervisorSnapshot:
    """The service's overview JSON as a snapshot (ready-to-show rows)."""
    batches = tuple(
        BatchProgress(
            id=b["id"],
            code=b["code"],
            name=b["name"],
            station=b.get("station_name") or "unassigned",
            total=b["total"],
            packed=b["packed"],
            held=b["held"],
            remaining=b["remaining"],
            rate_per_hour=b["rate_15m"] or b["rate_60m"],
            cutoff_at=_time(b["cutoff_at"]),
            projected_finish=_time(b["projected_finish"]),
            will_miss=b["will_miss_cutoff"],
        )
        for b in body["batches"]
    )
    packers = tuple(
        (
            p["name"],
            str(p["orders"]),
            _num(p["orders_per_hour"]),
            _num(p["items_per_hour"]),
            _num(p["adjusted_per_hour"]),
            _pct(p["accuracy"]),
            _num(p["avg_seconds_per_order"], 0),
            str(p["overrides"]),
        )
        for p in body["packers"]
    )
    stations = tuple(
        (
            s["name"],
            "online" if s["online"] else "OFFLINE",
            _num(s["orders_per_hour"]),
            _num(s["adjusted_per_hour"]),
            _pct(s["accuracy"]),
            "—" if s["queue_depth"] is None else str(s["queue_depth"]),
            hhmm(_time(s["last_sync_at"])),
            s["printer"],
            s["scale"],
        )
        for s in body["stations"]
    )
    exceptions = tuple(
        ExceptionRow(
            id=e["id"],
            order_id=e["order_id"],
            order_number=e["order_number"],
            order_status=e["order_status"],
            order_version=e["order_version"],
            kind=e["kind"],
            code=e["code"],
            message=exception_text(e.get("say"), str(e["message"]), kind=e["kind"], code=e["code"]),
            station=e.get("station_name") or "",
            at=_time(e["at"]),
            open=e["open"],
            labels_printed=int(e.get("labels_printed") or 0),
        )
        for e in body["exceptions"]
    )
    throughput = tuple((_time(p["start"]) or utcnow(), p["orders"]) for p in body["throughput"])
    return SupervisorSnapshot(
        online=True,
        as_of=_time(body["as_of"]) or utcnow(),
        batches=batches,
        packers=packers,
        stations=stations,
        exceptions=exceptions,
        throughput=throughput,
        station_choices=tuple((s["id"], s["name"]) for s in body["stations"]),
    )


@dataclass
class LocalFigures:
    """What the station itself knows without the service (its replica and outbox)."""

    station_name: str
    batches: Callable[[], Sequence[BatchRow]]
    queue_depth: Callable[[], int]
    last_sync: Callable[[], datetime | None] = lambda: None


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What happened to an action: ok, and the message to show (the service's on a 409)."""

    ok: bool
    message: str


@dataclass
class SupervisorBoard:
    """Loads the supervisor snapshot and performs actions for one logged-in supervisor."""

    local: LocalFigures
    api: SupervisorApi | None = None
    clock: Callable[[], datetime] = utcnow
    last_live: SupervisorSnapshot | None = field(default=None)

    def fetch(self) -> SupervisorSnapshot:
        """The live overview, else the offline snapshot; never raises."""
        problem = "not connected to the service"
        if self.api is not None:
            try:
                snap = parse_overview(self.api("GET", "overview", None))
            except Exception as exc:  # noqa: BLE001 (any failure means: show local data)
                log.warning("supervisor overview unavailable: %s", exc)
                problem = str(exc)
            else:
                snap = replace(snap, returns=self._returns())
                self.last_live = snap
                return snap
        return self.offline(problem)

    def _returns(self) -> ReturnsBoard | None:
        """The returns figures; a failure keeps the last ones (the overview still shows)."""
        assert self.api is not None
        try:
            return parse_returns(self.api("GET", "returns", None))
        except Exception as exc:  # noqa: BLE001 (an older service, a blip: last figures)
            log.warning("returns figures unavailable: %s", exc)
            return self.last_live.returns if self.last_live else None

    def offline(self, problem: str = "") -> SupervisorSnapshot:
        """Batches from the station's replica; other figures as last seen live, if ever."""
        rows = self.local.batches()
        batches = tuple(
            BatchProgress(
                id=b.id,
                code=b.code,
                name=b.name,
                station=self.local.station_name,
                total=b.total,
                packed=b.packed,
                held=b.held,
                remaining=max(b.total - b.packed, 0),
                rate_per_hour=None,
                cutoff_at=b.cutoff_at,
                projected_finish=None,
                will_miss=bool(b.cutoff_at and b.total > b.packed and b.cutoff_at < self.clock()),
            )
            for b in rows
        )
        last = self.last_live
        as_of = self.local.last_sync() or (last.as_of if last else None) or self.clock()
        own = (
            self.local.station_name,
            "this station",
            "—",
            "—",
            "—",
            str(self.local.queue_depth()),
            hhmm(self.local.last_sync()),
            "—",
            "—",
        )
        return SupervisorSnapshot(
            online=False,
            as_of=as_of,
            batches=batches,
            packers=last.packers if last else (),
            stations=last.stations if last else (own,),
            exceptions=(),
            throughput=last.throughput if last else (),
            problem=problem,
            returns=last.returns if last else None,
        )

    def act(
        self, action: str, row: ExceptionRow, reason: str, batch_id: int | None = None
    ) -> ActionResult:
        """Release, reassign, cancel or resolve; the service's refusal comes back as text."""
        if self.api is None:
            return ActionResult(False, _("Offline: actions need the service. Try again later."))
        body: dict[str, Any] = {"reason": reason, "expected_version": row.order_version}
        if action == "resolve":
            if row.id.startswith("mut:"):
                _kind, station_id, mutation_id = row.id.split(":")
                path = f"rejections/{station_id}/{mutation_id}/resolve"
            else:
                path = f"exceptions/{row.id.removeprefix('exc:')}/resolve"
        else:
            path = f"orders/{row.order_id}/{action}"
            if action == "reassign":
                body["batch_id"] = batch_id
        return self._call("POST", path, body, lambda r: str(action_text(r)))

    def candidates(self, carrier: str = "", service: str = "") -> list[dict[str, Any]]:
        """Confirmed, unbatched orders matching the filter ([] offline)."""
        if self.api is None:
            return []
        query = "&".join(f"{k}={v}" for k, v in (("carrier", carrier), ("service", service)) if v)
        try:
            found = self.api("GET", "candidates" + (f"?{query}" if query else ""), None)
        except Exception as exc:  # noqa: BLE001
            log.warning("candidates unavailable: %s", exc)
            return []
        return list(found)

    def create_batch(self, carrier: str, service: str, max_orders: int) -> ActionResult:
        """Batch the matching confirmed orders through the service's batching."""
        rule: dict[str, Any] = {"max_orders": max_orders}
        if carrier:
            rule["carrier"] = carrier
        if service:
            rule["service"] = service
        return self._call(
            "POST",
            "batches",
            rule,
            lambda r: (
                ", ".join(f"{b['code']} ({b['order_count']} orders)" for b in r)
                or _("No confirmed orders match; no batch was made.")
            ),
        )

    def assign(self, batch_id: int, station_id: int) -> ActionResult:
        """Give a batch to a station."""
        return self._call(
            "POST",
            f"batches/{batch_id}/assign",
            {"station_id": station_id},
            lambda r: _("Batch {batch} assigned.", batch=r["code"]),
        )

    def _call(
        self, method: str, path: str, body: dict[str, Any], say: Callable[[Any], str]
    ) -> ActionResult:
        if self.api is None:
            return ActionResult(False, _("Offline: this needs the service. Try again later."))
        try:
            return ActionResult(True, say(self.api(method, path, body)))
        except Exception as exc:  # noqa: BLE001 (shown to the supervisor, logged)
            log.warning("supervisor %s %s failed: %s", method, path, exc)
            return ActionResult(False, getattr(exc, "message", None) or str(exc))


# What a supervisor action did, by the service's ActionOut.code (service/supervisor/schemas.py
# ACTION_MESSAGES, the same English), said in the supervisor's language.
ACTIONS: dict[str, str] = {
    "released": N_("Order {order} released; it is {status}."),
    # TRANSLATORS: "on hold" = put aside until someone resolves a problem.
    "held": N_("Order {order} is on hold."),
    "batched": N_("Order {order} is in batch {batch}."),
    "cancelled": N_("Order {order} cancelled."),
    # TRANSLATORS: "box" = shipping carton; {new} and {old} are tracking numbers.
    "relabelled": N_("Box {box} has a new label {new}; {old} was voided."),
    "relabelled_void_queued": N_(
        "Box {box} has a new label {new}; {old} was voided "
        "(the carrier was away: voiding the old one is queued)."
    ),
    "reassigned": N_("Order {order} moved to batch {batch}."),
    "exception_resolved": N_("Exception on order {order} marked resolved."),
    "rejection_resolved": N_("Rejected event on order {order} marked resolved."),
}


def action_text(answer: Any) -> Text:
    """The service's answer to an action in the reader's language; its English `message`
    when it sends no code this station knows (an older service); "Done." without either."""
    if not isinstance(answer, dict):
        return Msg("Done.")
    english = str(answer.get("message") or "")
    said = coded_text(ACTIONS, answer.get("code"), answer.get("params"), "action answer")
    return said if said is not None else english or Msg("Done.")
