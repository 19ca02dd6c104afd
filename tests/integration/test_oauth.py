"""POST /oauth/token over real HTTP (TestClient) on SQLite and PostgreSQL.

Client credentials with private_key_jwt assertions (RFC 7523), EdDSA and RS256,
and every way an assertion is refused. Also the other unauthenticated
endpoints: the token key's JWKS, the RFC 8414 metadata, and GET /health.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from ebox.adapters.clients import (
    ClientError,
    add_client_key,
    disable_client,
    generate_key,
    register_client,
    remember_assertion,
)
from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import oauth_clients, used_assertions
from ebox.api import health, oauth
from ebox.domain.errors import UnknownSender
from tests.auth_helpers import (
    TEST_PUBLIC_URL,
    ClientKey,
    api_client,
    app_settings,
    assertion_for,
    register_test_client,
    request_token,
)
from tests.builders import OTHER_KBO, SENDER_KBO

TOKEN_URL = f"{TEST_PUBLIC_URL}/oauth/token"


@pytest.fixture(autouse=True)
def _no_key_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EBOX_API_TOKEN_KEY", "EBOX_PERSON_ISSUER_KEY", "EBOX_OIDC_ISSUER"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def http(ledger: Ledger, ledger_home: Any) -> Iterator[TestClient]:
    ledger.app.register_sender(SENDER_KBO, {"nl": "FOD Financiën"})
    ledger.app.register_sender(OTHER_KBO, {"nl": "RSZ"})
    with api_client(ledger, ledger_home, routers=(oauth.register, health.register)) as client:
        yield client


@pytest.fixture
def sender(ledger: Ledger, http: TestClient) -> ClientKey:
    return register_test_client(ledger, "sender", SENDER_KBO)


def _refused(response: Any, status: int, error: str, says: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    assert says in body["error_description"], body
    assert response.headers["cache-control"] == "no-store"


INVALID_CLIENT = {"error": "invalid_client", "error_description": oauth.INVALID_CLIENT_DESCRIPTION}


def _client_refused(response: Any, caplog: pytest.LogCaptureFixture, reason: str) -> None:
    """The one invalid_client answer; the log line of this request names the real reason."""
    assert response.status_code == 401, response.text
    assert response.json() == INVALID_CLIENT
    assert response.headers["cache-control"] == "no-store"
    request_id = response.headers["x-request-id"]
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "ebox.api.oauth" and getattr(r, "request_id", None) == request_id
    ]
    assert len(lines) == 1, lines
    assert reason in lines[0] and request_id in lines[0], lines


# --------------------------------------------------------------------------- granted


@pytest.mark.parametrize("alg", ["EdDSA", "RS256"])
def test_a_sender_gets_a_token_with_a_signed_assertion(
    ledger: Ledger, http: TestClient, alg: str
) -> None:
    key = register_test_client(ledger, "sender", SENDER_KBO, alg=alg)
    response = request_token(http, assertion_for(http, key))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "ebox:publication"
    jwks = http.get("/oauth/jwks.json").json()
    public = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(
        body["access_token"], public, algorithms=["EdDSA"], audience=TEST_PUBLIC_URL
    )
    assert claims["iss"] == TEST_PUBLIC_URL
    assert claims["sub"] == SENDER_KBO
    assert claims["kind"] == "sender"
    assert claims["client_id"] == claims["azp"] == key.client_id
    assert claims["exp"] - claims["iat"] == 3600


def test_scopes_default_to_the_clients_and_may_be_named(ledger: Ledger, http: TestClient) -> None:
    auditor = register_test_client(ledger, "auditor", "court-of-audit")
    assert request_token(http, assertion_for(http, auditor)).json()["scope"] == "ebox:audit"
    named = request_token(http, assertion_for(http, auditor), scope="ebox:audit")
    assert named.json()["scope"] == "ebox:audit"
    partner = register_test_client(ledger, "partner", "doccle")
    body = request_token(http, assertion_for(http, partner), scope="ebox:consultation").json()
    assert body["scope"] == "ebox:consultation"


def test_a_rotated_key_signs_too(ledger: Ledger, http: TestClient, sender: ClientKey) -> None:
    new = generate_key("RS256")
    kid = add_client_key(ledger, sender.client_id, new.public_jwk)
    rotated = ClientKey(sender.client_id, "sender", SENDER_KBO, "RS256", kid, new.private_pem)
    assert request_token(http, assertion_for(http, rotated)).status_code == 200
    assert request_token(http, assertion_for(http, sender)).status_code == 200


def test_without_kid_each_key_of_the_type_is_tried(http: TestClient, sender: ClientKey) -> None:
    assertion = oauth.make_client_assertion(sender.private_pem, sender.client_id, TOKEN_URL)
    assert "kid" not in jwt.get_unverified_header(assertion)
    assert request_token(http, assertion).status_code == 200


# --------------------------------------------------------------------------- refused


def test_a_replayed_assertion_is_refused(
    http: TestClient, sender: ClientKey, caplog: pytest.LogCaptureFixture
) -> None:
    assertion = assertion_for(http, sender)
    assert request_token(http, assertion).status_code == 200
    _client_refused(request_token(http, assertion), caplog, "already used")
    # A new assertion reusing the jti is a replay too.
    jti = jwt.decode(assertion, options={"verify_signature": False})["jti"]
    _client_refused(request_token(http, assertion_for(http, sender, jti=jti)), caplog, "replayed")


def test_the_audience_must_be_the_token_endpoint(
    http: TestClient, sender: ClientKey, caplog: pytest.LogCaptureFixture
) -> None:
    for audience in (TEST_PUBLIC_URL, "https://evil.test/oauth/token", f"{TEST_PUBLIC_URL}/oauth"):
        response = request_token(http, assertion_for(http, sender, audience=audience))
        _client_refused(response, caplog, "wrong_audience")


def test_an_expired_assertion_is_refused(
    http: TestClient, sender: ClientKey, caplog: pytest.LogCaptureFixture
) -> None:
    old = time.time() - 600
    _client_refused(request_token(http, assertion_for(http, sender, now=old)), caplog, "expired")


def test_an_assertion_lives_five_minutes_at_most(
    http: TestClient, sender: ClientKey, caplog: pytest.LogCaptureFixture
) -> None:
    _client_refused(request_token(http, assertion_for(http, sender, ttl=3600)), caplog, "300 s")
    assert request_token(http, assertion_for(http, sender, ttl=300)).status_code == 200


def test_an_unknown_client_is_refused(http: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    pair = generate_key("EdDSA")
    stranger = ClientKey("sender-unknown", "sender", SENDER_KBO, "EdDSA", "k", pair.private_pem)
    _client_refused(request_token(http, assertion_for(http, stranger)), caplog, "unknown client")


@pytest.mark.parametrize("alg", ["EdDSA", "RS256"])
def test_a_forged_signature_is_refused(
    ledger: Ledger, http: TestClient, alg: str, caplog: pytest.LogCaptureFixture
) -> None:
    real = register_test_client(ledger, "sender", SENDER_KBO, alg=alg)
    forger = generate_key(alg)  # same client id and kid, another private key
    forged = ClientKey(real.client_id, "sender", SENDER_KBO, alg, real.kid, forger.private_pem)
    _client_refused(request_token(http, assertion_for(http, forged)), caplog, "bad_signature")


def test_an_algorithm_outside_eddsa_and_rs256_is_refused(
    http: TestClient, sender: ClientKey, caplog: pytest.LogCaptureFixture
) -> None:
    now = int(time.time())
    claims = {
        "iss": sender.client_id,
        "sub": sender.client_id,
        "aud": TOKEN_URL,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }
    for assertion in (
        jwt.encode(claims, "a shared secret of thirty-two bytes!", algorithm="HS256"),
        jwt.encode(claims, "", algorithm="none"),
    ):
        _client_refused(request_token(http, assertion), caplog, "neither EdDSA nor RS256")


def test_a_scope_the_client_may_not_hold_is_refused(http: TestClient, sender: ClientKey) -> None:
    for scope in ("ebox:consultation", "ebox:publication ebox:audit", "admin"):
        _refused(
            request_token(http, assertion_for(http, sender), scope=scope), 400, "invalid_scope"
        )


def test_a_disabled_client_is_refused(
    ledger: Ledger, http: TestClient, sender: ClientKey, caplog: pytest.LogCaptureFixture
) -> None:
    assert request_token(http, assertion_for(http, sender)).status_code == 200
    disable_client(ledger, sender.client_id)
    _client_refused(request_token(http, assertion_for(http, sender)), caplog, "disabled")


def test_iss_and_sub_must_both_name_the_client(
    http: TestClient, sender: ClientKey, caplog: pytest.LogCaptureFixture
) -> None:
    now = int(time.time())
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(sender.private_pem, None)
    claims = {
        "iss": sender.client_id,
        "sub": "someone-else",
        "aud": TOKEN_URL,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }
    assertion = jwt.encode(claims, key, algorithm="EdDSA")  # type: ignore[arg-type]
    _client_refused(request_token(http, assertion), caplog, "iss and sub")
    other = request_token(http, assertion_for(http, sender), client_id="another-client")
    _client_refused(other, caplog, "client_id differs")


def test_protocol_errors(
    http: TestClient, sender: ClientKey, caplog: pytest.LogCaptureFixture
) -> None:
    good = {
        "grant_type": "client_credentials",
        "client_assertion_type": oauth.ASSERTION_TYPE,
        "client_assertion": assertion_for(http, sender),
    }
    _refused(
        http.post("/oauth/token", data={**good, "grant_type": "password"}),
        400,
        "unsupported_grant_type",
    )
    _refused(
        http.post("/oauth/token", data={k: v for k, v in good.items() if k != "grant_type"}),
        400,
        "invalid_request",
    )
    _refused(http.post("/oauth/token", json=good), 400, "invalid_request", "form")
    _client_refused(
        http.post("/oauth/token", data={**good, "client_secret": "s3cret"}),
        caplog,
        "private_key_jwt",
    )
    _client_refused(
        http.post("/oauth/token", data={**good, "client_assertion_type": "x"}),
        caplog,
        "jwt-bearer",
    )
    _client_refused(
        http.post("/oauth/token", data={**good, "client_assertion": "not.a.jwt"}),
        caplog,
        "not a JWT",
    )
    repeated = "grant_type=client_credentials&grant_type=client_credentials"
    response = http.post(
        "/oauth/token",
        content=repeated,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _refused(response, 400, "invalid_request", "repeated")
    too_big = http.post("/oauth/token", data={**good, "pad": "x" * 20_000})
    _refused(too_big, 400, "invalid_request", "too large")


# ---------------------------------------------------------- no enumeration, every refusal logged


def test_unknown_disabled_and_forged_clients_get_the_same_answer(
    ledger: Ledger, http: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing in the answer tells which client ids exist, or are disabled (finding 12)."""
    caplog.set_level(logging.INFO)
    disabled = register_test_client(ledger, "sender", SENDER_KBO)
    disable_client(ledger, disabled.client_id)
    real = register_test_client(ledger, "sender", SENDER_KBO)
    forger = generate_key("EdDSA").private_pem
    attempts = {
        "unknown client": ClientKey("sender-nobody", "sender", SENDER_KBO, "EdDSA", "k", forger),
        "disabled": disabled,
        "bad_signature": ClientKey(real.client_id, "sender", SENDER_KBO, "EdDSA", real.kid, forger),
    }
    answers = set()
    for reason, key in attempts.items():
        assertion = assertion_for(http, key)
        response = request_token(http, assertion)
        _client_refused(response, caplog, reason)
        headers = {k: v for k, v in response.headers.items() if k not in ("x-request-id", "date")}
        answers.add((response.status_code, response.content, tuple(sorted(headers.items()))))
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert assertion not in logged and assertion.split(".")[-1] not in logged
    assert len(answers) == 1


def test_a_refusal_names_the_claimed_client_and_the_address_in_the_log(
    http: TestClient, sender: ClientKey, caplog: pytest.LogCaptureFixture
) -> None:
    response = request_token(http, assertion_for(http, sender, now=time.time() - 600))
    _client_refused(response, caplog, "expired")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "ebox.api.oauth"]
    assert sender.client_id in line and "address testclient" in line
    # A claimed id that is no client id (control characters, any length) is not copied.
    hostile = "x\n2026-01-01 forged log line " + "y" * 500
    refused = http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": oauth.ASSERTION_TYPE,
            "client_assertion": "not.a.jwt",
            "client_id": hostile,
        },
    )
    assert refused.json() == INVALID_CLIENT
    assert not any("forged log line" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- rate limits


def _limited_app(ledger: Ledger, home: Any, **limits: Any) -> Any:
    settings = app_settings(**limits)
    return api_client(ledger, home, settings, routers=(oauth.register,))


def _slowed_down(response: Any) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "slow_down"
    assert response.headers["cache-control"] == "no-store"
    retry_after = int(response.headers["retry-after"])
    assert retry_after >= 1
    return retry_after


def test_token_requests_are_limited_per_address(
    ledger: Ledger, ledger_home: Any, http: TestClient, sender: ClientKey
) -> None:
    with _limited_app(
        ledger, ledger_home, oauth_address_burst=3, oauth_address_per_minute=1
    ) as limited:
        answers = [request_token(limited, "not.a.jwt").status_code for _ in range(3)]
        assert answers == [401, 401, 401]
        retry_after = _slowed_down(request_token(limited, assertion_for(limited, sender)))
        assert retry_after <= 60  # one request a minute comes back within a minute
        # A flood of anything, even well-formed requests, is refused before any work.
        _slowed_down(limited.post("/oauth/token", data={"grant_type": "password"}))


def test_token_requests_are_limited_per_client(
    ledger: Ledger, ledger_home: Any, http: TestClient, sender: ClientKey
) -> None:
    other = register_test_client(ledger, "auditor", "court-of-audit")
    with _limited_app(
        ledger, ledger_home, oauth_client_burst=2, oauth_client_per_minute=1
    ) as limited:
        for _ in range(2):
            assert request_token(limited, assertion_for(limited, sender)).status_code == 200
        _slowed_down(request_token(limited, assertion_for(limited, sender)))
        # Another client from the same address has its own allowance.
        assert request_token(limited, assertion_for(limited, other)).status_code == 200


def test_no_one_but_the_client_spends_its_allowance(
    ledger: Ledger, ledger_home: Any, http: TestClient, sender: ClientKey
) -> None:
    """Forged or replayed assertions naming a client cannot lock the client out."""
    forger = generate_key("EdDSA").private_pem
    forged = ClientKey(sender.client_id, "sender", SENDER_KBO, "EdDSA", sender.kid, forger)
    with _limited_app(
        ledger, ledger_home, oauth_client_burst=1, oauth_client_per_minute=1
    ) as limited:
        for _ in range(5):
            assert request_token(limited, assertion_for(limited, forged)).status_code == 401
        replayed = assertion_for(limited, sender)
        assert request_token(limited, replayed).status_code == 200
        for _ in range(3):
            assert request_token(limited, replayed).status_code == 401  # replays: not 429
        _slowed_down(request_token(limited, assertion_for(limited, sender)))


# --------------------------------------------------------------------------- the registry


def test_clients_are_registered_within_their_kind(ledger: Ledger, http: TestClient) -> None:
    jwk = generate_key().public_jwk
    with pytest.raises(UnknownSender):
        register_test_client(ledger, "sender", "0207251386")  # valid KBO, no such sender
    for kind, subject, scopes in (
        ("sender", SENDER_KBO, ["ebox:audit"]),
        ("sender", "1234567890", ["ebox:publication"]),
        ("partner", "doccle", ["ebox:publication"]),
        ("auditor", "court", ["ebox:consultation"]),
        ("auditor", "court", []),
        ("admin", "operator", ["ebox:publication"]),
        ("sender", SENDER_KBO, ["ebox:admin"]),
        ("root", "x", ["ebox:audit"]),
        ("partner", "bad id!", ["ebox:consultation"]),
    ):
        with pytest.raises(ClientError):
            register_client(ledger, kind, subject, scopes, jwk)


def test_expired_assertion_ids_are_purged(ledger: Ledger, http: TestClient) -> None:
    now = int(time.time())
    assert remember_assertion(ledger, "c", "old", now - 10, now - 20)
    assert not remember_assertion(ledger, "c", "old", now - 10, now - 20)
    assert remember_assertion(ledger, "c", "new", now + 60, now)  # purges "old" on the way
    with ledger.db.read() as session:
        kept = session.execute(select(used_assertions.c.jti)).scalars().all()
    assert kept == ["new"]


def test_no_secret_reaches_the_database_or_the_log(
    ledger: Ledger, http: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keys = [register_test_client(ledger, "sender", SENDER_KBO, alg=a) for a in ("EdDSA", "RS256")]
    secrets: list[str] = []
    for key in keys:
        assertion = assertion_for(http, key)
        token = request_token(http, assertion).json()["access_token"]
        request_token(http, assertion)  # a refusal logs too
        secrets += [assertion, token, key.private_pem.decode()]
    with ledger.db.read() as session:
        rows = [dict(r._mapping) for r in session.execute(select(oauth_clients))]
    stored = json.dumps(rows, default=str)
    assert "PRIVATE" not in stored and '"d"' not in stored
    for key in keys:
        assert key.private_pem.decode().splitlines()[1] not in stored
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets:
        assert secret not in logged
        assert secret.split(".")[-1] not in logged  # not even a signature


# ------------------------------------------------------------ unauthenticated endpoints


def test_the_authorisation_server_metadata(http: TestClient) -> None:
    meta = http.get("/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == TEST_PUBLIC_URL
    assert meta["token_endpoint"] == TOKEN_URL
    assert meta["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert meta["token_endpoint_auth_signing_alg_values_supported"] == ["EdDSA", "RS256"]
    assert set(meta["scopes_supported"]) == {
        "ebox:publication",
        "ebox:consultation",
        "ebox:audit",
        "ebox:admin",
    }


def test_health_reports_the_database_migration_and_lags(http: TestClient) -> None:
    body = http.get("/health").json()
    assert body["status"] == "ok"
    assert body["database"]["reachable"] and body["database"]["current"]
    assert body["database"]["migration"] == body["database"]["expected"]
    assert body["lags"] == {}
    http.app.state.lag_reporters["inbox"] = lambda: 3  # type: ignore[attr-defined]
    assert http.get("/health").json()["lags"] == {"inbox": 3}

    def broken() -> int:
        raise RuntimeError("boom")

    http.app.state.lag_reporters["feed"] = broken  # type: ignore[attr-defined]
    response = http.get("/health")
    assert response.status_code == 503  # degraded answers 503 (issue 7, finding 1)
    assert response.json()["status"] == "degraded"
    assert response.json()["lags"] == {"feed": None, "inbox": 3}


def test_health_is_unavailable_without_the_database(
    ledger: Ledger, http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable() -> Any:
        raise OperationalError("SELECT 1", {}, Exception("password=hunter2 host=db"))

    monkeypatch.setattr(ledger.db, "read", unreachable)
    response = http.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "hunter2" not in response.text and "db" not in response.json()["database"].get(
        "error", ""
    )
