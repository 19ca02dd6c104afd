"""A letter: its page, its documents, archive/unarchive, hide/show, reply, evidence.

=======  ==========================================  ==========================================
GET      /letters/{id}                               the page: body, payment and business data
GET      /letters/{id}/documents/{attachment}        download (``?inline=1``: a PDF in the
                                                     browser's own viewer)
POST     /letters/{id}/archive, /unarchive           recorded in the ledger
POST     /letters/{id}/hide, /show                   the contract's ``visible``
POST     /letters/{id}/reply                         where the sender allows replies
GET      /letters/{id}/evidence                      the ebox-evidence/v1 bundle (JSON)
GET      /letters/{id}/certificate                   its sealed PDF certificate
=======  ==========================================  ==========================================

Every one goes through the REST API's `Consultation` and the ledger's use
cases: the page hands over the body and the payment data (``hand_over``, as
getBodyContent and getMessageById do), so showing a letter whose body is its
main content records its Read (reader ``citizen:NRN``, channel ``portal`` or
``mandate:citizen:NRN``); a document records its own opening when it is viewed
or downloaded, and nothing is recorded unless it is served.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Response

from ebox.api.consultation import Consultation, MessageId, attachment_of
from ebox.api.evidence_routes import evidence_of
from ebox.api.negotiation import OCTET_STREAM
from ebox.api.portal import display
from ebox.api.portal.pages import (
    FormPage,
    Page,
    PortalRefusal,
    PortalRoute,
    SignedInPage,
    form_value,
)
from ebox.api.presenters import body_texts, content_disposition
from ebox.api.replies import reply_of
from ebox.domain.replies import Reply
from ebox.projections.inbox_view import InboxMessage

router = APIRouter(route_class=PortalRoute, include_in_schema=False)

LETTER = "/letters/{messageId}"
INLINE_TYPES = frozenset({"application/pdf"})
"""Shown in the browser's own viewer; anything else is only ever downloaded."""


def _opened(c: Consultation, message: InboxMessage) -> tuple[dict[str, str], dict[str, Any] | None]:
    """The body (per language) and the payment data, handed over in one recorded opening."""
    bodies = [body.name for body in message.bodies]
    payment = c.payment_document(message)
    documents = bodies + ([payment] if payment else [])
    if not documents:
        return {}, None

    def serve(contents: list[bytes]) -> tuple[dict[str, str], dict[str, Any] | None]:
        texts = body_texts(message.bodies, contents[: len(bodies)])
        data = json.loads(contents[-1].decode("utf-8")) if payment else None
        return texts, data if isinstance(data, dict) else None

    opened = c.hand_over(message.message_id, documents, serve)
    c.written()  # the inbox view shows the read status at once
    return opened


@router.get(LETTER)
def letter(page: SignedInPage, messageId: MessageId) -> Response:
    c = page.consultation()
    message = c.message(messageId)
    texts, payment = _opened(c, message)
    message = c.message(messageId)  # after the opening: its read status
    language = page.language
    sender = display.sender_names(page.ledger, [message.sender_organization_id], language)
    return page.render(
        "letter.html",
        message=message,
        url=f"/letters/{message.message_id}",
        subject=display.pick(message.subjects, language),
        sender=sender[message.sender_organization_id],
        received=display.date_time(message.receipt_date, language),
        expires=display.date(message.expiration_date, language),
        expires_soon=display.expires_soon(message.expiration_date),
        body=display.pick(texts, language),
        payment=_payment(payment, language),
        business=_business(message.business_data or [], language),
        attachments=[
            (
                a,
                display.pick(a.title, language) if a.title else a.name,
                a.media_type in INLINE_TYPES,
            )
            for a in message.attachments
        ],
        replied=page.request.query_params.get("replied") == "1",
    )


def _payment(data: dict[str, Any] | None, language: str) -> list[tuple[str, str]] | None:
    """(msgid of the label, value) of the payment data, in the contract's order."""
    if data is None:
        return None
    rows = []
    currency = str(data.get("currency") or "EUR")
    if "amount" in data:
        rows.append(("Amount", display.amount(data["amount"], currency, language)))
    if data.get("vatAmount") not in (None, 0):
        rows.append(("VAT", display.amount(data["vatAmount"], currency, language)))
    if data.get("iban"):
        rows.append(("IBAN", str(data["iban"])))
    if data.get("bic"):
        rows.append(("BIC", str(data["bic"])))
    reference = data.get("reference")
    if isinstance(reference, dict):
        value = (
            reference.get("value")
            or reference.get("structured")
            or next((v for v in reference.values() if isinstance(v, str)), "")
        )
        rows.append(("Structured communication", str(value)))
    elif reference:
        rows.append(("Structured communication", str(reference)))
    if data.get("dueDate"):
        rows.append(("Due date", str(data["dueDate"])[:10]))
    return rows


def _business(items: list[dict[str, Any]], language: str) -> list[tuple[str, str]]:
    rows = []
    for item in items:
        name = item.get("name")
        label = display.pick(name, language) if isinstance(name, dict) else ""
        values = ", ".join(
            display.pick(v, language) if isinstance(v, dict) else str(v)
            for v in item.get("values") or []
        )
        rows.append((label or str(item.get("key", "")), values))
    return rows


@router.get(f"{LETTER}/documents/{{attachmentId}}")
def document(
    page: SignedInPage, messageId: MessageId, attachmentId: str, inline: bool = False
) -> Response:
    c = page.consultation()
    message = c.message(messageId)
    attachment = attachment_of(message, attachmentId)
    shown = inline and attachment.media_type in INLINE_TYPES
    disposition = content_disposition(attachment.name)
    headers = {
        "Content-Disposition": "inline" + disposition[len("attachment") :]
        if shown
        else disposition,
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if not shown:  # a sender's HTML or SVG must never run as a page of this origin
        headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    media_type = attachment.media_type if shown else OCTET_STREAM
    return c.hand_over(
        message.message_id,
        [attachment.name],
        lambda contents: Response(contents[0], media_type=media_type, headers=headers),
    )


def _change(page: Page, message_id: str, action: str) -> Response:
    c = page.consultation()
    message = c.message(message_id)
    app = c.ledger.app
    by = c.access.reader
    if action == "archive":
        app.archive(message.message_id, by=by)
    elif action == "unarchive":
        app.unarchive(message.message_id, by=by)
    else:
        app.set_visibility({message.message_id: action == "show"}, by=by)
    c.written()
    return page.redirect(f"/letters/{message.message_id}")


@router.post(f"{LETTER}/archive")
def archive(page: FormPage, messageId: MessageId) -> Response:
    return _change(page, messageId, "archive")


@router.post(f"{LETTER}/unarchive")
def unarchive(page: FormPage, messageId: MessageId) -> Response:
    return _change(page, messageId, "unarchive")


@router.post(f"{LETTER}/hide")
def hide(page: FormPage, messageId: MessageId) -> Response:
    return _change(page, messageId, "hide")


@router.post(f"{LETTER}/show")
def show(page: FormPage, messageId: MessageId) -> Response:
    return _change(page, messageId, "show")


@router.post(f"{LETTER}/reply")
def reply(page: FormPage, messageId: MessageId) -> Response:
    """The REST API's reply (ebox.api.replies): same checks, a text body as main content."""
    c = page.consultation()
    original = c.message(messageId)
    text = (form_value(page, "text") or "").strip()
    subject = (form_value(page, "subject") or "").strip()
    if not text or not subject:
        raise PortalRefusal(400, "Write a subject and a text to reply.")
    request = json.dumps(
        {"subject": {page.language: subject}, "bodyContent": {page.language: text}}
    )
    subjects, documents = reply_of(request, {}, original.message_id)
    answer = Reply(subjects, documents, c.access.reader, c.access.channel, page.principal.client_id)
    c.ledger.app.reply(original.message_id, answer)
    c.written()
    return page.redirect(f"/letters/{original.message_id}?replied=1")


def _evidence(page: Page, message_id: str, pdf: bool) -> Response:
    c = page.consultation()
    message = c.message(message_id)
    acting_for = page.session.acting_for[1] if page.session.acting_for else None
    content = evidence_of(
        page.principal, page.ledger, page.settings, message.message_id, acting_for, pdf=pdf
    )
    name = f"evidence-{message.message_id}.{'pdf' if pdf else 'json'}"
    return Response(
        content,
        media_type="application/pdf" if pdf else "application/json",
        headers={
            "Content-Disposition": content_disposition(name),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(f"{LETTER}/evidence")
def evidence(page: SignedInPage, messageId: MessageId) -> Response:
    return _evidence(page, messageId, pdf=False)


@router.get(f"{LETTER}/certificate")
def certificate(page: SignedInPage, messageId: MessageId) -> Response:
    return _evidence(page, messageId, pdf=True)
