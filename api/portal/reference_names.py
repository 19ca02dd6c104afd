"""The names of the reference catalogue as the portal shows them, cached per catalogue version.

Every inbox page names the sender of each letter and lists the senders and
message types to filter on. Read from `ReferenceCatalogue` one sender at a
time, that cost three statements per sender of the page (an N+1 that made
the page 2.5 times slower than the API's listing of the same letters). The
catalogue is small and only grows: the inbox projection inserts a row per
registration and never changes or deletes one (names are fixed at
registration, see ebox.projections.catalogue), except a rebuild, which empties
and refills it. So its *version*, the number of rows and the latest
registration time of the organisation and message type tables, changes with
every new sender or message type: each page reads that version (one cheap
statement) and reloads the names only when it moved.

One cache per ledger database (the datastore), shared by the requests of the
app; a reload and the version it is kept under are read in one transaction,
so the names are never newer or older than their version says.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import ref_message_types, ref_sender_organizations
from ebox.projections.catalogue import ReferenceCatalogue

Version = tuple[int, datetime | None, int, datetime | None]


@dataclass(frozen=True)
class ReferenceNames:
    """The names of every sender organisation and message type at one catalogue version."""

    version: Version
    senders: dict[str, dict[str, str]]
    """KBO number -> names, in KBO order."""
    message_types: dict[str, dict[str, str]]
    """Message type id -> names of its first registration, in id order."""


def catalogue_version(session: Session) -> Version:
    """What changes whenever a sender organisation or a message type is registered."""
    o, m = ref_sender_organizations, ref_message_types
    query = select(
        select(func.count()).select_from(o).scalar_subquery(),
        select(func.max(o.c.registered_at)).scalar_subquery(),
        select(func.count()).select_from(m).scalar_subquery(),
        select(func.max(m.c.registered_at)).scalar_subquery(),
    )
    organizations, organizations_at, types, types_at = session.execute(query).one()
    return int(organizations), organizations_at, int(types), types_at


def _load(session: Session, version: Version) -> ReferenceNames:
    o, m = ref_sender_organizations, ref_message_types
    senders = {
        str(kbo): dict(names)
        for kbo, names in session.execute(
            select(o.c.kbo_number, o.c.names).order_by(o.c.kbo_number)
        )
    }
    message_types: dict[str, dict[str, str]] = {}
    rows = session.execute(
        select(m.c.message_type_id, m.c.names).order_by(
            m.c.message_type_id, m.c.registered_at, m.c.sender_kbo
        )
    )
    for type_id, names in rows:
        message_types.setdefault(str(type_id), dict(names))  # the first registration's names
    return ReferenceNames(version, senders, message_types)


class ReferenceNamesCache:
    """The latest `ReferenceNames` read, kept while the catalogue's version stays the same."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: ReferenceNames | None = None

    def names(self, catalogue: ReferenceCatalogue) -> ReferenceNames:
        with catalogue.reading() as session:
            version = catalogue_version(session)
            current = self._current
            if current is not None and current.version == version:
                return current
            loaded = _load(session, version)
        with self._lock:
            self._current = loaded
        return loaded


_caches: WeakKeyDictionary[Any, ReferenceNamesCache] = WeakKeyDictionary()
_caches_lock = threading.Lock()


def reference_names(ledger: Ledger) -> ReferenceNames:
    """The catalogue's names now: one statement when cached, three when it has changed."""
    catalogue = ReferenceCatalogue.of(ledger)
    with _caches_lock:
        cache = _caches.get(catalogue.datastore)
        if cache is None:
            cache = _caches[catalogue.datastore] = ReferenceNamesCache()
    return cache.names(catalogue)
