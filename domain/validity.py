"""Times the ledger judges a letter by: its own receipt, never what the sender states.

The sender states a submission time in its signed envelope. It is recorded as
stated (the signature covers it), but it decides nothing: the signing key is
judged at the ledger's receipt (the time of the `Sent` event) and the expiry
runs from receipt. A stated time more than the allowed skew away from receipt
is refused, so that a backdated time cannot borrow a key's earlier validity and
a far-future one cannot stretch a letter's life.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import datetime, timedelta

from ebox.domain.errors import EboxError, InvalidPublication
from ebox.domain.proofs.canonical import rfc3339

DEFAULT_SUBMISSION_SKEW = timedelta(minutes=5)
SUBMISSION_SKEW_SETTING = "SUBMISSION_SKEW_SECONDS"
"""Read from the ledger's environment, so as `EBOX_SUBMISSION_SKEW_SECONDS`."""


class SubmissionTimeOutOfRange(InvalidPublication):
    """The sender's stated submission time is too far from the ledger's receipt."""


def submission_skew(env: Mapping[str, str]) -> timedelta:
    """The allowed distance between stated submission and receipt, from the environment."""
    raw = env.get(SUBMISSION_SKEW_SETTING)
    if raw is None or raw == "":
        return DEFAULT_SUBMISSION_SKEW
    try:
        seconds = int(raw)
    except ValueError:
        seconds = -1
    if seconds < 0:
        raise ValueError(
            f"EBOX_{SUBMISSION_SKEW_SETTING} must be a whole number of seconds, 0 or more: {raw!r}"
        )
    return timedelta(seconds=seconds)


def check_submission_time(submitted_at: datetime, received_at: datetime, skew: timedelta) -> None:
    """Refuse a stated submission time more than `skew` before or after receipt."""
    if abs(submitted_at - received_at) > skew:
        raise SubmissionTimeOutOfRange(
            f"senderSignature.submissionTime {submitted_at.isoformat()} is more than "
            f"{int(skew.total_seconds())} s from the ledger's receipt at {rfc3339(received_at)}"
        )


def expiry(start: datetime, unit: str, amount: int) -> datetime:
    """Expiry from a message type's validity period (DAY, MONTH or YEAR), as in the contract."""
    if unit == "DAY":
        return start + timedelta(days=amount)
    months = amount * (12 if unit == "YEAR" else 1) if unit in ("MONTH", "YEAR") else None
    if months is None:
        raise ValueError(f"unknown validity unit {unit!r}")
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


VALIDITY_SUFFIXES = {"d": "DAY", "m": "MONTH", "y": "YEAR"}
MAX_VALIDITY_AMOUNT = 36_500
"""A hundred years of days: beyond it an expiry date leaves any calendar the databases hold."""


class InvalidValidityPeriod(EboxError):
    """A message type's validity that is not a positive number of days, months or years."""


def parse_validity(text: str) -> tuple[str, int]:
    """`90d`, `3m`, `1y` -> ("DAY", 90), ("MONTH", 3), ("YEAR", 1): the contract's unit and amount.

    The short form is what an operator types; the unit and amount are what the
    message type records, as the contract's referenceData answers them.
    """
    value = text.strip().lower() if isinstance(text, str) else ""
    unit = VALIDITY_SUFFIXES.get(value[-1:])
    amount = value[:-1]
    if unit is None or not amount.isascii() or not amount.isdigit():
        raise InvalidValidityPeriod(
            f"a validity is a number of days, months or years such as 90d, 3m or 1y, not {text!r}"
        )
    if not 1 <= int(amount) <= MAX_VALIDITY_AMOUNT:
        raise InvalidValidityPeriod(f"a validity is 1 to {MAX_VALIDITY_AMOUNT}, not {amount}")
    return unit, int(amount)
