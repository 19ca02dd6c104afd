"""Wiring: one URL and one data directory give a ready ledger application.

An adapter, not a projection: it opens the stores and the schema, and every
follower, the API and the CLI start from the `Ledger` it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from eventsourcing_sqlalchemy.factory import Factory
from sqlalchemy.event import listen

from ebox.adapters.home import (
    Secrets,
    data_dir,
    default_database_url,
    load_secrets,
    protect_home,
    protect_sqlite,
)
from ebox.adapters.recorder import CoreApplicationRecorder
from ebox.adapters.schema import is_current, upgrade
from ebox.adapters.stores import SqlLedgerStores, SqlSession
from ebox.domain.application import EboxLedger


class SchemaNotReady(RuntimeError):
    """A PostgreSQL database is behind the code's migrations: run `ebox db upgrade`."""


class QuietDatastore(SQLAlchemyDatastore):
    """eventsourcing_sqlalchemy's datastore on an engine that hides SQL parameters.

    A failed statement's text, in exceptions and in SQLAlchemy's own logging,
    otherwise carries its bound values: national register numbers, subjects and
    business data of the letters in the batch. `hide_parameters` keeps the SQL
    and drops the values, wherever the error ends up.
    """

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("url"):
            kwargs.setdefault("hide_parameters", True)
        super().__init__(**kwargs)


class LedgerFactory(Factory):
    """The persistence module of the ledger: eventsourcing_sqlalchemy, quiet engine, Core events."""

    datastore_class = QuietDatastore
    application_recorder_class = CoreApplicationRecorder


PERSISTENCE_TOPIC = f"{__name__}:{LedgerFactory.__qualname__}"


@dataclass
class Ledger:
    app: EboxLedger
    secrets: Secrets
    url: str
    db: SqlSession
    home: Path

    def close(self) -> None:
        self.app.close()
        engine = self.app.factory.datastore.engine  # type: ignore[attr-defined]
        if engine is not None:
            engine.dispose()


def open_ledger(
    url: str | None = None,
    home: Path | None = None,
    *,
    require_signature: bool = False,
) -> Ledger:
    """Open the ledger at `url` (default: the SQLite file in the data directory).

    An SQLite database is created and migrated on first use, so the embedded
    default needs no setup; a server database must be migrated explicitly.
    """
    home = home or data_dir()
    url = url or default_database_url(home)
    if url.startswith("sqlite"):
        protect_sqlite(url)  # 0600 before SQLite creates it (the migrations would)
        if not is_current(url):
            upgrade(url)
    elif not is_current(url):
        raise SchemaNotReady(
            "the database is not at the latest migration: "
            f"run `ebox db upgrade --db {_redact(url)}`"
        )
    secrets = load_secrets(home)
    protect_home(home)
    app = EboxLedger(
        {
            "SQLALCHEMY_URL": url,
            "PERSISTENCE_MODULE": PERSISTENCE_TOPIC,
            "CREATE_TABLE": "n",
        },
        stores=lambda a: SqlLedgerStores(a.factory.datastore, secrets, a.recorder),  # type: ignore[attr-defined]
        require_signature=require_signature,
    )
    if url.startswith("sqlite"):
        # Freed pages are zeroed, so a shredded key or ciphertext leaves no bytes behind.
        engine = app.factory.datastore.engine  # type: ignore[attr-defined]
        listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA secure_delete=ON"))
    db = SqlSession(app.factory.datastore)  # type: ignore[attr-defined]
    return Ledger(app=app, secrets=secrets, url=url, db=db, home=home)


def _redact(url: str) -> str:
    """Never print a password that may sit in a database URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
