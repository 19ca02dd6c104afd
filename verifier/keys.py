"""Sender signing keys, replayed from the SenderOrganization events.

A signature only proves origin if the key that made it belonged to the sender
and was valid when the letter was sent. The ledger records every key's life
(added with a validity period, revoked) as events of the sender organisation,
so the verifier rebuilds that history from the events themselves, in log
order, and asks it the same question the ledger asked on submission.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ebox.domain.proofs.canonical import parse_rfc3339, rfc3339, unb64url
from ebox.verifier.errors import EventRef, MalformedEvidence, SigningKeyNotValid

SENDER = "SenderOrganization"


@dataclass
class KeyRecord:
    """One signing key of one sender, as its events describe it."""

    kbo_number: str
    key_id: str
    public_key: bytes
    valid_from: datetime
    valid_until: datetime | None
    added_at: str
    added_leaf: int | None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    revoked_leaf: int | None = None

    def describe_validity(self) -> str:
        until = "no end date" if self.valid_until is None else f"until {rfc3339(self.valid_until)}"
        revoked = (
            ""
            if self.revoked_at is None
            else f", revoked at {rfc3339(self.revoked_at)} ({self.revocation_reason})"
        )
        return f"valid from {rfc3339(self.valid_from)}, {until}{revoked}"


@dataclass
class KeyHistory:
    """Every sender's keys, fed event by event in log order (O(keys) memory)."""

    kbo_of: dict[str, str] = field(default_factory=dict)
    """aggregate id of a sender organisation -> its KBO number."""
    keys: dict[tuple[str, str], KeyRecord] = field(default_factory=dict)
    names: dict[str, Mapping[str, str]] = field(default_factory=dict)

    def apply(self, canonical: Mapping[str, Any], leaf_index: int | None = None) -> None:
        """Take one SenderOrganization event into account; other events are ignored."""
        if canonical.get("aggregate_type") != SENDER:
            return
        kind, data = canonical.get("type"), canonical.get("data") or {}
        aggregate_id = str(canonical.get("aggregate_id"))
        ref = EventRef(aggregate_id, canonical.get("version"), leaf_index, SENDER, str(kind))
        try:
            if kind == "Registered":
                self.kbo_of[aggregate_id] = str(data["kbo_number"])
                self.names[str(data["kbo_number"])] = dict(data.get("names") or {})
            elif kind == "SigningKeyAdded":
                kbo = self._kbo(aggregate_id, ref)
                self.keys[(kbo, str(data["key_id"]))] = KeyRecord(
                    kbo_number=kbo,
                    key_id=str(data["key_id"]),
                    public_key=unb64url(str(data["public_key"])),
                    valid_from=parse_rfc3339(str(data["valid_from"])),
                    valid_until=_moment(data.get("valid_until")),
                    added_at=str(canonical.get("timestamp")),
                    added_leaf=leaf_index,
                )
            elif kind == "SigningKeyRevoked":
                record = self.keys.get((self._kbo(aggregate_id, ref), str(data["key_id"])))
                if record is None:
                    raise MalformedEvidence("revokes a key that was never added", event=ref)
                record.revoked_at = parse_rfc3339(str(data["revoked_at"]))
                record.revocation_reason = str(data.get("reason"))
                record.revoked_leaf = leaf_index
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedEvidence(
                f"sender event data is incomplete ({error})", event=ref
            ) from error

    def _kbo(self, aggregate_id: str, ref: EventRef) -> str:
        try:
            return self.kbo_of[aggregate_id]
        except KeyError:
            raise MalformedEvidence(
                "event of a sender organisation whose Registered event was not seen", event=ref
            ) from None

    def valid_key(self, kbo: str, key_id: str, moment: datetime, ref: EventRef) -> KeyRecord:
        """The key record if `key_id` of sender `kbo` was valid at `moment`, else refuse.

        Same rule as the ledger applies on submission: valid from `valid_from`
        to `valid_until` inclusive, and not revoked at or before `moment`.
        """
        record = self.keys.get((kbo, key_id))
        if record is None:
            raise SigningKeyNotValid(
                f"signing key {key_id} is not a registered key of sender {kbo}", event=ref
            )
        if record.revoked_at is not None and record.revoked_at <= moment:
            raise SigningKeyNotValid(
                f"signing key {key_id} was revoked at {rfc3339(record.revoked_at)}, "
                f"before the letter was sent ({rfc3339(moment)})",
                event=ref,
            )
        if record.valid_from > moment or (
            record.valid_until is not None and record.valid_until < moment
        ):
            raise SigningKeyNotValid(
                f"signing key {key_id} was not valid when the letter was sent "
                f"({rfc3339(moment)}): {record.describe_validity()}",
                event=ref,
            )
        return record


def _moment(value: Any) -> datetime | None:
    return None if value is None else parse_rfc3339(str(value))
