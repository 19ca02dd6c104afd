"""The ledger's use cases, on an eventsourcing Application.

Every method is a guard or two and a save. Storage of ciphertexts and keys
goes through ports (ports.py) inside one unit of work, so a refused or failed
publication leaves no event, no blob and no wrapped key behind.

Here: loading, registration of senders and mailboxes, delivery and reading.
The publication use cases are in ebox.domain.publishing, replies in
ebox.domain.replies, the verified
mailbox and sender caches in ebox.domain.verified_cache; EboxLedger is them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from nacl.signing import VerifyKey

from ebox.domain.chain import project_verified
from ebox.domain.errors import (
    ContentDestroyed,
    MailboxAlreadyOpen,
    NoDigitalUser,
    SenderAlreadyRegistered,
    UnknownMessage,
    UnknownSender,
)
from ebox.domain.ids import (
    checked_ebox_id,
    checked_kbo_number,
    mailbox_id,
    sender_id,
)
from ebox.domain.limits import FieldRejected
from ebox.domain.mailbox import Mailbox
from ebox.domain.message import Message
from ebox.domain.onboarding import MailboxToOpen, OnboardingUseCases
from ebox.domain.ports import LedgerStores
from ebox.domain.proofs.canonical import b64url, rfc3339
from ebox.domain.proofs.encryption import decrypt_document, unwrap_key
from ebox.domain.proofs.envelope import key_fingerprint
from ebox.domain.publishing import DEFAULT_BATCH_SIZE, PublicationUseCases
from ebox.domain.replies import ReplyUseCases
from ebox.domain.sender import SenderOrganization
from ebox.domain.validity import submission_skew as submission_skew_of
from ebox.domain.verified_cache import MAILBOX_CACHE_SIZE, SENDER_CACHE_SIZE, VerifiedCache

__all__ = ["DEFAULT_BATCH_SIZE", "ChainedRepository", "EboxLedger", "MailboxToOpen"]

_last_position: ContextVar[int | None] = ContextVar("ebox_last_position", default=None)

Served = TypeVar("Served")


class ChainedRepository(Repository):  # type: ignore[type-arg]
    """A repository whose every load re-verifies the aggregate's hash chain."""

    def get(self, aggregate_id: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("projector_func", project_verified)
        return super().get(aggregate_id, **kwargs)


class EboxLedger(OnboardingUseCases, PublicationUseCases, ReplyUseCases, Application):  # type: ignore[type-arg]
    """Senders, mailboxes and messages, each an append-only hash chain."""

    name = "Ebox"
    env = {
        "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
        "CREATE_TABLE": "n",
    }

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        stores: Callable[[EboxLedger], LedgerStores],
        require_signature: bool = False,
        submission_skew: timedelta | None = None,
    ) -> None:
        """`submission_skew` defaults to EBOX_SUBMISSION_SKEW_SECONDS, else 5 minutes."""
        super().__init__(env)
        self.stores = stores(self)
        self._mailboxes = VerifiedCache[Mailbox](MAILBOX_CACHE_SIZE)
        self._senders = VerifiedCache[SenderOrganization](SENDER_CACHE_SIZE)
        self.require_signature = require_signature
        self.submission_skew = (
            submission_skew_of(self.env) if submission_skew is None else submission_skew
        )

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Save, and remember the notification id reached, for read-your-writes."""
        recordings = super().save(*objs, **kwargs)
        ids = [r.notification.id for r in recordings if r.notification.id is not None]
        if ids:
            _last_position.set(max(ids))
        return recordings

    @staticmethod
    def last_position() -> int | None:
        """The notification id of this context's latest write (None before any).

        A client that sends it back (X-Ebox-Min-Position) is answered only once the
        read models have caught up with its own write.
        """
        return _last_position.get()

    def construct_repository(self) -> Repository:  # type: ignore[type-arg]
        return ChainedRepository(event_store=self.events)

    # Loading, with not-found in the domain's words.

    def sender(self, kbo_number: str) -> SenderOrganization:
        try:
            return self.repository.get(sender_id(kbo_number))  # type: ignore[no-any-return]
        except AggregateNotFoundError:
            raise UnknownSender(f"no sender organisation with KBO number {kbo_number}") from None

    def mailbox(self, ebox_type: str, id_value: str) -> Mailbox:
        try:
            return self.repository.get(mailbox_id(ebox_type, id_value))  # type: ignore[no-any-return]
        except AggregateNotFoundError:
            raise NoDigitalUser(f"{ebox_type}:{id_value} has no eBox") from None

    def sent(self, message_id: str | UUID) -> Any:
        """A message's Sent event alone (one indexed read, no replay of the chain)."""
        try:
            return next(iter(self.events.get(_uuid(message_id), lte=1)))
        except (StopIteration, ValueError):
            raise UnknownMessage(f"no message {message_id}") from None

    def message(self, message_id: str | UUID) -> Message:
        try:
            found: object = self.repository.get(_uuid(message_id))
        except (AggregateNotFoundError, ValueError):
            raise UnknownMessage(f"no message {message_id}") from None
        if not isinstance(found, Message):  # a mailbox's or a sender's id
            kind = getattr(found, "aggregate_type", type(found).__name__)
            raise UnknownMessage(f"no message {message_id}: it is the id of a {kind}")
        return found

    # Sender organisations.

    def register_sender(self, kbo_number: str, names: dict[str, str]) -> str:
        """Register a sender organisation; its KBO number's check digits are checked first."""
        kbo_number = checked_kbo_number(kbo_number)
        if self._exists(sender_id(kbo_number)):
            raise SenderAlreadyRegistered(f"sender {kbo_number} is already registered")
        sender = SenderOrganization.register(kbo_number, names)
        self.save(sender)
        return str(sender.id)

    def add_signing_key(
        self,
        kbo_number: str,
        public_key: bytes,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
    ) -> str:
        VerifyKey(public_key)  # refuses anything that is not an Ed25519 public key
        valid_from = valid_from or datetime.now(UTC)
        if valid_until is not None and valid_until <= valid_from:
            raise FieldRejected(
                f"the key's validity ends ({rfc3339(valid_until)}) before it starts"
                f" ({rfc3339(valid_from)})"
            )
        sender = self.sender(kbo_number)
        key_id = key_fingerprint(public_key)
        sender.add_signing_key(
            key_id,
            b64url(public_key),
            rfc3339(valid_from),
            rfc3339(valid_until) if valid_until else None,
        )
        self.save(sender)
        return key_id

    def revoke_signing_key(self, kbo_number: str, key_id: str, reason: str) -> None:
        sender = self.sender(kbo_number)
        sender.revoke_signing_key(key_id, rfc3339(datetime.now(UTC)), reason)
        self.save(sender)

    def register_application(
        self, kbo_number: str, application_id: str, names: dict[str, str]
    ) -> None:
        sender = self.sender(kbo_number)
        sender.register_application(application_id, names)
        self.save(sender)

    def register_message_type(
        self,
        kbo_number: str,
        message_type_id: str,
        names: dict[str, str],
        validity_unit: str = "YEAR",
        validity_amount: int = 1,
        registered_mail: bool = False,
        sensitive: bool = True,
    ) -> None:
        """`sensitive` (the default): notification mails never name its letters' subjects."""
        sender = self.sender(kbo_number)
        sender.register_message_type(
            message_type_id, names, validity_unit, validity_amount, registered_mail
        )
        if not sensitive:
            sender.set_message_type_sensitivity(message_type_id, False)
        self.save(sender)

    def set_message_type_sensitivity(
        self, kbo_number: str, message_type_id: str, sensitive: bool
    ) -> None:
        sender = self.sender(kbo_number)
        sender.set_message_type_sensitivity(message_type_id, sensitive)
        self.save(sender)

    # Mailboxes.

    def open_mailbox(
        self,
        ebox_type: str,
        id_value: str,
        email: str | None = None,
        language: str | None = None,
    ) -> str:
        """Open an eBox and give it an X25519 key pair; the private half goes to the vault.

        The id's check digits (national register or KBO number) are checked first.
        """
        id_value = checked_ebox_id(ebox_type, id_value)
        if self._exists(mailbox_id(ebox_type, id_value)):
            raise MailboxAlreadyOpen(f"{ebox_type}:{id_value} already has an eBox")
        mailbox, private = self._new_mailbox(MailboxToOpen(ebox_type, id_value, email, language))
        with self.stores.unit_of_work():
            self.stores.vault.store_many([private])
            self.save(mailbox)
        return str(mailbox.id)

    def grant_partner_consent(self, ebox_type: str, id_value: str, partner_id: str) -> None:
        mailbox = self.mailbox(ebox_type, id_value)
        mailbox.grant_partner_consent(partner_id)
        self.save(mailbox)

    def revoke_partner_consent(self, ebox_type: str, id_value: str, partner_id: str) -> None:
        mailbox = self.mailbox(ebox_type, id_value)
        mailbox.revoke_partner_consent(partner_id)
        self.save(mailbox)

    def grant_mandate(self, ebox_type: str, id_value: str, holder: str) -> None:
        mailbox = self.mailbox(ebox_type, id_value)
        mailbox.grant_mandate(holder)
        self.save(mailbox)

    def revoke_mandate(self, ebox_type: str, id_value: str, holder: str) -> None:
        mailbox = self.mailbox(ebox_type, id_value)
        mailbox.revoke_mandate(holder)
        self.save(mailbox)

    def close_mailbox(self, ebox_type: str, id_value: str, reason: str) -> None:
        mailbox = self.mailbox(ebox_type, id_value)
        mailbox.close(reason)
        self.save(mailbox)

    # Delivery and reading.

    def deliver(self, message_id: str | UUID) -> None:
        message = self.message(message_id)
        message.deliver()
        self.save(message)

    def open_document(
        self, message_id: str | UUID, document: str, reader: str, channel: str
    ) -> bytes:
        """Decrypt one document for an authorised reader and record the opening."""
        return self.hand_over(message_id, [document], reader, channel, lambda texts: texts[0])

    def hand_over(
        self,
        message_id: str | UUID,
        documents: Sequence[str],
        reader: str,
        channel: str,
        serve: Callable[[list[bytes]], Served],
    ) -> Served:
        """Hand documents to an authorised reader: decrypt, prepare, and only then record.

        The opening (`Read` for the first main content, `ContentAccessed` after) is
        the evidence of a handover, so it is saved only once every document is
        decrypted and `serve` has made of the plaintexts what the reader receives:
        a missing or corrupt ciphertext, or content that cannot be prepared,
        records nothing. What `serve` returns is returned once the opening is saved.
        """
        message = self.message(message_id)
        for name in documents:
            message.open_document(name, reader, channel)  # refusals first; saved below
        plaintexts = [self._decrypt(message, message.document(name)) for name in documents]
        served = serve(plaintexts)
        self.save(message)
        return served

    def _decrypt(self, message: Message, doc: dict[str, Any]) -> bytes:
        return decrypt_document(
            self._data_key(message), self.stores.blobs.get(doc["ciphertext_sha256"])
        )

    def _data_key(self, message: Message) -> bytes:
        """Unwrap a message's data key with any mailbox key the vault holds for it."""
        if message.expired:
            raise ContentDestroyed(f"the content of message {message.id} was destroyed")
        for fingerprint, sealed in self.stores.wrapped_keys.get(str(message.id)).items():
            try:
                private = self.stores.vault.load(fingerprint)
            except KeyError:
                continue
            return unwrap_key(sealed, private)
        raise ContentDestroyed(f"no key held by the ledger opens message {message.id}")

    def archive(self, message_id: str | UUID, by: str) -> None:
        self._change(message_id, lambda m: m.archive(by))

    def unarchive(self, message_id: str | UUID, by: str) -> None:
        self._change(message_id, lambda m: m.unarchive(by))

    def hide(self, message_id: str | UUID, by: str) -> None:
        self._change(message_id, lambda m: m.hide(by))

    def show(self, message_id: str | UUID, by: str) -> None:
        self._change(message_id, lambda m: m.show(by))

    def set_visibility(self, visibility: Mapping[str, bool], by: str) -> int:
        """Hide or show several messages in one save (the contract's PATCH): all or none.

        A merge patch states the result, so a message already so is left as it
        is. Returns how many messages changed.
        """
        changed = []
        for message_id, visible in visibility.items():
            message = self.message(message_id)
            if message.visible != visible:
                (message.show if visible else message.hide)(by)
                changed.append(message)
        if changed:
            self.save(*changed)
        return len(changed)

    def expire(
        self,
        message_id: str | UUID,
        reason: str,
        *,
        due_at: str | None = None,
        sharing: Iterable[str] = (),
    ) -> None:
        """Destroy the wrapped data keys and the ciphertexts, and record `Expired`, at once.

        One transaction: the content is never gone without the event saying so,
        nor said gone while it remains. A broadcast's letters share their
        ciphertexts (one data key, wrapped per mailbox): `sharing` names the
        other letters of the publication, and the ciphertexts go with the last
        of them that still holds a key. The signed envelope stays: it is
        evidence, and holds digests, not content. AlreadyExpired when done before.
        """
        message = self.message(message_id)
        message.expire(reason, due_at)
        digests = [d["ciphertext_sha256"] for d in message.documents]
        with self.stores.unit_of_work():
            self.stores.wrapped_keys.destroy(str(message.id))
            others = set(sharing) - {str(message.id)}
            if not self.stores.wrapped_keys.holding(others):
                self.stores.blobs.destroy(digests)
            self.save(message)

    def _change(self, message_id: str | UUID, change: Callable[[Message], None]) -> None:
        message = self.message(message_id)
        change(message)
        self.save(message)

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))


def _uuid(value: str | UUID) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)
