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
from ebox.projections.catalogue import ReferenceCatalogue, ReferenceNotFound

BRUSSELS = ZoneInfo("Europe/Brussels")
EXPIRY_SOON = timedelta(days=30)
FALLBACK_ORDER = ("en", "nl", "fr", "de")


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
    """The name of each sender organisation (its KBO number when the catalogue has none)."""
    catalogue = ReferenceCatalogue.of(ledger)
    names = {}
    for kbo in set(kbos):
        try:
            names[kbo] = pick(catalogue.sender_organization(kbo).names, language) or kbo
        except ReferenceNotFound:
            names[kbo] = kbo
    return names


def sender_choices(ledger: Ledger, language: str) -> list[Choice]:
    catalogue = ReferenceCatalogue.of(ledger)
    found = catalogue.sender_organizations(1, 100).items
    choices = [
        Choice(s.organization_id, pick(s.names, language) or s.organization_id) for s in found
    ]
    return sorted(choices, key=lambda c: c.label.casefold())


def message_type_choices(ledger: Ledger, language: str) -> list[Choice]:
    catalogue = ReferenceCatalogue.of(ledger)
    found = catalogue.message_types(1, 100).items
    choices = [
        Choice(t.message_type_id, pick(t.names, language) or t.message_type_id) for t in found
    ]
    return sorted(choices, key=lambda c: c.label.casefold())
