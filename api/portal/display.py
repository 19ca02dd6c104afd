"""How the pages show what the views hold: a text in the reader's language, dates, names.

Kept apart from the routes so that every page shows a sender, a date or a
TranslatedString the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from ebox.adapters.runtime import Ledger
from ebox.api.portal.reference_names import ReferenceNames, reference_names

BRUSSELS = ZoneInfo("Europe/Brussels")
EXPIRY_SOON = timedelta(days=30)
FALLBACK_ORDER = ("en", "nl", "fr", "de")
CHOICES = 100  # the filters list at most this many senders and message types


def pick(texts: Mapping[str, str] | None, language: str) -> str:
    """The text in `language`, else in the first language that has one ('' if none)."""
    if not texts:
        return ""
    for candidate in (language, *FALLBACK_ORDER):
        if texts.get(candidate):
            return texts[candidate]
    return next(iter(texts.values()), "")


def date(value: datetime | None, language: str) -> str:
    if value is None:
        return ""
    return format_date(value.astimezone(BRUSSELS), format="medium", locale=language)


def date_time(value: datetime | None, language: str) -> str:
    if value is None:
        return ""
    return format_datetime(value, format="medium", tzinfo=BRUSSELS, locale=language)


def iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value is not None else ""


def expires_soon(expiration: datetime | None, now: datetime | None = None) -> bool:
    if expiration is None:
        return False
    return expiration - (now or datetime.now(UTC)) < EXPIRY_SOON


def amount(value: object, currency: str, language: str) -> str:
    """An amount of payment data (a number or a decimal string) in the reader's notation."""
    try:
        return format_currency(str(value), currency or "EUR", locale=language)
    except (ValueError, ArithmeticError):
        return f"{value} {currency}"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


def sender_names(ledger: Ledger, kbos: Iterable[str], language: str) -> dict[str, str]:
    """The name of each sender organisation (its KBO number when the catalogue has none).

    From the cached catalogue names (ebox.api.portal.reference_names): the same
    statements however many senders a page names.
    """
    return names_of_senders(reference_names(ledger), kbos, language)


def names_of_senders(
    catalogue: ReferenceNames, kbos: Iterable[str], language: str
) -> dict[str, str]:
    """`sender_names` from names already read (a page reads the catalogue's version once)."""
    return {kbo: pick(catalogue.senders.get(kbo), language) or kbo for kbo in set(kbos)}


def sender_choices(catalogue: ReferenceNames, language: str) -> list[Choice]:
    """The first `CHOICES` sender organisations (in KBO order), sorted by their name."""
    senders = list(catalogue.senders.items())[:CHOICES]
    choices = [Choice(kbo, pick(names, language) or kbo) for kbo, names in senders]
    return sorted(choices, key=lambda c: c.label.casefold())


def message_type_choices(catalogue: ReferenceNames, language: str) -> list[Choice]:
    """The first `CHOICES` message types (in id order), sorted by their name."""
    types = list(catalogue.message_types.items())[:CHOICES]
    choices = [Choice(type_id, pick(names, language) or type_id) for type_id, names in types]
    return sorted(choices, key=lambda c: c.label.casefold())
