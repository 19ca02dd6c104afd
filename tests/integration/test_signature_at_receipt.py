"""A signature is judged at the ledger's receipt, against the key history as it stands then.

The HTTP side is in tests/e2e/test_submission_time_api.py; here the use cases
themselves: a broadcast judges every batch against the current key history, and
the allowed skew between stated and received time is a setting of the ledger.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eventsourcing.utils import Environment

from ebox.adapters.runtime import Ledger, open_ledger
from ebox.domain.errors import SigningKeyRevoked
from ebox.domain.publication import Outcome
from ebox.domain.validity import (
    DEFAULT_SUBMISSION_SKEW,
    SubmissionTimeOutOfRange,
    check_submission_time,
    expiry,
    submission_skew,
)
from tests.builders import CITIZEN, ENTERPRISE, SENDER_KBO, make_world


def test_a_key_revoked_during_a_broadcast_signs_no_later_batch(ledger: Ledger) -> None:
    world = make_world(ledger)
    letter = world.letter(recipient=[CITIZEN, ENTERPRISE])
    sent: list[str] = []

    def revoke_after_the_first_batch(outcomes: list[Outcome]) -> None:
        sent.extend(o.message_id for o in outcomes if o.message_id)
        ledger.app.revoke_signing_key(SENDER_KBO, world.sender.key_id, "key compromise")

    before = ledger.app.recorder.max_notification_id() or 0
    with pytest.raises(SigningKeyRevoked):
        ledger.app.broadcast(letter, batch_size=1, on_batch=revoke_after_the_first_batch)

    assert [ledger.app.sent(m).recipient for m in sent] == [CITIZEN.address]
    # The first letter and the revocation; no letter for the second batch.
    assert (ledger.app.recorder.max_notification_id() or 0) - before == 2


def test_the_submission_skew_comes_from_the_ledgers_environment(
    sqlite_url: str, ledger_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EBOX_SUBMISSION_SKEW_SECONDS", "3600")
    opened = open_ledger(sqlite_url, home=ledger_home)
    try:
        assert opened.app.submission_skew == timedelta(hours=1)
        world = make_world(opened)
        stated = datetime.now(UTC) + timedelta(minutes=30)
        # Unsigned, so that the stated time needs no new signature: it is judged all the same.
        letter = dataclasses.replace(
            world.letter(), submitted_at=stated, signature=None, signing_key_id=None
        )
        message_id = opened.app.publish(letter)
        sent = opened.app.sent(message_id)
        expires_at = datetime.fromisoformat(sent.expires_at)
        assert expires_at <= expiry(sent.timestamp, "YEAR", 2) < expiry(stated, "YEAR", 2)
    finally:
        opened.close()


@pytest.mark.parametrize("raw", ["-1", "five minutes", "1.5"])
def test_a_skew_that_is_not_a_whole_number_of_seconds_is_refused_at_start(raw: str) -> None:
    with pytest.raises(ValueError, match="EBOX_SUBMISSION_SKEW_SECONDS"):
        submission_skew(Environment("Ebox", {"EBOX_SUBMISSION_SKEW_SECONDS": raw}))


def test_the_default_skew_is_five_minutes_either_way() -> None:
    assert submission_skew(Environment("Ebox", {})) == DEFAULT_SUBMISSION_SKEW
    received = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for inside in (timedelta(minutes=5), -timedelta(minutes=5)):
        check_submission_time(received + inside, received, DEFAULT_SUBMISSION_SKEW)
    for outside in (timedelta(minutes=5, microseconds=1), -timedelta(minutes=5, microseconds=1)):
        with pytest.raises(SubmissionTimeOutOfRange):
            check_submission_time(received + outside, received, DEFAULT_SUBMISSION_SKEW)
