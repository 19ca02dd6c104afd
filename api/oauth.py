"""OAuth2 token endpoint: client credentials with private_key_jwt (RFC 6749, RFC 7523).

``POST /oauth/token`` (``application/x-www-form-urlencoded``), as the real eBox
does it::

    grant_type=client_credentials
    client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
    client_assertion=<JWT signed with the client's private key, EdDSA or RS256>
    scope=<space separated, optional: default all the client may hold>

The assertion: ``iss`` = ``sub`` = client_id, ``aud`` = ``{public_url}/oauth/token``,
``exp`` at most 5 minutes ahead, ``jti`` unique (a replay is refused, across
replicas: see ebox.adapters.clients), ``kid`` optional (else each of the
client's keys of the algorithm's type is tried): see ebox.api.client_assertion.
Answers RFC 6749 §5.1 JSON
(``access_token``, ``token_type``, ``expires_in``, ``scope``) with
``Cache-Control: no-store``; errors are RFC 6749 §5.2 JSON
``{"error", "error_description"}``: ``invalid_client`` (401), ``invalid_scope``,
``invalid_request``, ``unsupported_grant_type`` (400), ``slow_down`` (429). This
endpoint speaks OAuth, not the eBox contract, so its errors are OAuth's, not
StatusMessages.

Every failed client authentication (unknown client, disabled client, bad
signature, wrong audience, expired, replayed, malformed assertion) answers the
same ``invalid_client`` body, so the endpoint cannot be used to learn which
client ids exist or are disabled; an unknown client's assertion is checked
against a decoy key and a disabled client's only after its signature, so the
work done does not tell them apart either. The real reason is logged (a
WARNING per refused request, with the claimed client id, the peer address and
the request id of ebox.api.request_id; never the assertion) and the caller can
quote the ``X-Request-Id`` of its answer to the operator.

Floods are limited per process (ebox.api.rate_limit): every request spends a
token of its peer address's bucket, and a request whose assertion verifies
spends one of its client's (after the jti is recorded, so a replayed or
forged assertion cannot drain a real client's allowance). An empty bucket
answers 429 ``slow_down`` with ``Retry-After``. Behind a reverse proxy the peer
address is the proxy's unless uvicorn is told to trust its forwarded headers
(``--proxy-headers --forwarded-allow-ips``).

Also ``GET /oauth/jwks.json`` (the public key of the access tokens) and
``GET /.well-known/oauth-authorization-server`` (RFC 8414 metadata).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ebox.adapters.clients import ALLOWED_SCOPES, OAuthClient, remember_assertion
from ebox.adapters.runtime import Ledger
from ebox.api.client_assertion import (
    ASSERTION_ALGORITHMS,
    ASSERTION_TYPE,
    ClientAuthenticationFailed,
    make_client_assertion,
    verify_assertion,
)
from ebox.api.deps import SCOPES, auth_of
from ebox.api.rate_limit import RateLimit, RateLimited, RateLimiter
from ebox.api.request_id import current_request_id
from ebox.api.settings import Settings
from ebox.api.tokens import MalformedToken, unverified_claims

log = logging.getLogger("ebox.api.oauth")

TOKEN_PATH = "/oauth/token"
JWKS_PATH = "/oauth/jwks.json"
GRANT_TYPE = "client_credentials"
MAX_BODY_BYTES = 16 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def token_endpoint(settings: Settings) -> str:
    return f"{settings.public_url}{TOKEN_PATH}"


# The one text of every failed client authentication: the reason goes to the log only.
INVALID_CLIENT_DESCRIPTION = "client authentication failed"
_LOGGABLE_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class OAuthError(Exception):
    """An RFC 6749 §5.2 error answer; `reason` is what the log says (the description if none)."""

    def __init__(
        self,
        error: str,
        description: str,
        status: int = 400,
        *,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.reason = reason or description
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, self.status, headers={**NO_STORE, **self.headers})


def _invalid_client(reason: str) -> OAuthError:
    """invalid_client with the one public text, whatever the reason (logged, never answered)."""
    return OAuthError("invalid_client", INVALID_CLIENT_DESCRIPTION, 401, reason=reason)


def _slow_down(limited: RateLimited) -> OAuthError:
    return OAuthError(
        "slow_down",
        f"too many token requests: retry after {limited.retry_after} s",
        429,
        reason=str(limited),
        headers={"Retry-After": str(limited.retry_after)},
    )


_TOKEN_SCHEMA = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in", "scope"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "expires_in": {"type": "integer"},
        "scope": {"type": "string"},
    },
}


def _oauth_error(description: str) -> dict[str, Any]:
    """An RFC 6749 §5.2 error answer, for the OpenAPI description."""
    schema = {
        "type": "object",
        "required": ["error", "error_description"],
        "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
    }
    return {"description": description, "content": {"application/json": {"schema": schema}}}


@dataclass(frozen=True)
class Grant:
    client: OAuthClient
    scopes: frozenset[str]


@dataclass(frozen=True)
class TokenRequestLimits:
    """The token endpoint's buckets: per peer address and per authenticated client."""

    per_address: RateLimiter
    per_client: RateLimiter

    @classmethod
    def for_settings(cls, settings: Settings) -> TokenRequestLimits:
        return cls(
            RateLimiter(
                RateLimit(settings.oauth_address_burst, settings.oauth_address_per_minute),
                "address",
            ),
            RateLimiter(
                RateLimit(settings.oauth_client_burst, settings.oauth_client_per_minute),
                "client",
            ),
        )


def limits_of(app: FastAPI) -> TokenRequestLimits:
    limits: TokenRequestLimits = app.state.oauth_limits
    return limits


router = APIRouter()


@router.post(
    TOKEN_PATH,
    tags=["OAuth2"],
    summary="Client credentials grant with a private_key_jwt client assertion (RFC 7523).",
    responses={
        200: {
            "description": "RFC 6749 §5.1: the access token.",
            "content": {"application/json": {"schema": _TOKEN_SCHEMA}},
        },
        400: _oauth_error("invalid_request, unsupported_grant_type or invalid_scope."),
        401: _oauth_error(
            f"invalid_client, always with the text {INVALID_CLIENT_DESCRIPTION!r}: the "
            "reason is in the server's log under the answer's X-Request-Id."
        ),
        429: {
            **_oauth_error("slow_down: too many requests from this address or client."),
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait.",
                    "schema": {"type": "integer", "minimum": 1},
                }
            },
        },
    },
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
    address = request.client.host if request.client else "-"
    claimed = "-"
    limits = limits_of(request.app)
    try:
        try:
            limits.per_address.spend(address)
            form = await _form(request)
            claimed = _claimed_client_id(form)
            ledger: Ledger = request.app.state.ledger
            settings: Settings = request.app.state.settings
            tokens = auth_of(request.app).tokens
            grant = await run_in_threadpool(
                authenticate, ledger, settings, form, client_limit=limits.per_client
            )
        except RateLimited as limited:
            raise _slow_down(limited) from None
    except OAuthError as error:
        # Every refusal, with its real reason; never the assertion or any other secret.
        log.warning(
            "token request refused: %s (%s); claimed client %s, address %s, request %s",
            error.error,
            error.reason,
            claimed,
            address,
            current_request_id() or "-",
        )
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


@router.get(JWKS_PATH, tags=["OAuth2"], summary="The public key that signs the access tokens.")
def jwks(request: Request) -> dict[str, Any]:
    return auth_of(request.app).tokens.jwks()


@router.get(
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


def register(app: FastAPI) -> None:
    app.include_router(router)

    app.state.oauth_limits = TokenRequestLimits.for_settings(app.state.settings)


def _claimed_client_id(form: dict[str, str]) -> str:
    """The client id a request claims, for the log only: "-" unless it looks like one."""
    claimed: Any = form.get("client_id")
    if claimed is None and form.get("client_assertion"):
        try:
            claimed = unverified_claims(form["client_assertion"]).get("iss")
        except MalformedToken:
            claimed = None
    if isinstance(claimed, str) and _LOGGABLE_CLIENT_ID.fullmatch(claimed):
        return claimed
    return "-"


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
    ledger: Ledger,
    settings: Settings,
    form: dict[str, str],
    now: float | None = None,
    *,
    client_limit: RateLimiter | None = None,
) -> Grant:
    """Check the grant and the client assertion, remember its jti, settle the scopes.

    `client_limit` is spent only once the client has proven itself (signature
    verified, jti new): no one else can use up a client's allowance.
    """
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type != GRANT_TYPE:
        raise OAuthError("unsupported_grant_type", f"only {GRANT_TYPE} is supported")
    if "client_secret" in form:
        raise _invalid_client("a client secret was sent: only private_key_jwt is accepted")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise _invalid_client("client_assertion_type is not the jwt-bearer type")
    assertion = form.get("client_assertion")
    if not assertion:
        raise _invalid_client("client_assertion is missing")
    now = time.time() if now is None else now
    audience = token_endpoint(settings)
    try:
        client, claims = verify_assertion(ledger, audience, assertion, form.get("client_id"), now)
    except ClientAuthenticationFailed as failed:
        raise _invalid_client(failed.reason) from None
    if not remember_assertion(
        ledger, client.client_id, claims["jti"], int(claims["exp"]), int(now)
    ):
        raise _invalid_client("the client assertion was already used (jti replayed)")
    if client_limit is not None:
        client_limit.spend(client.client_id)
    return Grant(client, _granted_scopes(client, form.get("scope")))


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


__all__ = [
    "ASSERTION_ALGORITHMS",
    "ASSERTION_TYPE",
    "authenticate",
    "make_client_assertion",
    "register",
    "token_endpoint",
]
