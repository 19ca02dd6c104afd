"""What the certificate states besides the verified report: its issuer, times, labels.

The report (`ebox.verifier.findings.BundleReport`) says what the bundle proves;
a judge also needs to know who issues the certificate and under which law,
each moment in Brussels local time beside UTC, the ETSI EN 319 522 name of each
event, and, for a registered letter, the legal moment of receipt and the rule
that produced it. The last two are read from the bundle file itself (the
builder labels each event with `etsi_event` and adds a top-level
`legal_moment`); a bundle made before those existed falls back to the event
type's ETSI name and shows no legal moment, rather than invent one.

Kept apart from the layout and free of reportlab, so the offline verifier can
read them without the API's settings (the demo issuer's texts are here, and
`ebox.api.settings` uses them as defaults).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ebox.domain.proofs.canonical import parse_rfc3339
from ebox.verifier.etsi_events import ETSI_EVENT_BASE, etsi_event_uri

BRUSSELS = ZoneInfo("Europe/Brussels")

DEMO_OPERATOR_NAME = "eBox ledger (demo operator)"
DEMO_OPERATOR_ADDRESS = "Demo address: not a real operator, Brussels, Belgium"
DEMO_OPERATOR_LEGAL_BASIS = (
    "Demo: Belgian law of 27 February 2019 on the electronic exchange of messages via the eBox"
)


@dataclass(frozen=True)
class Issuer:
    """Who issues the certificate (settings EBOX_OPERATOR_NAME, _ADDRESS, _LEGAL_BASIS)."""

    name: str = DEMO_OPERATOR_NAME
    address: str = DEMO_OPERATOR_ADDRESS
    legal_basis: str = DEMO_OPERATOR_LEGAL_BASIS


@dataclass(frozen=True)
class LegalMoment:
    """The bundle's `legal_moment`: when the letter counts as received, and by which rule."""

    at: str
    rule: str
    working_days: int | None
    reason: str


@dataclass(frozen=True)
class BundleLabels:
    """The bundle's labels the report does not carry: ETSI URIs by leaf, the legal moment."""

    etsi_by_leaf: Mapping[int, str] = field(default_factory=dict)
    legal_moment: LegalMoment | None = None

    def etsi_uri(self, leaf_index: int, event_type: str) -> str | None:
        """The bundle's label of this event, else the ETSI table's for its type."""
        return self.etsi_by_leaf.get(leaf_index) or etsi_event_uri(event_type)


def labels_of(raw: str | bytes | None) -> BundleLabels:
    """The labels of a bundle file (already verified by the caller); none for None."""
    if raw is None:
        return BundleLabels()
    body = json.loads(raw)
    etsi: dict[int, str] = {}
    for event in body.get("events") or ():
        if isinstance(event, Mapping):
            uri, leaf = event.get("etsi_event"), event.get("leaf_index")
            if isinstance(uri, str) and isinstance(leaf, int):
                etsi[leaf] = uri
    moment: LegalMoment | None = None
    claim = body.get("legal_moment")
    if isinstance(claim, Mapping) and isinstance(claim.get("at"), str):
        days = claim.get("working_days")
        moment = LegalMoment(
            at=str(claim["at"]),
            rule=str(claim.get("rule") or ""),
            working_days=days if isinstance(days, int) else None,
            reason=str(claim.get("reason") or ""),
        )
    return BundleLabels(etsi, moment)


def short_etsi(uri: str | None) -> str:
    """`ContentHandover` for its full identifier; the identifier itself if under another base."""
    if not uri:
        return ""
    return uri.removeprefix(ETSI_EVENT_BASE)


def utc_text(moment: datetime | str) -> str:
    """`2027-01-20 09:00:00`: the moment in UTC, to the second, without the `T`."""
    when = parse_rfc3339(moment) if isinstance(moment, str) else moment
    return when.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S")


def brussels_text(moment: datetime | str) -> str:
    """The same moment on a Brussels wall clock, with its offset (`10:00:00 +01:00`)."""
    when = parse_rfc3339(moment) if isinstance(moment, str) else moment
    local = when.astimezone(BRUSSELS)
    offset = local.strftime("%z")
    return f"{local.strftime('%Y-%m-%d %H:%M:%S')} {offset[:3]}:{offset[3:]}"


def as_text(value: Any) -> str:
    return "" if value is None else str(value)
