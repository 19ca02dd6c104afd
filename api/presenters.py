"""The consultation's answers: the contract's JSON shapes of what the inbox view holds.

Pure functions of the view's values (ebox.projections.inbox_view) and of the
base URL the caller used; the routes (ebox.api.ebox_routes) answer them, and
their schemas are ebox.api.schemas. Sizes are the contract's kilobytes, dates
its RFC 3339 form, digests base64url.
"""

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from ebox.api.contract import contract_datetime
from ebox.domain.proofs.canonical import b64url
from ebox.projections.inbox_view import AttachmentInfo, EboxSummary, InboxMessage


def kilobytes(size: int) -> float:
    """The contract's sizes: kB of 1024 bytes, as a number."""
    return round(size / 1024, 3)


def attachment_json(base_url: str, message: InboxMessage, a: AttachmentInfo) -> dict[str, Any]:
    href = (
        f"{base_url}/ebox/messages/{quote(message.message_id, safe='')}"
        f"/attachments/{quote(a.attachment_id, safe='')}/content"
    )
    body: dict[str, Any] = {
        "attachmentId": a.attachment_id,
        "fileName": a.name,
        "mainContent": a.main_content,
        "mediaType": a.media_type,
        "size": kilobytes(a.size),
        "digest": {"digestMethod": "sha_256", "digestValue": b64url(bytes.fromhex(a.sha256))},
        "attachmentSigned": a.signed,
        "contentHref": href,
    }
    if a.title:
        body["attachmentTitle"] = dict(a.title)
    return body


def attachments_json(base_url: str, message: InboxMessage) -> dict[str, Any]:
    items = [attachment_json(base_url, message, a) for a in message.attachments]
    return {"items": items, "totalItems": len(items)}


def _business_data(items: list[dict[str, Any]]) -> dict[str, Any]:
    rendered = []
    for item in items:
        entry: dict[str, Any] = {
            "key": item["key"],
            "name": item.get("name") or {},
            "values": list(item.get("values") or []),
        }
        if item.get("description"):
            entry["description"] = item["description"]
        rendered.append(entry)
    return {"items": rendered, "totalItems": len(rendered)}


def message_json(
    base_url: str, m: InboxMessage, payment_data: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messageId": m.message_id,
        "subject": dict(m.subjects),
        "receiptDate": contract_datetime(m.receipt_date),
        "expirationDate": contract_datetime(m.expiration_date),
        "readStatus": m.read,
        "visible": m.visible,
        "archived": m.archived,
        "registeredMail": m.registered_mail,
        "messageTypeId": m.message_type_id,
        "senderOrganizationId": m.sender_organization_id,
        "senderApplicationId": m.sender_application_id,
        "attachments": attachments_json(base_url, m),
        "bodyMainContent": m.body_main_content,
        "replyAuthorized": m.reply_authorized,
    }
    if m.business_data:
        body["businessDataList"] = _business_data(m.business_data)
    if m.for_the_attention_of:
        body["forTheAttentionOf"] = dict(m.for_the_attention_of)
    if m.original_message_id:
        body["originalMessageId"] = m.original_message_id
    if payment_data is not None:
        body["paymentData"] = payment_data
    return body


def ebox_json(summary: EboxSummary) -> dict[str, Any]:
    body: dict[str, Any] = {
        "numberOfMessages": summary.number_of_messages,
        "numberOfUnreadMessages": summary.number_of_unread_messages,
        "eboxSize": kilobytes(summary.total_size),
    }
    if summary.last_receipt_date is not None:
        body["lastReceiptDate"] = contract_datetime(summary.last_receipt_date)
    if summary.last_consultation_date is not None:
        body["lastConsultationDate"] = contract_datetime(summary.last_consultation_date)
    return body


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266, RFC 5987)."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def json_of(content: bytes) -> Any:
    return json.loads(content.decode("utf-8"))


def body_texts(bodies: Sequence[Any], contents: list[bytes]) -> dict[str, str]:
    """The body documents as the contract's TranslatedString."""
    texts: dict[str, str] = {}
    for body, content in zip(bodies, contents, strict=True):
        if body.media_type == "application/json":
            parsed = json_of(content)
            if isinstance(parsed, dict):
                texts.update({k: v for k, v in parsed.items() if isinstance(v, str)})
        elif body.language:
            texts[body.language] = content.decode("utf-8", errors="replace")
    return texts
