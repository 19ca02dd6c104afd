"""ETSI EN 319 522 event identifiers of the ledger's message events.

ERDS evidence names each moment of a letter's life with an identifier under
`http://uri.etsi.org/19522/Event/`; a court, or another ERDS provider, reads
those names rather than ours. One table, here, so that whoever adds an event
(notifications, expiry) adds its label beside the others.
"""

from __future__ import annotations

from collections.abc import Mapping

ETSI_EVENT_BASE = "http://uri.etsi.org/19522/Event/"

ETSI_EVENTS: Mapping[str, str] = {
    "Sent": "SubmissionAcceptance",
    "Delivered": "ContentConsignment",
    "Read": "ContentHandover",
    "ContentAccessed": "ContentAccessTracking",
    "Notified": "ConsignmentNotification",
    "NotificationFailed": "ConsignmentNotificationFailure",
}


def etsi_event(event_type: str) -> str | None:
    """The short ETSI name of a message event ("ContentHandover"), None for ours alone."""
    return ETSI_EVENTS.get(event_type)


def etsi_event_uri(event_type: str) -> str | None:
    """The full identifier (`http://uri.etsi.org/19522/Event/ContentHandover`), or None."""
    name = etsi_event(event_type)
    return ETSI_EVENT_BASE + name if name else None
