"""OAuth2 token endpoint: client credentials with private_key_jwt (RFC 6749, RFC 7523).

``POST /oauth/token`` (``application/x-www-form-urlencoded``), as the real eBox
does it::

    grant_type=client_credentials
    client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
    client_assertion=<JWT signed with the client's private key, EdDSA or RS256>
    scope=<space separated, optional: default all the client may hold>

The assertion: ``iss`` = ``sub`` = client_id, ``aud`` = ``{public_url}/oauth/token``,
``exp`` at most 5 minutes ahead, ``jti`` unique (a replay is refused, across
replicas: see ebox.projections.clients), ``kid`` optional (else each of the
client's keys of the algorithm's type is tried). Answers RFC 6749 §5.1 JSON
(``access_token``, ``token_type``, ``expires_in``, ``scope``) with
``Cache-Control: no-store``; errors are RFC 6749 §5.2 JSON
``{"error", "error_description"}``: ``invalid_client`` (401: unknown, disabled,
bad signature, wrong audience, expired, replayed), ``invalid_scope``,
``invalid_request``, ``unsupported_grant_type`` (400). This endpoint speaks
OAuth, not the eBox contract, so its errors are OAuth's, not StatusMessages.

Also ``GET /oauth/jwks.json`` (the public key of the access tokens) and
``GET /.well-known/oauth-authorization-server`` (RFC 8414 metadata).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ebox.api.deps import SCOPES, auth_of
from ebox.api.settings import Settings
from ebox.api.tokens import (
    LEEWAY_SECONDS,
    MalformedToken,
    TokenError,
    TokenExpired,
    WrongAudience,
    decode_jwt,
    unverified_claims,
    unverified_header,
)
from ebox.projections.clients import (
    ALLOWED_SCOPES,
    MAX_JTI_LENGTH,
    OAuthClient,
    UnknownClient,
    get_client,
    remember_assertion,
)
from ebox.projections.runtime import Ledger

log = logging.getLogger("ebox.api.oauth")

TOKEN_PATH = "/oauth/token"
JWKS_PATH = "/oauth/jwks.json"
GRANT_TYPE = "client_credentials"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ("EdDSA", "RS256")
_KEY_TYPE_OF_ALG = {"EdDSA": "OKP", "RS256": "RSA"}
MAX_ASSERTION_LIFETIME = 300  # seconds between now and the assertion's exp
MAX_BODY_BYTES = 16 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def token_endpoint(settings: Settings) -> str:
    return f"{settings.public_url}{TOKEN_PATH}"


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> JSONResponse:
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, self.status, headers=NO_STORE)


def _invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, 401)


@dataclass(frozen=True)
class Grant:
    client: OAuthClient
    scopes: frozenset[str]


def register(app: FastAPI) -> None:
    @app.post(
        TOKEN_PATH,
        tags=["OAuth2"],
        summary="Client credentials grant with a private_key_jwt client assertion (RFC 7523).",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "required": ["grant_type", "client_assertion_type", "client_assertion"],
                            "properties": {
                                "grant_type": {"type": "string", "enum": [GRANT_TYPE]},
                                "client_assertion_type": {
                                    "type": "string",
                                    "enum": [ASSERTION_TYPE],
                                },
                                "client_assertion": {"type": "string"},
                                "scope": {"type": "string", "description": " ".join(SCOPES)},
                                "client_id": {"type": "string"},
                            },
                        }
                    }
                },
            }
        },
    )
    async def token(request: Request) -> JSONResponse:
        try:
            form = await _form(request)
            ledger: Ledger = request.app.state.ledger
            settings: Settings = request.app.state.settings
            tokens = auth_of(request.app).tokens
            grant = await run_in_threadpool(authenticate, ledger, settings, form)
        except OAuthError as error:
            log.info("token request refused: %s", error.error)
            return error.response()
        issued = tokens.issue(
            kind=grant.client.kind,
            subject=grant.client.subject,
            client_id=grant.client.client_id,
            scopes=grant.scopes,
        )
        body = {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": issued.scope,
        }
        return JSONResponse(body, 200, headers=NO_STORE)

    @app.get(JWKS_PATH, tags=["OAuth2"], summary="The public key that signs the access tokens.")
    def jwks(request: Request) -> dict[str, Any]:
        return auth_of(request.app).tokens.jwks()

    @app.get(
        "/.well-known/oauth-authorization-server",
        tags=["OAuth2"],
        summary="Authorisation server metadata (RFC 8414).",
    )
    def metadata(request: Request) -> dict[str, Any]:
        settings: Settings = request.app.state.settings
        return {
            "issuer": settings.public_url,
            "token_endpoint": token_endpoint(settings),
            "jwks_uri": f"{settings.public_url}{JWKS_PATH}",
            "grant_types_supported": [GRANT_TYPE],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
            "scopes_supported": sorted(SCOPES),
        }


async def _form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise OAuthError("invalid_request", "the request body is too large")
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "the body is not a valid form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # RFC 6749 §3.2: parameters must not be repeated
            raise OAuthError("invalid_request", f"the parameter {name} is repeated")
        form[name] = value
    return form


def authenticate(
    ledger: Ledger, settings: Settings, form: dict[str, str], now: float | None = None
) -> Grant:
    """Check the grant and the client assertion, remember its jti, settle the scopes."""
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type != GRANT_TYPE:
        raise OAuthError("unsupported_grant_type", f"only {GRANT_TYPE} is supported")
    if "client_secret" in form:
        raise _invalid_client("client secrets are not accepted: authenticate with private_key_jwt")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise _invalid_client(f"client_assertion_type must be {ASSERTION_TYPE}")
    assertion = form.get("client_assertion")
    if not assertion:
        raise _invalid_client("client_assertion is required")
    now = time.time() if now is None else now
    client, claims = verify_assertion(ledger, settings, assertion, form.get("client_id"), now)
    if not remember_assertion(
        ledger, client.client_id, claims["jti"], int(claims["exp"]), int(now)
    ):
        raise _invalid_client("this client assertion was already used (jti replayed)")
    return Grant(client, _granted_scopes(client, form.get("scope")))


def verify_assertion(
    ledger: Ledger, settings: Settings, assertion: str, client_id: str | None, now: float
) -> tuple[OAuthClient, dict[str, Any]]:
    try:
        header = unverified_header(assertion)
        unverified = unverified_claims(assertion)
    except MalformedToken:
        raise _invalid_client("client_assertion is not a JWT") from None
    alg = header.get("alg")
    if alg not in ASSERTION_ALGORITHMS:
        raise _invalid_client(
            f"the assertion must be signed with {' or '.join(ASSERTION_ALGORITHMS)}"
        )
    issuer = unverified.get("iss")
    if not isinstance(issuer, str) or not issuer or unverified.get("sub") != issuer:
        raise _invalid_client("the assertion's iss and sub must both be the client_id")
    if client_id is not None and client_id != issuer:
        raise _invalid_client("client_id differs from the assertion's issuer")
    try:
        client = get_client(ledger, issuer)
    except UnknownClient:
        raise _invalid_client("unknown client") from None
    if client.disabled:
        raise _invalid_client("this client is disabled")
    kid = header.get("kid")
    keys = [
        jwt.PyJWK(jwk).key
        for jwk in client.keys
        if jwk["kty"] == _KEY_TYPE_OF_ALG[alg] and (kid is None or jwk["kid"] == kid)
    ]
    if not keys:
        raise _invalid_client("no key of this client matches the assertion's alg and kid")
    try:
        claims = decode_jwt(
            assertion,
            keys,
            [alg],
            issuer=client.client_id,
            audience=token_endpoint(settings),
            required=("iss", "sub", "aud", "exp", "jti"),
            now=now,
        )
    except TokenExpired:
        raise _invalid_client("the client assertion has expired") from None
    except WrongAudience:
        raise _invalid_client(f"the assertion's aud must be {token_endpoint(settings)}") from None
    except TokenError as error:
        raise _invalid_client(f"the client assertion is invalid: {error.message}") from None
    if (
        not isinstance(claims["exp"], int | float)
        or claims["exp"] > now + MAX_ASSERTION_LIFETIME + LEEWAY_SECONDS
    ):
        raise _invalid_client(
            f"the assertion's exp must be at most {MAX_ASSERTION_LIFETIME} s ahead"
        )
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise _invalid_client(
            f"the assertion's jti must be a string of 1 to {MAX_JTI_LENGTH} characters"
        )
    return client, claims


def _granted_scopes(client: OAuthClient, requested: str | None) -> frozenset[str]:
    allowed = client.scopes & ALLOWED_SCOPES[client.kind]
    if requested is None or not requested.strip():
        return allowed
    wanted = frozenset(requested.split())
    if not wanted <= allowed:
        raise OAuthError(
            "invalid_scope", f"this client may not hold {' '.join(sorted(wanted - allowed))}"
        )
    return wanted


# --------------------------------------------------------------------------- client side


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


__all__ = ["authenticate", "make_client_assertion", "register", "token_endpoint"]
