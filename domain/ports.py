"""What the mailbox model needs from the outside world, and nothing more.

The application depends on these protocols; adapters/stores.py implements
them on SQLAlchemy so that blobs, wrapped keys and events commit together
(and adapters/idempotency.py the idempotency keys, in the same transaction).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent


class Clock(Protocol):
    """What time it is, for deciding what is due: the system clock, or one fixed time.

    Only due work asks it (`ebox workers --now` replays or catches up as of a
    stated time); events keep the ledger's own receipt time whatever it says.
    """

    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


class BlobStore(Protocol):
    """Content-addressed ciphertexts (key: hex SHA-256 of the bytes)."""

    def put_many(self, blobs: Iterable[tuple[str, bytes]]) -> None: ...

    def destroy(self, digests: Iterable[str]) -> int:
        """Delete these blobs (crypto-shredding at expiry); how many were there."""
        ...

    def get(self, digest: str) -> bytes:
        """The bytes stored under `digest`; ContentUnavailable when there are none."""
        ...


class WrappedKeyStore(Protocol):
    """Data keys sealed to one key holder each; deleting them shreds the content."""

    def put_many(self, rows: Iterable[tuple[str, str, bytes]]) -> None:
        """Rows of (message id, key fingerprint, wrapped data key)."""

    def get(self, message_id: str) -> dict[str, bytes]: ...

    def destroy(self, message_id: str) -> int: ...

    def holding(self, message_ids: Iterable[str]) -> set[str]:
        """Those of `message_ids` that still have a wrapped key (their content is alive)."""
        ...


class KeyVault(Protocol):
    """Mailbox private keys, kept encrypted under a key-encryption key."""

    def store(self, fingerprint: str, owner: str, private_key: bytes) -> None: ...

    def store_many(self, keys: Iterable[tuple[str, str, bytes]]) -> None:
        """(fingerprint, owner, private key) triples, in one write (bulk onboarding)."""
        ...

    def load(self, fingerprint: str) -> bytes: ...


class BulkEventReader(Protocol):
    """Every stored event of many aggregates in one round trip (a batch's mailboxes)."""

    def select_events_many(self, ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]: ...

    def latest_versions(self, ids: Iterable[UUID]) -> dict[UUID, int]: ...


@dataclass(frozen=True)
class StoredSubmission:
    """The answer kept under a sender's Idempotency-Key, with what identifies its request."""

    request_sha256: str
    message_id: str
    expires_at: datetime


class KeyTaken(Exception):
    """Another request committed this key first; its answer is stored."""


class KeyInFlight(Exception):
    """Another request holds this key and has not committed yet."""


class IdempotencyStore(Protocol):
    """A sender client's Idempotency-Keys, claimed and answered inside the unit of work.

    `claim` must be the unit of work's first statement, and `answer` fills the
    claimed key before it commits: the key and the letter exist together or
    not at all, and no other transaction sees a key without its answer.
    """

    def find(self, client_id: str, key: str) -> StoredSubmission | None: ...

    def claim(self, client_id: str, key: str, request_sha256: str) -> None:
        """Take the key for this unit of work, or raise KeyTaken / KeyInFlight."""

    def answer(self, client_id: str, key: str, message_id: str, expires_at: datetime) -> None: ...


class LedgerStores(Protocol):
    events: BulkEventReader
    blobs: BlobStore
    wrapped_keys: WrappedKeyStore
    vault: KeyVault
    idempotency: IdempotencyStore

    def unit_of_work(self) -> AbstractContextManager[object]:
        """One transaction around stores and event saves made inside it."""


class Mailer(Protocol):
    """Sends one notification mail (SMTP, or the `.eml` outbox of the embedded default).

    `send` returns once the mail is accepted; it raises `MailRefused`
    (ebox.adapters.mail) with a reason naming no address when it was not.
    """

    def send(self, mail: EmailMessage) -> None: ...
