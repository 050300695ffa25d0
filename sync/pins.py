"""PIN verifiers and supervisor override proofs: the crypto both sides of the wire share.

A user's PIN key K is the raw argon2id output the service stores (inside the PHC-encoded
hash). From K come two independent values (HMAC-SHA256 under distinct labels):

- the *verifier* HMAC(K, "pin-verifier"): lets a station check a typed PIN (one argon2id
  run per guess). A pull carries it only sealed (libsodium sealed box) to the X25519 public
  key the station made at enrolment; the private key never leaves the station's keyring.
- the *proof key* HMAC(K, "override-proof"): signs an override at the bench. The station
  can compute it only from a typed PIN, so a proof shows the supervisor's PIN was entered.

See docs/security.md for what this does and does not protect against.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

VERIFIER_LABEL = b"packbench/pin-verifier/v1"
PROOF_LABEL = b"packbench/override-proof/v1"
PUBLIC_KEY_BYTES = 32


def b64(data: bytes) -> str:
    """Unpadded URL-safe base64 (as used on the wire for keys, verifiers and proofs)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    """The bytes of unpadded URL-safe base64; ValueError when it is not."""
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (ValueError, TypeError) as exc:
        raise ValueError("not base64") from exc


@dataclass(frozen=True, slots=True)
class PinParams:
    """The argon2id parameters and salt of one user's PIN (not secret)."""

    salt: bytes
    time_cost: int
    memory_cost: int
    parallelism: int
    hash_len: int


def _std_b64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def split_pin_hash(encoded: str) -> tuple[PinParams, bytes] | None:
    """(params, K) from a PHC `$argon2id$v=19$m=..,t=..,p=..$salt$hash`; None if not one."""
    parts = encoded.split("$")
    if len(parts) != 6 or parts[1] != "argon2id" or parts[2] != "v=19":
        return None
    try:
        fields = dict(item.split("=", 1) for item in parts[3].split(","))
        salt, key = _std_b64(parts[4]), _std_b64(parts[5])
        params = PinParams(
            salt=salt,
            time_cost=int(fields["t"]),
            memory_cost=int(fields["m"]),
            parallelism=int(fields["p"]),
            hash_len=len(key),
        )
    except (ValueError, KeyError):
        return None
    return params, key


def pin_key(pin: str, params: PinParams) -> bytes:
    """K for a typed PIN: one argon2id run (the deliberate cost of every guess)."""
    return hash_secret_raw(
        pin.encode(),
        params.salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_cost,
        parallelism=params.parallelism,
        hash_len=params.hash_len,
        type=Type.ID,
    )


def verifier(key: bytes) -> bytes:
    """What a station compares a typed PIN's K against."""
    return hmac.new(key, VERIFIER_LABEL, hashlib.sha256).digest()


def proof_key(key: bytes) -> bytes:
    """The key that signs overrides; not derivable from the verifier."""
    return hmac.new(key, PROOF_LABEL, hashlib.sha256).digest()


def override_message(
    *,
    station_id: int,
    order_id: int | None,
    supervisor_id: int,
    kind: str,
    reason: str,
    details: dict[str, Any],
) -> bytes:
    """The exact bytes an override proof covers (canonical JSON)."""
    body = {
        "v": 1,
        "station_id": station_id,
        "order_id": order_id,
        "supervisor_id": supervisor_id,
        "kind": kind,
        "reason": reason,
        "details": details,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign_override(key: bytes, message: bytes) -> str:
    """The proof of an override, from the K of the PIN the supervisor typed."""
    return b64(hmac.new(proof_key(key), message, hashlib.sha256).digest())


def override_proven(key: bytes, message: bytes, proof: str | None) -> bool:
    """Whether `proof` was made with this K over exactly this message."""
    if not proof:
        return False
    return hmac.compare_digest(sign_override(key, message).encode(), proof.encode())


def new_station_keypair() -> tuple[str, str]:
    """(private, public) X25519 key pair as base64: private for the keyring, public for enrol."""
    private = PrivateKey.generate()
    return b64(bytes(private)), b64(bytes(private.public_key))


def valid_public_key(text: str) -> bool:
    """Whether `text` is a base64 X25519 public key."""
    try:
        return len(unb64(text)) == PUBLIC_KEY_BYTES
    except ValueError:
        return False


def seal(public_key: str, data: bytes) -> str:
    """`data` readable only by the holder of the matching private key."""
    return b64(SealedBox(PublicKey(unb64(public_key))).encrypt(data))


def unseal(private_key: str, sealed: str) -> bytes | None:
    """The sealed data, or None when it was not sealed to this key or is damaged."""
    try:
        return SealedBox(PrivateKey(unb64(private_key))).decrypt(unb64(sealed))
    except (CryptoError, ValueError, TypeError):
        return None
