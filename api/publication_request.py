"""From the contract's multipart `publishMessage` request to a domain Publication.

Pure and separately tested: every malformed input becomes an ApiError with the
contract's StatusMessage code before anything is written. Every field is bounded
by ebox.domain.limits.LIMITS, the table the read-model columns are derived from,
so a letter accepted here always fits the views that follow it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785

from ebox.api.contract import (
    LANGUAGES,
    MAX_ATTACHMENTS,
    PUBLISHABLE_MEDIA_TYPES,
    parse_contract_datetime,
)
from ebox.api.errors import ApiError
from ebox.api.validation import parse_json
from ebox.domain.ids import is_kbo_number, is_national_register_number
from ebox.domain.limits import (
    LIMITS,
    FieldRejected,
    checked_amount,
    checked_identifier,
    checked_text,
)
from ebox.domain.publication import Document, Publication, Recipient
from ebox.projections.inbox import SEARCH_LANGUAGES, search_words

BODY_DOCUMENT = "body.json"
PAYMENT_DOCUMENT = "paymentData.json"


@dataclass(frozen=True)
class UploadedPart:
    part_name: str
    filename: str
    media_type: str
    content: bytes


def invalid(message: str, code: str = "INVALID_REQUEST") -> ApiError:
    return ApiError(400, code, message)


def bounded(check: Callable[..., Any], *args: Any, **options: Any) -> Any:
    """Apply one of ebox.domain.limits' checks; its refusal as this module's 400."""
    try:
        return check(*args, **options)
    except FieldRejected as error:
        raise invalid(error.message) from None


def identifier(value: Any, field: str, max_length: int) -> str:
    return str(bounded(checked_identifier, value, field, max_length))


def text(value: Any, field: str, max_length: int) -> str:
    return str(bounded(checked_text, value, field, max_length))


def moment(value: Any, field: str, date_allowed: bool = False) -> datetime:
    parsed: datetime = bounded(parse_contract_datetime, value, field, date_allowed=date_allowed)
    return parsed


def parse_message_to_publish(text: str) -> dict[str, Any]:
    body = bounded(parse_json, text, "messageToPublish")
    if not isinstance(body, dict):
        raise invalid("messageToPublish must be a JSON object")
    for field in ("recipient", "subject", "bodyMainContent", "replyAuthorized"):
        if field not in body:
            raise invalid(f"messageToPublish.{field} is required")
    return body


def recipient_of(value: Any) -> Recipient:
    if not isinstance(value, dict) or set(value) - {"eboxType", "eboxIdValue"}:
        raise invalid("recipient must be an EboxId {eboxType, eboxIdValue}")
    ebox_type, id_value = value.get("eboxType"), value.get("eboxIdValue")
    if ebox_type not in ("citizen", "enterprise") or not isinstance(id_value, str):
        raise invalid("recipient.eboxType must be citizen or enterprise, with an eboxIdValue")
    identifier(id_value, "recipient.eboxIdValue", LIMITS.ebox_id_value)
    valid = (
        is_national_register_number(id_value) if ebox_type == "citizen" else is_kbo_number(id_value)
    )
    if not valid:
        raise invalid(f"recipient.eboxIdValue {id_value!r} is not a valid {ebox_type} identifier")
    return Recipient(ebox_type, id_value)


def translated(
    value: Any, field: str, required: bool = False, max_length: int = LIMITS.title
) -> dict[str, str]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict) or not value:
        raise invalid(f"{field} must be a TranslatedString with at least one of nl, fr, de")
    unknown = set(value) - {*LANGUAGES, "en"}
    if unknown or not all(isinstance(v, str) and v for v in value.values()):
        raise invalid(f"{field} must map nl/fr/de to non-empty strings")
    return {lang: text(v, f"{field}.{lang}", max_length) for lang, v in value.items()}


def _flag(body: dict[str, Any], field: str, default: bool = False) -> bool:
    value = body.get(field, default)
    if not isinstance(value, bool):
        raise invalid(f"{field} must be a boolean")
    return value


def _digest_of(value: Any, field: str) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("digestMethod") != "sha_256":
        raise invalid(f"{field}.digestMethod must be sha_256")
    text = value.get("digestValue")
    try:
        raw = base64.urlsafe_b64decode(str(text) + "=" * (-len(str(text)) % 4))
    except (binascii.Error, ValueError):
        raise invalid(f"{field}.digestValue is not base64url") from None
    if len(raw) != 32:
        raise invalid(f"{field}.digestValue is not a SHA-256 digest")
    return raw


def documents_of(body: dict[str, Any], parts: dict[str, UploadedPart]) -> list[Document]:
    attachments = body.get("attachments") or []
    if not isinstance(attachments, list) or len(attachments) > MAX_ATTACHMENTS:
        raise invalid(f"attachments must be a list of at most {MAX_ATTACHMENTS}")
    documents: list[Document] = []
    referenced: set[str] = set()
    for position, item in enumerate(attachments):
        field = f"attachments[{position}]"
        if not isinstance(item, dict) or "httpPartName" not in item or "mainContent" not in item:
            raise invalid(f"{field} needs httpPartName and mainContent")
        part_name = item["httpPartName"]
        if not isinstance(part_name, str):
            raise invalid(f"{field}.httpPartName must be a string")
        if part_name in referenced:
            raise invalid(f"{field}.httpPartName {part_name!r} is used twice")
        part = parts.get(part_name)
        if part is None:
            raise invalid(
                f"{field}.httpPartName {part_name!r} names no uploaded part", "MISSING_PART"
            )
        referenced.add(part_name)
        text(part.filename, f"{field}: the file name of {part_name}", LIMITS.file_name)
        text(part.media_type, f"{field}: the media type of {part_name}", LIMITS.media_type)
        if part.media_type not in PUBLISHABLE_MEDIA_TYPES:
            raise invalid(
                f"{field}: media type {part.media_type!r} is not accepted; send one of "
                + ", ".join(PUBLISHABLE_MEDIA_TYPES),
                "UNSUPPORTED_MEDIA_TYPE",
            )
        expected = _digest_of(item.get("digest"), f"{field}.digest")
        if expected is not None and hashlib.sha256(part.content).digest() != expected:
            raise invalid(
                f"{field}: the SHA-256 of {part.filename!r} does not match its digest",
                "DIGEST_MISMATCH",
            )
        documents.append(
            Document(
                name=part.filename,
                media_type=part.media_type,
                content=part.content,
                main_content=_flag(item, "mainContent"),
                kind="attachment",
                title=translated(item.get("attachmentTitle"), f"{field}.attachmentTitle") or None,
                signed=_flag(item, "attachmentSigned"),
            )
        )
    unused = set(parts) - referenced
    if unused:
        raise invalid(f"uploaded parts {sorted(unused)} are not referenced by any attachment")
    names = [d.name for d in documents]
    if len(set(names)) != len(names):
        raise invalid("attachment file names must be unique within a message")
    body_content = translated(body.get("bodyContent"), "bodyContent", max_length=LIMITS.body_text)
    body_main = _flag(body, "bodyMainContent")
    if body_main and not body_content:
        raise invalid("bodyMainContent is true but there is no bodyContent")
    if body_content:
        documents.append(
            Document(
                BODY_DOCUMENT,
                "application/json",
                rfc8785.dumps(body_content),
                body_main,
                kind="body",
            )
        )
    payment = body.get("paymentData")
    if payment is not None:
        if not isinstance(payment, dict):
            raise invalid("paymentData must be an object")
        missing = {"paymentDataId", "amount", "currency", "iban", "vatAmount", "dueDate"} - set(
            payment
        )
        if missing:
            raise invalid(f"paymentData lacks {sorted(missing)}")
        payment_data(payment)
        documents.append(
            Document(
                PAYMENT_DOCUMENT,
                "application/json",
                rfc8785.dumps(payment),
                False,
                kind="payment_data",
            )
        )
    if not any(d.main_content for d in documents):
        raise invalid("a message needs at least one main content (an attachment or the body)")
    return documents


def payment_data(payment: dict[str, Any]) -> None:
    """Amounts are bounded decimals, texts bounded, the due date a date-time in range."""
    for field in ("amount", "vatAmount"):
        bounded(checked_amount, payment[field], f"paymentData.{field}")
    for field in ("paymentDataId", "currency", "iban", "bic"):
        if field in payment:
            text(payment[field], f"paymentData.{field}", LIMITS.payment_text)
    moment(payment["dueDate"], "paymentData.dueDate", date_allowed=True)
    if payment.get("reference") is not None and not isinstance(payment["reference"], dict):
        raise invalid("paymentData.reference must be an object")


ATTENTION_FIELDS = ("id", "type", "name")


def details_of(body: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {
        "reply_authorized": _flag(body, "replyAuthorized"),
        "body_main_content": _flag(body, "bodyMainContent"),
    }
    if body.get("originalMessageId") is not None:
        details["original_message_id"] = identifier(
            body["originalMessageId"], "originalMessageId", LIMITS.original_message_id
        )
    attention = body.get("forTheAttentionOf")
    if attention is not None:
        if not isinstance(attention, dict) or set(attention) - set(ATTENTION_FIELDS):
            raise invalid(f"forTheAttentionOf is an object of {', '.join(ATTENTION_FIELDS)}")
        details["for_the_attention_of"] = {
            key: text(value, f"forTheAttentionOf.{key}", LIMITS.attention_text)
            for key, value in attention.items()
        }
    business = body.get("businessDataList")
    if business is not None:
        if not isinstance(business, list) or len(business) > LIMITS.business_data_items:
            raise invalid(
                f"businessDataList must be a list of at most {LIMITS.business_data_items}"
            )
        cleaned = []
        for position, item in enumerate(business):
            if (
                not isinstance(item, dict)
                or "key" not in item
                or not isinstance(item.get("values"), list)
                or len(item["values"]) > LIMITS.business_data_values
            ):
                raise invalid(
                    f"businessDataList[{position}] needs key and values "
                    f"(at most {LIMITS.business_data_values})"
                )
            cleaned.append(
                {
                    "key": text(
                        item["key"], f"businessDataList[{position}].key", LIMITS.business_data_key
                    ),
                    "name": translated(item.get("name"), f"businessDataList[{position}].name")
                    or None,
                    "description": translated(
                        item.get("description"), f"businessDataList[{position}].description"
                    )
                    or None,
                    "values": [
                        translated(
                            v,
                            f"businessDataList[{position}].values",
                            True,
                            LIMITS.business_data_text,
                        )
                        for v in item["values"]
                    ],
                }
            )
        details["business_data"] = cleaned
    return details


def publication_of(
    text: str,
    parts: dict[str, UploadedPart],
    *,
    sender_kbo: str,
    client_id: str,
    idempotency_key: str | None,
) -> Publication:
    body = parse_message_to_publish(text)
    recipient = recipient_of(body["recipient"])
    subjects = translated(body["subject"], "subject", required=True, max_length=LIMITS.subject)
    sender = body.get("senderOrganizationId", sender_kbo)
    identifier(sender, "senderOrganizationId", LIMITS.kbo_number)
    if sender != sender_kbo:
        raise ApiError(403, "FORBIDDEN", "a sender organisation publishes only as itself")
    message_type = body.get("messageTypeId")
    if not isinstance(message_type, str) or not message_type:
        raise invalid("messageTypeId is required: it sets the message's validity period")
    identifier(message_type, "messageTypeId", LIMITS.message_type_id)
    application = body.get("senderApplicationId")
    if not isinstance(application, str) or not application:
        raise invalid("senderApplicationId is required")
    identifier(application, "senderApplicationId", LIMITS.sender_application_id)
    signature = body.get("senderSignature")
    submitted_at = datetime.now(UTC)
    key_id = signed = None
    if signature is not None:
        if not isinstance(signature, dict) or not {"keyId", "signature", "submissionTime"} <= set(
            signature
        ):
            raise invalid("senderSignature needs keyId, signature and submissionTime")
        key_id = identifier(signature["keyId"], "senderSignature.keyId", LIMITS.reference_id)
        signed = identifier(
            signature["signature"], "senderSignature.signature", LIMITS.reference_id
        )
        submitted_at = moment(signature["submissionTime"], "senderSignature.submissionTime")
    expires_at = None
    if body.get("expirationDate") is not None:
        expires_at = moment(body["expirationDate"], "expirationDate")
    documents, details = documents_of(body, parts), details_of(body)
    searchable_within_bounds(subjects, documents, details.get("business_data") or [])
    return Publication(
        sender=sender_kbo,
        application=application,
        message_type=message_type,
        subjects=subjects,
        documents=documents,
        recipients=[recipient],
        submitted_at=submitted_at,
        client_id=client_id,
        registered=_flag(body, "registeredMail"),
        idempotency_key=idempotency_key,
        signing_key_id=key_id,
        signature=signed,
        expires_at=expires_at,
        details=details,
    )


def searchable_within_bounds(
    subjects: dict[str, str], documents: list[Document], business_data: list[dict[str, Any]]
) -> None:
    """Per language, what the inbox search indexes of this letter stays within LIMITS.search_text.

    Each field is bounded on its own, but fifty business data items of fifty values
    each are not: measured as the search folds them (NFKD can multiply a character).
    """
    texts: list[dict[str, str] | None] = [subjects, *(d.title for d in documents)]
    for item in business_data:
        texts += [item.get("name"), item.get("description"), *item["values"]]
    for language in SEARCH_LANGUAGES:
        words = search_words(" ".join(t[language] for t in texts if t and language in t))
        size = sum(len(word) + 1 for word in words)
        if size > LIMITS.search_text:
            raise invalid(
                f"the searchable text of this message in {language} (subjects, attachment "
                f"titles, business data) exceeds {LIMITS.search_text} characters"
            )
