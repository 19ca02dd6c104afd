"""When the daily digest goes: EBOX_DIGEST_HOUR o'clock in Brussels, whatever UTC says.

The same hour on the person's clock in winter (UTC+1) and summer (UTC+2), and
across both changes of 2026: 29 March (02:00 -> 03:00) and 25 October (03:00 -> 02:00).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ebox.adapters.mail import OutboxMailer
from ebox.projections.notifier import BRUSSELS, Notifier, next_digest_at


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("letter", "hour", "digest"),
    [
        # winter: 08:00 Brussels is 07:00 UTC
        ("2026-01-15T10:00:00+00:00", 8, "2026-01-16T07:00:00+00:00"),
        ("2026-01-15T06:59:59+00:00", 8, "2026-01-15T07:00:00+00:00"),
        ("2026-01-15T07:00:00+00:00", 8, "2026-01-16T07:00:00+00:00"),  # strictly after
        # summer: 08:00 Brussels is 06:00 UTC
        ("2026-07-01T12:00:00+00:00", 8, "2026-07-02T06:00:00+00:00"),
        # spring change, 29 March 2026: the night before is UTC+1, the morning UTC+2
        ("2026-03-28T12:00:00+00:00", 8, "2026-03-29T06:00:00+00:00"),
        ("2026-03-29T06:30:00+00:00", 8, "2026-03-30T06:00:00+00:00"),
        ("2026-03-28T12:00:00+00:00", 0, "2026-03-28T23:00:00+00:00"),  # midnight, still +1
        ("2026-03-28T12:00:00+00:00", 2, "2026-03-29T01:00:00+00:00"),  # 02:00 is skipped: 03:00
        # autumn change, 25 October 2026: the night before is UTC+2, the morning UTC+1
        ("2026-10-24T12:00:00+00:00", 8, "2026-10-25T07:00:00+00:00"),
        ("2026-10-24T12:00:00+00:00", 0, "2026-10-24T22:00:00+00:00"),
        ("2026-10-24T12:00:00+00:00", 2, "2026-10-25T00:00:00+00:00"),  # 02:00 twice: the first
        ("2026-10-25T07:30:00+00:00", 8, "2026-10-26T07:00:00+00:00"),
        # a letter late in the Brussels evening that is already the next day in Brussels
        ("2026-06-30T22:30:00+00:00", 8, "2026-07-01T06:00:00+00:00"),
        ("2026-06-30T22:30:00+00:00", 23, "2026-07-01T21:00:00+00:00"),
    ],
)
def test_the_digest_goes_at_the_brussels_hour_after_the_letter(
    letter: str, hour: int, digest: str
) -> None:
    due = next_digest_at(at(letter), hour)
    assert due == at(digest)
    local = due.astimezone(BRUSSELS)
    assert local.hour == (3 if hour == 2 and local.month == 3 else hour) and local.minute == 0


def test_both_changes_keep_eight_o_clock_on_the_persons_clock() -> None:
    for letter in ["2026-03-28T20:00:00+00:00", "2026-10-24T20:00:00+00:00"]:
        due = next_digest_at(at(letter))  # EBOX_DIGEST_HOUR's default
        assert due.astimezone(BRUSSELS).strftime("%d %H:%M") in {"29 08:00", "25 08:00"}
    assert next_digest_at(at("2026-03-28T20:00:00+00:00")).hour == 6  # UTC+2 already
    assert next_digest_at(at("2026-10-24T20:00:00+00:00")).hour == 7  # UTC+1 again


def test_the_notifier_reads_the_hour_from_the_settings(tmp_path: Path) -> None:
    outbox = OutboxMailer(tmp_path / "outbox")
    assert Notifier(mailer=outbox, env={}).digest_hour == 8
    assert Notifier(mailer=outbox, env={"EBOX_DIGEST_HOUR": "0"}).digest_hour == 0
