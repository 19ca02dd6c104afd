"""Signing people in: OpenID Connect authorization code flow with PKCE (RFC 7636, S256).

Two identity providers behind one interface (`IdentityProvider`):

- `ConfiguredProvider`: the deployment's provider (``EBOX_PORTAL_OIDC_ISSUER``).
  Its discovery document (``/.well-known/openid-configuration``) names the
  authorization, token and JWKS endpoints; the portal authenticates at the token
  endpoint with ``client_secret_post`` or, given
  ``EBOX_PORTAL_OIDC_PRIVATE_KEY_FILE``, ``private_key_jwt`` (RFC 7523).
- `EmbeddedProvider`: the embedded issuer of the default setup. Its
  authorization endpoint is the development sign-in page
  (``/embedded-oidc/authorize``, ebox.api.portal.signin); its codes live in the
  database (`SqlSignInCodes`: any replica exchanges a code another issued) and
  are exchanged in-process (no HTTP hop to ourselves), with the same checks as
  a token endpoint: one use (a conditional delete, so a code replayed on another
  replica fails), 60 seconds, the PKCE verifier, the redirect URI.

Either way the callback receives an ID token and verifies it the same way
(`verified_nrn`): signature against the issuer's keys, ``iss``, ``aud`` = the
client id, ``exp``, the ``nonce`` of this sign-in, and a valid national
register number in ``nrn`` or ``sub``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Protocol

import jwt

from ebox.adapters.portal_sessions import IssuedCode, SignInCodes
from ebox.api.oidc import (
    PERSON_ALGORITHMS,
    EmbeddedPersonIssuer,
    VerificationKey,
    parse_jwks,
)
from ebox.api.settings import Settings
from ebox.api.tokens import MalformedToken, TokenError, decode_jwt
from ebox.domain.ids import is_national_register_number

EMBEDDED_CLIENT_ID = "portal"
CALLBACK_PATH = "/auth/callback"
CODE_TTL_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10


class SignInFailed(Exception):
    """The provider's answer does not sign anyone in (a fixed reason, never a token)."""


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, s256(verifier)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def callback_url(settings: Settings) -> str:
    return f"{settings.public_url}{CALLBACK_PATH}"


def authorization_query(
    client_id: str, redirect_uri: str, state: str, nonce: str, code_challenge: str
) -> str:
    """The authorization request of the code flow with PKCE (S256), the same for every provider."""
    return urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid",
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )


class IdentityProvider(Protocol):
    issuer: str
    client_id: str

    def authorization_url(self, state: str, nonce: str, code_challenge: str) -> str: ...

    def exchange(self, code: str, code_verifier: str) -> str:
        """The ID token for an authorization code."""
        ...

    def verification_keys(self) -> list[VerificationKey]: ...


def verified_nrn(provider: IdentityProvider, id_token: str, nonce: str) -> str:
    """The national register number an ID token of `provider` signs in, for this nonce."""
    try:
        claims = decode_jwt(
            id_token,
            [key.key for key in provider.verification_keys()],
            PERSON_ALGORITHMS,
            issuer=provider.issuer,
            audience=provider.client_id,
            required=("iss", "aud", "sub", "exp"),
        )
    except TokenError as error:
        raise SignInFailed(error.reason) from None
    if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
        raise SignInFailed("nonce")
    nrn = claims.get("nrn", claims.get("sub"))
    if not isinstance(nrn, str) or not nrn.isdigit() or not is_national_register_number(nrn):
        raise SignInFailed(MalformedToken("no national register number").reason)
    return nrn


# --------------------------------------------------------------------------- embedded


class MemorySignInCodes:
    """`SignInCodes` in this process's memory (a provider made without a database)."""

    def __init__(self) -> None:
        self._codes: dict[str, IssuedCode] = {}
        self._lock = threading.Lock()

    def issue(self, code: str, issued: IssuedCode, now: float) -> None:
        with self._lock:
            for key in [k for k, c in self._codes.items() if c.expires < now]:
                del self._codes[key]
            self._codes[code] = issued

    def take(self, code: str) -> IssuedCode | None:
        with self._lock:
            return self._codes.pop(code, None)


class EmbeddedProvider:
    """The embedded issuer as an OIDC provider of the portal (development only)."""

    client_id = EMBEDDED_CLIENT_ID

    def __init__(
        self,
        issuer: EmbeddedPersonIssuer,
        settings: Settings,
        codes: SignInCodes | None = None,
    ) -> None:
        self._issuer = issuer
        self.issuer = issuer.issuer
        self._callback = callback_url(settings)
        self._codes: SignInCodes = codes or MemorySignInCodes()

    def authorization_url(self, state: str, nonce: str, code_challenge: str) -> str:
        query = authorization_query(self.client_id, self._callback, state, nonce, code_challenge)
        return f"/embedded-oidc/authorize?{query}"

    def issue_code(self, nrn: str, code_challenge: str, nonce: str) -> str:
        """The person chose `nrn` on the development page: a one-time code for the callback."""
        code = secrets.token_urlsafe(32)
        now = time.time()
        self._codes.issue(code, IssuedCode(nrn, code_challenge, nonce, now + CODE_TTL_SECONDS), now)
        return code

    def exchange(self, code: str, code_verifier: str) -> str:
        issued = self._codes.take(code) if code else None  # one use, whatever happens next
        if issued is None or issued.expires < time.time():
            raise SignInFailed("unknown or expired code")
        if not secrets.compare_digest(s256(code_verifier), issued.code_challenge):
            raise SignInFailed("PKCE verifier")
        now = int(time.time())
        return self._issuer.sign(
            {
                "iss": self.issuer,
                "aud": self.client_id,
                "sub": issued.nrn,
                "nrn": issued.nrn,
                "nonce": issued.nonce,
                "iat": now,
                "exp": now + 300,
                "jti": str(uuid.uuid4()),
            }
        )

    def verification_keys(self) -> list[VerificationKey]:
        return [VerificationKey(self._issuer.key_id, "OKP", self._issuer.public_key)]


# --------------------------------------------------------------------------- configured


def _get_json(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as answer:
        value = json.loads(answer.read())
    if not isinstance(value, dict):
        raise SignInFailed("not a JSON object")
    return value


class ConfiguredProvider:
    """The deployment's identity provider, read from its discovery document."""

    def __init__(self, settings: Settings) -> None:
        if not settings.portal_oidc_issuer or not settings.portal_oidc_client_id:
            raise ValueError("EBOX_PORTAL_OIDC_ISSUER needs EBOX_PORTAL_OIDC_CLIENT_ID")
        self.issuer = settings.portal_oidc_issuer.rstrip("/")
        self.client_id = settings.portal_oidc_client_id
        self._secret = settings.portal_client_secret
        self._key_file: Path | None = settings.portal_oidc_private_key_file
        self._callback = callback_url(settings)
        self._discovery: dict[str, Any] | None = None
        self._keys: list[VerificationKey] = []

    def discovery(self) -> dict[str, Any]:
        if self._discovery is None:
            document = _get_json(f"{self.issuer}/.well-known/openid-configuration")
            if str(document.get("issuer", "")).rstrip("/") != self.issuer:
                raise SignInFailed("the discovery document names another issuer")
            self._discovery = document
        return self._discovery

    def authorization_url(self, state: str, nonce: str, code_challenge: str) -> str:
        query = authorization_query(self.client_id, self._callback, state, nonce, code_challenge)
        return f"{self.discovery()['authorization_endpoint']}?{query}"

    def exchange(self, code: str, code_verifier: str) -> str:
        endpoint = str(self.discovery()["token_endpoint"])
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._callback,
            "client_id": self.client_id,
            "code_verifier": code_verifier,
            **self._client_authentication(endpoint),
        }
        request = urllib.request.Request(
            endpoint,
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as answer:
                tokens = json.loads(answer.read())
        except OSError:
            raise SignInFailed("token endpoint unreachable or refused") from None
        id_token = tokens.get("id_token") if isinstance(tokens, dict) else None
        if not isinstance(id_token, str):
            raise SignInFailed("no id_token")
        return id_token

    def _client_authentication(self, endpoint: str) -> dict[str, str]:
        if self._key_file is not None:
            now = int(time.time())
            assertion = jwt.encode(
                {
                    "iss": self.client_id,
                    "sub": self.client_id,
                    "aud": endpoint,
                    "iat": now,
                    "exp": now + 60,
                    "jti": str(uuid.uuid4()),
                },
                self._key_file.read_bytes(),
                algorithm="RS256",
            )
            return {
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
            }
        if self._secret:
            return {"client_secret": self._secret}
        return {}

    def verification_keys(self) -> list[VerificationKey]:
        if not self._keys:
            self._keys = parse_jwks(_get_json(str(self.discovery()["jwks_uri"])))
        return self._keys
