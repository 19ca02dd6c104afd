"""Person tokens: access tokens of citizens from an OpenID Connect provider.

People authenticate at an identity provider (in Belgium, the federal one behind
itsme / eID); this API only verifies the tokens it issues. Which provider is
trusted is configuration:

- ``EBOX_OIDC_ISSUER`` and ``EBOX_OIDC_JWKS_FILE``: the provider's issuer
  identifier and a file holding its JWKS (``{"keys": [...]}``, RSA, EC P-256 or
  Ed25519). The file is re-read when it changes, so keys rotate without a
  restart; fetching it from the provider's ``jwks_uri`` is the deployment's job.
- neither: the *embedded* issuer of the default setup, ``{public_url}/embedded-oidc``,
  whose Ed25519 key is ``$EBOX_PERSON_ISSUER_KEY`` (base64 seed) or the file
  ``person-issuer.key`` in the data directory (mode 0600, created on first use).
  `mint_person_token` and ``ebox token person NRN`` mint its tokens. Once a real
  provider is configured the embedded issuer is no longer trusted.

A person token must be an access token meant for this API: ``aud`` contains
``settings.public_url`` (ID tokens, whose audience is the app, are refused: a
token given to some other app cannot be replayed here). Claims read:

    iss, aud, exp (required), iat, nbf (checked when present)
    nrn or sub   the national register number (11 digits, valid check digits)
    azp          the app the person uses: absent or "portal" = the official
                 portal; anything else is a partner app's partner id
    scope / scp  must include "ebox:consultation" to read an eBox; a person
                 never holds more than that, whatever the token says
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ebox.adapters.clients import ALLOWED_SCOPES, CONSULTATION, jwk_thumbprint, public_jwk_of
from ebox.adapters.home import data_dir, load_secret
from ebox.api.settings import Settings
from ebox.api.tokens import (
    MalformedToken,
    Principal,
    WrongIssuer,
    decode_jwt,
    scopes_of,
    unverified_claims,
    unverified_header,
)
from ebox.domain.errors import InvalidIdentifier
from ebox.domain.ids import checked_national_register_number, is_national_register_number

PERSON_KEY_ENV = "EBOX_PERSON_ISSUER_KEY"
PERSON_KEY_FILE = "person-issuer.key"
EMBEDDED_ISSUER_PATH = "/embedded-oidc"
PORTAL = "portal"
PERSON_ALGORITHMS = ("EdDSA", "RS256", "PS256", "ES256")
_KEY_TYPE_OF_ALG = {"EdDSA": "OKP", "RS256": "RSA", "PS256": "RSA", "ES256": "EC"}
_APP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class OidcConfigurationError(RuntimeError):
    """The OIDC settings are incomplete or the JWKS file is unusable."""


def embedded_issuer(settings: Settings) -> str:
    return f"{settings.public_url}{EMBEDDED_ISSUER_PATH}"


def person_audience(settings: Settings) -> str:
    """The audience person tokens must carry: $EBOX_OIDC_AUDIENCE, else the public URL."""
    return settings.oidc_audience or settings.public_url


# --------------------------------------------------------------------------- embedded issuer


class EmbeddedPersonIssuer:
    """The default setup's stand-in for the identity provider (one Ed25519 key)."""

    algorithm = "EdDSA"

    def __init__(self, seed: bytes, issuer: str, audience: str) -> None:
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._private.public_key()
        jwk = public_jwk_of(self.public_key)
        self.key_id = jwk_thumbprint(jwk)
        self.public_jwk = {**jwk, "kid": self.key_id}
        self.issuer = issuer
        self.audience = audience

    def __repr__(self) -> str:
        return f"EmbeddedPersonIssuer(issuer={self.issuer!r}, kid={self.key_id!r})"

    @classmethod
    def load(cls, home: Path | None, settings: Settings) -> EmbeddedPersonIssuer:
        return cls(load_person_seed(home), embedded_issuer(settings), person_audience(settings))

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk]}

    def sign(self, claims: dict[str, Any]) -> str:
        """Any token of this issuer (the portal's ID tokens: ebox.api.portal.oidc_client)."""
        return jwt.encode(
            claims, self._private, algorithm=self.algorithm, headers={"kid": self.key_id}
        )

    def mint(
        self,
        nrn: str,
        partner_id: str | None = None,
        ttl: int = 3600,
        *,
        now: float | None = None,
        scopes: tuple[str, ...] = (CONSULTATION,),
        audience: str | None = None,
    ) -> str:
        try:
            nrn = checked_national_register_number(nrn)
        except InvalidIdentifier as refusal:
            raise ValueError(str(refusal)) from None
        if partner_id is not None and not _APP_ID.fullmatch(partner_id):
            raise ValueError("a partner id is 1 to 64 letters, digits, '.', '_' or '-'")
        issued_at = int(time.time() if now is None else now)
        claims = {
            "iss": self.issuer,
            "aud": audience or self.audience,
            "sub": nrn,
            "nrn": nrn,
            "azp": partner_id or PORTAL,
            "scope": " ".join(scopes),
            "iat": issued_at,
            "exp": issued_at + ttl,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(
            claims,
            self._private,
            algorithm=self.algorithm,
            headers={"kid": self.key_id, "typ": "JWT"},
        )


def load_person_seed(home: Path | None = None) -> bytes:
    """$EBOX_PERSON_ISSUER_KEY (base64) or its *_FILE if set, else the file in the data dir."""
    return load_secret(PERSON_KEY_ENV, (home or data_dir()) / PERSON_KEY_FILE)


def mint_person_token(
    home: Path | None,
    nrn: str,
    partner_id: str | None = None,
    ttl: int = 3600,
    *,
    settings: Settings | None = None,
    now: float | None = None,
) -> str:
    """A person token of the embedded issuer (azp = partner id, or "portal")."""
    issuer = EmbeddedPersonIssuer.load(home, settings or Settings.from_env())
    return issuer.mint(nrn, partner_id, ttl, now=now)


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class VerificationKey:
    kid: str | None
    kty: str
    key: Any


class JwksFile:
    """A provider's JWKS on disk, re-read whenever the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._keys: list[VerificationKey] = []

    def __call__(self) -> list[VerificationKey]:
        try:
            stat = self.path.stat()
        except OSError as error:
            raise OidcConfigurationError(f"cannot read the OIDC JWKS file {self.path}") from error
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._keys = parse_jwks(json.loads(self.path.read_text(encoding="utf-8")))
            self._stamp = stamp
        return self._keys


def parse_jwks(jwks: dict[str, Any]) -> list[VerificationKey]:
    """The usable public signing keys of a JWKS; private members are ignored by PyJWK."""
    keys = []
    for entry in jwks.get("keys", []):
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(entry).key
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
        keys.append(VerificationKey(entry.get("kid"), str(entry.get("kty")), key))
    if not keys:
        raise OidcConfigurationError("the OIDC JWKS holds no usable signing key")
    return keys


class PersonTokenVerifier:
    """Verifies person tokens of one issuer against its keys."""

    def __init__(
        self, issuer: str, audience: str, keys: Callable[[], list[VerificationKey]]
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._keys = keys

    def __repr__(self) -> str:
        return f"PersonTokenVerifier(issuer={self.issuer!r})"

    @classmethod
    def for_settings(cls, settings: Settings, home: Path | None = None) -> PersonTokenVerifier:
        audience = person_audience(settings)
        if settings.oidc_issuer:
            if not settings.oidc_jwks_file:
                raise OidcConfigurationError(
                    "EBOX_OIDC_ISSUER is set but EBOX_OIDC_JWKS_FILE is not"
                )
            return cls(settings.oidc_issuer, audience, JwksFile(Path(settings.oidc_jwks_file)))
        embedded = EmbeddedPersonIssuer.load(home, settings)
        fixed = [VerificationKey(embedded.key_id, "OKP", embedded.public_key)]
        return cls(embedded.issuer, audience, lambda: fixed)

    def verify(self, token: str, now: float | None = None) -> Principal:
        header = unverified_header(token)
        claimed = unverified_claims(token).get("iss")
        if claimed != self.issuer:  # say so plainly, before looking for a key of that issuer
            raise WrongIssuer("wrong issuer", expected=self.issuer, actual=claimed)
        alg = header.get("alg")
        kid = header.get("kid")
        candidates = [
            k.key
            for k in self._keys()
            if k.kty == _KEY_TYPE_OF_ALG.get(str(alg)) and (kid is None or k.kid in (None, kid))
        ]
        claims = decode_jwt(
            token,
            candidates,
            PERSON_ALGORITHMS,
            issuer=self.issuer,
            audience=self.audience,
            required=("iss", "aud", "sub", "exp"),
            now=now,
        )
        nrn = claims.get("nrn", claims.get("sub"))
        if not isinstance(nrn, str) or not nrn.isdigit() or not is_national_register_number(nrn):
            raise MalformedToken("the person token names no valid national register number")
        azp = claims.get("azp") or PORTAL
        if not isinstance(azp, str) or not _APP_ID.fullmatch(azp):
            raise MalformedToken("the azp claim is not an app id")
        jti = claims.get("jti")
        return Principal(
            kind="person",
            subject=nrn,
            client_id=azp,
            scopes=scopes_of(claims) & ALLOWED_SCOPES["person"],
            token_id=jti if isinstance(jti, str) else "",
            expires_at=int(claims["exp"]),
            partner_id=None if azp == PORTAL else azp,
        )
