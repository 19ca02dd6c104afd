"""Tokens for every role, for any test that calls the API.

Typical use, with the `ledger` and `ledger_home` fixtures::

    with api_client(ledger, ledger_home) as http:
        token = sender_token(http, ledger, SENDER_KBO)          # via POST /oauth/token
        http.post(url, headers=bearer(token), ...)
        token = person_token_for(http, CITIZEN.id_value)        # portal
        token = person_token_for(http, nrn, partner="doccle")   # partner app, as the person
        token = auditor_token(http, ledger)

`sender_token`, `partner_client_token` and `auditor_token` register a client with
a fresh key (Ed25519 by default, RS256 with alg="RS256") and get its token
through the real token endpoint with a client assertion. `access_token` signs a
token directly with the app's key (no HTTP, any claims, any clock) for cases the
endpoint would never issue. `person_token` mints with the embedded OIDC issuer
of a data directory.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ebox.adapters.clients import ALLOWED_SCOPES, generate_key, register_client
from ebox.adapters.runtime import Ledger
from ebox.api.deps import auth_of, home_of
from ebox.api.errors import install_error_handlers
from ebox.api.oauth import ASSERTION_TYPE, GRANT_TYPE, make_client_assertion, token_endpoint
from ebox.api.oidc import mint_person_token
from ebox.api.request_id import install as install_request_id
from ebox.api.settings import Settings

TEST_PUBLIC_URL = "https://ebox.test"


def app_settings(**overrides: Any) -> Settings:
    """Settings of a test app: a fixed public URL, whatever the shell says."""
    values: dict[str, Any] = {"environment": "test", "public_url": TEST_PUBLIC_URL}
    values.update(overrides)
    return Settings(**values)


def bare_app(
    ledger: Ledger,
    home: Path,
    settings: Settings | None = None,
    routers: Iterable[Callable[[FastAPI], None]] = (),
) -> FastAPI:
    """An app wired like `create_app` but mounting only `routers` (each a `register`)."""
    settings = settings or app_settings()
    app = FastAPI()
    app.state.ledger = ledger
    app.state.settings = settings
    app.state.home = home
    install_error_handlers(app, settings.environment)
    install_request_id(app)
    for register in routers:
        register(app)
    return app


@contextmanager
def api_client(
    ledger: Ledger,
    home: Path,
    settings: Settings | None = None,
    *,
    routers: Iterable[Callable[[FastAPI], None]] | None = None,
) -> Iterator[TestClient]:
    """A TestClient on the real app (`create_app`), or on `bare_app` with only `routers`.

    The token keys live in `home` (the test's data directory).
    """
    if routers is None:
        from ebox.api.app import create_app

        app = create_app(ledger, settings or app_settings())
        app.state.home = home
    else:
        app = bare_app(ledger, home, settings, routers)
    with TestClient(app) as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _app(http: TestClient | FastAPI) -> FastAPI:
    app = http.app if isinstance(http, TestClient) else http
    assert isinstance(app, FastAPI)
    return app


def _settings(http: TestClient | FastAPI) -> Settings:
    return _app(http).state.settings  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- clients


@dataclass(frozen=True)
class ClientKey:
    """A registered client and its private key (test only: never log it)."""

    client_id: str
    kind: str
    subject: str
    algorithm: str
    kid: str
    private_pem: bytes = field(repr=False)


def register_test_client(
    ledger: Ledger,
    kind: str,
    subject: str,
    *,
    scopes: Iterable[str] | None = None,
    alg: str = "EdDSA",
) -> ClientKey:
    """Register a client with a new key pair. A sender's KBO must be a registered sender."""
    pair = generate_key(alg)
    client_id = register_client(
        ledger, kind, subject, scopes or ALLOWED_SCOPES[kind], pair.public_jwk
    )
    return ClientKey(client_id, kind, subject, alg, pair.public_jwk["kid"], pair.private_pem)


def assertion_for(
    http: TestClient | FastAPI,
    key: ClientKey,
    *,
    audience: str | None = None,
    ttl: int = 60,
    jti: str | None = None,
    now: float | None = None,
) -> str:
    audience = audience or token_endpoint(_settings(http))
    return make_client_assertion(
        key.private_pem, key.client_id, audience, ttl=ttl, jti=jti, now=now, kid=key.kid
    )


def request_token(http: TestClient, assertion: str, scope: str | None = None, **extra: str) -> Any:
    """POST /oauth/token with a client assertion; returns the httpx response."""
    form = {
        "grant_type": GRANT_TYPE,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        **extra,
    }
    if scope is not None:
        form["scope"] = scope
    return http.post("/oauth/token", data=form)


def client_token(http: TestClient, key: ClientKey, scope: str | None = None) -> str:
    response = request_token(http, assertion_for(http, key), scope)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def sender_token(http: TestClient, ledger: Ledger, kbo: str, *, alg: str = "EdDSA") -> str:
    """A sender client's token (scope ebox:publication) through POST /oauth/token."""
    return client_token(http, register_test_client(ledger, "sender", kbo, alg=alg))


def partner_client_token(http: TestClient, ledger: Ledger, partner_id: str) -> str:
    """A partner's own client-credentials token (it reads no eBox: see ebox.api.deps)."""
    return client_token(http, register_test_client(ledger, "partner", partner_id))


def auditor_token(http: TestClient, ledger: Ledger, name: str = "auditor") -> str:
    return client_token(http, register_test_client(ledger, "auditor", name))


def access_token(
    http: TestClient | FastAPI,
    kind: str,
    subject: str,
    scopes: Iterable[str] | None = None,
    *,
    client_id: str | None = None,
    ttl: int | None = None,
    now: float | None = None,
) -> str:
    """An access token signed by the app's key directly (no HTTP), any claims, any clock.

    Without `client_id`, a client of `kind` and `subject` is registered for it
    (a client's token is good only while its client is: see ebox.api.deps).
    """
    app = _app(http)
    tokens = auth_of(app).tokens
    if client_id is None:
        client_id = register_test_client(app.state.ledger, kind, subject).client_id
    return tokens.issue(
        kind=kind,
        subject=subject,
        client_id=client_id,
        scopes=ALLOWED_SCOPES[kind] if scopes is None else scopes,
        ttl_seconds=ttl,
        now=now,
    ).access_token


# --------------------------------------------------------------------------- persons


def person_token(
    home: Path,
    nrn: str,
    partner: str | None = None,
    *,
    settings: Settings | None = None,
    ttl: int = 3600,
    now: float | None = None,
) -> str:
    """A person token of the embedded issuer of `home` (azp = partner, or portal)."""
    return mint_person_token(home, nrn, partner, ttl, settings=settings or app_settings(), now=now)


def person_token_for(
    http: TestClient | FastAPI,
    nrn: str,
    partner: str | None = None,
    *,
    ttl: int = 3600,
    now: float | None = None,
) -> str:
    """A person token the app of `http` accepts (its data directory and public URL)."""
    app = _app(http)
    return person_token(home_of(app), nrn, partner, settings=_settings(app), ttl=ttl, now=now)


def expired(now: float | None = None) -> float:
    """A clock two hours back: tokens minted then have expired (beyond any leeway)."""
    return (time.time() if now is None else now) - 7200


def served_token(
    url: str,
    private_pem: bytes,
    client_id: str,
    *,
    kid: str | None = None,
    scope: str = "ebox:publication",
    timeout: float = 30,
) -> str:
    """A bearer token from a running server's own /oauth/token (real HTTP, private_key_jwt)."""
    assertion = make_client_assertion(private_pem, client_id, f"{url}/oauth/token", kid=kid)
    answer = httpx.post(
        f"{url}/oauth/token",
        data={
            "grant_type": GRANT_TYPE,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
            "scope": scope,
        },
        timeout=timeout,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])
