"""When a registered letter counts as received in law: the legal moment and its rule.

Belgium's 2023 reform of electronic notification lets the moment of receipt be
either the addressee's first opening of the message, or a deemed receipt a set
number of working days after the message was made available, whichever comes
first. Which rule applies is the operator's setting (a legal choice, not ours);
this module computes the moment from two ledger facts, the Delivered event's
time (made available) and the first Read event's time (first opening of the
main content), so that the ledger, the evidence bundle and the offline verifier
all compute the very same moment.

Working days exclude Saturdays, Sundays and Belgian public holidays (the
`holidays` package's calendar for BE) and are counted on Europe/Brussels local
dates: a letter made available at 23:30 UTC on a Sunday in summer is made
available on Monday in Brussels. The deemed moment is the start (00:00,
Brussels time) of the N-th working day after the day of availability: the rule
speaks of a day, and the start of that day is the one instant that does not
depend on office hours. Pure: no clock, no framework, no I/O.

It lives among the proof modules (not beside the aggregates in ``ebox.domain``)
because the offline verifier recomputes the moment from a bundle's events and
may import nothing of the domain but ``ebox.domain.proofs``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from ebox.domain.proofs.canonical import parse_rfc3339

BRUSSELS = ZoneInfo("Europe/Brussels")
DEFAULT_WORKING_DAYS = 3
"""The 2023 reform's default: deemed received on the third working day."""
MAX_WORKING_DAYS = 366

FIRST_OPENING = "first-opening"
DEEMED = "deemed"


class ReceiptRule(StrEnum):
    """Which facts make a registered letter received (EBOX_LEGAL_RECEIPT_RULE)."""

    FIRST_OPENING = "first-opening"
    """Only the first opening of the main content; never received while unread."""
    DEEMED_WORKING_DAY = "deemed-working-day"
    """Only the deemed receipt, N working days after it was made available."""
    EARLIEST_OF = "earliest-of"
    """The first opening or the deemed receipt, whichever comes first (the default)."""


class LegalRuleError(ValueError):
    """A rule id or a number of working days that this module does not know how to apply."""


@dataclass(frozen=True)
class LegalRule:
    """A rule and its number of working days: what the bundle states and the verifier applies."""

    rule: ReceiptRule = ReceiptRule.EARLIEST_OF
    working_days: int = DEFAULT_WORKING_DAYS

    def __post_init__(self) -> None:
        if type(self.working_days) is not int or not 1 <= self.working_days <= MAX_WORKING_DAYS:
            raise LegalRuleError(
                f"working days must be an integer from 1 to {MAX_WORKING_DAYS}, "
                f"not {self.working_days!r}"
            )

    @classmethod
    def parse(cls, rule: str, working_days: int) -> LegalRule:
        try:
            known = ReceiptRule(rule)
        except ValueError:
            choices = ", ".join(r.value for r in ReceiptRule)
            raise LegalRuleError(f"unknown receipt rule {rule!r} (one of {choices})") from None
        return cls(known, working_days)


@dataclass(frozen=True)
class LegalMoment:
    """The computed moment of receipt, the rule that produced it and which limb applied."""

    at: datetime
    rule: ReceiptRule
    working_days: int
    reason: str
    """``first-opening`` (the Read event's time) or ``deemed`` (the N-th working day)."""


@lru_cache(maxsize=64)
def _belgian_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("BE", years=year).keys())


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a Belgian public holiday."""
    return day.weekday() < 5 and day not in _belgian_holidays(day.year)


def brussels_date(moment: datetime) -> date:
    """The local calendar date in Brussels of an aware instant."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed (ledger times are UTC)")
    return moment.astimezone(BRUSSELS).date()


def nth_working_day_after(day: date, n: int) -> date:
    """The n-th working day strictly after `day` (n >= 1); `day` itself never counts."""
    if n < 1:
        raise LegalRuleError(f"n must be at least 1, not {n}")
    current, counted = day, 0
    while counted < n:
        current += timedelta(days=1)
        if is_working_day(current):
            counted += 1
    return current


def working_days_between(start: date, end: date) -> int:
    """How many working days lie in (start, end]: the inverse of :func:`nth_working_day_after`."""
    count, current = 0, start
    while current < end:
        current += timedelta(days=1)
        count += is_working_day(current)
    return count


def deemed_at(delivered_at: datetime, working_days: int) -> datetime:
    """00:00 Brussels time of the N-th working day after availability, as a UTC instant."""
    day = nth_working_day_after(brussels_date(delivered_at), working_days)
    return datetime.combine(day, time(0), tzinfo=BRUSSELS).astimezone(UTC)


def legal_moment(
    rule: LegalRule,
    delivered_at: datetime | None,
    read_at: datetime | None,
    *,
    as_of: datetime,
) -> LegalMoment | None:
    """The legal moment of receipt as known at `as_of`, or None while it is not settled.

    `delivered_at` is the Delivered event's time, `read_at` the first Read
    event's time. A deemed moment later than `as_of` is not stated: a first
    opening before it would still take precedence (earliest-of), and a moment
    not yet reached is not a fact. A letter never made available is never
    received.
    """
    if delivered_at is None:
        return None
    opened = None
    if read_at is not None and rule.rule is not ReceiptRule.DEEMED_WORKING_DAY:
        opened = LegalMoment(read_at, rule.rule, rule.working_days, FIRST_OPENING)
    if rule.rule is ReceiptRule.FIRST_OPENING:
        return opened
    deemed = deemed_at(delivered_at, rule.working_days)
    if opened is not None and opened.at <= deemed:
        return opened
    if deemed <= as_of:
        return LegalMoment(deemed, rule.rule, rule.working_days, DEEMED)
    return None


def legal_moment_of_events(
    rule: LegalRule, events: Iterable[Mapping[str, Any]], sealed_at: datetime | None
) -> LegalMoment | None:
    """The legal moment from a message's canonical events, as the ledger knew them when sealed.

    Made available = the first Delivered event, first opening = the first Read
    event. "Known at" is the later of the checkpoint's seal time and the last
    event's time: every event of the message up to then is in the bundle, so no
    unseen Read can come before a deemed moment reached by then. An Expired
    event closes the letter: its content is destroyed, no first opening can
    follow, so its deemed moment is settled even on a day still to come (only
    a validity shorter than N working days, or `ebox workers --now` run ahead
    of the ledger's clock, makes the destruction precede the deemed day).
    """
    delivered_at = read_at = latest = None
    closed = False
    for canonical in events:
        moment = parse_rfc3339(str(canonical.get("timestamp")))
        latest = moment if latest is None else max(latest, moment)
        kind = canonical.get("type")
        if kind == "Delivered" and delivered_at is None:
            delivered_at = moment
        elif kind == "Read" and read_at is None:
            read_at = moment
        elif kind == "Expired":
            closed = True
    known = [m for m in (sealed_at, latest) if m is not None]
    if not known:
        return None
    as_of = datetime.max.replace(tzinfo=UTC) if closed else max(known)
    return legal_moment(rule, delivered_at, read_at, as_of=as_of)
