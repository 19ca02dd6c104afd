"""One letter submitted once: the publication use case's answer and its Idempotency-Key rule.

A sender may retry a publication with the same Idempotency-Key as often as it
likes: the first request that commits makes the letter, every other one is
answered with that letter (`replayed`), a request that is not the same under
the same key is refused (`IdempotencyKeyReused`), and a retry that arrives
while the first is still being written is told so (`IdempotencyKeyInFlight`)
rather than kept waiting. The key is claimed through the `IdempotencyStore`
port as the unit of work's first statement and answered in the same unit of
work, so a letter and its key exist together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from ebox.domain.errors import Conflict, EboxError
from ebox.domain.ports import IdempotencyStore, KeyInFlight, KeyTaken, StoredSubmission


@dataclass(frozen=True)
class IdempotencyKey:
    """A sender's Idempotency-Key and the digest of the request it came with.

    The digest is of what the client sent (the request's bytes), not of the
    publication made of it: an unsigned letter's submission time is the
    ledger's clock, different on every retry.
    """

    value: str
    request_sha256: str


@dataclass(frozen=True)
class Submitted:
    """The answer to a submission: the letter, its expiry, and where the write landed.

    `position` is the notification id of this write (None for a replay, which
    wrote nothing); `replayed` tells that an earlier request's letter is answered.
    """

    message_id: str
    expires_at: datetime
    position: int | None
    replayed: bool = False


class IdempotencyKeyReused(EboxError):
    """The key was used before for a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyKeyInFlight(Conflict):
    """The key's first request has not committed yet; the client should retry later."""

    code = "IDEMPOTENCY_KEY_IN_FLIGHT"


def submit_once(
    store: IdempotencyStore,
    unit_of_work: Callable[[], AbstractContextManager[object]],
    client_id: str,
    key: IdempotencyKey | None,
    write: Callable[[Callable[[str, datetime], None]], Submitted],
) -> Submitted:
    """Run `write` in one unit of work with the key claimed first and answered inside it.

    `write` is handed the function that answers the key; it calls it once the
    letter's id and expiry are known and before the letter's events are saved
    (on PostgreSQL the event table is locked from that save to the commit).
    """
    if key is None:
        with unit_of_work():
            return write(lambda message_id, expires_at: None)

    def answer(message_id: str, expires_at: datetime) -> None:
        store.answer(client_id, key.value, message_id, expires_at)

    try:
        with unit_of_work():
            store.claim(client_id, key.value, key.request_sha256)
            return write(answer)
    except KeyTaken:
        earlier = store.find(client_id, key.value)
        if earlier is None:  # nothing removes a committed key; if it were gone, retry later
            raise _in_flight() from None
        return _replayed(earlier, key)
    except KeyInFlight:
        raise _in_flight() from None


def _replayed(earlier: StoredSubmission, key: IdempotencyKey) -> Submitted:
    if earlier.request_sha256 != key.request_sha256:
        raise IdempotencyKeyReused("this Idempotency-Key was used for a different request")
    return Submitted(earlier.message_id, earlier.expires_at, position=None, replayed=True)


def _in_flight() -> IdempotencyKeyInFlight:
    return IdempotencyKeyInFlight(
        "a request with this Idempotency-Key is still being processed; retry later"
    )
