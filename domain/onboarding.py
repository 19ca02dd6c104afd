"""The onboarding use cases: what an operator does with `ebox admin ...` and `/admin/v1`.

A mixin of EboxLedger, as the publication use cases are (ebox.domain.publishing):
message types by the operator's short validity, partner apps, the record of
OAuth client registrations, and mailboxes opened in bulk. The demo calls
these same methods, so what it shows is what an operator can do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from nacl.public import PrivateKey

from ebox.domain.client_record import OAuthClientRecord
from ebox.domain.errors import NoDigitalUser, PartnerAlreadyRegistered, UnknownPartner
from ebox.domain.ids import checked_ebox_id, client_aggregate_id, mailbox_id, partner_aggregate_id
from ebox.domain.mailbox import Mailbox, checked_email, checked_language
from ebox.domain.partner import Partner
from ebox.domain.ports import LedgerStores
from ebox.domain.proofs.canonical import b64url
from ebox.domain.proofs.envelope import key_fingerprint
from ebox.domain.validity import parse_validity


@dataclass(frozen=True)
class MailboxToOpen:
    """One eBox to open in bulk (`EboxLedger.open_mailboxes`), as a file row names it."""

    ebox_type: str
    id_value: str
    email: str | None = None
    language: str | None = None


class OnboardingUseCases:
    """Onboarding; a mixin of EboxLedger, which gives it the rest."""

    if TYPE_CHECKING:
        stores: LedgerStores
        repository: Any

        def save(self, *objs: Any, **kwargs: Any) -> Any: ...

        def _exists(self, aggregate_id: UUID) -> bool: ...

        def register_message_type(
            self,
            kbo_number: str,
            message_type_id: str,
            names: dict[str, str],
            validity_unit: str = "YEAR",
            validity_amount: int = 1,
            registered_mail: bool = False,
            sensitive: bool = True,
        ) -> None: ...

    def set_contact(
        self,
        ebox_type: str,
        id_value: str,
        email: str | None,
        language: str | None,
        digest: bool | None = None,
    ) -> None:
        """Where the owner is told of a new letter, in which language (None: not given), and
        whether new letters come in one daily digest (None: unchanged).

        The one use case for the person (the eBox API's preferences route, the
        portal's settings page) and the operator alike; FieldRejected (400) for
        an address or a language the mailbox refuses.
        """
        try:
            mailbox = self.repository.get(mailbox_id(ebox_type, id_value))
        except AggregateNotFoundError:
            raise NoDigitalUser(f"{ebox_type}:{id_value} has no eBox") from None
        mailbox.set_contact(email, language)
        if digest is not None:
            mailbox.set_digest(digest)
        self.save(mailbox)

    def register_message_type_for(
        self,
        kbo_number: str,
        message_type_id: str,
        names: dict[str, str],
        validity: str,
        registered_mail: bool = False,
    ) -> tuple[str, int]:
        """`register_message_type` with the operator's short validity (90d, 3m, 1y)."""
        unit, amount = parse_validity(validity)
        self.register_message_type(
            kbo_number, message_type_id, names, unit, amount, registered_mail
        )
        return unit, amount

    # Partner apps.

    def register_partner(self, partner_id: str, name: str) -> str:
        if self._exists(partner_aggregate_id(partner_id)):
            raise PartnerAlreadyRegistered(f"partner {partner_id} is already registered")
        partner = Partner.register(partner_id, name)
        self.save(partner)
        return str(partner.id)

    def partner(self, partner_id: str) -> Partner:
        try:
            return self.repository.get(partner_aggregate_id(partner_id))  # type: ignore[no-any-return]
        except AggregateNotFoundError:
            raise UnknownPartner(f"no partner {partner_id} is registered") from None

    # OAuth clients: the registry is a table (ebox.adapters.clients); each change is
    # also recorded here, saved by the registry inside its own transaction.

    def record_client_registered(
        self, client_id: str, kind: str, subject: str, scopes: list[str], key_id: str
    ) -> None:
        self.save(OAuthClientRecord.register(client_id, kind, subject, scopes, key_id))

    def record_client_key_added(self, client_id: str, key_id: str) -> None:
        record = self._client_record(client_id)
        if record is not None:
            record.add_key(key_id)
            self.save(record)

    def record_client_disabled(
        self, client_id: str, kind: str, subject: str, scopes: list[str], key_id: str
    ) -> None:
        """Record a disabling; a client registered before clients were recorded is first
        recorded as registered (with what the registry holds), then disabled."""
        record = self._client_record(client_id) or OAuthClientRecord.register(
            client_id, kind, subject, scopes, key_id
        )
        record.disable()
        self.save(record)

    def _client_record(self, client_id: str) -> OAuthClientRecord | None:
        try:
            return self.repository.get(client_aggregate_id(client_id))  # type: ignore[no-any-return]
        except AggregateNotFoundError:
            return None

    def open_mailboxes(self, wanted: Sequence[MailboxToOpen]) -> tuple[int, int]:
        """Open the eBoxes of `wanted` not open yet, in one save: (opened, already open).

        For bulk onboarding (`ebox admin mailbox import`): one read finds which
        exist, then every new mailbox's events and sealed keys are written in
        one transaction, so a batch is opened whole or not at all, and a re-run
        skips (and counts) what an earlier run opened. Every row is checked
        before anything is written.
        """
        rows = [
            MailboxToOpen(
                w.ebox_type,
                checked_ebox_id(w.ebox_type, w.id_value),
                checked_email(w.email),
                checked_language(w.language),
            )
            for w in wanted
        ]
        try:
            opened = self._open_missing(rows)
        except IntegrityError:  # another import opened one of them meanwhile: look again
            opened = self._open_missing(rows)
        return opened, len(rows) - opened

    def _open_missing(self, rows: Sequence[MailboxToOpen]) -> int:
        ids = [mailbox_id(r.ebox_type, r.id_value) for r in rows]
        seen = set(self.stores.events.latest_versions(ids))
        fresh = []
        for row, aggregate_id in zip(rows, ids, strict=True):
            if aggregate_id not in seen:
                seen.add(aggregate_id)
                fresh.append(self._new_mailbox(row))
        if fresh:
            with self.stores.unit_of_work():
                self.stores.vault.store_many([private for _, private in fresh])
                self.save(*(mailbox for mailbox, _ in fresh))
        return len(fresh)

    @staticmethod
    def _new_mailbox(row: MailboxToOpen) -> tuple[Mailbox, tuple[str, str, bytes]]:
        """A mailbox opened with a fresh key pair (and its contact, if given), unsaved."""
        mailbox = Mailbox.open(row.ebox_type, row.id_value)
        private = PrivateKey.generate()
        public = bytes(private.public_key)
        fingerprint = key_fingerprint(public)
        mailbox.add_encryption_key(fingerprint, b64url(public))
        if row.email is not None or row.language is not None:
            mailbox.set_contact(row.email, row.language)
        return mailbox, (fingerprint, mailbox.address, bytes(private))
