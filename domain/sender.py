"""SenderOrganization: a public service that may publish letters, and its keys."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ebox.domain.chain import ChainedAggregate
from ebox.domain.errors import (
    Conflict,
    SigningKeyNotValid,
    SigningKeyRevoked,
    UnknownApplication,
    UnknownMessageType,
    UnknownSigningKey,
)
from ebox.domain.ids import sender_id
from ebox.domain.limits import LIMITS, checked_identifier, checked_names
from ebox.domain.proofs.canonical import parse_rfc3339

VALIDITY_UNITS = ("DAY", "MONTH", "YEAR")


class SenderOrganization(ChainedAggregate):
    aggregate_type = "SenderOrganization"

    @staticmethod
    def create_id(kbo_number: str, **_: Any) -> Any:  # type: ignore[override]
        return sender_id(kbo_number)

    class Registered(ChainedAggregate.Created):
        kbo_number: str
        names: dict[str, str]

        def apply(self, sender: SenderOrganization) -> None:
            sender.kbo_number = self.kbo_number
            sender.names = dict(self.names)
            sender.signing_keys = {}
            sender.applications = {}
            sender.message_types = {}

    class SigningKeyAdded(ChainedAggregate.Event):
        key_id: str
        public_key: str
        valid_from: str
        valid_until: str | None

        def apply(self, sender: SenderOrganization) -> None:
            sender.signing_keys[self.key_id] = {
                "public_key": self.public_key,
                "valid_from": self.valid_from,
                "valid_until": self.valid_until,
                "revoked_at": None,
            }

    class SigningKeyRevoked(ChainedAggregate.Event):
        key_id: str
        revoked_at: str
        reason: str

        def apply(self, sender: SenderOrganization) -> None:
            sender.signing_keys[self.key_id]["revoked_at"] = self.revoked_at

    class ApplicationRegistered(ChainedAggregate.Event):
        application_id: str
        names: dict[str, str]

        def apply(self, sender: SenderOrganization) -> None:
            sender.applications[self.application_id] = dict(self.names)

    class MessageTypeRegistered(ChainedAggregate.Event):
        message_type_id: str
        names: dict[str, str]
        validity_unit: str
        validity_amount: int
        registered_mail: bool

        def apply(self, sender: SenderOrganization) -> None:
            sender.message_types[self.message_type_id] = {
                "names": dict(self.names),
                "validity_unit": self.validity_unit,
                "validity_amount": self.validity_amount,
                "registered_mail": self.registered_mail,
            }

    class MessageTypeSensitivitySet(ChainedAggregate.Event):
        """Whether mail notifications may name a letter's subject (never when sensitive).

        A message type without this event is sensitive: notifications name only the
        sender organisation.
        """

        message_type_id: str
        sensitive: bool

        def apply(self, sender: SenderOrganization) -> None:
            sender.message_types[self.message_type_id]["sensitive"] = self.sensitive

    if TYPE_CHECKING:  # state set by the events' apply(); not dataclass fields
        kbo_number: str
        names: dict[str, str]
        signing_keys: dict[str, dict[str, Any]]
        applications: dict[str, dict[str, str]]
        message_types: dict[str, dict[str, Any]]

    @classmethod
    def register(cls, kbo_number: str, names: dict[str, str]) -> SenderOrganization:
        checked_identifier(kbo_number, "the KBO number", LIMITS.kbo_number)
        checked_names(names, "the organisation's names")
        return cls._create(cls.Registered, kbo_number=kbo_number, names=names)

    def add_signing_key(
        self, key_id: str, public_key: str, valid_from: str, valid_until: str | None
    ) -> None:
        if key_id in self.signing_keys:
            raise Conflict(f"signing key {key_id[:16]} is already registered")
        self.trigger_event(
            self.SigningKeyAdded,
            key_id=key_id,
            public_key=public_key,
            valid_from=valid_from,
            valid_until=valid_until,
        )

    def revoke_signing_key(self, key_id: str, revoked_at: str, reason: str) -> None:
        key = self._key(key_id)
        if key["revoked_at"] is not None:
            raise SigningKeyRevoked(f"signing key {key_id[:16]} was already revoked")
        self.trigger_event(
            self.SigningKeyRevoked, key_id=key_id, revoked_at=revoked_at, reason=reason
        )

    def register_application(self, application_id: str, names: dict[str, str]) -> None:
        checked_identifier(application_id, "the application id", LIMITS.sender_application_id)
        checked_names(names, "the application's names")
        if application_id in self.applications:
            raise Conflict(f"application {application_id} is already registered")
        self.trigger_event(self.ApplicationRegistered, application_id=application_id, names=names)

    def register_message_type(
        self,
        message_type_id: str,
        names: dict[str, str],
        validity_unit: str,
        validity_amount: int,
        registered_mail: bool = False,
    ) -> None:
        checked_identifier(message_type_id, "the message type id", LIMITS.message_type_id)
        checked_names(names, "the message type's names")
        if validity_unit not in VALIDITY_UNITS or validity_amount < 1:
            raise ValueError(f"validity must be a positive number of {'/'.join(VALIDITY_UNITS)}")
        if message_type_id in self.message_types:
            raise Conflict(f"message type {message_type_id} is already registered")
        self.trigger_event(
            self.MessageTypeRegistered,
            message_type_id=message_type_id,
            names=names,
            validity_unit=validity_unit,
            validity_amount=validity_amount,
            registered_mail=registered_mail,
        )

    def set_message_type_sensitivity(self, message_type_id: str, sensitive: bool) -> None:
        if message_type_id not in self.message_types:
            raise UnknownMessageType(f"no message type {message_type_id} for {self.kbo_number}")
        self.trigger_event(
            self.MessageTypeSensitivitySet, message_type_id=message_type_id, sensitive=sensitive
        )

    # Queries used as guards by the application.

    def _key(self, key_id: str) -> dict[str, Any]:
        try:
            return self.signing_keys[key_id]
        except KeyError:
            raise UnknownSigningKey(
                f"signing key {key_id[:16]} is not registered for {self.kbo_number}"
            ) from None

    def signing_key_valid_at(self, key_id: str, moment: datetime) -> bytes:
        """The raw public key if `key_id` was valid at `moment`, else a typed refusal."""
        from ebox.domain.proofs.canonical import unb64url

        key = self._key(key_id)
        if key["revoked_at"] is not None and parse_rfc3339(key["revoked_at"]) <= moment:
            raise SigningKeyRevoked(f"signing key {key_id[:16]} was revoked at {key['revoked_at']}")
        if parse_rfc3339(key["valid_from"]) > moment or (
            key["valid_until"] is not None and parse_rfc3339(key["valid_until"]) < moment
        ):
            raise SigningKeyNotValid(f"signing key {key_id[:16]} was not valid at {moment}")
        return unb64url(key["public_key"])

    def require_application(self, application_id: str) -> None:
        if application_id not in self.applications:
            raise UnknownApplication(
                f"application {application_id} is not registered for {self.kbo_number}"
            )

    def message_type(self, message_type_id: str) -> dict[str, Any]:
        try:
            return self.message_types[message_type_id]
        except KeyError:
            raise UnknownMessageType(
                f"message type {message_type_id} is not registered for {self.kbo_number}"
            ) from None
