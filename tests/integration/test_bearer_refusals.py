"""How the API refuses a bearer token, over HTTP (the real app), on SQLite and PostgreSQL.

- Nothing of a token reaches an answer: a forged token whose ``iss`` or ``aud``
  holds characters outside Latin-1 is a 401, never a 500 (issue 7, finding 7).
- Every refused token gets the same text and challenge; the answer lists no
  trusted issuer; the log names the real reason with the request id, never the
  token (finding 12).
- A client's live token stops working the moment the client is disabled.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from ebox.adapters.clients import disable_client, generate_key, register_client
from ebox.adapters.runtime import Ledger
from ebox.api.deps import INVALID_TOKEN_MESSAGE, auth_of, bearer_challenge
from ebox.api.oidc import EmbeddedPersonIssuer, embedded_issuer
from tests.auth_helpers import (
    TEST_PUBLIC_URL,
    access_token,
    api_client,
    app_settings,
    bare_app,
    bearer,
    client_token,
    expired,
    person_token_for,
    register_test_client,
)
from tests.builders import SENDER_KBO

# Any authenticated principal may read the reference data: the simplest protected route.
PROTECTED = "/ebox/enterprise/v2/referenceData/senderOrganizations"
CITIZEN_EBOX = "/ebox/citizen/v2/ebox"
NRN = "85073100130"
NOT_LATIN_1 = ("https://éb\u0151x.test/\u20ac", "\u65e5\u672c", "\U0001f4ec", "a\u2028b")


@pytest.fixture
def http(ledger: Ledger, ledger_home: Path) -> Iterator[TestClient]:
    ledger.app.register_sender(SENDER_KBO, {"nl": "FOD Financiën"})
    with api_client(ledger, ledger_home) as client:
        yield client


def _forged(**claims: Any) -> str:
    """A token signed by a key nobody trusts, with any claims (built by hand: an attacker's)."""
    now = int(time.time())
    payload = {"sub": NRN, "aud": TEST_PUBLIC_URL, "iat": now, "exp": now + 600, **claims}
    header = {"alg": "EdDSA", "typ": "JWT"}
    signing_input = b".".join(_b64(json.dumps(part).encode()) for part in (header, payload))
    signature = Ed25519PrivateKey.generate().sign(signing_input)
    return (signing_input + b"." + _b64(signature)).decode()


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _refused(response: Any) -> None:
    """The one answer to a refused token."""
    assert response.status_code == 401, response.text
    body = response.json()
    assert (body["code"], body["message"]) == ("UNAUTHORIZED", INVALID_TOKEN_MESSAGE)
    assert response.headers["WWW-Authenticate"] == bearer_challenge("invalid_token")


# --------------------------------------------------------------------------- finding 7


@pytest.mark.parametrize("text", NOT_LATIN_1)
def test_a_forged_issuer_outside_latin_1_is_a_401(http: TestClient, text: str) -> None:
    for token in (_forged(iss=text), _forged(iss=[text]), _forged(iss=TEST_PUBLIC_URL, aud=text)):
        _refused(http.get(PROTECTED, headers=bearer(token)))


@pytest.mark.parametrize("text", NOT_LATIN_1)
def test_a_well_signed_token_for_another_audience_is_a_401(http: TestClient, text: str) -> None:
    """The trusted issuer signed it, for some other app: the audience is not echoed either."""
    home = http.app.state.home  # type: ignore[attr-defined]
    issuer = EmbeddedPersonIssuer.load(home, app_settings())
    token = issuer.mint(NRN, audience=text)
    _refused(http.get(CITIZEN_EBOX, headers=bearer(token)))


# --------------------------------------------------------------------------- finding 12


def test_every_refused_token_gets_the_same_answer(http: TestClient, ledger: Ledger) -> None:
    good = access_token(http, "sender", SENDER_KBO)
    tokens = {
        "expired client token": access_token(http, "sender", SENDER_KBO, now=expired()),
        "forged signature": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        "untrusted issuer": _forged(iss="https://idp.elsewhere.test"),
        "expired person token": person_token_for(http, NRN, now=expired()),
        "not a JWT": "abc.def.ghi",
    }
    answers = set()
    for why, token in tokens.items():
        response = http.get(PROTECTED, headers=bearer(token))
        _refused(response)
        body = response.json()
        answers.add((body["message"], response.headers["WWW-Authenticate"]))
        auth = auth_of(http.app)  # type: ignore[arg-type]
        for issuer in (auth.tokens.issuer, auth.persons.issuer, embedded_issuer(app_settings())):
            assert issuer not in response.text, why
            assert issuer not in response.headers["WWW-Authenticate"], why
    assert len(answers) == 1


def test_the_log_names_the_reason_and_the_request_id_not_the_token(
    http: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    token = access_token(http, "sender", SENDER_KBO, now=expired())
    request_id = f"gateway-{uuid.uuid4()}"
    response = http.get(PROTECTED, headers={**bearer(token), "X-Request-Id": request_id})
    _refused(response)
    assert response.headers["X-Request-Id"] == request_id
    refusals = [r for r in caplog.records if r.name == "ebox.api.auth"]
    assert len(refusals) == 1
    record = refusals[0]
    assert record.levelno == logging.WARNING
    assert record.request_id == request_id  # type: ignore[attr-defined]
    assert "expired" in record.getMessage() and request_id in record.getMessage()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert token not in logged and token.split(".")[-1] not in logged


def test_a_request_id_is_made_when_the_caller_sends_none_or_a_strange_one(
    http: TestClient,
) -> None:
    made = {http.get("/health").headers["X-Request-Id"] for _ in range(3)}
    assert len(made) == 3
    for strange in ("a b", "x" * 129, "id\u00e9".encode("latin-1"), b"a\x7fb", ""):
        answer = http.get("/health", headers={"X-Request-Id": strange})
        assert answer.headers["X-Request-Id"] not in (strange, "")
        assert answer.headers["X-Request-Id"].isalnum()


# --------------------------------------------------------------------------- live tokens


def test_disabling_a_client_refuses_its_live_token_at_once(
    http: TestClient, ledger: Ledger
) -> None:
    key = register_test_client(ledger, "sender", SENDER_KBO)
    token = client_token(http, key)
    assert http.get(PROTECTED, headers=bearer(token)).status_code == 200
    disable_client(ledger, key.client_id)
    _refused(http.get(PROTECTED, headers=bearer(token)))  # same token, well before its exp


def test_a_token_of_a_client_that_is_not_registered_is_refused(http: TestClient) -> None:
    token = access_token(http, "sender", SENDER_KBO, client_id="sender-never-registered")
    _refused(http.get(PROTECTED, headers=bearer(token)))


def test_a_token_must_name_its_client_as_registered(http: TestClient, ledger: Ledger) -> None:
    """A token naming a real client but another kind or subject is refused."""
    partner = register_client(ledger, "partner", "doccle", ["ebox:consultation"], _jwk())
    as_sender = access_token(http, "sender", SENDER_KBO, client_id=partner)
    _refused(http.get(PROTECTED, headers=bearer(as_sender)))
    as_other_partner = access_token(http, "partner", "zoomit", client_id=partner)
    _refused(http.get(PROTECTED, headers=bearer(as_other_partner)))
    as_partner = access_token(http, "partner", "doccle", client_id=partner)
    assert http.get(PROTECTED, headers=bearer(as_partner)).status_code == 200


def _jwk() -> dict[str, Any]:
    return generate_key().public_jwk


def test_an_unexpected_error_is_logged_with_the_request_id_and_without_its_text(
    ledger: Ledger, ledger_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 500's log line names the error's class, where it was raised, its frames, the request
    id and the answer's error id; its text may quote a failing row (PostgreSQL's DETAIL), so it
    never reaches the log. The answer carries X-Request-Id like every other."""

    def broken_route(app: Any) -> None:
        @app.get("/broken")
        def broken(nrn: str, subject: str) -> None:
            try:
                raise LookupError(f"Failing row contains ({nrn}, {subject})")
            except LookupError as error:
                raise RuntimeError(f"while projecting {nrn}") from error

    app = bare_app(ledger, ledger_home, routers=(broken_route,))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(
            "/broken",
            params={"nrn": "85073003328", "subject": "Aanslag 2026"},
            headers={"X-Request-Id": "req-500"},
        )
    assert response.status_code == 500
    assert response.headers["X-Request-Id"] == "req-500"  # a 500 too carries it
    assert "85073003328" not in response.text
    (record,) = [r for r in caplog.records if r.getMessage().startswith("unexpected error")]
    assert record.request_id == "req-500"  # type: ignore[attr-defined]
    # The id of the answer's StatusMessage names this line, which has the traceback.
    assert response.json()["id"] in record.getMessage()
    assert 'File "' in record.getMessage() and "in broken" in record.getMessage()
    assert "RuntimeError <- LookupError" in record.getMessage()
    assert "in broken" in record.getMessage()
    assert "85073003328" not in caplog.text
    assert "Aanslag" not in caplog.text
