"""The legal moment of receipt: first opening, or deemed on the N-th Belgian working day.

Working days skip weekends and Belgian public holidays (Easter Monday, 21 July,
11 November, Christmas...) and are counted on Brussels dates, so the day of
availability and the deemed instant follow Brussels summer and winter time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ebox.domain.proofs.legal_timing import (
    BRUSSELS,
    DEEMED,
    FIRST_OPENING,
    LegalRule,
    LegalRuleError,
    ReceiptRule,
    brussels_date,
    deemed_at,
    is_working_day,
    legal_moment,
    legal_moment_of_events,
    nth_working_day_after,
    working_days_between,
)

EARLIEST = LegalRule(ReceiptRule.EARLIEST_OF, 3)
LATER = datetime(2030, 1, 1, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("delivered", "deemed", "why"),
    [
        ("2026-12-04T10:00:00Z", "2026-12-08T23:00:00Z", "a Friday: Mon, Tue, Wed"),
        ("2027-03-26T10:00:00Z", "2027-03-31T22:00:00Z", "Easter Monday skipped, summer time"),
        ("2027-07-19T10:00:00Z", "2027-07-22T22:00:00Z", "21 July (national day) skipped"),
        ("2026-11-10T10:00:00Z", "2026-11-15T23:00:00Z", "11 November (Armistice) skipped"),
        ("2026-12-23T10:00:00Z", "2026-12-28T23:00:00Z", "Christmas on a Friday skipped"),
        ("2027-07-04T22:30:00Z", "2027-07-07T22:00:00Z", "Sunday in UTC, Monday in Brussels"),
        ("2026-10-22T10:00:00Z", "2026-10-26T23:00:00Z", "across the end of summer time"),
        ("2027-03-25T12:00:00Z", "2027-03-30T22:00:00Z", "across the start of summer time"),
    ],
)
def test_the_deemed_moment_is_the_start_of_the_third_working_day(
    delivered: str, deemed: str, why: str
) -> None:
    assert deemed_at(utc(delivered), 3) == utc(deemed), why


def test_belgian_public_holidays_are_not_working_days() -> None:
    for holiday in (
        date(2027, 3, 29),  # Easter Monday
        date(2027, 5, 1),
        date(2027, 5, 6),  # Ascension
        date(2027, 5, 17),  # Whit Monday
        date(2027, 7, 21),
        date(2025, 8, 15),  # Assumption
        date(2026, 11, 11),
        date(2026, 12, 25),
        date(2027, 1, 1),
    ):
        assert not is_working_day(holiday), holiday
    assert is_working_day(date(2026, 12, 24)) and is_working_day(date(2027, 3, 30))
    assert not is_working_day(date(2026, 12, 5)) and not is_working_day(date(2026, 12, 6))


def test_the_day_of_availability_is_the_brussels_date() -> None:
    assert brussels_date(utc("2026-12-31T23:30:00Z")) == date(2027, 1, 1)
    assert brussels_date(utc("2027-06-30T21:59:59Z")) == date(2027, 6, 30)
    assert brussels_date(utc("2027-06-30T22:00:00Z")) == date(2027, 7, 1)


def test_earliest_of_takes_the_first_opening_when_it_comes_first() -> None:
    delivered, read = utc("2026-12-04T10:00:00Z"), utc("2026-12-07T08:15:00Z")
    moment = legal_moment(EARLIEST, delivered, read, as_of=LATER)
    assert moment is not None and (moment.at, moment.reason) == (read, FIRST_OPENING)
    assert moment.rule is ReceiptRule.EARLIEST_OF and moment.working_days == 3


def test_earliest_of_takes_the_deemed_day_when_the_opening_comes_later() -> None:
    delivered, read = utc("2026-12-04T10:00:00Z"), utc("2026-12-10T08:15:00Z")
    moment = legal_moment(EARLIEST, delivered, read, as_of=LATER)
    assert moment is not None
    assert (moment.at, moment.reason) == (utc("2026-12-08T23:00:00Z"), DEEMED)


def test_a_deemed_day_not_yet_reached_is_not_stated() -> None:
    delivered = utc("2026-12-04T10:00:00Z")
    assert legal_moment(EARLIEST, delivered, None, as_of=utc("2026-12-08T22:59:59Z")) is None
    reached = legal_moment(EARLIEST, delivered, None, as_of=utc("2026-12-08T23:00:00Z"))
    assert reached is not None and reached.reason == DEEMED


def test_first_opening_alone_never_deems_and_deemed_alone_ignores_the_opening() -> None:
    delivered, read = utc("2026-12-04T10:00:00Z"), utc("2026-12-07T08:15:00Z")
    first = LegalRule(ReceiptRule.FIRST_OPENING, 3)
    assert legal_moment(first, delivered, None, as_of=LATER) is None
    opened = legal_moment(first, delivered, read, as_of=LATER)
    assert opened is not None and opened.at == read
    deemed = legal_moment(
        LegalRule(ReceiptRule.DEEMED_WORKING_DAY, 3), delivered, read, as_of=LATER
    )
    assert deemed is not None and deemed.reason == DEEMED
    assert legal_moment(EARLIEST, None, None, as_of=LATER) is None  # never made available


def test_an_unknown_rule_or_a_bad_number_of_days_is_refused() -> None:
    with pytest.raises(LegalRuleError, match="unknown receipt rule"):
        LegalRule.parse("whenever", 3)
    with pytest.raises(LegalRuleError, match="working days"):
        LegalRule.parse("earliest-of", 0)


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
counts = st.integers(min_value=1, max_value=40)


@given(days, counts)
def test_the_nth_working_day_is_a_working_day_exactly_n_working_days_later(
    day: date, n: int
) -> None:
    result = nth_working_day_after(day, n)
    assert result > day and is_working_day(result)
    assert working_days_between(day, result) == n
    assert working_days_between(day, result - timedelta(days=1)) == n - 1


@given(days, counts)
def test_one_more_working_day_is_always_later(day: date, n: int) -> None:
    assert nth_working_day_after(day, n + 1) > nth_working_day_after(day, n)
    # never more than a week and a half of holidays and weekends per working day
    assert (nth_working_day_after(day, n) - day).days <= 3 * n + 4


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    counts,
)
def test_the_deemed_instant_is_midnight_in_brussels_on_a_working_day(
    delivered: datetime, n: int
) -> None:
    deemed = deemed_at(delivered, n).astimezone(BRUSSELS)
    assert (deemed.hour, deemed.minute, deemed.second) == (0, 0, 0)
    assert is_working_day(deemed.date()) and deemed > delivered
    assert working_days_between(brussels_date(delivered), deemed.date()) == n


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC)
    ),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
    counts,
)
def test_earliest_of_is_the_earlier_of_the_two_moments(
    delivered: datetime, wait: timedelta, n: int
) -> None:
    rule = LegalRule(ReceiptRule.EARLIEST_OF, n)
    read = delivered + wait
    moment = legal_moment(rule, delivered, read, as_of=LATER + timedelta(days=365 * 40))
    assert moment is not None
    assert moment.at == min(read, deemed_at(delivered, n))


def event(kind: str, at: str) -> dict[str, object]:
    return {"type": kind, "timestamp": at, "data": {}}


def test_from_events_the_moment_is_known_as_of_the_seal_or_the_last_event() -> None:
    sent, delivered = (
        event("Sent", "2026-12-04T10:00:00Z"),
        event("Delivered", "2026-12-04T10:00:01Z"),
    )
    sealed_early, sealed_late = utc("2026-12-05T00:00:00Z"), utc("2026-12-09T00:00:00Z")
    assert legal_moment_of_events(EARLIEST, [sent, delivered], sealed_early) is None
    late = legal_moment_of_events(EARLIEST, [sent, delivered], sealed_late)
    assert late is not None and late.at == utc("2026-12-08T23:00:00Z")
    # expired unread: no opening can follow, the deemed day is settled even if still to come
    expired = event("Expired", "2026-12-05T12:00:00Z")
    closed = legal_moment_of_events(EARLIEST, [sent, delivered, expired], sealed_early)
    assert closed is not None and closed.reason == DEEMED
    read = event("Read", "2026-12-05T08:00:00Z")
    opened = legal_moment_of_events(EARLIEST, [sent, delivered, read], sealed_early)
    assert opened is not None and opened.at == utc("2026-12-05T08:00:00Z")
