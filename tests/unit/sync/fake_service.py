"""An in-memory sync service behind httpx.MockTransport, with the protocol v1 semantics.

Enough of the real service to drive the station's client and engine in unit tests:
exactly-once pushes with stored results and 409 gaps, a pull feed with expiring cursors and
snapshots (cursor 0), claims with fencing epochs, checksum, heartbeat. `faults` is a queue
of failures to inject into the next requests.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from sync.protocol import Mutation, MutationResult, PushRequest

TOKEN = "tok-station-1"
STATION_ID = 1
STATION_NAME = "bench-1"


def order_data(order_id: int, *, version: int = 1, tote: str | None = None) -> dict[str, Any]:
    """A minimal OrderSnapshot body."""
    return {
        "id": order_id,
        "number": f"ORD-{100000 + order_id}",
        "channel": "shop",
        "channel_order_id": f"C{order_id}",
        "status": "picking",
        "tote": tote,
        "lines": [
            {
                "line_id": order_id * 10 + 1,
                "line_no": 1,
                "sku": "SKU-1",
                "name": "Mug",
                "quantity": 2,
            }
        ],
        "version": version,
    }


@dataclass
class FakeSyncService:
    """State of the fake service; `transport()` serves it."""

    entities: dict[tuple[str, int], dict[str, Any] | None] = field(default_factory=dict)
    feed: list[tuple[int, str, int]] = field(default_factory=list)  # (seq, entity, id)
    oldest_cursor: int = 0
    last_mutation_id: int = 0
    results: dict[int, MutationResult] = field(default_factory=dict)
    applied: list[Mutation] = field(default_factory=list)  # every application, in order
    lease_epochs: dict[int, int] = field(default_factory=dict)  # order -> current epoch
    lease_holder: dict[int, int] = field(default_factory=dict)  # order -> station id
    heartbeats: list[dict[str, Any]] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)  # connect | 503 | drop_response | timeout
    requests: list[str] = field(default_factory=list)
    enroll_bodies: list[dict[str, Any]] = field(default_factory=list)
    checksum_override: tuple[int, str] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    # ---------------------------------------------------------------- state changes

    def put(self, entity: str, entity_id: int, data: dict[str, Any] | None) -> None:
        """Change an entity visible to the station and append it to the feed."""
        with self.lock:
            self.entities[(entity, entity_id)] = data
            self.feed.append((len(self.feed) + 1, entity, entity_id))

    def head(self) -> int:
        return len(self.feed)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # ---------------------------------------------------------------- dispatch

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(f"{request.method} {path}")
        fault = self.faults.pop(0) if self.faults else None
        if fault == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        if fault == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if fault == "503":
            return httpx.Response(503, json={"error": "unavailable", "message": "busy"})
        if path == "/v1/stations/enroll":
            body = json.loads(request.content)
            self.enroll_bodies.append(body)
            if body["code"] != "CODE-1234":
                return httpx.Response(
                    404, json={"error": "unknown_code", "message": "no such code"}
                )
            return httpx.Response(
                200, json={"station_id": STATION_ID, "station_name": STATION_NAME, "token": TOKEN}
            )
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"error": "unauthorized", "message": "enroll again"})
        with self.lock:
            response = self._route(request, path)
        if fault == "drop_response":
            # The service committed; the station never hears back.
            raise httpx.ReadError("connection closed after commit", request=request)
        return response

    def _route(self, request: httpx.Request, path: str) -> httpx.Response:
        if path == "/v1/stations/me":
            return httpx.Response(
                200,
                json={
                    "station_id": STATION_ID,
                    "station_name": STATION_NAME,
                    "last_mutation_id": self.last_mutation_id,
                    "server_time": datetime.now(UTC).isoformat(),
                },
            )
        if path == "/v1/stations/heartbeat":
            self.heartbeats.append(json.loads(request.content))
            return httpx.Response(204)
        if path == "/v1/sync/push":
            return self._push(PushRequest.model_validate_json(request.content))
        if path == "/v1/sync/pull":
            return self._pull(
                int(request.url.params["cursor"]), int(request.url.params.get("limit", 500))
            )
        if path == "/v1/sync/checksum":
            return httpx.Response(200, json=self._checksum())
        if path == "/v1/claims" and request.method == "POST":
            return self._claim(json.loads(request.content))
        if path.startswith("/v1/claims/") and request.method == "DELETE":
            return httpx.Response(204)
        return httpx.Response(404, json={"error": "not_found", "message": path})

    # ---------------------------------------------------------------- endpoints

    def _push(self, req: PushRequest) -> httpx.Response:
        out: list[dict[str, Any]] = []
        new = [m for m in req.mutations if m.id > self.last_mutation_id]
        if new and new[0].id != self.last_mutation_id + 1:
            exp = self.last_mutation_id + 1
            return httpx.Response(
                409, json={"error": "mutation_gap", "expected": exp, "message": f"expected {exp}"}
            )
        for m in req.mutations:
            if m.id <= self.last_mutation_id:
                stored = self.results.get(m.id) or MutationResult(id=m.id, status="applied")
                out.append(stored.model_dump(mode="json"))
                continue
            current = self.lease_epochs.get(m.order_id or 0)
            if m.order_id is not None and m.lease_epoch != current:
                res = MutationResult(
                    id=m.id,
                    status="rejected",
                    reason="claimed_by_other",
                    message="Order claimed by bench-2 at 10:02",
                )
            else:
                res = MutationResult(id=m.id, status="applied")
                self.applied.append(m)
            self.results[m.id] = res
            self.last_mutation_id = m.id
            out.append(res.model_dump(mode="json"))
        return httpx.Response(200, json={"results": out, "last_mutation_id": self.last_mutation_id})

    def _pull(self, cursor: int, limit: int) -> httpx.Response:
        head = self.head()
        if cursor == 0:
            changes = [
                {"seq": head, "entity": e, "entity_id": i, "data": d}
                for (e, i), d in sorted(self.entities.items())
                if d is not None
            ]
            return httpx.Response(
                200,
                json={
                    "cursor": head,
                    "changes": changes,
                    "more": False,
                    "last_mutation_id": self.last_mutation_id,
                    "snapshot": True,
                },
            )
        if cursor < self.oldest_cursor:
            return httpx.Response(
                409,
                json={
                    "error": "cursor_expired",
                    "oldest_cursor": self.oldest_cursor,
                    "message": "old",
                },
            )
        rows = [r for r in self.feed if r[0] > cursor][:limit]
        changes = [
            {"seq": s, "entity": e, "entity_id": i, "data": self.entities.get((e, i))}
            for s, e, i in rows
        ]
        new_cursor = rows[-1][0] if rows else cursor
        return httpx.Response(
            200,
            json={
                "cursor": new_cursor,
                "changes": changes,
                "more": new_cursor < head,
                "last_mutation_id": self.last_mutation_id,
            },
        )

    def _checksum(self) -> dict[str, Any]:
        if self.checksum_override:
            return {"order_count": self.checksum_override[0], "checksum": self.checksum_override[1]}
        pairs = sorted(
            (i, d["version"]) for (e, i), d in self.entities.items() if e == "order" and d
        )
        text = "\n".join(f"{i}:{v}" for i, v in pairs)
        return {"order_count": len(pairs), "checksum": hashlib.sha256(text.encode()).hexdigest()}

    def _claim(self, body: dict[str, Any]) -> httpx.Response:
        order_id = body.get("order_id")
        if order_id is None or ("order", order_id) not in self.entities:
            return httpx.Response(404, json={"error": "unknown_order", "message": "no such order"})
        holder = self.lease_holder.get(order_id)
        if holder is not None and holder != STATION_ID:
            return httpx.Response(
                409,
                json={
                    "error": "claimed_by_other",
                    "message": "Order is being packed at bench-2",
                    "station_name": "bench-2",
                },
            )
        epoch = self.lease_epochs.get(order_id, 0) + 1
        self.lease_epochs[order_id] = epoch
        self.lease_holder[order_id] = STATION_ID
        lease = {
            "order_id": order_id,
            "station_id": STATION_ID,
            "station_name": STATION_NAME,
            "epoch": epoch,
            "expires_at": (datetime.now(UTC) + timedelta(minutes=30)).isoformat(),
        }
        return httpx.Response(200, json={"claim_id": 7, "leases": [lease]})

    def steal(self, order_id: int) -> None:
        """Another station claims the order: our epoch becomes stale."""
        with self.lock:
            self.lease_epochs[order_id] = self.lease_epochs.get(order_id, 0) + 1
            self.lease_holder[order_id] = 2
