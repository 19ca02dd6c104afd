"""Hash-chained aggregates: every event names the hash of the one before it.

The chain is computed once, when an event is triggered, from the canonical
event object (proofs/canonical.py), and stored with the event. It is checked
again on every load by :func:`project_verified`, which the application's
repository uses instead of eventsourcing's plain projector: an aggregate whose
stored events were altered, removed or reordered never loads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from ebox.domain.errors import ChainIntegrityError
from ebox.domain.proofs.canonical import ZERO_HASH, canonical_event, event_hash

_BASE_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "originator_topic",
        "prev_hash",
        "event_hash",
    }
)

A = TypeVar("A", bound="ChainedAggregate")


def event_type_name(event_class: type) -> str:
    """`Sent`, `Delivered`, ...: the last part of the event's qualified name."""
    return event_class.__qualname__.rsplit(".", 1)[-1]


def event_data(event: Any) -> dict[str, Any]:
    """The `data` member of an event's canonical object: its own fields only."""
    return {k: v for k, v in vars(event).items() if k not in _BASE_FIELDS}


class ChainedAggregate(Aggregate):
    """Base of every ledger aggregate: events form a SHA-256 hash chain."""

    aggregate_type: ClassVar[str] = "Aggregate"

    class Event(Aggregate.Event):
        prev_hash: str
        event_hash: str

        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            aggregate.chain_head = self.event_hash
            return aggregate

        def canonical(self, aggregate_type: str) -> dict[str, Any]:
            return canonical_event(
                aggregate_id=str(self.originator_id),
                aggregate_type=aggregate_type,
                version=self.originator_version,
                type=event_type_name(type(self)),
                timestamp=self.timestamp,
                prev_hash=self.prev_hash,
                data=event_data(self),
            )

    class Created(Event, Aggregate.Created):
        pass

    chain_head = ZERO_HASH

    @classmethod
    def _create(cls: type[A], event_class: Any, *, id: UUID | None = None, **kwargs: Any) -> A:
        originator_id = id if id is not None else cls.create_id(**kwargs)
        timestamp = event_class.create_timestamp()
        digest = event_hash(
            canonical_event(
                aggregate_id=str(originator_id),
                aggregate_type=cls.aggregate_type,
                version=cls.INITIAL_VERSION,
                type=event_type_name(event_class),
                timestamp=timestamp,
                prev_hash=ZERO_HASH,
                data=kwargs,
            )
        )
        return super()._create(  # type: ignore[misc]
            event_class,
            id=originator_id,
            timestamp=timestamp,
            prev_hash=ZERO_HASH,
            event_hash=digest,
            **kwargs,
        )

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        timestamp = event_class.create_timestamp()
        digest = event_hash(
            canonical_event(
                aggregate_id=str(self.id),
                aggregate_type=self.aggregate_type,
                version=self.version + 1,
                type=event_type_name(event_class),
                timestamp=timestamp,
                prev_hash=self.chain_head,
                data=kwargs,
            )
        )
        super().trigger_event(
            event_class,
            timestamp=timestamp,
            prev_hash=self.chain_head,
            event_hash=digest,
            **kwargs,
        )


def aggregate_type_of(event: Any) -> str:
    """The aggregate type an event belongs to, from its class's qualified name."""
    return type(event).__qualname__.split(".", 1)[0]


def verify_event(event: Any, expected_prev: str) -> None:
    """Recompute one event's hash and link; raise ChainIntegrityError on any difference."""
    aggregate_id = str(event.originator_id)
    version = event.originator_version
    if event.prev_hash != expected_prev:
        raise ChainIntegrityError(
            "broken chain link",
            aggregate_id=aggregate_id,
            version=version,
            expected=expected_prev,
            actual=event.prev_hash,
        )
    recomputed = event_hash(event.canonical(aggregate_type_of(event)))
    if recomputed != event.event_hash:
        raise ChainIntegrityError(
            "event hash mismatch (stored event was modified)",
            aggregate_id=aggregate_id,
            version=version,
            expected=event.event_hash,
            actual=recomputed,
        )


def project_verified(aggregate: Any, events: Iterable[Any]) -> Any:
    """eventsourcing projector that refuses a broken chain.

    Decoding happens lazily inside the store's iterator, so a byte changed in
    stored state may surface as a decoding error: that is tampering too.
    """
    iterator: Iterator[Any] = iter(events)
    expected_version = aggregate.version + 1 if aggregate is not None else 1
    while True:
        try:
            event = next(iterator)
        except StopIteration:
            return aggregate
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as error:
            raise ChainIntegrityError(
                f"stored event cannot be decoded ({error})",
                aggregate_id=str(aggregate.id) if aggregate is not None else "?",
                version=expected_version,
                expected="a decodable event",
                actual="undecodable state",
            ) from error
        if event.originator_version != expected_version:
            raise ChainIntegrityError(
                "missing or reordered event",
                aggregate_id=str(event.originator_id),
                version=event.originator_version,
                expected=str(expected_version),
                actual=str(event.originator_version),
            )
        verify_event(event, aggregate.chain_head if aggregate is not None else ZERO_HASH)
        aggregate = event.mutate(aggregate)
        expected_version += 1
