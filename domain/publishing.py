"""The publication use cases: submit, publish_many, broadcast and link.

Every letter is made the same way: the publication is prepared once
(ebox.domain.preparation: checked, origin judged, documents encrypted), its
sender comes from a cache of verified senders revalidated by version, its
recipients' mailboxes from the mailbox cache (ebox.domain.verified_cache), and
one batch of letters is written in one unit of work: blobs and wrapped keys
first, the events last. A recipient gets one letter per publication, however
often it is listed or sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import RecordConflictError

from ebox.domain.chain import event_data, project_verified
from ebox.domain.errors import (
    EboxError,
    InvalidPublication,
    NoDigitalUser,
    UnknownMessage,
    UnknownSender,
)
from ebox.domain.ids import mailbox_id, sender_id
from ebox.domain.mailbox import Mailbox
from ebox.domain.message import Message
from ebox.domain.message import message_id as message_id_of
from ebox.domain.preparation import PreparedPublication
from ebox.domain.proofs.canonical import parse_rfc3339, unb64url
from ebox.domain.proofs.encryption import wrap_key
from ebox.domain.publication import Outcome, Publication, Recipient
from ebox.domain.sender import SenderOrganization
from ebox.domain.submission import IdempotencyKey, Submitted, submit_once
from ebox.domain.verified_cache import MailboxCache, VerifiedCache

if TYPE_CHECKING:
    from eventsourcing.persistence import Mapper

    from ebox.domain.ports import LedgerStores

DEFAULT_BATCH_SIZE = 500


@dataclass
class _Letters:
    """A batch made in memory, not written yet: the outcomes and what they store."""

    outcomes: list[Outcome] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)
    wrapped: list[tuple[str, str, bytes]] = field(default_factory=list)


class PublicationUseCases(MailboxCache):
    """The sender's side of the ledger; a mixin of EboxLedger, which gives it the rest.

    Each use case is a guard then events: nothing is saved until every letter
    of the batch has been made and checked.
    """

    if TYPE_CHECKING:
        stores: LedgerStores
        mapper: Mapper[Any]
        require_signature: bool
        submission_skew: timedelta
        _senders: VerifiedCache[SenderOrganization]

        def save(self, *objs: Any, **kwargs: Any) -> Any: ...

        @staticmethod
        def last_position() -> int | None: ...

        def sender(self, kbo_number: str) -> SenderOrganization: ...

        def sent(self, message_id: str | UUID) -> Any: ...

        def message(self, message_id: str | UUID) -> Message: ...

        def _data_key(self, message: Message) -> bytes: ...

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
        cached = self._senders.at(aggregate_id, version)
        if cached is not None:
            return cached
        stored = self.stores.events.select_events_many([aggregate_id])[aggregate_id]
        sender: SenderOrganization = project_verified(
            None, map(self.mapper.to_domain_event, stored)
        )
        self._senders.remember(sender)
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


def _raw(public_b64: str) -> bytes:
    return unb64url(public_b64)


def _distinct(recipients: Sequence[Recipient]) -> list[Recipient]:
    """Each recipient once, in the order first listed."""
    return list(dict.fromkeys(recipients))


def _chunks(items: Sequence[Recipient], size: int) -> Iterator[list[Recipient]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
