"""The portal's sessions live in the database: any API replica serves any signed-in person.

Two apps (`create_app`, each on its own `open_ledger` of one database, as two
replicas behind a round-robin proxy), on SQLite and PostgreSQL: a session made
by one is read by the other and survives a restart, signing out on one ends it
on both, a pending sign-in and a one-time code are each used once whichever
replica sees them, and the database holds only digests of the session ids and
codes (the cookie and the code are the secrets).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ebox.adapters.portal_sessions import IssuedCode, SqlSessionStore, SqlSignInCodes
from ebox.adapters.runtime import Ledger, open_ledger
from ebox.adapters.tables import portal_sessions, portal_signin_codes
from ebox.api.app import create_app
from tests.auth_helpers import TEST_PUBLIC_URL, app_settings
from tests.browser import hidden_fields
from tests.builders import CITIZEN

COOKIE = "ebox_portal"
HOST = str(urlsplit(TEST_PUBLIC_URL).hostname)
NRN = CITIZEN.id_value


class Replicas:
    """Replicas of the API on one database; `start()` is one more (or one restarted)."""

    def __init__(self, database_url: str, home: Path, stack: ExitStack) -> None:
        self.database_url = database_url
        self.home = home
        self.stack = stack

    def start(self) -> TestClient:
        return self.stack.enter_context(self._replica())

    @contextmanager
    def _replica(self) -> Iterator[TestClient]:
        ledger = open_ledger(self.database_url, home=self.home)
        try:
            with TestClient(create_app(ledger, app_settings()), base_url=TEST_PUBLIC_URL) as http:
                yield http
        finally:
            ledger.close()


@pytest.fixture
def replicas(database_url: str, ledger: Ledger, ledger_home: Path) -> Iterator[Replicas]:
    """`ledger` opened the database first (its keys bound); each replica opens it again."""
    with ExitStack() as stack:
        yield Replicas(database_url, ledger_home, stack)


def authorize(http: TestClient, nrn: str = NRN) -> str:
    """Up to the embedded issuer's redirect: the callback URL (with its code and state)."""
    start = http.get("/sign-in?lang=en", follow_redirects=True)
    answer = http.post(
        "/embedded-oidc/authorize",
        data={**hidden_fields(start.text), "nrn": nrn},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    location: str = answer.headers["location"]
    assert location.startswith("/auth/callback?")
    return location


def sign_in(http: TestClient) -> str:
    """A complete sign-in on `http`: the session cookie."""
    answer = http.get(authorize(http), follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/inbox", answer.text
    return http.cookies[COOKIE]


def carrying(http: TestClient, cookie: str) -> TestClient:
    """`http` as the browser holding this session cookie (and no other)."""
    http.cookies.clear()
    http.cookies.set(COOKIE, cookie, domain=HOST)  # as the replica's own Set-Cookie would
    return http


def signed_in(http: TestClient, cookie: str) -> bool:
    """Does this replica take the cookie for a signed-in person? (/ sends them to their inbox)"""
    answer = carrying(http, cookie).get("/", follow_redirects=False)
    assert answer.status_code == 303
    return bool(answer.headers["location"] == "/inbox")


def test_a_session_made_by_one_replica_is_signed_in_on_another(replicas: Replicas) -> None:
    first, second = replicas.start(), replicas.start()
    cookie = sign_in(first)
    assert signed_in(second, cookie)
    assert signed_in(first, cookie)


def test_a_session_survives_a_restart_of_the_replica_that_made_it(
    database_url: str, ledger: Ledger, ledger_home: Path
) -> None:
    with ExitStack() as stack:
        cookie = sign_in(Replicas(database_url, ledger_home, stack).start())
    # every replica of that time is gone; a new one starts on the same database
    with ExitStack() as stack:
        assert signed_in(Replicas(database_url, ledger_home, stack).start(), cookie)


def test_signing_out_on_one_replica_ends_the_session_on_the_other(replicas: Replicas) -> None:
    first, second = replicas.start(), replicas.start()
    cookie = sign_in(first)
    page = carrying(second, cookie).get("/signed-out")
    answer = second.post("/sign-out", data=hidden_fields(page.text), follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/signed-out"
    assert not signed_in(first, cookie)
    assert not signed_in(second, cookie)


def test_a_language_chosen_on_one_replica_is_kept_on_the_other(replicas: Replicas) -> None:
    first, second = replicas.start(), replicas.start()
    first.get("/signed-out?lang=fr")
    answer = carrying(second, first.cookies[COOKIE]).get("/signed-out")
    assert answer.headers["content-language"] == "fr"


def test_a_sign_in_begun_on_one_replica_completes_on_another_once(replicas: Replicas) -> None:
    first, second = replicas.start(), replicas.start()
    callback = authorize(first)  # pending sign-in and code made by the first replica
    anonymous = first.cookies[COOKIE]
    answer = carrying(second, anonymous).get(callback, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/inbox"
    assert signed_in(first, second.cookies[COOKIE])
    replay = carrying(first, anonymous).get(callback, follow_redirects=False)
    assert replay.status_code == 400  # that pending sign-in is gone (its session ended)


def test_a_code_replayed_on_another_replica_is_refused(replicas: Replicas) -> None:
    first, second = replicas.start(), replicas.start()
    used = authorize(first)
    assert first.get(used, follow_redirects=False).headers["location"] == "/inbox"
    # the code, replayed with a sign-in (and so a state) of its own on the other replica
    code = parse_qs(urlsplit(used).query)["code"][0]
    state = parse_qs(urlsplit(authorize(second)).query)["state"][0]
    answer = second.get(f"/auth/callback?code={code}&state={state}", follow_redirects=False)
    assert answer.status_code == 403
    assert not signed_in(second, second.cookies[COOKIE])


def test_the_database_holds_no_session_id_and_no_code(replicas: Replicas, ledger: Ledger) -> None:
    http = replicas.start()
    callback = authorize(http)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    with ledger.db.read() as session:
        codes = [tuple(row) for row in session.execute(select(portal_signin_codes))]
    assert [row[0] for row in codes] == [hashlib.sha256(code.encode()).hexdigest()]
    assert not any(code in str(value) for row in codes for value in row)

    http.get(callback)
    cookie = http.cookies[COOKIE]
    with ledger.db.read() as session:
        rows = [tuple(row) for row in session.execute(select(portal_sessions))]
        assert session.execute(select(portal_signin_codes)).first() is None  # used: deleted
    assert hashlib.sha256(cookie.encode()).hexdigest() in [row[0] for row in rows]
    assert not any(cookie in str(value) for row in rows for value in row)


# ------------------------------------------------------------------ the store itself


def test_the_idle_timeout_is_enforced_on_read_and_expired_rows_are_purged(ledger: Ledger) -> None:
    store = SqlSessionStore(ledger.db, idle_timeout=60)
    session = store.create(now=1000.0, language="nl")
    assert store.get(session.session_id, now=1059.0) is not None  # touched: idle time restarts
    assert store.get(session.session_id, now=1118.0) is not None
    assert store.get(session.session_id, now=1179.0) is None
    assert store.get(session.session_id, now=1180.0) is None  # and stays gone
    forgotten = store.create(now=2000.0)
    store.create(now=2061.0)  # making a session purges the expired ones
    with ledger.db.read() as db_session:
        left = db_session.execute(select(portal_sessions.c.last_seen)).scalars().all()
    assert left == [2061.0]
    assert store.get(forgotten.session_id, now=2061.0) is None


def test_a_code_is_taken_once_across_two_openings_of_the_database(
    ledger: Ledger, database_url: str, ledger_home: Path
) -> None:
    other = open_ledger(database_url, home=ledger_home)
    try:
        SqlSignInCodes(ledger.db).issue("the-code", IssuedCode(NRN, "c", "n", 2000.0), 1000.0)
        assert SqlSignInCodes(other.db).take("the-code") == IssuedCode(NRN, "c", "n", 2000.0)
        assert SqlSignInCodes(ledger.db).take("the-code") is None
        assert SqlSignInCodes(other.db).take("the-code") is None
    finally:
        other.close()


def test_of_two_exchanges_racing_for_one_code_exactly_one_has_it(
    ledger: Ledger, database_url: str, ledger_home: Path
) -> None:
    others = [open_ledger(database_url, home=ledger_home) for _ in range(2)]
    try:
        stores = [SqlSignInCodes(other.db) for other in others]
        for round_ in range(10):
            code = f"code-{round_}"
            SqlSignInCodes(ledger.db).issue(code, IssuedCode(NRN, "c", "n", 2000.0), 1000.0)
            start = threading.Barrier(len(stores))

            def take(
                store: SqlSignInCodes, code: str = code, start: threading.Barrier = start
            ) -> IssuedCode | None:
                start.wait()
                return store.take(code)

            with ThreadPoolExecutor(len(stores)) as pool:
                taken = list(pool.map(take, stores))
            assert sorted(t is not None for t in taken) == [False, True], round_
    finally:
        for other in others:
            other.close()
