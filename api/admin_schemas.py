"""The bodies and answers of `/admin/v1`, as `/openapi.json` shows them.

In the contract's style (camelCase, a TranslatedString per name), but strict:
an admin request with a field the API does not know is refused (400) rather
than half-understood, since every one of them writes to the ledger.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ebox.api.schemas import TranslatedString
from ebox.domain.limits import LIMITS

EboxTypeName = Literal["citizen", "enterprise"]
LanguageName = Literal["nl", "fr", "de", "en"]
MAX_IMPORT_ROWS = 10_000
"""Mailboxes per import request: a bigger file goes through `ebox admin mailbox import`."""


class AdminRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewSender(AdminRequest):
    kboNumber: str = Field(max_length=LIMITS.kbo_number)
    names: TranslatedString = Field(min_length=1, max_length=4)


class NewSigningKey(AdminRequest):
    publicKey: str = Field(
        max_length=1000, description="Ed25519 public key: PEM, or the 32 raw bytes in base64url."
    )
    validFrom: str | None = Field(None, max_length=64, description="RFC 3339; default now.")
    validUntil: str | None = Field(None, max_length=64, description="RFC 3339; default none.")


class Revocation(AdminRequest):
    reason: str = Field("revoked by the operator", max_length=LIMITS.title)


class NewApplication(AdminRequest):
    applicationId: str = Field(max_length=LIMITS.sender_application_id)
    names: TranslatedString = Field(min_length=1, max_length=4)


class NewMessageType(AdminRequest):
    messageTypeId: str = Field(max_length=LIMITS.message_type_id)
    validity: str = Field(max_length=16, description="90d, 3m or 1y.")
    names: TranslatedString = Field(min_length=1, max_length=4)
    registeredMail: bool = False


class Sensitivity(AdminRequest):
    sensitive: bool = Field(
        strict=True, description="Sensitive: the notification mail never names the subject."
    )


class NewMailbox(AdminRequest):
    eboxType: EboxTypeName
    eboxIdValue: str = Field(max_length=LIMITS.ebox_id_value)
    email: str | None = Field(None, max_length=254)
    language: LanguageName | None = None


class MailboxNamed(AdminRequest):
    """An eBox, named in the body (a national register number stays out of URLs and logs)."""

    eboxType: EboxTypeName
    eboxIdValue: str = Field(max_length=LIMITS.ebox_id_value)


class Closing(MailboxNamed):
    reason: str = Field("closed by the operator", max_length=LIMITS.title)


class Consent(MailboxNamed):
    partnerId: str = Field(max_length=64)


class Mandate(MailboxNamed):
    holder: str = Field(max_length=LIMITS.ebox_id_value, description="The holder's NRN.")


class MailboxImport(AdminRequest):
    mailboxes: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_IMPORT_ROWS,
        description="Objects with type, id and optionally email and language (as the file rows).",
    )


class NewPartner(AdminRequest):
    partnerId: str = Field(max_length=64)
    name: str = Field(max_length=LIMITS.title)


class NewClient(AdminRequest):
    kind: Literal["sender", "partner", "auditor", "admin"]
    subject: str = Field(max_length=64)
    publicKey: dict[str, Any] = Field(
        description="The client's public JWK (Ed25519 OKP or RSA of 2048 bits or more)."
    )


# --------------------------------------------------------------------------- answers


class SenderAnswer(BaseModel):
    kboNumber: str
    senderId: str


class SigningKeyAnswer(BaseModel):
    kboNumber: str
    keyId: str
    revoked: bool = False


class ApplicationAnswer(BaseModel):
    kboNumber: str
    applicationId: str


class MessageTypeAnswer(BaseModel):
    kboNumber: str
    messageTypeId: str
    validityUnit: str
    validityAmount: int
    registeredMail: bool


class SensitivityAnswer(BaseModel):
    kboNumber: str
    messageTypeId: str
    sensitive: bool


class MailboxAnswer(BaseModel):
    eboxType: str
    eboxIdValue: str
    mailboxId: str | None = None
    closed: bool = False


class ImportAnswer(BaseModel):
    rows: int
    opened: int
    alreadyOpen: int


class PartnerAnswer(BaseModel):
    partnerId: str


class GrantAnswer(BaseModel):
    eboxType: str
    eboxIdValue: str
    partnerId: str | None = None
    holder: str | None = None
    granted: bool


class ClientAnswer(BaseModel):
    clientId: str
    kind: str
    subject: str
    scopes: list[str]
    disabled: bool = False
