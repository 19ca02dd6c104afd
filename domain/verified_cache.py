"""Aggregates verified once and revalidated by version: the mailbox and sender caches.

Replaying and re-hashing a mailbox's or a sender's chain on every request is
what made a sender's path slow; but a cache must never answer with a mailbox
whose consent was revoked a moment ago. So an aggregate is kept only as it was
verified (`project_verified`), and it is served only when the event store's
current version of it is the one kept: any new event reloads it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from uuid import UUID

from ebox.domain.chain import project_verified
from ebox.domain.errors import EboxError, MailboxClosed, NoDigitalUser
from ebox.domain.ids import mailbox_id
from ebox.domain.mailbox import Mailbox
from ebox.domain.publication import Recipient

if TYPE_CHECKING:
    from eventsourcing.persistence import Mapper

    from ebox.domain.ports import LedgerStores

MAILBOX_CACHE_SIZE = 100_000
SENDER_CACHE_SIZE = 10_000


class Versioned(Protocol):
    @property
    def id(self) -> UUID: ...

    @property
    def version(self) -> int: ...


Aggregate = TypeVar("Aggregate", bound=Versioned)


class VerifiedCache(Generic[Aggregate]):
    """Verified aggregates by id, at most `size` of them (the oldest is dropped first).

    The aggregates are shared between requests: callers must not change them.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: dict[UUID, Aggregate] = {}
        self._lock = threading.Lock()

    def get(self, aggregate_id: UUID) -> Aggregate | None:
        return self._items.get(aggregate_id)

    def at(self, aggregate_id: UUID, version: int) -> Aggregate | None:
        """The kept aggregate if it is still at `version` (the store's current one)."""
        cached = self._items.get(aggregate_id)
        return cached if cached is not None and cached.version == version else None

    def version_of(self, aggregate_id: UUID) -> int | None:
        cached = self._items.get(aggregate_id)
        return None if cached is None else int(cached.version)

    def __getitem__(self, aggregate_id: UUID) -> Aggregate:
        return self._items[aggregate_id]

    def remember(self, aggregate: Aggregate) -> None:
        with self._lock:
            if len(self._items) >= self.size:
                self._items.pop(next(iter(self._items)))
            self._items[aggregate.id] = aggregate


class MailboxCache:
    """The ledger's verified mailboxes, for access decisions and for a batch's recipients.

    A mixin of EboxLedger, which gives it the stores, the mapper and `_mailboxes`.
    """

    if TYPE_CHECKING:
        stores: LedgerStores
        mapper: Mapper[Any]
        _mailboxes: VerifiedCache[Mailbox]

    def mailbox_for_reading(self, ebox_type: str, id_value: str) -> Mailbox:
        """A mailbox for access decisions: verified once, then revalidated by version only.

        The object is shared between requests: callers must not change it (use
        `mailbox()` for that). A consent or mandate revoked a moment ago is seen,
        since any new event bumps the version.
        """
        aggregate_id = mailbox_id(ebox_type, id_value)
        version = self.stores.events.latest_versions([aggregate_id]).get(aggregate_id)
        if version is None:
            raise NoDigitalUser(f"{ebox_type}:{id_value} has no eBox")
        cached = self._mailboxes.at(aggregate_id, version)
        if cached is not None:
            return cached
        stored = self.stores.events.select_events_many([aggregate_id])[aggregate_id]
        mailbox: Mailbox = project_verified(None, map(self.mapper.to_domain_event, stored))
        self._mailboxes.remember(mailbox)
        return mailbox

    def _preload_mailboxes(
        self,
        recipients_of_batch: Sequence[Recipient],
        cache: dict[str, Mailbox | EboxError],
        current: Mapping[UUID, int] | None = None,
    ) -> None:
        """Load every recipient's mailbox of a batch in one query, chains verified.

        `current`, if given, holds their versions as read by the caller (else one query).
        """
        recipients = {r.address: r for r in recipients_of_batch}
        ids = {mailbox_id(r.ebox_type, r.id_value): a for a, r in recipients.items()}
        if current is None:
            versions = self.stores.events.latest_versions(ids)
        else:
            versions = {i: current[i] for i in ids if i in current}
        stale = [i for i in ids if i in versions and self._mailboxes.version_of(i) != versions[i]]
        for stored in self.stores.events.select_events_many(stale).values():
            mailbox = project_verified(None, map(self.mapper.to_domain_event, stored))
            self._mailboxes.remember(mailbox)
        for aggregate_id, address in ids.items():
            if aggregate_id not in versions:
                cache[address] = NoDigitalUser(f"{address} has no eBox")
                continue
            mailbox = self._mailboxes[aggregate_id]
            cache[address] = (
                MailboxClosed(f"the eBox of {address} is closed") if mailbox.closed else mailbox
            )
