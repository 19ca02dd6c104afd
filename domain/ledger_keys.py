"""LedgerKeys: the ledger's own keys, whose every change is an event of the ledger.

Why an aggregate: a rotation must be provable to whoever checks the log, not
only known to the operator's database. `LedgerKeyRotated` names the key that
signed until then and the key that signs from then on, and carries the old
key's endorsement of the new one (a signed note), so that an auditor who trusts
either key can follow the chain: forward by the endorsement, backward because
the new key's checkpoints cover the rotation event. Every checkpoint whose tree
includes the rotation event is signed by the new key, older ones by the old key.

`KekRotated` records that the mailbox private keys were re-wrapped under a new
key-encryption key (the KEK's fingerprints only: the KEK never leaves its file).
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from ebox.domain.chain import ChainedAggregate
from ebox.domain.proofs.rotation import endorsement_text

__all__ = ["LedgerKeys", "endorsement_text", "ledger_keys_id"]


def ledger_keys_id(origin: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:ebox:ledger-keys:{origin}")


class LedgerKeys(ChainedAggregate):
    aggregate_type = "LedgerKeys"

    @staticmethod
    def create_id(origin: str, **_: Any) -> Any:  # type: ignore[override]
        return ledger_keys_id(origin)

    class Recorded(ChainedAggregate.Created):
        """The keys in use when the first change was made (the binding's, at first use)."""

        origin: str
        vkey: str
        kek_id: str

        def apply(self, keys: LedgerKeys) -> None:
            keys.origin, keys.vkey, keys.kek_id = self.origin, self.vkey, self.kek_id

    class LedgerKeyRotated(ChainedAggregate.Event):
        previous_vkey: str
        vkey: str
        endorsement: str

        def apply(self, keys: LedgerKeys) -> None:
            keys.vkey = self.vkey

    class KekRotated(ChainedAggregate.Event):
        previous_kek_id: str
        kek_id: str
        rewrapped: int

        def apply(self, keys: LedgerKeys) -> None:
            keys.kek_id = self.kek_id

    @classmethod
    def record(cls, origin: str, vkey: str, kek_id: str) -> LedgerKeys:
        return cls._create(cls.Recorded, origin=origin, vkey=vkey, kek_id=kek_id)

    def rotate_ledger_key(self, previous_vkey: str, vkey: str, endorsement: str) -> None:
        if previous_vkey != self.vkey:
            raise ValueError(f"the ledger key in effect is {self.vkey}, not {previous_vkey}")
        if vkey == self.vkey:
            raise ValueError("the new ledger key is the current one")
        self.trigger_event(
            self.LedgerKeyRotated, previous_vkey=previous_vkey, vkey=vkey, endorsement=endorsement
        )

    def rotate_kek(self, previous_kek_id: str, kek_id: str, rewrapped: int) -> None:
        if previous_kek_id != self.kek_id:
            raise ValueError(f"the KEK in effect is {self.kek_id}, not {previous_kek_id}")
        self.trigger_event(
            self.KekRotated, previous_kek_id=previous_kek_id, kek_id=kek_id, rewrapped=rewrapped
        )
