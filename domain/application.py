"""The ledger's use cases, on an eventsourcing Application.

Every method is a guard or two and a save. Storage of ciphertexts and keys
goes through ports (ports.py) inside one unit of work, so a refused or failed
publication leaves no event, no blob and no wrapped key behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from nacl.public import PrivateKey
from nacl.signing import VerifyKey

from ebox.domain.chain import event_data, project_verified
from ebox.domain.errors import (
    ContentDestroyed,
    EboxError,
    InvalidPublication,
    InvalidSignature,
    MailboxAlreadyOpen,
    MailboxClosed,
    NoDigitalUser,
    SenderAlreadyRegistered,
    SignatureRequired,
    UnknownMessage,
    UnknownSender,
)
from ebox.domain.ids import mailbox_id, sender_id
from ebox.domain.mailbox import Mailbox
from ebox.domain.message import Message
from ebox.domain.ports import LedgerStores
from ebox.domain.proofs.canonical import b64url, rfc3339
from ebox.domain.proofs.encryption import (
    decrypt_document,
    encrypt_document,
    new_data_key,
    sha256_hex,
    unwrap_key,
    wrap_key,
)
from ebox.domain.proofs.envelope import (
    DocumentDigest,
    EnvelopeSignatureError,
    SubmissionEnvelope,
    key_fingerprint,
    verify_envelope,
)
from ebox.domain.publication import Outcome, Publication, Recipient
from ebox.domain.sender import SenderOrganization
from ebox.domain.validity import expiry

DEFAULT_BATCH_SIZE = 500
_last_position: ContextVar[int | None] = ContextVar("ebox_last_position", default=None)
MAILBOX_CACHE_SIZE = 100_000

Served = TypeVar("Served")


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
    ) -> None:
        super().__init__(env)
        self.stores = stores(self)
        self._mailboxes: dict[UUID, Mailbox] = {}
        self._mailboxes_lock = threading.Lock()
        self.require_signature = require_signature

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

    def publish(self, publication: Publication) -> str:
        """One letter to one recipient; raises the refusal instead of returning it."""
        if len(publication.recipients) != 1:
            raise InvalidPublication("a letter has exactly one recipient; use broadcast")
        (outcome,) = self.publish_many([publication])
        if outcome.message_id is None:
            raise NoDigitalUser(outcome.error or "recipient refused")
        return outcome.message_id

    def publish_many(self, publications: Sequence[Publication]) -> list[Outcome]:
        """Several letters in one transaction (the unit a batch commits)."""
        senders: dict[str, SenderOrganization] = {}
        prepared = []
        for publication in publications:
            if publication.sender not in senders:
                senders[publication.sender] = self.sender(publication.sender)
            prepared.append(
                (
                    _Prepared.of(publication, senders[publication.sender], self.require_signature),
                    publication.recipients,
                )
            )
        return self._send(prepared)

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
        prepared = _Prepared.of(
            publication, self.sender(publication.sender), self.require_signature
        )
        outcomes: list[Outcome] = []
        for chunk in _chunks(publication.recipients, batch_size):
            batch = self._send([(prepared, chunk)])
            outcomes.extend(batch)
            if on_batch is not None:
                on_batch(batch)
        return outcomes

    def _send(self, prepared: Sequence[tuple[_Prepared, Sequence[Recipient]]]) -> list[Outcome]:
        mailboxes: dict[str, Mailbox | EboxError] = {}
        self._preload_mailboxes([r for _, rs in prepared for r in rs], mailboxes)
        outcomes: list[Outcome] = []
        messages: list[Message] = []
        blobs: dict[str, bytes] = {}
        wrapped: list[tuple[str, str, bytes]] = []
        for publication, recipients in prepared:
            for recipient in recipients:
                mailbox = mailboxes[recipient.address]
                if isinstance(mailbox, EboxError):
                    outcomes.append(
                        Outcome(recipient, error_code=mailbox.code, error=mailbox.message)
                    )
                    continue
                blobs.update(publication.blobs)
                message = publication.send_to(mailbox)
                wrapped.extend(
                    (str(message.id), fingerprint, wrap_key(publication.data_key, _raw(public)))
                    for fingerprint, public in mailbox.encryption_keys.items()
                )
                messages.append(message)
                outcomes.append(Outcome(recipient, message_id=str(message.id)))
        if messages:
            with self.stores.unit_of_work():
                self.stores.blobs.put_many(blobs.items())
                self.stores.wrapped_keys.put_many(wrapped)
                self.save(*messages)
        return outcomes

    def _preload_mailboxes(
        self, recipients_of_batch: Sequence[Recipient], cache: dict[str, Mailbox | EboxError]
    ) -> None:
        """Load every recipient's mailbox of a batch in one query, chains verified."""
        recipients = {r.address: r for r in recipients_of_batch}
        ids = {mailbox_id(r.ebox_type, r.id_value): a for a, r in recipients.items()}
        versions = self.stores.events.latest_versions(ids)
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
        """
        original = self.message(message_id)
        if original.sender != sender_kbo:
            raise UnknownMessage(f"no message {message_id} of sender {sender_kbo}")
        sent = self.sent(original.id)
        data_key = self._data_key(original)
        outcomes: list[Outcome] = []
        for chunk in _chunks(recipients, batch_size):
            mailboxes: dict[str, Mailbox | EboxError] = {}
            self._preload_mailboxes(chunk, mailboxes)
            messages: list[Message] = []
            wrapped: list[tuple[str, str, bytes]] = []
            for recipient in chunk:
                mailbox = mailboxes[recipient.address]
                if isinstance(mailbox, EboxError):
                    outcomes.append(
                        Outcome(recipient, error_code=mailbox.code, error=mailbox.message)
                    )
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
                    self.stores.wrapped_keys.put_many(wrapped)
                    self.save(*messages)
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


class _Prepared:
    """A publication checked and encrypted once, ready to be sent to each recipient."""

    def __init__(
        self,
        publication: Publication,
        sender: SenderOrganization,
        envelope: SubmissionEnvelope,
        origin: str,
        data_key: bytes,
        documents: list[dict[str, Any]],
        blobs: list[tuple[str, bytes]],
        expires_at: datetime,
    ) -> None:
        self.publication = publication
        self.sender = sender
        self.envelope = envelope
        self.origin = origin
        self.data_key = data_key
        self.documents = documents
        self.blobs = blobs
        self.expires_at = expires_at
        self.publication_id = publication.publication_id or str(uuid4())

    @classmethod
    def of(
        cls, publication: Publication, sender: SenderOrganization, require_signature: bool
    ) -> _Prepared:
        sender.require_application(publication.application)
        message_type = sender.message_type(publication.message_type)
        if not publication.documents:
            raise InvalidPublication("a publication needs at least one document")
        if not any(d.main_content for d in publication.documents):
            raise InvalidPublication("a publication needs at least one main content")
        names = [d.name for d in publication.documents]
        if len(set(names)) != len(names):
            raise InvalidPublication("document names must be unique within a publication")
        envelope = SubmissionEnvelope(
            sender=publication.sender,
            application=publication.application,
            recipients=[r.address for r in publication.recipients],
            message_type=publication.message_type,
            subjects=publication.subjects,
            documents=[
                DocumentDigest(d.name, d.media_type, sha256_hex(d.content))
                for d in publication.documents
            ],
            registered=publication.registered,
            submitted_at=rfc3339(publication.submitted_at),
            idempotency_key=publication.idempotency_key,
            extra=publication.details,
        )
        origin = _check_origin(publication, sender, envelope, require_signature)
        data_key = new_data_key()
        documents: list[dict[str, Any]] = []
        # The signed envelope is kept, content-addressed, so evidence can show exactly what
        # was signed; its SHA-256 is the `envelope_sha256` of every Sent event.
        blobs: list[tuple[str, bytes]] = [(envelope.digest(), envelope.to_bytes())]
        for number, (doc, digest) in enumerate(
            zip(publication.documents, envelope.documents, strict=True), start=1
        ):
            ciphertext = encrypt_document(data_key, doc.content)
            ciphertext_sha256 = sha256_hex(ciphertext)
            blobs.append((ciphertext_sha256, ciphertext))
            documents.append(
                {
                    "name": doc.name,
                    "media_type": doc.media_type,
                    "sha256": digest.sha256,
                    "size": len(doc.content),
                    "ciphertext_sha256": ciphertext_sha256,
                    "main_content": doc.main_content,
                    "language": doc.language,
                    "kind": doc.kind,
                    "attachment_id": str(number),
                    "title": dict(doc.title) if doc.title else None,
                    "signed": doc.signed,
                }
            )
        expires_at = _expiry_of(publication, message_type)
        return cls(publication, sender, envelope, origin, data_key, documents, blobs, expires_at)

    def send_to(self, mailbox: Mailbox) -> Message:
        p = self.publication
        return Message.send(
            publication_id=self.publication_id,
            sender=p.sender,
            application=p.application,
            mailbox_id=str(mailbox.id),
            recipient=mailbox.address,
            message_type=p.message_type,
            subjects=dict(p.subjects),
            documents=self.documents,
            registered=p.registered,
            submitted_at=self.envelope.submitted_at,
            expires_at=rfc3339(self.expires_at),
            envelope_sha256=self.envelope.digest(),
            origin=self.origin,
            signing_key_id=p.signing_key_id if self.origin == "signed" else None,
            signature=p.signature if self.origin == "signed" else None,
            client_id=p.client_id,
            wrapped_for=sorted(mailbox.encryption_keys),
            details=dict(p.details),
        )


def _expiry_of(publication: Publication, message_type: dict[str, Any]) -> datetime:
    """The message type's validity period, or an earlier expiry the sender asked for."""
    latest = expiry(
        publication.submitted_at, message_type["validity_unit"], message_type["validity_amount"]
    )
    asked = publication.expires_at
    if asked is None:
        return latest
    if asked <= publication.submitted_at or asked > latest:
        raise InvalidPublication(
            f"expirationDate must lie after submission and no later than {rfc3339(latest)}"
        )
    return asked


def _check_origin(
    publication: Publication,
    sender: SenderOrganization,
    envelope: SubmissionEnvelope,
    require_signature: bool,
) -> str:
    """`signed` when the signature verifies with a key valid at submission, else `attested`."""
    if publication.signature is None:
        if require_signature:
            raise SignatureRequired("this ledger accepts signed publications only")
        return "attested"
    if publication.signing_key_id is None:
        raise InvalidSignature("a signature needs the id of the key that made it")
    public_key = sender.signing_key_valid_at(publication.signing_key_id, publication.submitted_at)
    try:
        verify_envelope(envelope, publication.signature, public_key)
    except EnvelopeSignatureError as error:
        raise InvalidSignature(str(error)) from error
    return "signed"


def _raw(public_b64: str) -> bytes:
    from ebox.domain.proofs.canonical import unb64url

    return unb64url(public_b64)


def _uuid(value: str | UUID) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def _chunks(items: Sequence[Recipient], size: int) -> Iterator[list[Recipient]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
