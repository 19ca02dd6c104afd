"""Client assertions (RFC 7523 private_key_jwt): checking one, and making one as a client does.

The assertion: ``iss`` = ``sub`` = client_id, ``aud`` = the token endpoint,
``exp`` at most 5 minutes ahead, ``jti`` unique (the replay check is the token
endpoint's, see ebox.adapters.clients), ``kid`` optional (else each of the
client's keys of the algorithm's type is tried), signed with EdDSA or RS256.

Every way an assertion fails raises the one `ClientAuthenticationFailed`,
whose `reason` is for the log and never for the caller (ebox.api.oauth answers
one ``invalid_client`` text). An unknown client's assertion is checked against
a decoy key, and a disabled client's only after its signature verifies, so
neither the answer nor the work done tells which client ids exist or are
disabled.
"""

from __future__ import annotations

import functools
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from ebox.adapters.clients import MAX_JTI_LENGTH, OAuthClient, UnknownClient, get_client
from ebox.adapters.runtime import Ledger
from ebox.api.tokens import (
    LEEWAY_SECONDS,
    MalformedToken,
    TokenError,
    decode_jwt,
    unverified_claims,
    unverified_header,
)
from ebox.domain.limits import LIMITS, FieldRejected, checked_identifier

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ("EdDSA", "RS256")
_KEY_TYPE_OF_ALG = {"EdDSA": "OKP", "RS256": "RSA"}
MAX_ASSERTION_LIFETIME = 300  # seconds between now and the assertion's exp


class ClientAuthenticationFailed(Exception):
    """The client did not prove who it is; `reason` says why, for the operator's log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _is_identifier(value: str, max_length: int) -> bool:
    """The identifier rule of ebox.domain.limits: bounded, no control characters."""
    try:
        checked_identifier(value, "claim", max_length)
    except FieldRejected:
        return False
    return True


def verify_assertion(
    ledger: Ledger, audience: str, assertion: str, client_id: str | None, now: float
) -> tuple[OAuthClient, dict[str, Any]]:
    """The client and the claims of a valid assertion for `audience` (the token endpoint).

    Raises ClientAuthenticationFailed whose reason (logged only) names the
    check that failed, never a claim's value.
    """
    try:
        header = unverified_header(assertion)
        unverified = unverified_claims(assertion)
    except MalformedToken:
        raise ClientAuthenticationFailed("the client assertion is not a JWT") from None
    alg = header.get("alg")
    if alg not in ASSERTION_ALGORITHMS:
        raise ClientAuthenticationFailed("the assertion's alg is neither EdDSA nor RS256")
    issuer = unverified.get("iss")
    if not isinstance(issuer, str) or not issuer or unverified.get("sub") != issuer:
        raise ClientAuthenticationFailed("the assertion's iss and sub are not both the client id")
    if client_id is not None and client_id != issuer:
        raise ClientAuthenticationFailed("client_id differs from the assertion's iss")
    if not _is_identifier(issuer, LIMITS.reference_id):  # PostgreSQL refuses a NUL in a lookup
        raise ClientAuthenticationFailed("the assertion's iss is not a client id")
    try:
        client: OAuthClient | None = get_client(ledger, issuer)
    except UnknownClient:
        client = None
    kid = header.get("kid")
    keys = [
        jwt.PyJWK(jwk).key
        for jwk in (client.keys if client is not None else ())
        if jwk["kty"] == _KEY_TYPE_OF_ALG[alg] and (kid is None or jwk["kid"] == kid)
    ]
    try:
        # Without a client or a key of it, a decoy key does the same work and fails.
        claims = decode_jwt(
            assertion,
            keys or [_decoy_key(alg)],
            [alg],
            issuer=issuer,
            audience=audience,
            required=("iss", "sub", "aud", "exp", "jti"),
            now=now,
        )
    except TokenError as error:
        if client is None:
            raise ClientAuthenticationFailed("unknown client") from None
        if not keys:
            raise ClientAuthenticationFailed(
                "no key of the client matches the assertion's alg and kid"
            ) from None
        raise ClientAuthenticationFailed(
            f"the client assertion is refused: {error.reason}"
        ) from None
    if client is None or not keys:  # a decoy key verifies nothing; never trust one that did
        raise ClientAuthenticationFailed("unknown client")
    if client.disabled:
        raise ClientAuthenticationFailed("the client is disabled")
    if (
        not isinstance(claims["exp"], int | float)
        or claims["exp"] > now + MAX_ASSERTION_LIFETIME + LEEWAY_SECONDS
    ):
        raise ClientAuthenticationFailed(
            f"the assertion's exp is more than {MAX_ASSERTION_LIFETIME} s ahead"
        )
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or not _is_identifier(jti, MAX_JTI_LENGTH):
        raise ClientAuthenticationFailed(
            f"the assertion's jti is not 1 to {MAX_JTI_LENGTH} characters without controls"
        )
    return client, claims


@functools.cache
def _decoy_key(alg: str) -> Any:
    """A public key whose private half no one holds, of the algorithm's type."""
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return ed25519.Ed25519PrivateKey.generate().public_key()


def make_client_assertion(
    private_pem: bytes,
    client_id: str,
    audience: str,
    *,
    ttl: int = 60,
    jti: str | None = None,
    now: float | None = None,
    kid: str | None = None,
) -> str:
    """A client assertion for POST /oauth/token (what a client's own code does)."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        algorithm = "EdDSA"
    elif isinstance(key, rsa.RSAPrivateKey):
        algorithm = "RS256"
    else:
        raise ValueError("a client key is Ed25519 or RSA")
    issued_at = int(time.time() if now is None else now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + ttl,
        "jti": jti or str(uuid.uuid4()),
    }
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


__all__ = [
    "ASSERTION_ALGORITHMS",
    "ASSERTION_TYPE",
    "MAX_ASSERTION_LIFETIME",
    "ClientAuthenticationFailed",
    "make_client_assertion",
    "verify_assertion",
]
