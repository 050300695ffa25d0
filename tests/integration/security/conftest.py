"""The sync-server fixtures (app client, stations, orders, batches, supervisors) here too."""

from tests.integration.sync_server.conftest import (  # noqa: F401
    client,
    make_batch,
    make_order,
    make_station,
    make_supervisor,
)
