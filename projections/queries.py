"""What the read models' queries share: the contract's EboxId, pages, and query refusals.

Imported by the views and re-exported by `ebox.projections.runner`, where they lived first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar
from uuid import UUID

from ebox.domain.errors import EboxError
from ebox.domain.errors import NotFound as DomainNotFound
from ebox.domain.publication import Recipient

MAX_PAGE_SIZE = 100

# Query refusals are domain errors, so the API maps them like any other (400 and 404).


class InvalidQuery(EboxError):
    """The query's parameters are invalid."""

    code = "INVALID_REQUEST"


class NotFound(DomainNotFound):
    """Nothing matches, or nothing the caller may see."""


T = TypeVar("T")


EboxId = Recipient
"""The contract's EboxId (`eboxType` + `eboxIdValue`): the domain's Recipient, one concept."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and the number of items of the whole listing."""

    items: tuple[T, ...]
    total_items: int
    page: int
    page_size: int


def check_paging(page: int, page_size: int, max_page_size: int = MAX_PAGE_SIZE) -> int:
    """The OFFSET of a 1-based page; refuses what the contract refuses."""
    if page < 1:
        raise InvalidQuery(f"page must be 1 or more, not {page}")
    if not 1 <= page_size <= max_page_size:
        raise InvalidQuery(f"pageSize must lie between 1 and {max_page_size}, not {page_size}")
    return (page - 1) * page_size


def canonical_message_id(message_id: str) -> str:
    """Message ids are stored as canonical UUID text; anything else matches nothing."""
    try:
        return str(UUID(message_id))
    except ValueError:
        return message_id


def utc(moment: datetime | None) -> datetime | None:
    """Aware UTC: SQLite hands back naive UTC datetimes, PostgreSQL aware ones."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_required(moment: datetime) -> datetime:
    value = utc(moment)
    assert value is not None
    return value
