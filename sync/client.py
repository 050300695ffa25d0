"""HTTP client of sync protocol v1: explicit timeouts, TLS verified, token from the keyring.

Errors are typed by what the caller should do: `SyncUnavailable` (connect error, timeout,
5xx: retry later) versus `SyncRejected` and its subclasses (4xx: retrying the same request
will not help; 401 means enroll again).
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

import httpx
import keyring
import keyring.errors
from keyring.backends import fail
from pydantic import BaseModel, ValidationError

from sync.errors import (
    ClaimRefusedError,
    CursorExpired,
    KeyringUnavailable,
    MutationGap,
    NotEnrolled,
    StationUnauthorized,
    SyncRejected,
    SyncUnavailable,
)
from sync.protocol import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    ClaimRefused,
    ClaimRequest,
    ClaimResponse,
    EnrollRequest,
    EnrollResponse,
    Heartbeat,
    HoldingsChecksum,
    PullResponse,
    PushRequest,
    PushResponse,
    StationMe,
)
from sync.protocol import CursorExpired as CursorExpiredBody
from sync.protocol import MutationGap as MutationGapBody

log = logging.getLogger(__name__)

KEYRING_SERVICE = "packbench-station"
DEFAULT_TIMEOUT = httpx.Timeout(connect=3.0, read=10.0, write=10.0, pool=3.0)
CLAIM_TIMEOUT = httpx.Timeout(connect=3.0, read=5.0, write=5.0, pool=3.0)
# A snapshot (cursor 0) is the station's whole holding in one response; building 10k orders
# can take the service longer than an ordinary page, so it gets a longer read timeout.
SNAPSHOT_TIMEOUT = httpx.Timeout(connect=3.0, read=60.0, write=10.0, pool=3.0)

_M = TypeVar("_M", bound=BaseModel)


def _usable_keyring() -> keyring.backend.KeyringBackend:
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        raise KeyringUnavailable("the only backend found is keyring.backends.fail.Keyring")
    backends = getattr(backend, "backends", None)
    if backends is not None and not backends:
        raise KeyringUnavailable("the keyring chainer has no backends")
    return backend


def load_token(server_url: str) -> str:
    """The station token stored for `server_url`; NotEnrolled if there is none."""
    backend = _usable_keyring()
    try:
        token = backend.get_password(KEYRING_SERVICE, server_url)
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(str(exc)) from exc
    if not token:
        raise NotEnrolled(f"This station is not enrolled with {server_url}; enroll it first.")
    return token


def store_token(server_url: str, token: str) -> None:
    """Keep the token in the OS keyring (and nowhere else)."""
    backend = _usable_keyring()
    try:
        backend.set_password(KEYRING_SERVICE, server_url, token)
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(str(exc)) from exc


def _error_fields(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def raise_for_status(response: httpx.Response) -> None:
    """Turn a non-2xx answer into the typed error the caller acts on."""
    status = response.status_code
    if status < 400:
        return
    if status >= 500 or status in (408, 429):
        raise SyncUnavailable(f"service answered {status}: {response.text[:200]}")
    body = _error_fields(response)
    error = str(body.get("error", f"http_{status}"))
    message = str(body.get("message", response.text[:200]))
    if status == 401:
        raise StationUnauthorized(status, error, message)
    if status == 409 and error == "mutation_gap":
        gap = MutationGapBody.model_validate(body)
        raise MutationGap(gap.expected, gap.message)
    if status == 409 and error == "cursor_expired":
        expired = CursorExpiredBody.model_validate(body)
        raise CursorExpired(expired.oldest_cursor, expired.message)
    raise SyncRejected(status, error, message)


def _parse(model: type[_M], response: httpx.Response) -> _M:
    raise_for_status(response)
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        # A 2xx we cannot read is a service/protocol bug, not a network hiccup.
        raise SyncRejected(response.status_code, "bad_response", str(exc)) from exc


def _headers() -> dict[str, str]:
    return {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}


def enroll(
    server_url: str,
    code: str,
    *,
    app_version: str = "",
    transport: httpx.BaseTransport | None = None,
    ca_bundle: str | None = None,
) -> EnrollResponse:
    """Trade a one-time code for the station token, store it in the OS keyring, confirm.

    Refuses with KeyringUnavailable *before* contacting the service when no keyring is
    usable. The service spends the code only on the confirming call made with the stored
    token, so a keyring that refuses after the trade leaves the code usable for a retry.
    """
    _usable_keyring()
    with httpx.Client(
        base_url=server_url, timeout=DEFAULT_TIMEOUT, transport=transport, verify=ca_bundle or True
    ) as http:
        try:
            response = http.post(
                "/v1/stations/enroll",
                json=EnrollRequest(code=code, app_version=app_version).model_dump(mode="json"),
                headers=_headers(),
            )
        except httpx.TransportError as exc:
            raise SyncUnavailable(f"cannot reach {server_url}: {exc}") from exc
        enrolled = _parse(EnrollResponse, response)
        store_token(server_url, enrolled.token)
        # The first authenticated call, with the token as read back from the keyring: it
        # proves the token was kept, and only then does the service spend the code.
        try:
            confirmed = http.get(
                "/v1/stations/me",
                headers={**_headers(), "Authorization": f"Bearer {load_token(server_url)}"},
            )
        except httpx.TransportError as exc:
            raise SyncUnavailable(
                f"the token is stored but {server_url} could not be reached to confirm it "
                f"({exc}); run the same enroll command again within 15 minutes"
            ) from exc
        _parse(StationMe, confirmed)
    log.info("station enrolled", extra={"station_id": enrolled.station_id})
    return enrolled


class StationClient:
    """The calls a station makes, with its token; thread-safe (one httpx.Client).

    TLS certificates are always verified; `ca_bundle` names a private CA file if the service
    uses one. There is deliberately no way to switch verification off.
    """

    def __init__(
        self,
        server_url: str,
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        ca_bundle: str | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.server_url = server_url
        token = token or load_token(server_url)
        headers = {**_headers(), "Authorization": f"Bearer {token}"}
        self._http = httpx.Client(
            base_url=server_url,
            timeout=timeout,
            transport=transport,
            verify=ca_bundle or True,
            headers=headers,
        )

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            # Connect errors, timeouts, resets, protocol errors: all worth retrying.
            raise SyncUnavailable(f"{method} {url}: {type(exc).__name__}: {exc}") from exc

    def me(self) -> StationMe:
        """What the service knows about this station (incl. its last mutation id)."""
        return _parse(StationMe, self._request("GET", "/v1/stations/me"))

    def heartbeat(self, beat: Heartbeat) -> None:
        """Report station health."""
        raise_for_status(
            self._request("POST", "/v1/stations/heartbeat", json=beat.model_dump(mode="json"))
        )

    def pull(
        self, cursor: int, limit: int = 500, timeout: httpx.Timeout | None = None
    ) -> PullResponse:
        """Changes after `cursor`; raises CursorExpired when the feed no longer has them.

        Cursor 0 asks for a full snapshot and uses SNAPSHOT_TIMEOUT unless told otherwise.
        """
        if timeout is None:
            timeout = SNAPSHOT_TIMEOUT if cursor == 0 else DEFAULT_TIMEOUT
        response = self._request(
            "GET", "/v1/sync/pull", params={"cursor": cursor, "limit": limit}, timeout=timeout
        )
        return _parse(PullResponse, response)

    def push(self, request: PushRequest) -> PushResponse:
        """Upload mutations; raises MutationGap when ids do not follow the service's last."""
        body = request.model_dump_json().encode()
        response = self._request(
            "POST", "/v1/sync/push", content=body, headers={"content-type": "application/json"}
        )
        return _parse(PushResponse, response)

    def checksum(self) -> HoldingsChecksum:
        """What the service says this station should hold."""
        return _parse(HoldingsChecksum, self._request("GET", "/v1/sync/checksum"))

    def claim(self, request: ClaimRequest) -> ClaimResponse:
        """Claim an order or batch; ClaimRefusedError carries the packer-facing message."""
        response = self._request(
            "POST", "/v1/claims", json=request.model_dump(mode="json"), timeout=CLAIM_TIMEOUT
        )
        if response.status_code in (404, 409):
            try:
                refusal = ClaimRefused.model_validate_json(response.content)
            except ValidationError:
                refusal = None
            if refusal is not None:
                raise ClaimRefusedError(response.status_code, refusal)
        return _parse(ClaimResponse, response)

    def release_claim(self, claim_id: int) -> None:
        """Give a claim back."""
        raise_for_status(self._request("DELETE", f"/v1/claims/{claim_id}", timeout=CLAIM_TIMEOUT))

    def supervisor(
        self, supervisor_id: int, method: str, path: str, body: dict[str, Any] | None = None
    ) -> Any:
        """Call `/v1/supervisor/<path>` for the logged-in supervisor; the parsed JSON answer.

        One method for the overview and every supervisor action, so this client does not
        grow with the supervisor screen. A 409 (the order changed meanwhile) raises
        SyncRejected whose message says why.
        """
        response = self._request(
            method,
            f"/v1/supervisor/{path.lstrip('/')}",
            json=body,
            headers={"X-Packbench-Supervisor": str(supervisor_id)},
        )
        raise_for_status(response)
        return response.json()
