"""The ledger's use cases, on an eventsourcing Application.

Every method is a guard or two and a save. Storage of ciphertexts and keys
goes through ports (ports.py) inside one unit of work, so a refused or failed
publication leaves no event, no blob and no wrapped key behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.persistence import RecordConflictError
from nacl.public import PrivateKey
from nacl.signing import VerifyKey

from ebox.domain.chain import event_data, project_verified
from ebox.domain.errors import (
    ContentDestroyed,
    EboxError,
    InvalidPublication,
    MailboxAlreadyOpen,
    MailboxClosed,
    NoDigitalUser,
    SenderAlreadyRegistered,
    UnknownMessage,
    UnknownSender,
)
from ebox.domain.ids import mailbox_id, sender_id
from ebox.domain.mailbox import Mailbox
from ebox.domain.message import Message
from ebox.domain.message import message_id as message_id_of
from ebox.domain.ports import LedgerStores
from ebox.domain.preparation import PreparedPublication
from ebox.domain.proofs.canonical import b64url, parse_rfc3339, rfc3339
from ebox.domain.proofs.encryption import (
    decrypt_document,
    unwrap_key,
    wrap_key,
)
from ebox.domain.proofs.envelope import (
    key_fingerprint,
)
from ebox.domain.publication import Outcome, Publication, Recipient
from ebox.domain.sender import SenderOrganization
from ebox.domain.submission import IdempotencyKey, Submitted, submit_once
from ebox.domain.validity import submission_skew as submission_skew_of

DEFAULT_BATCH_SIZE = 500
_last_position: ContextVar[int | None] = ContextVar("ebox_last_position", default=None)
MAILBOX_CACHE_SIZE = 100_000
SENDER_CACHE_SIZE = 10_000

Served = TypeVar("Served")


@dataclass
class _Letters:
    """A batch made in memory, not written yet: the outcomes and what they store."""

    outcomes: list[Outcome] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)
    wrapped: list[tuple[str, str, bytes]] = field(default_factory=list)


class ChainedRepository(Repository):  # type: ignore[type-arg]
    """A repository whose every load re-verifies the aggregate's hash chain."""

    def get(self, aggregate_id: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("projector_func", project_verified)
        return super().get(aggregate_id, **kwargs)


class EboxLedger(Application):  # type: ignore[type-arg]
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
        self._mailboxes: dict[UUID, Mailbox] = {}
        self._mailboxes_lock = threading.Lock()
        self._senders: dict[UUID, SenderOrganization] = {}
        self._senders_lock = threading.Lock()
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

    def mailbox_for_reading(self, ebox_type: str, id_value: str) -> Mailbox:
        """A mailbox for access decisions: verified once, then revalidated by version only.

        The object is shared between requests: callers must not change it (use
        `mailbox()` for that). A consent or mandate revoked a moment ago is seen,
        since any new event bumps the version.
        """
        aggregate_id = mailbox_id(ebox_type, id_value)
        version = self.stores.events.latest_versions([aggregate_id]).get(aggregate_id)
        if version is None:
            raise NoDigitalUser(f"{ebox_type}:{id_value} has no eBox")
        cached = self._mailboxes.get(aggregate_id)
        if cached is not None and cached.version == version:
            return cached
        stored = self.stores.events.select_events_many([aggregate_id])[aggregate_id]
        mailbox: Mailbox = project_verified(None, map(self.mapper.to_domain_event, stored))
        self._remember_mailbox(mailbox)
        return mailbox

    def sent(self, message_id: str | UUID) -> Any:
        """A message's Sent event alone (one indexed read, no replay of the chain)."""
        try:
            return next(iter(self.events.get(_uuid(message_id), lte=1)))
        except (StopIteration, ValueError):
            raise UnknownMessage(f"no message {message_id}") from None

    def message(self, message_id: str | UUID) -> Message:
        try:
            return self.repository.get(_uuid(message_id))  # type: ignore[no-any-return]
        except (AggregateNotFoundError, ValueError):
            raise UnknownMessage(f"no message {message_id}") from None

    # Sender organisations.

    def register_sender(self, kbo_number: str, names: dict[str, str]) -> str:
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
        sender = self.sender(kbo_number)
        key_id = key_fingerprint(public_key)
        sender.add_signing_key(
            key_id,
            b64url(public_key),
            rfc3339(valid_from or datetime.now(UTC)),
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
    ) -> None:
        sender = self.sender(kbo_number)
        sender.register_message_type(
            message_type_id, names, validity_unit, validity_amount, registered_mail
        )
        self.save(sender)

    # Mailboxes.

    def open_mailbox(self, ebox_type: str, id_value: str) -> str:
        """Open an eBox and give it an X25519 key pair; the private half goes to the vault."""
        if self._exists(mailbox_id(ebox_type, id_value)):
            raise MailboxAlreadyOpen(f"{ebox_type}:{id_value} already has an eBox")
        mailbox = Mailbox.open(ebox_type, id_value)
        private = PrivateKey.generate()
        public = bytes(private.public_key)
        fingerprint = key_fingerprint(public)
        mailbox.add_encryption_key(fingerprint, b64url(public))
        with self.stores.unit_of_work():
            self.stores.vault.store(fingerprint, mailbox.address, bytes(private))
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

    # Publication.

    def submit(
        self, publication: Publication, idempotency_key: IdempotencyKey | None = None
    ) -> Submitted:
        """The contract's publishMessage: one letter, made once, in one unit of work.

        With a key, the key is claimed first and answered before the letter's
        events are saved (ebox.domain.submission): a retry gets the same letter
        (`replayed`), a different request under the same key is refused. The
        sender and the mailbox come from versioned caches revalidated by one
        query inside the unit of work, so a key revoked a moment ago is seen;
        the answer is made from what was written, never read back.
        """
        if len(publication.recipients) != 1:
            raise InvalidPublication("a letter has exactly one recipient; use broadcast")
        if idempotency_key is not None and idempotency_key.value != publication.idempotency_key:
            raise InvalidPublication("the Idempotency-Key is not the one the publication names")

        def write(answer: Callable[[str, datetime], None]) -> Submitted:
            (recipient,) = publication.recipients
            versions = self.stores.events.latest_versions(
                [sender_id(publication.sender), mailbox_id(recipient.ebox_type, recipient.id_value)]
            )
            prepared = self._prepare(publication, self._sender_at(publication.sender, versions))
            letters = self._letters([(prepared, publication.recipients)], versions)
            (outcome,) = letters.outcomes
            if outcome.message_id is None:
                raise NoDigitalUser(outcome.error or "recipient refused")
            # A letter already held (a caller-given publication id sent again) keeps its expiry.
            expires_at = (
                prepared.expires_at
                if letters.messages
                else parse_rfc3339(self.sent(outcome.message_id).expires_at)
            )
            answer(outcome.message_id, expires_at)
            self._write(letters)
            return Submitted(outcome.message_id, expires_at, self.last_position())

        return submit_once(
            self.stores.idempotency,
            self.stores.unit_of_work,
            publication.client_id,
            idempotency_key,
            write,
        )

    def publish(self, publication: Publication) -> str:
        """One letter to one recipient; raises the refusal instead of returning it."""
        if len(publication.recipients) != 1:
            raise InvalidPublication("a letter has exactly one recipient; use broadcast")
        (outcome,) = self.publish_many([publication])
        if outcome.message_id is None:
            raise NoDigitalUser(outcome.error or "recipient refused")
        return outcome.message_id

    def publish_many(self, publications: Sequence[Publication]) -> list[Outcome]:
        """Several letters in one transaction (the unit a batch commits).

        Senders and mailboxes are revalidated together by one query of versions.
        """
        versions = self.stores.events.latest_versions(
            [sender_id(p.sender) for p in publications]
            + [mailbox_id(r.ebox_type, r.id_value) for p in publications for r in p.recipients]
        )
        senders = {p.sender: self._sender_at(p.sender, versions) for p in publications}
        prepared = [(self._prepare(p, senders[p.sender]), p.recipients) for p in publications]
        letters = self._letters(prepared, versions)
        self._write(letters)
        return letters.outcomes

    def _sender_at(self, kbo_number: str, versions: Mapping[UUID, int]) -> SenderOrganization:
        """A sender for publication, verified once, then revalidated by its version only.

        Shared between requests and never changed (use `sender()` for that):
        any event of the sender (a key added or revoked, a message type
        registered) bumps the version in `versions` and reloads it.
        """
        aggregate_id = sender_id(kbo_number)
        version = versions.get(aggregate_id)
        if version is None:
            raise UnknownSender(f"no sender organisation with KBO number {kbo_number}")
        cached = self._senders.get(aggregate_id)
        if cached is not None and cached.version == version:
            return cached
        stored = self.stores.events.select_events_many([aggregate_id])[aggregate_id]
        sender: SenderOrganization = project_verified(
            None, map(self.mapper.to_domain_event, stored)
        )
        with self._senders_lock:
            if len(self._senders) >= SENDER_CACHE_SIZE:
                self._senders.pop(next(iter(self._senders)))
            self._senders[aggregate_id] = sender
        return sender

    def broadcast(
        self,
        publication: Publication,
        batch_size: int = DEFAULT_BATCH_SIZE,
        on_batch: Callable[[list[Outcome]], None] | None = None,
    ) -> list[Outcome]:
        """One publication to many recipients, committed one batch at a time.

        The signature covers the whole recipient list and the documents are
        encrypted once; each batch of recipients is then its own transaction,
        so a crash loses at most the batch in flight, which was never
        acknowledged.
        """
        prepared = self._prepare(publication, self.sender(publication.sender))
        outcomes: list[Outcome] = []
        for chunk in _chunks(_distinct(publication.recipients), batch_size):
            self._refresh_signers([prepared])
            letters = self._letters([(prepared, chunk)])
            self._write(letters)
            batch = letters.outcomes
            outcomes.extend(batch)
            if on_batch is not None:
                on_batch(batch)
        return outcomes

    def _prepare(self, publication: Publication, sender: SenderOrganization) -> PreparedPublication:
        return PreparedPublication.of(
            publication,
            sender,
            self.require_signature,
            received_at=datetime.now(UTC),
            skew=self.submission_skew,
        )

    def _refresh_signers(self, prepared: Sequence[PreparedPublication]) -> None:
        """Reload a signer whose key history moved since it was loaded (a key revoked meanwhile).

        A broadcast keeps its sender for many batches; judging each batch's
        signatures against the current key history keeps the ledger's verdict
        the one a verifier reaches from the log.
        """
        signers = {p.sender.id: p.sender for p in prepared if p.origin == "signed"}
        current = self.stores.events.latest_versions(signers)
        fresh = {
            aggregate_id: self.sender(sender.kbo_number)
            for aggregate_id, sender in signers.items()
            if current.get(aggregate_id) != sender.version
        }
        for publication in prepared:
            if publication.sender.id in fresh:
                publication.sender = fresh[publication.sender.id]

    def _letters(
        self,
        prepared: Sequence[tuple[PreparedPublication, Sequence[Recipient]]],
        versions: Mapping[UUID, int] | None = None,
    ) -> _Letters:
        """Make one batch: one letter per publication and mailbox, however often it is listed.

        A recipient listed twice in a publication gets one letter and one
        outcome; a mailbox that already holds the publication (a caller-given
        publication id sent again) is answered with the letter it has. `versions`,
        when the caller read them already, hold the mailboxes' current versions.
        """
        mailboxes: dict[str, Mailbox | EboxError] = {}
        self._preload_mailboxes([r for _, rs in prepared for r in rs], mailboxes, versions)
        held = self._copies_held(
            (p.publication_id, m)
            for p, rs in prepared
            if p.publication.publication_id is not None
            for m in (mailboxes[r.address] for r in rs)
            if isinstance(m, Mailbox)
        )
        letters = _Letters()
        outcomes, messages, blobs, wrapped = (
            letters.outcomes,
            letters.messages,
            letters.blobs,
            letters.wrapped,
        )
        for publication, recipients in prepared:
            listed: set[UUID] = set()
            for recipient in recipients:
                mailbox = mailboxes[recipient.address]
                if isinstance(mailbox, EboxError):
                    outcomes.append(
                        Outcome(recipient, error_code=mailbox.code, error=mailbox.message)
                    )
                    continue
                copy = message_id_of(publication.publication_id, str(mailbox.id))
                if copy in listed:
                    continue
                listed.add(copy)
                if copy in held:
                    outcomes.append(Outcome(recipient, message_id=str(copy)))
                    continue
                held.add(copy)
                blobs.update(publication.blobs)
                message = publication.send_to(mailbox)
                publication.require_key_valid_at(message.created_on)
                wrapped.extend(
                    (str(message.id), fingerprint, wrap_key(publication.data_key, _raw(public)))
                    for fingerprint, public in mailbox.encryption_keys.items()
                )
                messages.append(message)
                outcomes.append(Outcome(recipient, message_id=str(message.id)))
        return letters

    def _write(self, letters: _Letters) -> None:
        """Blobs, wrapped keys and events in one unit of work; the events last.

        On PostgreSQL the event store locks its table from the events' insert
        to the commit, so nothing else is written after them.
        """
        if letters.messages:
            with self.stores.unit_of_work():
                self.stores.blobs.put_many(letters.blobs.items())
                self.stores.wrapped_keys.put_many(letters.wrapped)
                self.save(*letters.messages)

    def _copies_held(self, copies: Iterable[tuple[str, Mailbox]]) -> set[UUID]:
        """Which of these (publication, mailbox) letters already exist, in one query."""
        ids = {message_id_of(pub, str(mailbox.id)) for pub, mailbox in copies}
        return set(self.stores.events.latest_versions(ids)) if ids else set()

    def _preload_mailboxes(
        self,
        recipients_of_batch: Sequence[Recipient],
        cache: dict[str, Mailbox | EboxError],
        current: Mapping[UUID, int] | None = None,
    ) -> None:
        """Load every recipient's mailbox of a batch in one query, chains verified.

        `current`, if given, holds their versions as read by the caller (else one query).
        """
        recipients = {r.address: r for r in recipients_of_batch}
        ids = {mailbox_id(r.ebox_type, r.id_value): a for a, r in recipients.items()}
        if current is None:
            versions = self.stores.events.latest_versions(ids)
        else:
            versions = {i: current[i] for i in ids if i in current}
        stale = [
            i for i in ids if i in versions and self._verified_mailbox_version(i) != versions[i]
        ]
        for stored in self.stores.events.select_events_many(stale).values():
            mailbox = project_verified(None, map(self.mapper.to_domain_event, stored))
            self._remember_mailbox(mailbox)
        for aggregate_id, address in ids.items():
            if aggregate_id not in versions:
                cache[address] = NoDigitalUser(f"{address} has no eBox")
                continue
            mailbox = self._mailboxes[aggregate_id]
            cache[address] = (
                MailboxClosed(f"the eBox of {address} is closed") if mailbox.closed else mailbox
            )

    def _verified_mailbox_version(self, aggregate_id: UUID) -> int | None:
        mailbox = self._mailboxes.get(aggregate_id)
        return None if mailbox is None else int(mailbox.version)

    def _remember_mailbox(self, mailbox: Mailbox) -> None:
        """Keep verified mailboxes between batches; a version check revalidates them."""
        with self._mailboxes_lock:
            if len(self._mailboxes) >= MAILBOX_CACHE_SIZE:
                self._mailboxes.pop(next(iter(self._mailboxes)))
            self._mailboxes[mailbox.id] = mailbox

    def link(
        self,
        message_id: str | UUID,
        sender_kbo: str,
        recipients: Sequence[Recipient],
        client_id: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> list[Outcome]:
        """The contract's linkEboxMessage: the same publication to further recipients.

        The sender signed the original recipient list only, so linked letters record
        their origin as `linked` (authenticated client, pointing at the original
        message and its envelope); the documents are not re-uploaded: the original
        data key is unwrapped inside the ledger and sealed to each new mailbox.

        One outcome per distinct recipient: a recipient listed twice gets one
        letter, and one that already has the publication (the original's, an
        earlier link's) keeps the letter it has, reported as a success with that
        letter's id, so a retried link answers what the first one did.
        """
        original = self.message(message_id)
        if original.sender != sender_kbo:
            raise UnknownMessage(f"no message {message_id} of sender {sender_kbo}")
        sent = self.sent(original.id)
        data_key = self._data_key(original)
        outcomes: list[Outcome] = []
        for chunk in _chunks(_distinct(recipients), batch_size):
            try:
                outcomes.extend(self._link_batch(original, sent, data_key, chunk, client_id))
            except RecordConflictError:
                # A concurrent link wrote some of these letters first: they are held now.
                outcomes.extend(self._link_batch(original, sent, data_key, chunk, client_id))
        return outcomes

    def _link_batch(
        self,
        original: Message,
        sent: Any,
        data_key: bytes,
        recipients: Sequence[Recipient],
        client_id: str,
    ) -> list[Outcome]:
        mailboxes: dict[str, Mailbox | EboxError] = {}
        self._preload_mailboxes(recipients, mailboxes)
        publication_id = str(sent.publication_id)
        held = self._copies_held(
            (publication_id, m) for m in mailboxes.values() if isinstance(m, Mailbox)
        )
        outcomes: list[Outcome] = []
        messages: list[Message] = []
        wrapped: list[tuple[str, str, bytes]] = []
        for recipient in recipients:
            mailbox = mailboxes[recipient.address]
            if isinstance(mailbox, EboxError):
                outcomes.append(Outcome(recipient, error_code=mailbox.code, error=mailbox.message))
                continue
            if str(mailbox.id) == original.mailbox_id:
                outcomes.append(Outcome(recipient, message_id=str(original.id)))
                continue
            copy = message_id_of(publication_id, str(mailbox.id))
            if copy in held:
                outcomes.append(Outcome(recipient, message_id=str(copy)))
                continue
            fields = event_data(sent)
            fields.update(
                mailbox_id=str(mailbox.id),
                recipient=mailbox.address,
                origin="linked",
                signing_key_id=None,
                signature=None,
                client_id=client_id,
                wrapped_for=sorted(mailbox.encryption_keys),
                details={**sent.details, "linked_from": str(original.id)},
            )
            message = Message.send(**fields)
            wrapped.extend(
                (str(message.id), fingerprint, wrap_key(data_key, _raw(public)))
                for fingerprint, public in mailbox.encryption_keys.items()
            )
            messages.append(message)
            outcomes.append(Outcome(recipient, message_id=str(message.id)))
        if messages:
            with self.stores.unit_of_work():
                # Events first: a letter another request wrote meanwhile is refused by the
                # event store's uniqueness (RecordConflictError) before anything else.
                self.save(*messages)
                self.stores.wrapped_keys.put_many(wrapped)
        return outcomes

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

    def expire(self, message_id: str | UUID, reason: str) -> None:
        """Destroy the wrapped data keys and record it: content gone, proofs intact."""
        message = self.message(message_id)
        message.expire(reason)
        with self.stores.unit_of_work():
            self.stores.wrapped_keys.destroy(str(message.id))
            self.save(message)

    def _change(self, message_id: str | UUID, change: Callable[[Message], None]) -> None:
        message = self.message(message_id)
        change(message)
        self.save(message)

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))


def _raw(public_b64: str) -> bytes:
    from ebox.domain.proofs.canonical import unb64url

    return unb64url(public_b64)


def _uuid(value: str | UUID) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def _distinct(recipients: Sequence[Recipient]) -> list[Recipient]:
    """Each recipient once, in the order first listed."""
    return list(dict.fromkeys(recipients))


def _chunks(items: Sequence[Recipient], size: int) -> Iterator[list[Recipient]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
