"""The letter's life in plain words, read from its canonical events.

Event names follow ETSI EN 319 522 (Sent = SubmissionAcceptance, Delivered =
ContentConsignment, Read = ContentHandover...); the timeline says them in the
words a court uses. An event type this verifier does not know is still shown,
by its name: the verifier proves integrity of every event, and describes what
it can.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Step:
    """One event of the message: when, what, who and how, and where it sits in the log."""

    time: str
    type: str
    what: str
    who: str | None
    how: str | None
    version: int
    leaf_index: int
    event_hash: str


def describe(kind: str, data: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    """(what happened, by whom, through which channel or detail) for one event."""
    if kind == "Sent":
        registered = "registered letter" if data.get("registered") else "letter"
        return (
            f"Sent: the {registered} was accepted by the ledger (submission acceptance)",
            f"{data.get('sender')} via application {data.get('application')}",
            f"submitted at {data.get('submitted_at')}",
        )
    if kind == "Delivered":
        return ("Delivered: made available in the mailbox (content consignment)", None, None)
    if kind == "Read":
        return (
            f"Read: first opening of {data.get('document')} (content handover)",
            str(data.get("reader")),
            f"channel {data.get('channel')}",
        )
    if kind == "ContentAccessed":
        return (
            f"Opened again: {data.get('document')} (content access)",
            str(data.get("reader")),
            f"channel {data.get('channel')}",
        )
    if kind == "Replied":
        return (
            f"Replied: the recipient answered with message {data.get('reply_message_id')}",
            str(data.get("by")),
            f"channel {data.get('channel')}",
        )
    if kind == "Notified":
        return (
            f"Notified: the owner was told by {data.get('channel')} ({data.get('kind')};"
            " consignment notification)",
            None,
            f"address SHA-256 {data.get('address_sha256')}, mail SHA-256 {data.get('mail_sha256')}",
        )
    if kind == "NotificationFailed":
        return (
            f"Notification failed: {data.get('kind')} by {data.get('channel')}, attempt"
            f" {data.get('attempt')} (consignment notification failure)",
            None,
            str(data.get("reason")),
        )
    if kind in ("Archived", "Unarchived", "Hidden", "Shown"):
        return (kind, str(data.get("by")), None)
    if kind == "Expired":
        return (
            "Expired: data keys and ciphertexts destroyed, content no longer readable"
            + (
                " (content handover failure: never read)"
                if data.get("content_handover_failure")
                else ""
            ),
            None,
            data.get("reason"),
        )
    return (kind, None, None)


def timeline(events: Sequence[tuple[Mapping[str, Any], int, str]]) -> list[Step]:
    """Steps from (canonical, leaf index, event hash) triples, in version order."""
    steps = []
    for canonical, leaf_index, event_hash in events:
        data = canonical.get("data")
        what, who, how = describe(
            str(canonical.get("type")), data if isinstance(data, Mapping) else {}
        )
        steps.append(
            Step(
                time=str(canonical.get("timestamp")),
                type=str(canonical.get("type")),
                what=what,
                who=who,
                how=how,
                version=int(canonical.get("version") or 0),
                leaf_index=leaf_index,
                event_hash=event_hash,
            )
        )
    return steps
