"""HTTP client of sync protocol v1: explicit timeouts, TLS verified, token from the keyring.

Errors are typed by what the caller should do: `SyncUnavailable` (connect error, timeout,
5xx: retry later) versus `SyncRejected` and its subclasses (4xx: retrying the same request
will not help; 401 means enroll again).
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import keyring
import keyring.errors
from keyring.backends import fail
from pydantic import BaseModel, ValidationError

from sync import pins
from sync.errors import (
    ClaimRefusedError,
    CursorExpired,
    KeyringUnavailable,
    MutationGap,
    NotEnrolled,
    PushRefused,
    StationUnauthorized,
    SyncRejected,
    SyncUnavailable,
)
from sync.protocol import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SUPERVISOR_SESSION_HEADER,
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
    ReturnLookup,
    StationMe,
    SupervisorSessionOut,
    SupervisorSignIn,
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


def _pin_key_name(server_url: str) -> str:
    return f"{server_url}#pin-key"


def load_pin_key(server_url: str) -> str | None:
    """The station's private PIN key (sync.pins) for `server_url`; None if enrolled without."""
    backend = _usable_keyring()
    try:
        return backend.get_password(KEYRING_SERVICE, _pin_key_name(server_url)) or None
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(str(exc)) from exc


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


# A push answered with one of these can never be accepted as it is (malformed, too large,
# a value out of range): the engine sets the named mutation aside instead of retrying.
PUSH_REFUSED = frozenset({400, 413, 422})


def _mutation_index(field: object) -> int | None:
    """2 for a refusal naming "mutations.2.order_id"; None when no mutation is named."""
    if not isinstance(field, str):
        return None
    parts = field.split(".")
    if len(parts) >= 2 and parts[0] == "mutations" and parts[1].isdigit():
        return int(parts[1])
    return None


def _parse(model: type[_M], response: httpx.Response) -> _M:
    raise_for_status(response)
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        # A 2xx we cannot read is a service/protocol bug, not a network hiccup.
        raise SyncRejected(response.status_code, "bad_response", str(exc)) from exc


def _headers() -> dict[str, str]:
    return {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}


def plain_http_to_another_host(server_url: str) -> bool:
    """Whether `server_url` is http:// to a host other than this machine (no TLS on the way)."""
    parts = urlsplit(server_url)
    if parts.scheme.lower() != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # a name: it may resolve to anything


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
    backend = _usable_keyring()
    # The private half opens the PIN verifiers in this station's pulls; it never leaves here.
    private_key, public_key = pins.new_station_keypair()
    with httpx.Client(
        base_url=server_url, timeout=DEFAULT_TIMEOUT, transport=transport, verify=ca_bundle or True
    ) as http:
        try:
            response = http.post(
                "/v1/stations/enroll",
                json=EnrollRequest(
                    code=code, app_version=app_version, pin_public_key=public_key
                ).model_dump(mode="json", exclude_none=True),
                headers=_headers(),
            )
        except httpx.TransportError as exc:
            raise SyncUnavailable(f"cannot reach {server_url}: {exc}") from exc
        enrolled = _parse(EnrollResponse, response)
        store_token(server_url, enrolled.token)
        try:
            backend.set_password(KEYRING_SERVICE, _pin_key_name(server_url), private_key)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(str(exc)) from exc
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
        self,
        cursor: int,
        limit: int = 500,
        timeout: httpx.Timeout | None = None,
        *,
        page: str | None = None,
    ) -> PullResponse:
        """Changes after `cursor`; raises CursorExpired when the feed no longer has them.

        Cursor 0 asks for a full snapshot and uses SNAPSHOT_TIMEOUT unless told otherwise;
        with `page` ("first", then each answer's `next_page`) the snapshot comes in pages.
        A service that predates pages ignores `page` and answers the whole snapshot at once
        (its answer has no `next_page`).
        """
        if timeout is None:
            timeout = SNAPSHOT_TIMEOUT if cursor == 0 else DEFAULT_TIMEOUT
        params: dict[str, str | int] = {"cursor": cursor, "limit": limit}
        if page is not None:
            params["page"] = page
        response = self._request("GET", "/v1/sync/pull", params=params, timeout=timeout)
        return _parse(PullResponse, response)

    def push(self, request: PushRequest) -> PushResponse:
        """Upload mutations; raises MutationGap when ids do not follow the service's last."""
        body = request.model_dump_json().encode()
        response = self._request(
            "POST", "/v1/sync/push", content=body, headers={"content-type": "application/json"}
        )
        if response.status_code in PUSH_REFUSED:
            fields = _error_fields(response)
            field = fields.get("field")
            raise PushRefused(
                response.status_code,
                str(fields.get("error", f"http_{response.status_code}")),
                str(fields.get("message", response.text[:200])),
                field if isinstance(field, str) else None,
                _mutation_index(field),
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

    def lookup_return(self, code: str) -> ReturnLookup:
        """The order (and open return) a scanned return-parcel code names; SyncRejected
        (409, with the service's sentence) when it names nothing that can come back."""
        response = self._request(
            "GET",
            "/v1/returns/lookup",
            params={"code": code, "applied": "1"},  # ask for applied_through
            timeout=CLAIM_TIMEOUT,
        )
        return _parse(ReturnLookup, response)

    def release_claim(self, claim_id: int) -> None:
        """Give a claim back."""
        raise_for_status(self._request("DELETE", f"/v1/claims/{claim_id}", timeout=CLAIM_TIMEOUT))

    def open_supervisor_session(self, badge: str, pin: str) -> SupervisorSessionOut:
        """Sign a supervisor in at the service (badge + PIN); the session for supervisor()."""
        response = self._request(
            "POST",
            "/v1/supervisor/sessions",
            json=SupervisorSignIn(badge=badge, pin=pin).model_dump(mode="json"),
        )
        if response.status_code == 429:  # PIN locked: not a network problem, say why
            body = _error_fields(response)
            raise SyncRejected(429, str(body.get("error")), str(body.get("message")))
        return _parse(SupervisorSessionOut, response)

    def close_supervisor_session(self, session: str) -> None:
        """End a supervisor's session at the service (they logged out)."""
        raise_for_status(
            self._request(
                "DELETE",
                "/v1/supervisor/sessions/current",
                headers={SUPERVISOR_SESSION_HEADER: session},
            )
        )

    def supervisor(
        self, session: str, method: str, path: str, body: dict[str, Any] | None = None
    ) -> Any:
        """Call `/v1/supervisor/<path>` in a supervisor's session; the parsed JSON answer.

        One method for the overview and every supervisor action, so this client does not
        grow with the supervisor screen. A 409 (the order changed meanwhile) raises
        SyncRejected whose message says why; a 401 means: sign in again with badge and PIN.
        """
        response = self._request(
            method,
            f"/v1/supervisor/{path.lstrip('/')}",
            json=body,
            headers={SUPERVISOR_SESSION_HEADER: session},
        )
        raise_for_status(response)
        return response.json()
