"""Stable aggregate ids derived from the identifiers people already use.

A sender organisation is known by its KBO number and a mailbox by its eBox type
and id value; deriving the UUID from those lets any service find the aggregate
without a lookup table, and makes a duplicate registration collide.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5


def sender_id(kbo_number: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:ebox:sender:{kbo_number}")


def mailbox_id(ebox_type: str, id_value: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:ebox:mailbox:{ebox_type}:{id_value}")


def is_kbo_number(value: str) -> bool:
    """KBO/BCE enterprise number: 10 digits, modulo-97 check on the last two."""
    digits = value.replace(".", "").replace(" ", "")
    if len(digits) != 10 or not digits.isdigit():
        return False
    return 97 - int(digits[:8]) % 97 == int(digits[8:])


def is_national_register_number(value: str) -> bool:
    """Belgian NRN: 11 digits, check digits 97 - (first 9 mod 97), with the 2000+ rule."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) != 11:
        return False
    body, check = int(digits[:9]), int(digits[9:])
    return 97 - body % 97 == check or 97 - int("2" + digits[:9]) % 97 == check


def national_register_number_problem(value: str) -> str | None:
    """Why `value` is not a national register number (None if it is one).

    An operator who mistypes one digit should read that the check digit is wrong,
    not that the value is not a number at all.
    """
    if len(value) != 11 or not value.isdigit():
        return f"{value!r} is not a national register number: 11 digits are expected"
    if not is_national_register_number(value):
        return (
            f"{value} is not a national register number: its check digits are wrong (the last "
            "two must be 97 minus the first nine digits modulo 97, with a 2 before them for "
            "births from 2000)"
        )
    return None
