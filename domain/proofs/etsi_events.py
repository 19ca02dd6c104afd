"""ETSI EN 319 522 event identifiers of the ledger's message events.

ERDS evidence names each moment of a letter's life with an identifier under
`http://uri.etsi.org/19522/Event/`; a court, or another ERDS provider, reads
those names rather than ours. One table, here, so that whoever adds an event
(notifications, expiry) adds its label beside the others. It sits among the
proof modules because both the bundle builder (an adapter) and the offline
verifier, which checks each bundle event's `etsi_event` label, need it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ETSI_EVENT_BASE = "http://uri.etsi.org/19522/Event/"

ETSI_EVENTS: Mapping[str, str] = {
    "Sent": "SubmissionAcceptance",
    "Delivered": "ContentConsignment",
    "Read": "ContentHandover",
    "ContentAccessed": "ContentAccessTracking",
    "Notified": "ConsignmentNotification",
    "NotificationFailed": "ConsignmentNotificationFailure",
}

NEVER_READ_EXPIRY = "ContentHandoverFailure"
"""An `Expired` event of a letter never opened: its content was never handed over."""


def etsi_event(event_type: str, data: Mapping[str, Any] | None = None) -> str | None:
    """The short ETSI name of a message event ("ContentHandover"), None for ours alone.

    `Expired` is ETSI's ContentHandoverFailure only when the letter was never
    read (its data says `content_handover_failure`); an expiry after reading
    is ours alone.
    """
    if event_type == "Expired":
        return NEVER_READ_EXPIRY if data and data.get("content_handover_failure") else None
    return ETSI_EVENTS.get(event_type)


def etsi_event_uri(event_type: str, data: Mapping[str, Any] | None = None) -> str | None:
    """The full identifier (`http://uri.etsi.org/19522/Event/ContentHandover`), or None."""
    name = etsi_event(event_type, data)
    return ETSI_EVENT_BASE + name if name else None
