"""OAuthClientRecord: an OAuth client's registration, recorded on the ledger like any admin act.

The client registry (ebox.adapters.clients) is what a token request reads: a
table, one primary-key read per request. But who was let in, with which key
and scopes, and when they were shut out again is an operator's act that an
auditor must be able to see and that nobody may rewrite: so each
registration, key and disabling is also an event of this aggregate, written in
the same transaction as the registry's row. Only public key ids (RFC 7638
thumbprints) are recorded, never key material.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ebox.domain.chain import ChainedAggregate
from ebox.domain.errors import Conflict
from ebox.domain.ids import client_aggregate_id


class OAuthClientRecord(ChainedAggregate):
    aggregate_type = "OAuthClientRecord"  # the class name: see chain.aggregate_type_of

    @staticmethod
    def create_id(client_id: str, **_: Any) -> Any:  # type: ignore[override]
        return client_aggregate_id(client_id)

    class Registered(ChainedAggregate.Created):
        client_id: str
        kind: str
        subject: str
        scopes: list[str]
        key_id: str

        def apply(self, record: OAuthClientRecord) -> None:
            record.client_id = self.client_id
            record.kind = self.kind
            record.subject = self.subject
            record.key_ids = [self.key_id]
            record.disabled = False

    class KeyAdded(ChainedAggregate.Event):
        key_id: str

        def apply(self, record: OAuthClientRecord) -> None:
            record.key_ids.append(self.key_id)

    class Disabled(ChainedAggregate.Event):
        def apply(self, record: OAuthClientRecord) -> None:
            record.disabled = True

    if TYPE_CHECKING:  # state set by the events' apply(); not dataclass fields
        client_id: str
        kind: str
        subject: str
        key_ids: list[str]
        disabled: bool

    @classmethod
    def register(
        cls, client_id: str, kind: str, subject: str, scopes: list[str], key_id: str
    ) -> OAuthClientRecord:
        return cls._create(
            cls.Registered,
            client_id=client_id,
            kind=kind,
            subject=subject,
            scopes=sorted(scopes),
            key_id=key_id,
        )

    def add_key(self, key_id: str) -> None:
        if key_id in self.key_ids:
            raise Conflict(f"key {key_id} is already registered for this client")
        self.trigger_event(self.KeyAdded, key_id=key_id)

    def disable(self) -> None:
        if not self.disabled:
            self.trigger_event(self.Disabled)
