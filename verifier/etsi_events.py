"""The ETSI EN 319 522 event table, as the verifier and the certificate read it.

The table itself is in :mod:`ebox.domain.proofs.etsi_events`, shared with the
bundle builder; this name stays so that the verifier's modules import it from
their own package.
"""

from __future__ import annotations

from ebox.domain.proofs.etsi_events import (
    ETSI_EVENT_BASE,
    ETSI_EVENTS,
    NEVER_READ_EXPIRY,
    etsi_event,
    etsi_event_uri,
)

__all__ = ["ETSI_EVENTS", "ETSI_EVENT_BASE", "NEVER_READ_EXPIRY", "etsi_event", "etsi_event_uri"]
