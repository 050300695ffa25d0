"""Claims over the station client: a granted lease is written to the replica at once."""

from __future__ import annotations

import logging

from app.i18n import _
from app.station.ports import ClaimRefused, LeaseRecord, Offline
from sync.client import StationClient
from sync.errors import ClaimRefusedError, SyncError, SyncUnavailable
from sync.protocol import ClaimRequest
from sync.replica import Replica

log = logging.getLogger(__name__)


class ClientClaims:
    """`Claims` for the runtime; runs on a background thread, never on the GUI thread."""

    def __init__(self, client: StationClient, replica: Replica) -> None:
        self.client = client
        self.replica = replica

    def claim_order(self, order_id: int) -> LeaseRecord:
        """Claim one order; raise ClaimRefused with the service's sentence, or Offline."""
        try:
            response = self.client.claim(ClaimRequest(order_id=order_id))
        except ClaimRefusedError as exc:
            raise ClaimRefused(exc.refusal.message) from exc
        except SyncUnavailable as exc:
            raise Offline(str(exc)) from exc
        except SyncError as exc:
            raise ClaimRefused(_("The service refused the claim: {error}", error=exc)) from exc
        self.replica.apply_leases(response.leases)
        for lease in response.leases:
            if lease.order_id == order_id:
                return LeaseRecord(
                    lease.station_id, lease.station_name, lease.epoch, lease.expires_at
                )
        raise ClaimRefused(_("The service granted no lease for this order; ask a supervisor."))

    def claim_batch(self, batch_id: int) -> int:
        """Lease a whole batch so its orders can be packed through a network outage."""
        try:
            response = self.client.claim(ClaimRequest(batch_id=batch_id))
        except ClaimRefusedError as exc:
            raise ClaimRefused(exc.refusal.message) from exc
        except SyncUnavailable as exc:
            raise Offline(str(exc)) from exc
        self.replica.apply_leases(response.leases)
        return len(response.leases)
