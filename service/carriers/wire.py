"""One HTTP call to a carrier, its failures sorted into CarrierError kinds.

No answer in time is "timeout", a refused connection or a 5xx is "unavailable" (both
transient: the jobs layer tries again later); 401/403 is a rejection named `auth_failed`.
Other statuses are the adapter's to read, since carriers put their errors in the body.
"""

from __future__ import annotations

from typing import Any

import httpx

from service.carriers.base import CarrierError


def call(
    client: httpx.Client, carrier: str, title: str, method: str, url: str, **kw: Any
) -> httpx.Response:
    """Send one request; raise the transient kinds and auth failures, return the rest."""
    timeout = client.timeout.read or 0.0
    try:
        response = client.request(method, url, **kw)
    except httpx.TimeoutException as exc:
        raise CarrierError(carrier, "timeout", f"no answer within {timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise CarrierError(carrier, "unavailable", f"cannot reach {title}: {exc}") from exc
    if response.status_code >= 500:
        raise CarrierError(
            carrier,
            "unavailable",
            f"{title} answered {response.status_code}: {response.text[:200]}",
            status=response.status_code,
        )
    if response.status_code in (401, 403):
        raise CarrierError(
            carrier,
            "rejected",
            f"{title} refused the account's credentials ({response.status_code}): "
            f"{response.text[:200]}",
            status=response.status_code,
            reason="auth_failed",
        )
    return response
