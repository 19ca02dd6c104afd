"""Stable aggregate ids derived from the identifiers people already use.

A sender organisation is known by its KBO number and a mailbox by its eBox type
and id value; deriving the UUID from those lets any service find the aggregate
without a lookup table, and makes a duplicate registration collide.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from ebox.domain.errors import InvalidIdentifier


def sender_id(kbo_number: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:ebox:sender:{kbo_number}")


def mailbox_id(ebox_type: str, id_value: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:ebox:mailbox:{ebox_type}:{id_value}")


def partner_aggregate_id(partner_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:ebox:partner:{partner_id}")


def client_aggregate_id(client_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:ebox:oauth-client:{client_id}")


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


# The rules, named as a refusal names them: an operator who mistyped one digit is told which.
KBO_RULE = "a KBO number is 10 digits whose last two are 97 - (the first eight mod 97)"
NRN_RULE = (
    "a national register number is 11 digits whose last two are 97 - (the first nine mod 97),"
    " or, born in 2000 or later, 97 - (2 followed by the first nine, mod 97)"
)
_SEPARATORS = str.maketrans("", "", ". -/")


def checked_kbo_number(value: str) -> str:
    """A KBO number in its canonical form (10 digits, separators dropped), else refused.

    Refused with the rule named: a wrong check digit is the common mistake, and
    the operator needs to know it is the number, not the command, that is wrong.
    """
    digits = _digits(value, "KBO number")
    if len(digits) != 10:
        raise InvalidIdentifier(f"{value!r} is not a KBO number: {KBO_RULE}")
    if not is_kbo_number(digits):
        raise InvalidIdentifier(
            f"{value!r} is not a KBO number: wrong check digits {digits[8:]}"
            f" (expected {97 - int(digits[:8]) % 97:02d}): {KBO_RULE}"
        )
    return digits


def checked_national_register_number(value: str) -> str:
    """A national register number in its canonical form (11 digits), else refused."""
    digits = _digits(value, "national register number")
    if len(digits) != 11:
        raise InvalidIdentifier(f"{value!r} is not a national register number: {NRN_RULE}")
    if not is_national_register_number(digits):
        before, after = 97 - int(digits[:9]) % 97, 97 - int("2" + digits[:9]) % 97
        raise InvalidIdentifier(
            f"{value!r} is not a national register number: wrong check digits {digits[9:]}"
            f" (expected {before:02d}, or {after:02d} if born in 2000 or later): {NRN_RULE}"
        )
    return digits


def checked_ebox_id(ebox_type: str, value: str) -> str:
    """The id of a citizen's (NRN) or an enterprise's (KBO) eBox, canonical, else refused."""
    if ebox_type == "citizen":
        return checked_national_register_number(value)
    if ebox_type == "enterprise":
        return checked_kbo_number(value)
    raise InvalidIdentifier(f"an eBox type is citizen or enterprise, not {ebox_type!r}")


def _digits(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier(f"a {what} is a string of digits")
    digits = value.strip().translate(_SEPARATORS)
    if not digits.isascii() or not digits.isdigit():
        raise InvalidIdentifier(f"{value!r} is not a {what}: digits only (and . - / separators)")
    return digits
