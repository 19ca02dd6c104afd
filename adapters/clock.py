"""The clock port's adapters: the system clock, and one fixed time for `--now`.

Due work (expiry, and later reminders and alerts) is decided against a clock;
`ebox workers --once --now T` runs it as of T, for tests, replays and
operators catching up after downtime. Events still carry their own receipt time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ebox.domain.proofs.canonical import parse_rfc3339


class BadTime(ValueError):
    """A stated time that is not an RFC 3339 date-time with a zone."""


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class FixedClock:
    """Always the same moment: due work judged as of a stated time."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment

    @classmethod
    def parse(cls, text: str) -> FixedClock:
        """From RFC 3339 (`2027-01-20T09:00:00Z`); BadTime naming the value otherwise."""
        try:
            moment = parse_rfc3339(text)
        except (ValueError, TypeError):
            moment = None
        if moment is None or moment.tzinfo is None:
            raise BadTime(
                f"--now must be an RFC 3339 date-time with a zone, "
                f"like 2027-01-20T09:00:00Z: {text!r}"
            )
        return cls(moment.astimezone(UTC))
