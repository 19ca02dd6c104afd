"""Who may do what: every role against every rule, over HTTP, on SQLite and PostgreSQL.

A tiny app mounts test routes that do nothing but call the authorisation
dependencies of ebox.api.deps, exactly as the contract routes do:

    GET  /t/ebox/{ebox_type}   mailbox_access (X-Ebox-Id selects a mandated eBox)
    POST /t/publish/{kbo}      sender_kbo: publish as this KBO
    GET  /t/status/{kbo}       require_sender_of: the status of a letter of this KBO
    GET  /t/audit              require_scope(ebox:audit)

The matrix is data: ROLES says how to get each role's token, CASES lists
(role, request, expected status, expected body). To cover a real route, add a
row with its method and path (the world's mailboxes and clients stay the same).
One world is built per database and shared by the module's cases; the tests
that change consents or mandates work on a mailbox no row reads.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ebox.adapters.runtime import Ledger, open_ledger
from ebox.api import ebox_routes, feed, oauth, reference
from ebox.api.deps import (
    AUDIT,
    CurrentPrincipal,
    EboxIdHeader,
    LedgerDep,
    auth_of,
    mailbox_access,
    require_scope,
    require_sender_of,
    sender_kbo,
)
from ebox.api.oidc import EmbeddedPersonIssuer
from ebox.api.tokens import TokenService
from tests import pg
from tests.auth_helpers import (
    access_token,
    app_settings,
    assertion_for,
    bare_app,
    bearer,
    client_token,
    expired,
    person_token_for,
    register_test_client,
)
from tests.builders import OTHER_KBO, SENDER_KBO


def nrn(first_nine: str) -> str:
    """A national register number with valid check digits (born before 2000)."""
    return first_nine + f"{97 - int(first_nine) % 97:02d}"


ALICE = nrn("850731001")  # own eBox; consent for doccle
BOB = nrn("720215123")  # mandates for ENTERPRISE and for CAROL's eBox
CAROL = nrn("640101456")  # consent for doccle granted, then revoked
DAVE = nrn("900606789")  # has no eBox
ERIN = nrn("991231222")  # changed by the revocation tests only
ENTERPRISE = "0207251386"  # enterprise eBox; consent for zoomit; mandate for BOB
SENDER_A, SENDER_B = SENDER_KBO, OTHER_KBO


# --------------------------------------------------------------------------- the test app


def _routes(app: FastAPI) -> None:
    @app.get("/t/ebox/{ebox_type}")
    def read_ebox(
        ebox_type: str, principal: CurrentPrincipal, ledger: LedgerDep, ebox_id: EboxIdHeader = None
    ) -> dict[str, str]:
        access = mailbox_access(principal, ebox_type, ledger, ebox_id)
        return {"address": access.address, "reader": access.reader, "channel": access.channel}

    @app.post("/t/publish/{kbo}")
    def publish(kbo: str, principal: CurrentPrincipal) -> dict[str, str]:
        return {"sender": sender_kbo(principal, kbo)}

    @app.get("/t/status/{kbo}")
    def status(kbo: str, principal: CurrentPrincipal) -> dict[str, str]:
        require_sender_of(principal, kbo)  # a letter sent by `kbo`
        return {"sender": kbo}

    @app.get("/t/audit")
    def audit(principal: CurrentPrincipal) -> dict[str, str]:
        require_scope(principal, AUDIT)
        return {"auditor": principal.subject}


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    ledger: Ledger
    http: TestClient
    home: Path
    tokens: dict[str, str | None] = field(default_factory=dict)

    def token(self, role: str) -> str | None:
        if role not in self.tokens:
            self.tokens[role] = ROLES[role](self)
        return self.tokens[role]


def _populate(ledger: Ledger) -> None:
    app = ledger.app
    app.register_sender(SENDER_A, {"nl": "FOD Financiën"})
    app.register_sender(SENDER_B, {"nl": "RSZ"})
    for person in (ALICE, BOB, CAROL, ERIN):
        app.open_mailbox("citizen", person)
    app.open_mailbox("enterprise", ENTERPRISE)
    app.grant_partner_consent("citizen", ALICE, "doccle")
    app.grant_partner_consent("citizen", CAROL, "doccle")
    app.revoke_partner_consent("citizen", CAROL, "doccle")
    app.grant_partner_consent("enterprise", ENTERPRISE, "zoomit")
    app.grant_mandate("enterprise", ENTERPRISE, f"citizen:{BOB}")
    app.grant_mandate("citizen", CAROL, f"citizen:{BOB}")


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ],
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One database per backend for the whole matrix (built once: the cases only read)."""
    base = tmp_path_factory.mktemp(f"matrix-{request.param}")
    home = base / "home"
    dropped: Callable[[], None] = lambda: None  # noqa: E731
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, base / "ebox.sqlite")
        url = f"sqlite:///{base / 'ebox.sqlite'}"
    else:
        databases: pg.DatabaseFactory = request.getfixturevalue("postgres_databases")
        name = databases.new_name("matrix")
        url = databases.create(name, template=request.getfixturevalue("postgres_template"))
        dropped = lambda: databases.drop(name)  # noqa: E731
    with pytest.MonkeyPatch.context() as env:
        for variable in ("EBOX_API_TOKEN_KEY", "EBOX_PERSON_ISSUER_KEY", "EBOX_OIDC_ISSUER"):
            env.delenv(variable, raising=False)
        ledger = open_ledger(url, home=home)
        try:
            _populate(ledger)
            real = (ebox_routes.register, reference.register, feed.register)
            app = bare_app(ledger, home, app_settings(), routers=(oauth.register, _routes, *real))
            with TestClient(app) as http:
                world = World(ledger, http, home)
                for role in ROLES:  # every token now, under the clean environment
                    world.token(role)
                yield world
        finally:
            ledger.close()
            dropped()


# --------------------------------------------------------------------------- roles


def _client(kind: str, subject: str, alg: str = "EdDSA") -> Callable[[World], str]:
    """A registered client's token through POST /oauth/token."""

    def get(w: World) -> str:
        return client_token(w.http, register_test_client(w.ledger, kind, subject, alg=alg))

    return get


def _person(who: str, partner: str | None = None, **kw: Any) -> Callable[[World], str]:
    return lambda w: person_token_for(w.http, who, partner, **kw)


def _embedded(w: World) -> EmbeddedPersonIssuer:
    """The app's own embedded issuer, to mint tokens it would never mint by itself."""
    return EmbeddedPersonIssuer.load(w.home, app_settings())


def _forged_access(w: World) -> str:
    mine = auth_of(w.http.app).tokens  # type: ignore[arg-type]
    forger = TokenService(b"\x07" * 32, mine.issuer)
    return forger.issue(
        kind="sender", subject=SENDER_A, client_id="x", scopes=["ebox:publication"]
    ).access_token


def _forged_person(w: World) -> str:
    real = _embedded(w)
    return EmbeddedPersonIssuer(b"\x07" * 32, real.issuer, real.audience).mint(ALICE)


def _foreign_issuer(w: World) -> str:
    return (
        TokenService(b"\x08" * 32, "https://evil.test")
        .issue(kind="sender", subject=SENDER_A, client_id="x", scopes=["ebox:publication"])
        .access_token
    )


def _assertion_as_bearer(w: World) -> str:
    return assertion_for(w.http, register_test_client(w.ledger, "sender", SENDER_A))


ROLES: dict[str, Callable[[World], str | None]] = {
    # clients, through the token endpoint
    "sender A": _client("sender", SENDER_A),
    "sender A (RS256)": _client("sender", SENDER_A, "RS256"),
    "sender B": _client("sender", SENDER_B),
    "partner doccle (client)": _client("partner", "doccle"),
    "auditor": _client("auditor", "court-of-audit"),
    # persons, through the embedded OIDC issuer
    "alice@portal": _person(ALICE),
    "alice@doccle": _person(ALICE, "doccle"),
    "alice@zoomit": _person(ALICE, "zoomit"),
    "bob@portal": _person(BOB),
    "bob@zoomit": _person(BOB, "zoomit"),
    "bob@doccle": _person(BOB, "doccle"),
    "carol@portal": _person(CAROL),
    "carol@doccle": _person(CAROL, "doccle"),
    "dave@portal": _person(DAVE),
    # wrong tokens
    "sender A, expired": lambda w: access_token(w.http, "sender", SENDER_A, now=expired()),
    "alice, expired": _person(ALICE, now=expired()),
    "sender A, forged": _forged_access,
    "alice, forged": _forged_person,
    "sender A, no scope": lambda w: access_token(w.http, "sender", SENDER_A, scopes=[]),
    "alice, no scope": lambda w: _embedded(w).mint(ALICE, scopes=()),
    "alice, token for another API": lambda w: _embedded(w).mint(
        ALICE, audience="https://other.test"
    ),
    "foreign issuer": _foreign_issuer,
    "client assertion as bearer": _assertion_as_bearer,
    "garbage": lambda w: "abc.def.ghi",
    "no token": lambda w: None,
}


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    role: str
    method: str
    path: str
    status: int
    body: dict[str, Any] = field(default_factory=dict)  # expected subset of the JSON body
    ebox_id: str | None = None  # X-Ebox-Id
    why: str = ""

    @property
    def id(self) -> str:
        target = f" [X-Ebox-Id {self.ebox_id}]" if self.ebox_id else ""
        return f"{self.role}: {self.method} {self.path}{target} -> {self.status}"


def own(who: str, channel: str = "portal") -> dict[str, str]:
    return {"address": f"citizen:{who}", "reader": f"citizen:{who}", "channel": channel}


def as_(reader: str, address: str, channel: str) -> dict[str, str]:
    return {"address": address, "reader": f"citizen:{reader}", "channel": channel}


EBOX, ENT = "/t/ebox/citizen", "/t/ebox/enterprise"
PUB_A, PUB_B = f"/t/publish/{SENDER_A}", f"/t/publish/{SENDER_B}"
STATUS_A, STATUS_B = f"/t/status/{SENDER_A}", f"/t/status/{SENDER_B}"
G, P = "GET", "POST"
FORBIDDEN = {"code": "FORBIDDEN"}
NO_SCOPE = {"code": "INSUFFICIENT_SCOPE"}
NO_MANDATE = {"code": "NO_MANDATE"}
NO_CONSENT = {"code": "NO_CONSENT"}
UNAUTHORIZED = {"code": "UNAUTHORIZED"}

CASES = [
    # A sender organisation publishes only as itself...
    Case("sender A", P, PUB_A, 200, {"sender": SENDER_A}),
    Case("sender A (RS256)", P, PUB_A, 200, {"sender": SENDER_A}),
    Case("sender A", P, PUB_B, 403, FORBIDDEN, why="publishes only as itself"),
    Case("sender B", P, PUB_B, 200, {"sender": SENDER_B}),
    Case("sender B", P, PUB_A, 403, FORBIDDEN),
    Case("sender A, no scope", P, PUB_A, 403, NO_SCOPE),
    Case("partner doccle (client)", P, PUB_A, 403, FORBIDDEN),
    Case("auditor", P, PUB_A, 403, FORBIDDEN),
    Case("alice@portal", P, PUB_A, 403, FORBIDDEN),
    # ... and sees the status of only its own letters (others' answer 404).
    Case("sender A", G, STATUS_A, 200, {"sender": SENDER_A}),
    Case("sender A", G, STATUS_B, 404, {"code": "NOT_FOUND"}),
    Case("sender B", G, STATUS_A, 404, {"code": "NOT_FOUND"}),
    Case("alice@portal", G, STATUS_A, 403, FORBIDDEN),
    Case("auditor", G, STATUS_A, 403, FORBIDDEN),
    # A person sees their own eBox...
    Case("alice@portal", G, EBOX, 200, own(ALICE)),
    Case("alice@portal", G, EBOX, 200, own(ALICE), ebox_id=ALICE),
    Case("bob@portal", G, EBOX, 200, own(BOB)),
    Case("dave@portal", G, EBOX, 404, {"code": "NO_DIGITAL_USER"}, why="no eBox of his own"),
    Case("alice, no scope", G, EBOX, 403, NO_SCOPE),
    # ... not another's...
    Case("alice@portal", G, EBOX, 403, NO_MANDATE, ebox_id=BOB),
    Case("carol@portal", G, EBOX, 403, NO_MANDATE, ebox_id=BOB, why="a mandate is one-way"),
    Case("alice@portal", G, ENT, 403, NO_MANDATE, ebox_id=ENTERPRISE),
    Case("alice@portal", G, ENT, 400, {"code": "INVALID_REQUEST"}, why="which enterprise?"),
    Case("dave@portal", G, ENT, 403, NO_MANDATE, ebox_id=SENDER_B, why="existence not revealed"),
    Case("dave@portal", G, EBOX, 403, NO_MANDATE, ebox_id=DAVE[:-2] + "00"),
    # ... unless they hold a mandate for it.
    Case(
        "bob@portal",
        G,
        ENT,
        200,
        as_(BOB, f"enterprise:{ENTERPRISE}", f"mandate:citizen:{BOB}"),
        ebox_id=ENTERPRISE,
    ),
    Case(
        "bob@portal",
        G,
        EBOX,
        200,
        as_(BOB, f"citizen:{CAROL}", f"mandate:citizen:{BOB}"),
        ebox_id=CAROL,
    ),
    Case("bob@portal", G, EBOX, 403, NO_MANDATE, ebox_id=ALICE),
    # A partner app consults an eBox only while that mailbox's consent stands.
    Case("alice@doccle", G, EBOX, 200, own(ALICE, "partner:doccle")),
    Case("alice@zoomit", G, EBOX, 403, NO_CONSENT),
    Case("carol@doccle", G, EBOX, 403, NO_CONSENT, why="consent revoked"),
    Case("carol@portal", G, EBOX, 200, own(CAROL), why="the portal needs no consent"),
    Case(
        "bob@zoomit",
        G,
        ENT,
        200,
        as_(BOB, f"enterprise:{ENTERPRISE}", "partner:zoomit"),
        ebox_id=ENTERPRISE,
    ),
    Case("bob@doccle", G, ENT, 403, NO_CONSENT, ebox_id=ENTERPRISE),
    Case("bob@zoomit", G, EBOX, 403, NO_CONSENT, why="Bob's own eBox gave zoomit no consent"),
    Case("bob@doccle", G, EBOX, 403, NO_CONSENT, ebox_id=CAROL, why="Carol revoked doccle"),
    Case(
        "partner doccle (client)",
        G,
        EBOX,
        403,
        FORBIDDEN,
        ebox_id=ALICE,
        why="a partner reads only with the person's token",
    ),
    # Senders and auditors read no eBox.
    Case("sender A", G, EBOX, 403, FORBIDDEN),
    Case("sender A", G, ENT, 403, FORBIDDEN, ebox_id=ENTERPRISE),
    Case("auditor", G, EBOX, 403, FORBIDDEN, ebox_id=ALICE),
    # Audit is for auditors.
    Case("auditor", G, "/t/audit", 200, {"auditor": "court-of-audit"}),
    Case("sender A", G, "/t/audit", 403, NO_SCOPE),
    Case("alice@portal", G, "/t/audit", 403, NO_SCOPE),
    Case("partner doccle (client)", G, "/t/audit", 403, NO_SCOPE),
    # Bad requests.
    Case("alice@portal", G, "/t/ebox/martian", 404, {"code": "NOT_FOUND"}),
    Case("alice@portal", G, EBOX, 400, {"code": "INVALID_REQUEST"}, ebox_id="../etc"),
    # No valid token: 401, whatever the route.
    *[
        Case(role, method, path, 401, UNAUTHORIZED)
        for role in (
            "no token",
            "garbage",
            "sender A, expired",
            "alice, expired",
            "sender A, forged",
            "alice, forged",
            "alice, token for another API",
            "foreign issuer",
            "client assertion as bearer",
        )
        for method, path in ((P, PUB_A), (G, EBOX), (G, "/t/audit"))
    ],
]


# The real routes (ebox_routes, reference, feed) follow the same rules.
REAL_EBOX, REAL_ENT = "/ebox/citizen/v2/ebox", "/ebox/enterprise/v2/ebox"
MESSAGES = f"{REAL_EBOX}/messages"
NO_SUCH_MESSAGE = f"{MESSAGES}/00000000-0000-0000-0000-000000000000"
REFERENCE = "/ebox/enterprise/v2/referenceData/senderOrganizations"
FEED_C = "/ebox/citizen/document/events?lastSequenceNbr=0&pageSize=10"
FEED_E = "/ebox/enterprise/document/events?lastSequenceNbr=0&pageSize=10"
EMPTY_FEED = {"pageInfo": {"lastSequenceNbr": 0, "hasNext": False}}

CASES += [
    # getEBoxById and getMessagesByEBoxId read the eBox mailbox_access allows...
    Case("alice@portal", G, REAL_EBOX, 200, {"numberOfMessages": 0}),
    Case("alice@portal", G, MESSAGES, 200, {"items": [], "totalItems": 0}),
    Case("alice@doccle", G, MESSAGES, 200, {"totalItems": 0}),
    Case("bob@portal", G, REAL_ENT, 200, {"numberOfMessages": 0}, ebox_id=ENTERPRISE),
    Case("bob@zoomit", G, f"{REAL_ENT}/messages", 200, {"totalItems": 0}, ebox_id=ENTERPRISE),
    Case("bob@portal", G, MESSAGES, 200, {"totalItems": 0}, ebox_id=CAROL),
    # ... and no other.
    Case("alice@zoomit", G, REAL_EBOX, 403, NO_CONSENT),
    Case("carol@doccle", G, MESSAGES, 403, NO_CONSENT, why="consent revoked"),
    Case("alice@portal", G, MESSAGES, 403, NO_MANDATE, ebox_id=BOB),
    Case("alice@portal", G, REAL_ENT, 403, NO_MANDATE, ebox_id=ENTERPRISE),
    Case("alice@portal", G, REAL_ENT, 400, {"code": "INVALID_REQUEST"}, why="which enterprise?"),
    Case("dave@portal", G, REAL_EBOX, 404, {"code": "NO_DIGITAL_USER"}),
    Case("alice, no scope", G, MESSAGES, 403, NO_SCOPE),
    Case("sender A", G, MESSAGES, 403, FORBIDDEN),
    Case("auditor", G, REAL_EBOX, 403, FORBIDDEN, ebox_id=ALICE),
    Case("partner doccle (client)", G, MESSAGES, 403, FORBIDDEN, ebox_id=ALICE),
    Case("alice@portal", G, NO_SUCH_MESSAGE, 404, {"code": "NOT_FOUND"}),
    Case("alice@portal", P, f"{NO_SUCH_MESSAGE}/archive", 404, {"code": "NOT_FOUND"}),
    Case("sender A", P, f"{NO_SUCH_MESSAGE}/archive", 403, FORBIDDEN),
    # Reference data: any authenticated principal.
    *[
        Case(role, G, REFERENCE, 200)
        for role in ("sender A", "auditor", "partner doccle (client)", "alice@portal")
    ],
    Case("alice, no scope", G, REFERENCE, 200, why="no scope is needed for the catalogue"),
    # The event feed: auditors, and partner clients (for the mailboxes consenting to them).
    Case("auditor", G, FEED_C, 200, EMPTY_FEED),
    Case("auditor", G, FEED_E, 200, EMPTY_FEED),
    Case("partner doccle (client)", G, FEED_C, 200, EMPTY_FEED),
    Case("alice@portal", G, FEED_C, 403, FORBIDDEN, why="persons read their eBox, not the feed"),
    Case("bob@zoomit", G, FEED_E, 403, FORBIDDEN, why="a partner reads it with its own token"),
    Case("sender A", G, FEED_E, 403, FORBIDDEN),
    # No valid token: 401 on every real route too.
    *[
        Case(role, G, path, 401, UNAUTHORIZED)
        for role in ("no token", "garbage", "alice, expired", "sender A, forged", "foreign issuer")
        for path in (REAL_EBOX, MESSAGES, REFERENCE, FEED_C)
    ],
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_access_matrix(world: World, case: Case) -> None:
    token = world.token(case.role)
    headers = bearer(token) if token else {}
    if case.ebox_id:
        headers["X-Ebox-Id"] = case.ebox_id
    response = world.http.request(case.method, case.path, headers=headers)
    assert response.status_code == case.status, f"{case.why or case.id}: {response.text}"
    body = response.json()
    assert {k: body.get(k) for k in case.body} == case.body, body
    if case.status >= 400:  # every refusal is a StatusMessage
        assert set(body) >= {"id", "code", "message", "environment"}, body
    if case.status == 401:
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith('Bearer realm="ebox"')
        assert ('error="invalid_token"' in challenge) == (token is not None)
        assert not token or token not in response.text


def test_every_role_is_walked() -> None:
    assert {case.role for case in CASES} == set(ROLES)


def test_a_basic_or_empty_authorization_is_no_token(world: World) -> None:
    for value in ("Basic YWxpY2U6c2VjcmV0", "Bearer", "Bearer "):
        response = world.http.get(EBOX, headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="ebox"'


def test_the_answer_names_no_reason_the_log_does(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """An expired token and a forged one get the same answer; the log tells them apart."""
    answers = []
    for role in ("alice, expired", "sender A, forged"):
        response = world.http.get(EBOX, headers=bearer(world.token(role) or ""))
        answers.append((response.json()["message"], response.headers["WWW-Authenticate"]))
    assert answers[0] == answers[1]
    logged = [r.getMessage() for r in caplog.records if r.name == "ebox.api.auth"]
    assert "expired" in logged[0] and "bad_signature" in logged[1]


def test_revoking_consent_cuts_a_partner_off_at_once(world: World) -> None:
    app = world.ledger.app
    erin_doccle = bearer(person_token_for(world.http, ERIN, "doccle"))
    assert world.http.get(EBOX, headers=erin_doccle).status_code == 403
    app.grant_partner_consent("citizen", ERIN, "doccle")
    assert world.http.get(EBOX, headers=erin_doccle).json()["channel"] == "partner:doccle"
    app.revoke_partner_consent("citizen", ERIN, "doccle")
    response = world.http.get(EBOX, headers=erin_doccle)  # the same, still valid token
    assert response.status_code == 403 and response.json()["code"] == "NO_CONSENT"


def test_revoking_a_mandate_cuts_the_holder_off_at_once(world: World) -> None:
    app = world.ledger.app
    alice = {**bearer(world.token("alice@portal") or ""), "X-Ebox-Id": ERIN}
    assert world.http.get(EBOX, headers=alice).status_code == 403
    app.grant_mandate("citizen", ERIN, f"citizen:{ALICE}")
    assert world.http.get(EBOX, headers=alice).json() == as_(
        ALICE, f"citizen:{ERIN}", f"mandate:citizen:{ALICE}"
    )
    app.revoke_mandate("citizen", ERIN, f"citizen:{ALICE}")
    assert world.http.get(EBOX, headers=alice).status_code == 403


def test_disabling_a_client_refuses_its_live_tokens_and_new_ones(world: World) -> None:
    """Issue 7 finding 12: not at the tokens' expiry, at once (on every replica)."""
    from ebox.adapters.clients import disable_client

    key = register_test_client(world.ledger, "sender", SENDER_B)
    token = client_token(world.http, key)
    assert world.http.post(PUB_B, headers=bearer(token)).status_code == 200
    disable_client(world.ledger, key.client_id)
    assert world.http.post(PUB_B, headers=bearer(token)).status_code == 401
    refused = world.http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": oauth.ASSERTION_TYPE,
            "client_assertion": assertion_for(world.http, key),
        },
    )
    assert refused.status_code == 401
