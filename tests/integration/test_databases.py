"""The database fixtures: fresh migrated databases, and code that matches the migrations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, Table, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ebox.adapters.runtime import Ledger
from ebox.adapters.schema import is_current
from ebox.adapters.tables import EVENTS_TABLE, metadata

LEDGER_TABLES = {
    "ebox_events",
    "ebox_tracking",
    "blobs",
    "wrapped_keys",
    "vault_keys",
    "ledger_leaves",
    "merkle_nodes",
    "checkpoints",
    "alembic_version",
}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, poolclass=NullPool)
    yield engine
    engine.dispose()


def test_the_migrated_schema_has_the_ledger_tables(engine: Engine) -> None:
    missing = LEDGER_TABLES - set(inspect(engine).get_table_names())
    assert not missing, f"tables missing after the migrations: {sorted(missing)}"


def test_each_database_is_at_the_latest_migration(database_url: str) -> None:
    assert is_current(database_url)


def _columns(table: Table) -> dict[str, tuple[bool, bool]]:
    """name -> (is part of the primary key, nullable) of a Core table."""
    return {column.name: (column.primary_key, bool(column.nullable)) for column in table.columns}


def _migrated_columns(engine: Engine, name: str) -> dict[str, tuple[bool, bool]]:
    inspector = inspect(engine)
    primary_key = set(inspector.get_pk_constraint(name)["constrained_columns"])
    return {
        column["name"]: (column["name"] in primary_key, bool(column["nullable"]))
        for column in inspector.get_columns(name)
    }


@pytest.mark.parametrize(
    "table", [metadata.tables[name] for name in sorted(metadata.tables)], ids=str
)
def test_core_tables_match_the_migrated_schema(engine: Engine, table: Table) -> None:
    """The code's table definitions and the migrations must not drift apart."""
    assert table.name in inspect(engine).get_table_names(), (
        f"{table.name} is defined in ebox.adapters.tables but no migration creates it"
    )
    assert _migrated_columns(engine, table.name) == _columns(table), (
        f"{table.name}: (primary key, nullable) per column differs between the migrations "
        "(left) and ebox.adapters.tables (right)"
    )


def test_the_event_table_is_the_one_eventsourcing_maps(ledger: Ledger) -> None:
    """With table creation off, the migration must create exactly what the recorder uses."""
    mapped: Table = ledger.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    assert mapped.name == EVENTS_TABLE
    engine = create_engine(ledger.url, poolclass=NullPool)
    try:
        assert _migrated_columns(engine, EVENTS_TABLE) == _columns(mapped)
    finally:
        engine.dispose()


def test_the_ledger_fixture_opens_the_test_database(ledger: Ledger, database_url: str) -> None:
    assert ledger.url == database_url
    with ledger.app.factory.datastore.transaction(commit=False) as session:  # type: ignore[attr-defined]
        assert session.execute(text(f"SELECT count(*) FROM {EVENTS_TABLE}")).scalar_one() == 0


_seen_postgres_databases: list[str] = []


@pytest.mark.parametrize("turn", [1, 2])
def test_each_test_gets_a_database_of_its_own(
    postgres_url: str, postgres_server_url: str, turn: int
) -> None:
    engine = create_engine(postgres_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            name = connection.execute(text("SELECT current_database()")).scalar_one()
            # an earlier test's rows would show here
            assert connection.execute(text("SELECT count(*) FROM ebox_tracking")).scalar_one() == 0
            connection.execute(
                text("INSERT INTO ebox_tracking (name, position) VALUES (:name, :position)"),
                {"name": f"turn {turn}", "position": turn},
            )
    finally:
        engine.dispose()
    assert name == make_url(postgres_url).database
    assert name.startswith("ebox_test_")
    assert name not in _seen_postgres_databases

    server = create_engine(postgres_server_url, poolclass=NullPool)
    try:
        with server.connect() as connection:
            existing = set(connection.execute(text("SELECT datname FROM pg_database")).scalars())
    finally:
        server.dispose()
    # the databases of earlier tests are dropped when they end
    assert not existing.intersection(_seen_postgres_databases)
    _seen_postgres_databases.append(name)
