"""The answers of the routes, as `/openapi.json` shows them.

Pydantic models mirroring the contract's definitions (ebox-rest-2.1.yaml, and
the event API's EboxEnterpriseDocumentEventPage), field for field and under the
contract's names, so that the generated document describes every answer. The
routes build their JSON with the presenters (ebox.api.presenters) and declare
these as their `response_model`s; tests/e2e/test_response_models.py checks that
each documented schema accepts what the route really answers.

Where this API goes beyond the contract (README, "Contract deviations") the
model says so: `archived` in Message, media types beyond the contract's enum.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ebox.api.consistency import MIN_POSITION_HEADER


class StatusMessage(BaseModel):
    """The contract's StatusMessage (for the OpenAPI document; answers are built in errors.py)."""

    id: str
    code: str
    message: str
    environment: str | None = None


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    texts = {
        400: "Invalid data supplied",
        401: "Invalid authorization",
        403: "Authenticated, but not allowed to do this",
        404: "Not found, or not visible to the caller",
        409: "Refused in the current state",
        410: "The content was destroyed (expiry or erasure); its proofs remain",
        413: "The body, or one of its files, exceeds its limit",
        422: "The Idempotency-Key was used for another request",
        503: f"The view did not reach {MIN_POSITION_HEADER} in time: retry",
    }
    return {s: {"model": StatusMessage, "description": texts[s]} for s in statuses}


def contract_answer(
    definition: str, errors: dict[int | str, dict[str, Any]], status: int = 200
) -> dict[int | str, dict[str, Any]]:
    """A route's `responses`: its answer, named after the contract's definition, and its errors."""
    return {status: {"description": f"The contract's {definition}"}, **errors}


class ContractModel(BaseModel):
    """An answer of the contract: unknown fields are allowed, as the contract allows them."""

    model_config = ConfigDict(extra="allow")


TranslatedString = dict[str, str]
"""The contract's TranslatedString: a text per language (nl, fr, de; en also kept)."""


# --------------------------------------------------------------------------- an eBox


class Ebox(ContractModel):
    numberOfMessages: int
    numberOfUnreadMessages: int | None = None
    lastReceiptDate: str | None = Field(default=None, json_schema_extra={"format": "date-time"})
    lastConsultationDate: str | None = Field(
        default=None, json_schema_extra={"format": "date-time"}
    )
    eboxSize: float | None = Field(default=None, description="kilobytes (1 kB = 1024 bytes)")


class Digest(ContractModel):
    digestMethod: str = Field(description="sha_256")
    digestValue: str = Field(description="base64url (RFC 4648 section 5)")


class Attachment(ContractModel):
    attachmentId: str | None = None
    attachmentTitle: TranslatedString | None = None
    fileName: str
    mainContent: bool
    mediaType: str = Field(
        description="the contract's media types, and image/jpeg and image/png (an extension)"
    )
    size: float = Field(description="kilobytes")
    digest: Digest | None = None
    attachmentSigned: bool | None = None
    contentHref: str | None = None


class Attachments(ContractModel):
    items: list[Attachment] = []
    totalItems: int | None = None


class BusinessData(ContractModel):
    key: str
    name: TranslatedString
    description: TranslatedString | None = None
    values: list[TranslatedString]


class BusinessDataList(ContractModel):
    items: list[BusinessData] = []
    totalItems: int | None = None


class ForTheAttentionOf(ContractModel):
    id: str | None = None
    type: str | None = None
    name: str | None = None


class PaymentData(ContractModel):
    paymentDataId: str
    amount: float
    vatAmount: float
    currency: str
    dueDate: str = Field(json_schema_extra={"format": "date-time"})
    iban: str
    bic: str | None = None
    reference: dict[str, Any] | None = None


class Message(ContractModel):
    messageId: str
    originalMessageId: str | None = None
    subject: TranslatedString
    receiptDate: str = Field(json_schema_extra={"format": "date-time"})
    expirationDate: str = Field(json_schema_extra={"format": "date-time"})
    readStatus: bool
    visible: bool | None = None
    archived: bool | None = Field(default=None, description="extension")
    registeredMail: bool
    forTheAttentionOf: ForTheAttentionOf | None = None
    messageTypeId: str
    senderOrganizationId: str
    senderApplicationId: str | None = None
    attachments: Attachments | None = None
    bodyMainContent: bool
    paymentData: PaymentData | None = None
    businessDataList: BusinessDataList | None = None
    replyAuthorized: bool


class Messages(ContractModel):
    items: list[Message] = []
    totalItems: int | None = None


# --------------------------------------------------------------------------- publication


class EboxId(ContractModel):
    eboxType: str = Field(description="citizen or enterprise")
    eboxIdValue: str = Field(description="the NRN of a citizen, the KBO number of an enterprise")


class PublicationStatusMessage(ContractModel):
    """publishMessage's 201."""

    messageId: str
    expirationDate: str = Field(json_schema_extra={"format": "date-time"})
    code: str | None = None
    message: str | None = None


class LinkResponse(ContractModel):
    """linkEboxMessage's 201: the recipients refused are listed in errorCases."""

    messageId: str
    expirationDate: str = Field(json_schema_extra={"format": "date-time"})
    nbSuccessLinks: int
    errorCases: list[EboxId] = []


class LegalReceiptRule(ContractModel):
    """Extension: the rule of a registered letter's moment of receipt (EBOX_LEGAL_RECEIPT_*)."""

    rule: str = Field(description="first-opening, deemed-working-day or earliest-of")
    workingDays: int = Field(description="the N of the deemed receipt (Belgian working days)")


class LegalMoment(ContractModel):
    """Extension: when a registered letter counts as received, and by which limb of the rule."""

    at: str = Field(json_schema_extra={"format": "date-time"})
    reason: str = Field(description="first-opening or deemed")


class MessageStatus(ContractModel):
    messageId: str
    eboxId: EboxId
    expirationDate: str | None = Field(default=None, json_schema_extra={"format": "date-time"})
    readStatus: bool
    visible: bool | None = None
    legalReceiptRule: LegalReceiptRule | None = Field(
        default=None, description="extension: registered letters only, the operator's rule"
    )
    legalMoment: LegalMoment | None = Field(
        default=None,
        description=(
            "extension: registered letters only, when the letter counts as received (null: not yet)"
        ),
    )


MessagesStatusList = list[MessageStatus]
"""searchMessageStatus's 201."""


# --------------------------------------------------------------------------- reference data


class ValidityPeriod(ContractModel):
    validityPeriodNumber: int
    validityPeriodUnit: str = Field(description="day, month or year")


class MessageType(ContractModel):
    messageTypeId: str
    messageTypeName: TranslatedString
    messageTypeDescription: TranslatedString | None = None
    validityPeriod: ValidityPeriod | None = None
    senderOrganizationIds: list[str] | None = None
    senderApplicationIds: list[str] | None = None


class MessageTypes(ContractModel):
    items: list[MessageType] = []
    totalItems: int | None = None


class SenderApplication(ContractModel):
    applicationId: str
    applicationName: TranslatedString
    senderOrganizationIds: list[str] | None = None
    messageTypeIds: list[str] | None = None


class SenderApplications(ContractModel):
    items: list[SenderApplication] = []
    totalItems: int | None = None


class SenderOrganization(ContractModel):
    organizationId: str
    organizationShortName: TranslatedString
    senderApplicationIds: list[str] | None = None
    messageTypeIds: list[str] | None = None


class SenderOrganizations(ContractModel):
    items: list[SenderOrganization] = []
    totalItems: int | None = None


# --------------------------------------------------------------------------- the event API


class EboxEnterpriseDocumentEvent(ContractModel):
    eventType: str
    eventCorrelationId: str | None = None
    enterpriseId: str = Field(description="the KBO number; for a citizen, the NRN")
    messageId: str
    receiptDate: str = Field(json_schema_extra={"format": "date-time"})
    expirationDate: str = Field(json_schema_extra={"format": "date-time"})
    registeredMail: bool
    messageTypeId: str | None = None
    senderOrganizationId: str | None = None
    senderApplicationId: str | None = None
    subject: TranslatedString | None = None


class EboxEnterpriseDocumentEventPageItem(ContractModel):
    eventSequenceNbr: int
    eventTime: str = Field(json_schema_extra={"format": "date-time"})
    eventProviderId: str
    eventData: EboxEnterpriseDocumentEvent


class EventPageInfo(ContractModel):
    lastSequenceNbr: int
    hasNext: bool


class EboxEnterpriseDocumentEventPage(ContractModel):
    EboxEnterpriseDocumentEvents: list[EboxEnterpriseDocumentEventPageItem]
    pageInfo: EventPageInfo
