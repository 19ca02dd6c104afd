"""The rules of ebox.domain.limits, and the aggregates that keep to them.

What is registered outside the API (senders, applications, message types,
mailboxes, through the CLI) ends up in the same read-model columns and search
documents as what is published, so the aggregates refuse what would not fit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ebox.api.contract import parse_contract_datetime
from ebox.api.validation import parse_json
from ebox.domain.limits import (
    LIMITS,
    FieldRejected,
    checked_amount,
    checked_identifier,
    checked_moment,
    checked_text,
)
from ebox.domain.mailbox import Mailbox
from ebox.domain.sender import SenderOrganization

KBO = "0308357159"


@pytest.mark.parametrize("value", ["a\x00b", "\x1f", "\x7f", "\x85", "\ud800", "tab\there"])
def test_an_identifier_holds_no_control_character(value: str) -> None:
    with pytest.raises(FieldRejected, match="no control characters"):
        checked_identifier(value, "id", 100)


def test_a_text_may_hold_tabs_and_line_ends_but_no_other_control() -> None:
    assert checked_text("Beste\r\n\tburger", "text", 100) == "Beste\r\n\tburger"
    with pytest.raises(FieldRejected):
        checked_text("Beste\x00burger", "text", 100)


def test_a_value_as_long_as_its_limit_is_accepted_and_one_more_is_not() -> None:
    assert checked_identifier("m" * 64, "id", 64)
    with pytest.raises(FieldRejected, match="longer than 64"):
        checked_identifier("m" * 65, "id", 64)


@pytest.mark.parametrize("amount", [0, 1234.56, -3, 999_999_999_999.999])
def test_amounts_within_bounds_are_decimals(amount: float) -> None:
    assert checked_amount(amount, "amount") == Decimal(str(amount))


@pytest.mark.parametrize(
    "amount", [float("nan"), float("inf"), 2**64, 1e400, 1.0001, True, "12", None]
)
def test_amounts_out_of_bounds_or_of_another_type_are_refused(amount: object) -> None:
    with pytest.raises(FieldRejected):
        checked_amount(amount, "amount")


def test_moments_are_kept_within_the_range_in_utc() -> None:
    fourteen = timezone(timedelta(hours=14))
    assert checked_moment(datetime(2026, 1, 1, 14, tzinfo=fourteen), "t") == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    with pytest.raises(FieldRejected):
        checked_moment(datetime(1, 1, 1, tzinfo=fourteen), "t")  # before year 1 in UTC
    with pytest.raises(FieldRejected):
        checked_moment(LIMITS.latest, "t")


@pytest.mark.parametrize(
    "text", ["2026-W01", "20260101T000000Z", "2026-01-01T00:00:00+24:00", "٢٠٢٦-01-01", "x"]
)
def test_the_contract_date_parser_takes_rfc_3339_only(text: str) -> None:
    with pytest.raises(FieldRejected):
        parse_contract_datetime(text, "t", date_allowed=True)


def test_a_date_alone_is_its_midnight_in_utc_where_allowed() -> None:
    assert parse_contract_datetime("2026-03-01", "t", date_allowed=True) == datetime(
        2026, 3, 1, tzinfo=UTC
    )
    with pytest.raises(FieldRejected):
        parse_contract_datetime("2026-03-01", "t")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000 + "]" * 5000,
        "[NaN]",
        "[Infinity]",
        "[1e400]",
        f"[{2**64}]",
        "[" + "9" * 5000 + "]",
    ],
)
def test_json_is_read_within_depth_with_finite_numbers_and_exact_integers(text: str) -> None:
    with pytest.raises(FieldRejected):
        parse_json(text, "m")


def test_json_within_the_bounds_is_read() -> None:
    deepest = "[" * LIMITS.json_depth + "]" * LIMITS.json_depth
    assert parse_json(deepest, "m") is not None
    assert parse_json(f'{{"n": {LIMITS.json_integer}, "x": 1.5}}', "m") == {
        "n": LIMITS.json_integer,
        "x": 1.5,
    }


def test_a_sender_registers_only_what_fits_its_columns() -> None:
    with pytest.raises(FieldRejected):
        SenderOrganization.register("0" * (LIMITS.kbo_number + 1), {"nl": "FOD"})
    with pytest.raises(FieldRejected):
        SenderOrganization.register(KBO, {"nl": "FOD\x00"})
    sender = SenderOrganization.register(KBO, {"nl": "FOD Financiën"})
    with pytest.raises(FieldRejected):
        sender.register_application("a" * (LIMITS.sender_application_id + 1), {"en": "app"})
    with pytest.raises(FieldRejected):
        sender.register_message_type("T" * (LIMITS.message_type_id + 1), {"nl": "T"}, "YEAR", 1)
    sender.register_application("a" * LIMITS.sender_application_id, {"en": "app"})
    sender.register_message_type("T" * LIMITS.message_type_id, {"nl": "T"}, "YEAR", 1)


def test_a_mailbox_opens_only_for_an_id_that_fits_its_columns() -> None:
    with pytest.raises(FieldRejected):
        Mailbox.open("citizen", "5" * (LIMITS.ebox_id_value + 1))
    with pytest.raises(FieldRejected):
        Mailbox.open("citizen", "58102882214\x00")
    assert Mailbox.open("citizen", "58102882214").id_value == "58102882214"
