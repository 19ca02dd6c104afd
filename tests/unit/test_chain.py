"""The hash chain: each event names its predecessor; any change breaks the load."""

from __future__ import annotations

import dataclasses
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ebox.domain.chain import project_verified, verify_event
from ebox.domain.errors import ChainIntegrityError
from ebox.domain.message import Message
from ebox.domain.proofs.canonical import ZERO_HASH, event_hash


def a_message() -> Message:
    return Message.send(
        publication_id="p-1",
        sender="0308357159",
        application="app",
        mailbox_id="m-1",
        recipient="citizen:58102882214",
        message_type="INFO",
        subjects={"nl": "Hallo"},
        documents=[
            {
                "name": "a.pdf",
                "media_type": "application/pdf",
                "sha256": "00" * 32,
                "size": 1,
                "ciphertext_sha256": "11" * 32,
                "main_content": True,
                "language": "nl",
            }
        ],
        registered=False,
        submitted_at="2026-11-27T10:00:00.000000Z",
        expires_at="2027-11-27T10:00:00.000000Z",
        envelope_sha256="22" * 32,
        origin="attested",
        signing_key_id=None,
        signature=None,
        client_id="sender:0308357159",
        wrapped_for=["33" * 32],
        details={},
    )


def history() -> list[Any]:
    message = a_message()
    message.deliver()
    message.open_document("a.pdf", "owner", "portal")
    message.archive("owner")
    return list(message.collect_events())


def test_first_event_links_to_zeros_and_each_next_to_its_predecessor() -> None:
    events = history()
    assert events[0].prev_hash == ZERO_HASH
    for before, after in pairwise(events):
        assert after.prev_hash == before.event_hash
    for event in events:
        assert event.event_hash == event_hash(event.canonical("Message"))


def test_an_intact_history_loads() -> None:
    message = project_verified(None, history())
    assert message.read and message.archived and message.version == 4


def test_a_changed_field_is_refused_with_the_aggregate_and_version() -> None:
    events = history()
    events[1] = dataclasses.replace(events[1], mailbox_id="somebody-else")
    with pytest.raises(ChainIntegrityError) as refused:
        project_verified(None, events)
    assert refused.value.version == 2
    assert "modified" in str(refused.value)


def test_a_missing_event_is_refused() -> None:
    events = history()
    del events[1]
    with pytest.raises(ChainIntegrityError, match="missing or reordered"):
        project_verified(None, events)


def test_a_forged_event_with_a_recomputed_hash_breaks_the_next_link() -> None:
    events = history()
    forged = dataclasses.replace(events[2], reader="intruder")
    forged = dataclasses.replace(forged, event_hash=event_hash(forged.canonical("Message")))
    events[2] = forged
    with pytest.raises(ChainIntegrityError, match="broken chain link") as refused:
        project_verified(None, events)
    assert refused.value.version == 4


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_any_single_changed_field_is_detected(data: st.DataObject) -> None:
    events = history()
    position = data.draw(st.integers(0, len(events) - 1))
    event = events[position]
    fields = [
        f.name
        for f in dataclasses.fields(event)
        if f.name not in ("originator_id", "originator_version", "originator_topic")
    ]
    name = data.draw(st.sampled_from(fields))
    value = getattr(event, name)
    changed: Any
    if isinstance(value, str):
        changed = value + "x"
    elif isinstance(value, bool):
        changed = not value
    elif isinstance(value, int):
        changed = value + 1
    elif isinstance(value, list):
        changed = [*value, "x"]
    elif isinstance(value, dict):
        changed = {**value, "x": "y"}
    elif value is None:
        changed = "x"
    else:
        import datetime as dt

        changed = value + dt.timedelta(microseconds=1)
    events[position] = dataclasses.replace(event, **{name: changed})
    with pytest.raises(ChainIntegrityError):
        previous = events[position - 1].event_hash if position else ZERO_HASH
        verify_event(events[position], previous)
        project_verified(None, events)
