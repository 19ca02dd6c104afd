"""What the mailbox model needs from the outside world, and nothing more.

The application depends on these protocols; projections/stores.py implements
them on SQLAlchemy so that blobs, wrapped keys and events commit together.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent


class BlobStore(Protocol):
    """Content-addressed ciphertexts (key: hex SHA-256 of the bytes)."""

    def put_many(self, blobs: Iterable[tuple[str, bytes]]) -> None: ...

    def get(self, digest: str) -> bytes: ...


class WrappedKeyStore(Protocol):
    """Data keys sealed to one key holder each; deleting them shreds the content."""

    def put_many(self, rows: Iterable[tuple[str, str, bytes]]) -> None:
        """Rows of (message id, key fingerprint, wrapped data key)."""

    def get(self, message_id: str) -> dict[str, bytes]: ...

    def destroy(self, message_id: str) -> int: ...


class KeyVault(Protocol):
    """Mailbox private keys, kept encrypted under a key-encryption key."""

    def store(self, fingerprint: str, owner: str, private_key: bytes) -> None: ...

    def load(self, fingerprint: str) -> bytes: ...


class BulkEventReader(Protocol):
    """Every stored event of many aggregates in one round trip (a batch's mailboxes)."""

    def select_events_many(self, ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]: ...

    def latest_versions(self, ids: Iterable[UUID]) -> dict[UUID, int]: ...


class LedgerStores(Protocol):
    events: BulkEventReader
    blobs: BlobStore
    wrapped_keys: WrappedKeyStore
    vault: KeyVault

    def unit_of_work(self) -> AbstractContextManager[object]:
        """One transaction around stores and event saves made inside it."""
