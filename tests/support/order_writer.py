"""A separate process that writes orders while a test watches the change feed.

    python -m tests.support.order_writer DB_URL BATCH_ID COUNT [UPDATE_EVERY [WRITER]]

Creates COUNT orders in batch BATCH_ID (0: none), one transaction each, marking each
changed as the ingest path does; every UPDATE_EVERY-th transaction also bumps the version of
an earlier order of the batch (an order that changes while a station pages past it). WRITER
(default 0) keeps order numbers apart when several writers share a batch. Prints
the ids it created, one per line, when done.
"""

from __future__ import annotations

import sys

from sqlalchemy import select, update

from service.changes import mark_changed
from service.db import make_engine, make_sessionmaker
from service.models import Order
from tests.support import factories


def main(argv: list[str]) -> int:
    url, batch, count = argv[0], int(argv[1]), int(argv[2])
    update_every = int(argv[3]) if len(argv) > 3 else 0
    writer = int(argv[4]) if len(argv) > 4 else 0
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    created: list[int] = []
    for i in range(count):
        with sessions() as s, s.begin():
            order = factories.sync_order(
                s,
                800000 + writer * 100000 + batch * 1000 + i,
                status="allocated",
                batch_id=batch or None,
                lines=1,
            )
            mark_changed(s, "order", order.id)
            created.append(order.id)
            if update_every and i % update_every == 0:
                oldest = s.scalar(
                    select(Order.id).where(Order.batch_id == (batch or None)).order_by(Order.id)
                )
                if oldest is not None:
                    s.execute(
                        update(Order).where(Order.id == oldest).values(version=Order.version + 1)
                    )
                    mark_changed(s, "order", oldest)
    engine.dispose()
    print("\n".join(map(str, created)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
