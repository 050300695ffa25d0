"""`product sync`: page through a Shopify shop's catalogue with the GraphQL Admin API.

`products(first:, after:)` with cursor pagination; a product with more variants than one
page holds is completed with `product(id:) { variants(after:) }`. Page sizes keep each
query's cost well under Shopify's 1,000-point limit; a THROTTLED answer is retried after a
pause. Each page is upserted and committed on its own, so a sync that stops half-way keeps
what it loaded and running it again finishes the job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.catalogue.shops import changes_of, shopify_graphql_product
from service.catalogue.store import Problem, UpsertReport, apply_changes, without_bad_rows
from service.db import transaction
from service.models import Channel
from service.secrets_store import SecretUnavailable, get_secret
from service.shipping.publish import DEFAULT_SHOPIFY_VERSION

log = logging.getLogger(__name__)

PRODUCTS_PER_PAGE = 10
VARIANTS_PER_PAGE = 50
TIMEOUT_SECONDS = 30.0
THROTTLE_RETRIES = 5

_VARIANT_FIELDS = """
  pageInfo { hasNextPage endCursor }
  nodes {
    id sku barcode title
    image { url }
    inventoryItem { measurement { weight { unit value } } }
  }
"""

PRODUCTS_QUERY = f"""
query CatalogueProducts($first: Int!, $after: String, $variants: Int!) {{
  products(first: $first, after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id title status
      featuredMedia {{ preview {{ image {{ url }} }} }}
      variants(first: $variants) {{ {_VARIANT_FIELDS} }}
    }}
  }}
}}
"""

VARIANTS_QUERY = f"""
query ProductVariants($id: ID!, $after: String, $variants: Int!) {{
  product(id: $id) {{
    variants(first: $variants, after: $after) {{ {_VARIANT_FIELDS} }}
  }}
}}
"""


class SyncFailed(Exception):
    """The sync could not run or the shop refused it; the message says why."""


@dataclass
class SyncResult:
    """What a sync saw and did."""

    products_seen: int = 0
    variants_seen: int = 0
    skipped: int = 0  # variants without a SKU
    report: UpsertReport = field(default_factory=UpsertReport)
    problems: list[Problem] = field(default_factory=list)


class ShopifyCatalogue:
    """The GraphQL Admin API of one shop, for reading products."""

    def __init__(
        self,
        client: httpx.Client,
        base_url: str,
        version: str,
        token: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.url = f"{base_url.rstrip('/')}/admin/api/{version}/graphql.json"
        self.token = token
        self.sleep = sleep

    def query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """`data` of one GraphQL call; THROTTLED is retried, anything else raises SyncFailed."""
        for attempt in range(THROTTLE_RETRIES + 1):
            try:
                response = self.client.post(
                    self.url,
                    json={"query": query, "variables": variables},
                    headers={"X-Shopify-Access-Token": self.token},
                )
            except httpx.HTTPError as exc:
                raise SyncFailed(f"The shop did not answer: {exc}") from exc
            if response.status_code == 429 or response.status_code >= 500:
                throttled = True
            elif response.status_code >= 400:
                raise SyncFailed(
                    f"The shop refused the request ({response.status_code}): {response.text[:200]}"
                )
            else:
                answer = response.json()
                errors = answer.get("errors") or []
                throttled = any(
                    (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors
                )
                if errors and not throttled:
                    words = "; ".join(str(e.get("message", e)) for e in errors)[:300]
                    raise SyncFailed(f"The shop refused the query: {words}")
                if not errors:
                    data: dict[str, Any] = answer.get("data") or {}
                    return data
            if attempt < THROTTLE_RETRIES:
                self.sleep(min(2.0**attempt, 30.0))
        raise SyncFailed("The shop kept answering 'throttled'; try again later.")

    def products(self) -> Any:
        """Every product node with all its variant nodes, page by page."""
        after: str | None = None
        while True:
            data = self.query(
                PRODUCTS_QUERY,
                {"first": PRODUCTS_PER_PAGE, "after": after, "variants": VARIANTS_PER_PAGE},
            )
            page = data["products"]
            yield [(node, self._variants(node)) for node in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]

    def _variants(self, node: dict[str, Any]) -> list[dict[str, Any]]:
        variants = node["variants"]
        found: list[dict[str, Any]] = list(variants["nodes"])
        while variants["pageInfo"]["hasNextPage"]:
            data = self.query(
                VARIANTS_QUERY,
                {
                    "id": node["id"],
                    "after": variants["pageInfo"]["endCursor"],
                    "variants": VARIANTS_PER_PAGE,
                },
            )
            variants = data["product"]["variants"]
            found.extend(variants["nodes"])
        return found


def _channel(sessions: sessionmaker[Session], name: str) -> tuple[int, str, str, str]:
    with transaction(sessions) as session:
        channel = session.scalar(select(Channel).where(Channel.name == name))
        if channel is None:
            raise SyncFailed(f"No channel named {name!r}; see `packbench-service channel list`.")
        if channel.kind != "shopify":
            raise SyncFailed(
                f"Channel {name!r} is a {channel.kind} channel; `product sync` reads Shopify "
                "shops (WooCommerce products arrive by webhook)."
            )
        settings = channel.settings or {}
        base = str(settings.get("shop_url") or "")
        if not base:
            raise SyncFailed(f"Channel {name!r} has no shop_url setting.")
        version = str(settings.get("api_version") or DEFAULT_SHOPIFY_VERSION)
        return channel.id, base, version, f"shopify:{name}:token"


def sync_channel(
    sessions: sessionmaker[Session],
    channel_name: str,
    *,
    actor: str,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncResult:
    """Load every product of the channel's shop; each page commits on its own."""
    channel_id, base, version, token_ref = _channel(sessions, channel_name)
    try:
        token = get_secret(token_ref)
    except SecretUnavailable as exc:
        raise SyncFailed(f"No access token for channel {channel_name!r}: {exc}") from exc
    result = SyncResult()
    with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
        shop = ShopifyCatalogue(client, base, version, token, sleep)
        for page in shop.products():
            products = [shopify_graphql_product(node, variants) for node, variants in page]
            result.products_seen += len(products)
            result.variants_seen += sum(len(p.variants) for p in products)
            shop_changes = changes_of(products, channel_id)
            result.skipped += shop_changes.skipped
            with transaction(sessions) as session:
                good, problems = without_bad_rows(session, shop_changes.changes)
                report = apply_changes(session, good, actor=actor)
            result.problems.extend([*shop_changes.problems, *problems])
            for name in ("created", "updated", "unchanged", "released"):
                getattr(result.report, name).extend(getattr(report, name))
            log.info("catalogue sync %s: page of %d products stored", channel_name, len(products))
    return result
