"""SQLAlchemy adapters for the domain's ports, sharing eventsourcing's session.

eventsourcing_sqlalchemy keeps the current transaction in a context variable;
opening `datastore.transaction(commit=True)` here and saving events inside it
makes blobs, wrapped keys and events one atomic commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from nacl.secret import SecretBox
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ebox.adapters.bulk import insert_rows
from ebox.adapters.home import Secrets
from ebox.adapters.idempotency import SqlIdempotencyStore
from ebox.adapters.tables import blobs, vault_keys, wrapped_keys
from ebox.domain.errors import ContentUnavailable


class SqlSession:
    """Hands out the session of the current eventsourcing transaction."""

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self.datastore.transaction(commit=True) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.datastore.transaction(commit=False) as session:
            yield session

    @property
    def dialect(self) -> str:
        return str(self.datastore.engine.dialect.name)

    def insert_ignore(self, table: Any) -> Any:
        """INSERT that skips rows whose key already exists (content-addressed data)."""
        if self.dialect == "postgresql":
            return pg_insert(table).on_conflict_do_nothing()
        return sqlite_insert(table).on_conflict_do_nothing()


class SqlBlobStore:
    def __init__(self, db: SqlSession) -> None:
        self.db = db

    def put_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        rows = [{"digest": d, "size": len(b), "data": b} for d, b in dict(items).items()]
        if rows:
            with self.db.write() as session:
                insert_rows(session, blobs, rows, skip_existing=True)

    def get(self, digest: str) -> bytes:
        with self.db.read() as session:
            data = session.execute(select(blobs.c.data).where(blobs.c.digest == digest)).scalar()
        if data is None:
            raise ContentUnavailable(f"blob {digest} is not in the blob table")
        return bytes(data)

    def destroy(self, digests: Iterable[str]) -> int:
        wanted = sorted(set(digests))
        if not wanted:
            return 0
        with self.db.write() as session:
            result = session.execute(delete(blobs).where(blobs.c.digest.in_(wanted)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class SqlWrappedKeyStore:
    def __init__(self, db: SqlSession) -> None:
        self.db = db

    def put_many(self, rows: Iterable[tuple[str, str, bytes]]) -> None:
        values = [{"message_id": m, "fingerprint": f, "wrapped": w} for m, f, w in rows]
        if values:
            with self.db.write() as session:
                insert_rows(session, wrapped_keys, values)

    def get(self, message_id: str) -> dict[str, bytes]:
        query = select(wrapped_keys.c.fingerprint, wrapped_keys.c.wrapped).where(
            wrapped_keys.c.message_id == message_id
        )
        with self.db.read() as session:
            return {f: bytes(w) for f, w in session.execute(query)}

    def destroy(self, message_id: str) -> int:
        with self.db.write() as session:
            result = session.execute(
                delete(wrapped_keys).where(wrapped_keys.c.message_id == message_id)
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def holding(self, message_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(message_ids))
        if not wanted:
            return set()
        query = select(wrapped_keys.c.message_id).where(wrapped_keys.c.message_id.in_(wanted))
        with self.db.read() as session:
            return {str(m) for m in session.execute(query).scalars()}


class SqlKeyVault:
    """Mailbox private keys, sealed with SecretBox under the KEK before they touch the table."""

    def __init__(self, db: SqlSession, secrets: Secrets) -> None:
        self.db = db
        self.secrets = secrets

    @property
    def box(self) -> SecretBox:
        """Made on use: a data directory without a KEK still opens for reading."""
        return SecretBox(self.secrets.required_kek())

    @property
    def kek_id(self) -> str:
        return self.secrets.kek_id

    def store(self, fingerprint: str, owner: str, private_key: bytes) -> None:
        self.store_many([(fingerprint, owner, private_key)])

    def store_many(self, keys: Iterable[tuple[str, str, bytes]]) -> None:
        """Seal and insert many keys in one statement (COPY on PostgreSQL)."""
        now = datetime.now(UTC)
        rows = [
            {
                "fingerprint": fingerprint,
                "owner": owner,
                "kek_id": self.kek_id,
                "sealed_private_key": bytes(self.box.encrypt(private_key)),
                "created_at": now,
            }
            for fingerprint, owner, private_key in keys
        ]
        with self.db.write() as session:
            insert_rows(session, vault_keys, rows)

    def load(self, fingerprint: str) -> bytes:
        with self.db.read() as session:
            sealed = session.execute(
                select(vault_keys.c.sealed_private_key).where(
                    vault_keys.c.fingerprint == fingerprint
                )
            ).scalar()
        if sealed is None:
            raise KeyError(fingerprint)
        return self.box.decrypt(bytes(sealed))


class SqlBulkEventReader:
    def __init__(self, db: SqlSession, recorder: Any) -> None:
        self.db = db
        self.table = recorder.events_record_cls.__table__

    def select_events_many(self, ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]:
        wanted = list(dict.fromkeys(ids))
        found: dict[UUID, list[StoredEvent]] = {i: [] for i in wanted}
        if not wanted:
            return found
        t = self.table
        query = (
            select(t.c.originator_id, t.c.originator_version, t.c.topic, t.c.state)
            .where(t.c.originator_id.in_(wanted))
            .order_by(t.c.originator_id, t.c.originator_version)
        )
        with self.db.read() as session:
            for originator_id, version, topic, state in session.execute(query):
                found[originator_id].append(
                    StoredEvent(
                        originator_id=originator_id,
                        originator_version=version,
                        topic=topic,
                        state=bytes(state),
                    )
                )
        return found

    def latest_versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
        """Each aggregate's current version, from the unique index alone."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        t = self.table
        query = (
            select(t.c.originator_id, func.max(t.c.originator_version))
            .where(t.c.originator_id.in_(wanted))
            .group_by(t.c.originator_id)
        )
        with self.db.read() as session:
            return {
                originator_id: int(version) for originator_id, version in session.execute(query)
            }


class SqlLedgerStores:
    def __init__(self, datastore: Any, secrets: Secrets, recorder: Any) -> None:
        self.db = SqlSession(datastore)
        self.events = SqlBulkEventReader(self.db, recorder)
        self.blobs = SqlBlobStore(self.db)
        self.wrapped_keys = SqlWrappedKeyStore(self.db)
        self.vault = SqlKeyVault(self.db, secrets)
        self.idempotency = SqlIdempotencyStore(self.db)

    def unit_of_work(self) -> Any:
        return self.db.write()
