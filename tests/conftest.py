"""Fixtures shared by every test: fresh migrated databases and an open ledger.

- `database_url`: a fresh, migrated database per test, once on SQLite and once on
  PostgreSQL (test ids `[sqlite]` and `[postgresql]`; the latter is marked
  `postgres`).
- `sqlite_url` / `postgres_url`: the same, for a test that wants only one.
- `postgres_server_url`: the PostgreSQL server of the session (see tests/pg.py for
  how it is chosen). Under `CI=true` a missing server is an error; elsewhere the
  PostgreSQL tests are skipped with the reason, only if no server can be had.
- `ledger_home`, `ledger`: a data directory and the application opened on
  `database_url`, closed before the database is dropped.

Application modules are imported inside the fixtures, so a broken module fails
the tests that use it, not the collection of the whole suite.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests import pg

if TYPE_CHECKING:
    from ebox.adapters.runtime import Ledger

# Tests using these fixtures need PostgreSQL: they get the `postgres` mark.
POSTGRES_FIXTURES = frozenset({"postgres_server_url", "postgres_url"})

_chosen_server: list[str] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if POSTGRES_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for description in _chosen_server:
        terminalreporter.write_line(f"PostgreSQL for the tests: {description}")


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of the session's PostgreSQL server (its maintenance database)."""
    with ExitStack() as stack:
        try:
            server = stack.enter_context(pg.find_server())
        except pg.NoServer as error:
            if pg.running_in_ci():
                pytest.fail(f"CI=true and PostgreSQL is missing: {error}", pytrace=False)
            if pg.configured_url():
                pytest.fail(str(error), pytrace=False)
            pytest.skip(f"PostgreSQL tests skipped: {error}")
        _chosen_server.append(server.describe())
        yield server.url


@pytest.fixture(scope="session")
def postgres_databases(postgres_server_url: str) -> Iterator[pg.DatabaseFactory]:
    """Creates this session's databases; drops every one of them at the end."""
    factory = pg.DatabaseFactory(postgres_server_url)
    try:
        yield factory
    finally:
        factory.drop_all()


@pytest.fixture(scope="session")
def postgres_template(postgres_databases: pg.DatabaseFactory) -> str:
    """Name of a database migrated to head once per session, cloned for each test."""
    from ebox.adapters.schema import upgrade

    name = f"{postgres_databases.prefix}_template"
    upgrade(postgres_databases.create(name))
    return name


@pytest.fixture
def postgres_url(postgres_databases: pg.DatabaseFactory, postgres_template: str) -> Iterator[str]:
    """A fresh migrated PostgreSQL database of this test only, dropped after it."""
    name = postgres_databases.new_name("t")
    url = postgres_databases.create(name, template=postgres_template)
    yield url
    postgres_databases.drop(name)


# --------------------------------------------------------------------------- SQLite


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head once per session, copied for each test."""
    from ebox.adapters.schema import upgrade

    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh migrated SQLite file of this test only (in tmp_path/db/)."""
    path = tmp_path / "db" / "ebox.sqlite"
    path.parent.mkdir()
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


# --------------------------------------------------------------------------- both


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh migrated database of this test, on SQLite then on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return request.getfixturevalue(fixture)


@pytest.fixture
def ledger_home(tmp_path: Path) -> Path:
    """The ledger's data directory (key files); the application creates it."""
    return tmp_path / "home"


@pytest.fixture
def ledger(database_url: str, ledger_home: Path) -> Iterator[Ledger]:
    """The application opened on `database_url`, closed before the database is dropped."""
    from ebox.adapters.runtime import open_ledger

    opened = open_ledger(database_url, home=ledger_home)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(autouse=True)
def _no_secrets_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own EBOX_* secrets and URLs must never leak into a test."""
    for name in (
        "EBOX_KEK",
        "EBOX_LEDGER_KEY",
        "EBOX_LEDGER_ORIGIN",
        "EBOX_DATABASE_URL",
        "EBOX_HOME",
        "EBOX_API_TOKEN_KEY",
        "EBOX_PERSON_ISSUER_KEY",
        "EBOX_OIDC_ISSUER",
        "EBOX_OIDC_JWKS_FILE",
        "EBOX_OIDC_AUDIENCE",
        "EBOX_PUBLIC_URL",
        "EBOX_REQUIRE_SIGNATURE",
        "EBOX_EVENT_PROVIDER_ID",
        "EBOX_KEK_FILE",
        "EBOX_LEDGER_KEY_FILE",
        "EBOX_API_TOKEN_KEY_FILE",
        "EBOX_PERSON_ISSUER_KEY_FILE",
        "EBOX_DATABASE_URL_FILE",
        "EBOX_SMTP_URL",
        "EBOX_SMTP_URL_FILE",
        "EBOX_WORKERS_METRICS_PORT",
        "EBOX_PORTAL_OIDC_ISSUER",
        "EBOX_PORTAL_OIDC_CLIENT_ID",
        "EBOX_PORTAL_OIDC_CLIENT_SECRET",
        "EBOX_PORTAL_OIDC_CLIENT_SECRET_FILE",
        "EBOX_PORTAL_OIDC_PRIVATE_KEY_FILE",
        "EBOX_PORTAL_IDLE_TIMEOUT",
        "EBOX_TSA_URL",
        "EBOX_TSA_CA_FILE",
        "EBOX_TSA_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)
