"""What an operator hands over when onboarding, read into what the use cases take.

Shared by `ebox admin ...` and `/admin/v1`, so that a sender's key or a time
given to either is read by one rule and refused in the same words:

- a sender's Ed25519 public key, as PEM (SubjectPublicKeyInfo, what
  `openssl pkey -pubout` writes) or as the raw 32 bytes in base64url;
- a moment, in RFC 3339 with an offset (a time without one is ambiguous for a
  key's validity, so it is refused rather than guessed).

Also the one place that registers an OAuth client for an operator
(`add_client`), since both entrypoints must refuse the same things.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ebox.adapters.clients import ALLOWED_SCOPES, register_client
from ebox.adapters.runtime import Ledger
from ebox.domain.errors import EboxError
from ebox.domain.limits import LIMITS
from ebox.domain.proofs.canonical import CanonicalFormError, parse_rfc3339

_BASE64URL = re.compile(r"[A-Za-z0-9_-]{43}=?")


class OnboardingInputError(EboxError):
    """An operator's input that cannot be read (key, time): 400, one line."""


def read_ed25519_public_key(data: bytes | str) -> bytes:
    """The raw 32-byte Ed25519 public key of a PEM document or of base64url text."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = text.strip()
    if "-----BEGIN" in text:
        try:
            key = serialization.load_pem_public_key(text.encode())
        except (ValueError, UnsupportedAlgorithm):
            raise OnboardingInputError("the public key is not a readable PEM public key") from None
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise OnboardingInputError(
                f"the public key must be Ed25519, not {type(key).__name__.removeprefix('_')}"
            )
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if not _BASE64URL.fullmatch(text):
        raise OnboardingInputError(
            "the public key is neither PEM nor the 32 raw bytes in base64url (43 characters)"
        )
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=")
    except (ValueError, binascii.Error):
        raise OnboardingInputError("the public key is not valid base64url") from None


def read_moment(text: str | None, what: str) -> datetime | None:
    """An RFC 3339 time with its offset (None stays None)."""
    if text is None:
        return None
    try:
        moment = parse_rfc3339(text)
    except (ValueError, OverflowError, CanonicalFormError):
        moment = None
    if moment is None or not LIMITS.earliest <= moment < LIMITS.latest:
        raise OnboardingInputError(
            f"{what} must be an RFC 3339 time with its offset, e.g. 2027-01-01T00:00:00Z,"
            f" from {LIMITS.earliest.year} to {LIMITS.latest.year - 1}, not {text!r}"
        )
    return moment


def add_client(
    ledger: Ledger,
    kind: str,
    subject: str,
    public_jwk: dict[str, Any],
    scopes: Iterable[str] | None = None,
) -> str:
    """Register an OAuth client of `kind` (default: its kind's scopes); returns its client_id."""
    chosen = ALLOWED_SCOPES.get(kind, frozenset()) if scopes is None else scopes
    return register_client(ledger, kind, subject, chosen, public_jwk)
