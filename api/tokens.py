"""The API's own access tokens (RFC 9068 JWTs, EdDSA) and the principal they carry.

The token signing key is an Ed25519 seed kept like the ledger key: the
environment variable ``EBOX_API_TOKEN_KEY`` (base64 of 32 bytes) if set, else the
file ``api-token.key`` in the data directory, created on first use with mode
0600. Every API replica must use the same key: in production set the variable
(or mount the same file) on each.

Access token claims (header ``typ: at+jwt``, ``alg: EdDSA``, ``kid``)::

    iss        settings.public_url (this API is its own authorisation server)
    aud        settings.public_url
    sub        the client's subject: KBO number (sender), partner id, auditor name
    client_id  the OAuth client id (also in azp)
    azp        the OAuth client id
    kind       "sender" | "partner" | "auditor" | "admin"
    scope      space-separated, a subset of what the client's kind may hold
    iat, exp   seconds since the epoch; exp = iat + settings.token_ttl_seconds
    jti        random, unique

Verification raises a typed `TokenError` (expired, bad signature, wrong issuer
or audience, wrong type, unknown kind, malformed) carrying expected and actual
values where they help, and never the token itself.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ebox.adapters.clients import ALLOWED_SCOPES, CLIENT_KINDS, jwk_thumbprint, public_jwk_of
from ebox.adapters.home import data_dir, load_secret
from ebox.api.settings import Settings

TOKEN_KEY_ENV = "EBOX_API_TOKEN_KEY"
TOKEN_KEY_FILE = "api-token.key"
ACCESS_TOKEN_TYPE = "at+jwt"
# Clock skew tolerated between this API, its replicas, clients and the identity provider.
LEEWAY_SECONDS = 30


# --------------------------------------------------------------------------- principal


@dataclass(frozen=True)
class Principal:
    """Who calls: a client of ours (sender, partner, auditor) or a person (OIDC)."""

    kind: str  # "sender" | "partner" | "auditor" | "admin" | "person"
    subject: str  # KBO number | partner id | auditor name | national register number
    client_id: str  # our OAuth client id; for persons the app they use: "portal" or a partner id
    scopes: frozenset[str]
    token_id: str = field(repr=False)
    expires_at: int = 0
    partner_id: str | None = None  # a person consulting through a partner app

    @property
    def address(self) -> str | None:
        """The eBox address of a person (citizen:NRN); None for clients."""
        return f"citizen:{self.subject}" if self.kind == "person" else None


# --------------------------------------------------------------------------- errors


class TokenError(Exception):
    """A bearer token was refused. `reason` is a short machine word for logs and metrics."""

    reason = "invalid_token"

    def __init__(self, message: str, expected: Any = None, actual: Any = None) -> None:
        if expected is not None or actual is not None:
            message = f"{message} (expected {expected!r}, got {actual!r})"
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.actual = actual


class MalformedToken(TokenError):
    reason = "malformed"


class TokenExpired(TokenError):
    reason = "expired"


class TokenNotYetValid(TokenError):
    reason = "not_yet_valid"


class BadSignature(TokenError):
    reason = "bad_signature"


class WrongIssuer(TokenError):
    reason = "wrong_issuer"


class WrongAudience(TokenError):
    reason = "wrong_audience"


class WrongTokenType(TokenError):
    reason = "wrong_type"


class UnknownKind(TokenError):
    reason = "unknown_kind"


class MissingClaim(TokenError):
    reason = "missing_claim"


class ClientNotInGoodStanding(TokenError):
    """A well-signed token of a client that is disabled, gone, or changed kind or subject."""

    reason = "client_disabled_or_unknown"


def unverified_header(token: str) -> dict[str, Any]:
    try:
        return dict(jwt.get_unverified_header(token))
    except jwt.InvalidTokenError:
        raise MalformedToken("the token is not a JWT") from None


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload before verification: only to route the token to its verifier."""
    try:
        return dict(jwt.decode(token, options={"verify_signature": False}))
    except jwt.InvalidTokenError:
        raise MalformedToken("the token is not a JWT") from None


def decode_jwt(
    token: str,
    keys: Sequence[Any],
    algorithms: Sequence[str],
    *,
    issuer: str,
    audience: str | None,
    required: Iterable[str],
    now: float | None = None,
    leeway: int = LEEWAY_SECONDS,
) -> dict[str, Any]:
    """Verify a JWT against candidate keys and return its claims, or raise a TokenError.

    The signature is checked first, so a forged token is reported as forged
    even when its claims are wrong too.
    """
    header = unverified_header(token)
    alg = str(header.get("alg"))
    if alg not in algorithms:
        raise BadSignature("algorithm not accepted", expected=list(algorithms), actual=alg)
    if not keys:
        raise BadSignature("no key to verify this token with")
    options: dict[str, Any] = {"require": list(required), "verify_aud": audience is not None}
    last: TokenError = BadSignature("the signature does not verify with any key of the issuer")
    for key in keys:
        try:
            claims = _decode(token, key, alg, issuer, audience, options, now, leeway)
        except BadSignature as error:
            last = error
            continue
        return claims
    raise last


def _decode(
    token: str,
    key: Any,
    alg: str,
    issuer: str,
    audience: str | None,
    options: Any,
    now: float | None,
    leeway: int,
) -> dict[str, Any]:
    # With an explicit clock (tests, replays of old tokens) the times are checked below.
    timed = now is None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={**options, "verify_exp": timed, "verify_nbf": timed, "verify_iat": timed},
        )
    except jwt.InvalidSignatureError:
        raise BadSignature("the signature does not verify") from None
    except (jwt.InvalidAlgorithmError, jwt.InvalidKeyError, TypeError, ValueError):
        raise BadSignature("the key cannot verify this algorithm", actual=alg) from None
    except jwt.ExpiredSignatureError:
        raise TokenExpired("the token has expired") from None
    except jwt.ImmatureSignatureError:
        raise TokenNotYetValid("the token is not valid yet") from None
    except jwt.InvalidIssuedAtError:
        raise TokenNotYetValid("the token was issued in the future") from None
    except jwt.InvalidIssuerError:
        raise WrongIssuer("wrong issuer", expected=issuer, actual=_claim(token, "iss")) from None
    except jwt.InvalidAudienceError:
        raise WrongAudience(
            "wrong audience", expected=audience, actual=_claim(token, "aud")
        ) from None
    except jwt.MissingRequiredClaimError as error:
        raise MissingClaim(f"the token lacks the {error.claim!r} claim") from None
    except jwt.InvalidTokenError as error:
        raise MalformedToken(f"the token is malformed ({type(error).__name__})") from None
    if now is not None:
        check_times(claims, now, leeway)
    return claims


def check_times(claims: dict[str, Any], now: float, leeway: int = LEEWAY_SECONDS) -> None:
    """exp / nbf / iat against an explicit clock (the same rules PyJWT applies)."""
    for name in ("exp", "nbf", "iat"):
        if name in claims and not isinstance(claims[name], int | float):
            raise MalformedToken(f"the {name!r} claim is not a number")
    if "exp" in claims and claims["exp"] <= now - leeway:
        raise TokenExpired("the token has expired")
    if "nbf" in claims and claims["nbf"] > now + leeway:
        raise TokenNotYetValid("the token is not valid yet")
    if "iat" in claims and claims["iat"] > now + leeway:
        raise TokenNotYetValid("the token was issued in the future")


def _claim(token: str, name: str) -> Any:
    try:
        return unverified_claims(token).get(name)
    except TokenError:
        return None


def scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    """`scope` (space-separated, RFC 8693/9068) or `scp` (a list, as some IdPs write it)."""
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, list):
        return frozenset(s for s in scp if isinstance(s, str))
    return frozenset()


# --------------------------------------------------------------------------- the service


@dataclass(frozen=True)
class IssuedToken:
    access_token: str = field(repr=False)
    expires_in: int
    scope: str
    token_id: str


class TokenService:
    """Issues and verifies this API's access tokens with one Ed25519 key."""

    algorithm = "EdDSA"

    def __init__(self, seed: bytes, issuer: str, ttl_seconds: int = 3600) -> None:
        if len(seed) != 32:
            raise ValueError("the API token key is a 32-byte Ed25519 seed")
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._private.public_key()
        self.public_jwk = public_jwk_of(self.public_key)
        self.key_id = jwk_thumbprint(self.public_jwk)
        self.issuer = issuer
        self.audience = issuer
        self.ttl_seconds = ttl_seconds

    def __repr__(self) -> str:
        return f"TokenService(issuer={self.issuer!r}, kid={self.key_id!r})"

    @classmethod
    def for_settings(cls, settings: Settings, home: Path | None = None) -> TokenService:
        return cls(load_token_seed(home), settings.public_url, settings.token_ttl_seconds)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self.public_jwk, "kid": self.key_id}]}

    def issue(
        self,
        *,
        kind: str,
        subject: str,
        client_id: str,
        scopes: Iterable[str],
        ttl_seconds: int | None = None,
        now: float | None = None,
    ) -> IssuedToken:
        if kind not in CLIENT_KINDS:
            raise UnknownKind("unknown principal kind", expected=CLIENT_KINDS, actual=kind)
        scope = " ".join(sorted(set(scopes)))
        issued_at = int(time.time() if now is None else now)
        ttl = self.ttl_seconds if ttl_seconds is None else ttl_seconds
        token_id = str(uuid.uuid4())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "client_id": client_id,
            "azp": client_id,
            "kind": kind,
            "scope": scope,
            "iat": issued_at,
            "exp": issued_at + ttl,
            "jti": token_id,
        }
        token = jwt.encode(
            claims,
            self._private,
            algorithm=self.algorithm,
            headers={"typ": ACCESS_TOKEN_TYPE, "kid": self.key_id},
        )
        return IssuedToken(token, ttl, scope, token_id)

    def verify(self, token: str, now: float | None = None) -> Principal:
        header = unverified_header(token)
        if str(header.get("typ", "")).lower() not in (ACCESS_TOKEN_TYPE, "application/at+jwt"):
            raise WrongTokenType(
                "not an access token of this API",
                expected=ACCESS_TOKEN_TYPE,
                actual=header.get("typ"),
            )
        if header.get("kid") not in (None, self.key_id):
            raise BadSignature("signed by a key this API does not hold")
        claims = decode_jwt(
            token,
            [self.public_key],
            [self.algorithm],
            issuer=self.issuer,
            audience=self.audience,
            required=("iss", "aud", "sub", "exp", "iat", "jti", "kind", "client_id"),
            now=now,
        )
        kind = claims["kind"]
        if kind not in CLIENT_KINDS:
            raise UnknownKind("unknown principal kind", expected=CLIENT_KINDS, actual=kind)
        for name in ("sub", "client_id", "jti"):
            if not isinstance(claims[name], str) or not claims[name]:
                raise MalformedToken(f"the {name!r} claim is not a string")
        return Principal(
            kind=kind,
            subject=claims["sub"],
            client_id=claims["client_id"],
            # Never more than the kind may hold, whatever the token says.
            scopes=scopes_of(claims) & ALLOWED_SCOPES[kind],
            token_id=claims["jti"],
            expires_at=int(claims["exp"]),
        )


def load_token_seed(home: Path | None = None) -> bytes:
    """$EBOX_API_TOKEN_KEY (base64) or its *_FILE if set, else `api-token.key` in the data dir."""
    return load_secret(TOKEN_KEY_ENV, (home or data_dir()) / TOKEN_KEY_FILE)
