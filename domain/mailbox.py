"""Mailbox: one person's or enterprise's eBox, its keys, consents and mandates."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ebox.domain.chain import ChainedAggregate
from ebox.domain.errors import Conflict, MailboxClosed, NoConsent
from ebox.domain.ids import mailbox_id
from ebox.domain.limits import LIMITS, FieldRejected, checked_identifier

EBOX_TYPES = ("citizen", "enterprise")
LANGUAGES = ("nl", "fr", "de", "en")
MAX_EMAIL_LENGTH = 254  # RFC 5321's path limit, less the angle brackets
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Mailbox(ChainedAggregate):
    aggregate_type = "Mailbox"

    @staticmethod
    def create_id(ebox_type: str, id_value: str, **_: Any) -> Any:  # type: ignore[override]
        return mailbox_id(ebox_type, id_value)

    class Opened(ChainedAggregate.Created):
        ebox_type: str
        id_value: str

        def apply(self, mailbox: Mailbox) -> None:
            mailbox.ebox_type = self.ebox_type
            mailbox.id_value = self.id_value
            mailbox.encryption_keys = {}
            mailbox.partners = []
            mailbox.mandates = {}
            mailbox.closed = False
            mailbox.email = None
            mailbox.language = None
            mailbox.digest = False

    class EncryptionKeyAdded(ChainedAggregate.Event):
        fingerprint: str
        public_key: str

        def apply(self, mailbox: Mailbox) -> None:
            mailbox.encryption_keys[self.fingerprint] = self.public_key

    class ContactSet(ChainedAggregate.Event):
        """Where the owner is told of a new letter, and in which language (None: not given)."""

        email: str | None
        language: str | None

        def apply(self, mailbox: Mailbox) -> None:
            mailbox.email = self.email
            mailbox.language = self.language

    class DigestSet(ChainedAggregate.Event):
        """New letters told in one mail a day (`daily`), or one mail per letter."""

        daily: bool

        def apply(self, mailbox: Mailbox) -> None:
            mailbox.digest = self.daily

    class PartnerConsentGranted(ChainedAggregate.Event):
        partner_id: str

        def apply(self, mailbox: Mailbox) -> None:
            mailbox.partners.append(self.partner_id)

    class PartnerConsentRevoked(ChainedAggregate.Event):
        partner_id: str

        def apply(self, mailbox: Mailbox) -> None:
            mailbox.partners.remove(self.partner_id)

    class MandateGranted(ChainedAggregate.Event):
        holder: str
        key_fingerprint: str | None

        def apply(self, mailbox: Mailbox) -> None:
            mailbox.mandates[self.holder] = self.key_fingerprint

    class MandateRevoked(ChainedAggregate.Event):
        holder: str

        def apply(self, mailbox: Mailbox) -> None:
            del mailbox.mandates[self.holder]

    class Closed(ChainedAggregate.Event):
        reason: str

        def apply(self, mailbox: Mailbox) -> None:
            mailbox.closed = True

    if TYPE_CHECKING:  # state set by the events' apply(); not dataclass fields
        ebox_type: str
        id_value: str
        encryption_keys: dict[str, str]
        partners: list[str]
        mandates: dict[str, str | None]
        closed: bool
        email: str | None
        language: str | None
        digest: bool

    @classmethod
    def open(cls, ebox_type: str, id_value: str) -> Mailbox:
        if ebox_type not in EBOX_TYPES:
            raise ValueError(f"eBox type must be one of {EBOX_TYPES}, not {ebox_type!r}")
        checked_identifier(id_value, "the eBox id", LIMITS.ebox_id_value)
        return cls._create(cls.Opened, ebox_type=ebox_type, id_value=id_value)

    def add_encryption_key(self, fingerprint: str, public_key: str) -> None:
        self.require_open()
        if fingerprint in self.encryption_keys:
            raise Conflict("this encryption key is already on the mailbox")
        self.trigger_event(self.EncryptionKeyAdded, fingerprint=fingerprint, public_key=public_key)

    def set_contact(self, email: str | None, language: str | None) -> None:
        self.require_open()
        self.trigger_event(
            self.ContactSet, email=checked_email(email), language=checked_language(language)
        )

    def set_digest(self, daily: bool) -> None:
        self.require_open()
        if getattr(self, "digest", False) != daily:
            self.trigger_event(self.DigestSet, daily=daily)

    def grant_partner_consent(self, partner_id: str) -> None:
        self.require_open()
        if partner_id in self.partners:
            raise Conflict(f"partner {partner_id} already has consent")
        self.trigger_event(self.PartnerConsentGranted, partner_id=partner_id)

    def revoke_partner_consent(self, partner_id: str) -> None:
        self.require_consent(partner_id)
        self.trigger_event(self.PartnerConsentRevoked, partner_id=partner_id)

    def grant_mandate(self, holder: str, key_fingerprint: str | None = None) -> None:
        self.require_open()
        if holder in self.mandates:
            raise Conflict(f"{holder} already holds a mandate")
        self.trigger_event(self.MandateGranted, holder=holder, key_fingerprint=key_fingerprint)

    def revoke_mandate(self, holder: str) -> None:
        if holder not in self.mandates:
            raise Conflict(f"{holder} holds no mandate")
        self.trigger_event(self.MandateRevoked, holder=holder)

    def close(self, reason: str) -> None:
        self.require_open()
        self.trigger_event(self.Closed, reason=reason)

    # Guards.

    @property
    def address(self) -> str:
        return f"{self.ebox_type}:{self.id_value}"

    def require_open(self) -> None:
        if self.closed:
            raise MailboxClosed(f"the eBox of {self.address} is closed")

    def require_consent(self, partner_id: str) -> None:
        if partner_id not in self.partners:
            raise NoConsent(f"partner {partner_id} has no consent for {self.address}")


def checked_email(email: str | None) -> str | None:
    """An address to notify (or None): one @, a dotted domain, no spaces, bounded."""
    if email is None:
        return None
    if not isinstance(email, str) or len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        raise FieldRejected(f"the email must be an address like name@example.be, not {email!r}")
    return email


def checked_language(language: str | None) -> str | None:
    if language is not None and language not in LANGUAGES:
        raise FieldRejected(f"the language is one of {', '.join(LANGUAGES)}, not {language!r}")
    return language
