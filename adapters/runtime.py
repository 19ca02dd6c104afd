"""Wiring: one URL and one data directory give a ready ledger application.

An adapter, not a projection: it opens the stores and the schema, and every
follower, the API and the CLI start from the `Ledger` it returns.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from eventsourcing_sqlalchemy.factory import Factory
from sqlalchemy.event import listen

from ebox.adapters.home import (
    Secrets,
    data_dir,
    default_database_url,
    finish_pending_swap,
    load_secrets,
    normalize_url,
    protect_home,
    protect_sqlite,
    sqlite_path,
)
from ebox.adapters.key_binding import KeysNotBound, bind, check_binding, read_binding
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
    read_only: bool = False,
) -> Ledger:
    """Open the ledger at `url` (default: the SQLite file in the data directory).

    An SQLite database is created and migrated on first use, so the embedded
    default needs no setup; a server database must be migrated explicitly.
    `read_only` (audit, ledger inspection, evidence) creates nothing: no
    database, no directory, no key; an SQLite file is opened with `mode=ro`.
    Either way the data directory's keys must be the ones the database is bound
    to (ebox.adapters.key_binding); a writing opening binds them at first use.
    """
    home = home or data_dir()
    url = normalize_url(url or default_database_url(home))
    where = _redact(url)
    if read_only:
        engine_url = read_only_url(url)
        if not is_current(engine_url):
            raise SchemaNotReady(
                f"the database {where} is not at the latest migration: "
                f"run `ebox db upgrade --db {where}` (this command only reads)"
            )
        secrets = load_secrets(home, create=False)
    else:
        engine_url = url
        if url.startswith("sqlite"):
            protect_sqlite(url)  # 0600 before SQLite creates it (the migrations would)
            if not is_current(url):
                upgrade(url)
        elif not is_current(url):
            raise SchemaNotReady(
                f"the database is not at the latest migration: run `ebox db upgrade --db {where}`"
            )
        secrets = load_secrets(home, create=False)  # created below only for a new database
        protect_home(home)
    app = EboxLedger(
        {
            "SQLALCHEMY_URL": engine_url,
            "PERSISTENCE_MODULE": PERSISTENCE_TOPIC,
            "CREATE_TABLE": "n",
        },
        stores=lambda a: SqlLedgerStores(a.factory.datastore, secrets, a.recorder),  # type: ignore[attr-defined]
        require_signature=require_signature,
    )
    datastore = app.factory.datastore  # type: ignore[attr-defined]
    if url.startswith("sqlite"):
        # Freed pages are zeroed, so a shredded key or ciphertext leaves no bytes behind.
        listen(
            datastore.engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA secure_delete=ON")
        )
    if read_only:
        datastore._tried_init_sqlite_wal_mode = True  # setting WAL mode is a write
    db = SqlSession(datastore)
    try:
        secrets = _bound(db, secrets, home, where, read_only)
    except BaseException:
        app.close()
        datastore.engine.dispose()
        raise
    app.stores.vault.secrets = secrets  # type: ignore[attr-defined]
    return Ledger(app=app, secrets=secrets, url=url, db=db, home=home)


def _bound(db: SqlSession, secrets: Secrets, home: Path, where: str, read_only: bool) -> Secrets:
    """Check (or, at first writing use, record) the keys the database is bound to."""
    if read_only:
        with db.read() as session:
            binding = read_binding(session)
        if binding is None:
            return secrets
        check_binding(binding, secrets, home, where)
        return replace(secrets, origin=binding.origin)  # the database's, when keyless
    with db.write() as session:
        binding = read_binding(session)
        if binding is None:
            secrets = load_secrets(home)  # first use: the data directory's keys, made if need be
            bind(session, secrets, home, where)
            return secrets
        if finish_pending_swap(home, binding.key_id, binding.kek_id):  # interrupted rotation
            secrets = load_secrets(home, create=False)
        check_binding(binding, secrets, home, where)
        if secrets.kek is None or secrets.ledger_seed is None:
            raise KeysNotBound(
                f"the database {where} is bound to ledger key {binding.key_id} and KEK "
                f"{binding.kek_id}, and the data directory {home.resolve()} holds no such keys: "
                "it may only read (set EBOX_HOME to that database's data directory)"
            )
    return secrets


class DatabaseMissing(FileNotFoundError):
    """A read-only command was pointed at an SQLite file that does not exist."""


def read_only_url(url: str) -> str:
    """The URL to read `url` without writing: SQLite `mode=ro` (and `immutable` if unwritable).

    A missing SQLite file is an error naming it rather than a new empty database.
    A file that cannot be written (a 0444 copy in a 0555 directory) is opened
    immutable: SQLite could not even create its lock files beside it.
    """
    path = sqlite_path(url)
    if path is None:
        return url
    if not path.is_file():
        raise DatabaseMissing(f"no database at {path} (this command reads one, it creates none)")
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    flags = "mode=ro" if writable else "mode=ro&immutable=1"
    return f"sqlite:///file:{quote(str(path.resolve()))}?{flags}&uri=true"


def _redact(url: str) -> str:
    """Never print a password that may sit in a database URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
