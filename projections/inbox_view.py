"""The message view: what a mailbox holder sees of the letters of one eBox.

One row per message in `inbox_messages`, written at Sent with no receipt date
and answering queries only once Delivered gives it one; every later event of
the message (read, archived, hidden, expired) updates the row
(ebox.projections.inbox writes them). Search (`q` + `qlang`) is
ebox.projections.search; the reference data the letters name is
ebox.projections.catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, false, func, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from ebox.adapters.tables import inbox_messages, mailbox_consultations
from ebox.projections import search
from ebox.projections.catalogue import ReferenceCatalogue
from ebox.projections.queries import (
    EboxId,
    NotFound,
    Page,
    canonical_message_id,
    check_paging,
    utc,
    utc_required,
)
from ebox.projections.views import View


class MessageNotFound(NotFound):
    """No such delivered message in this eBox."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AttachmentInfo:
    """A document of kind `attachment`: the contract's Attachment, `sha256` in hex."""

    attachment_id: str
    name: str
    media_type: str
    size: int
    sha256: str
    main_content: bool
    title: dict[str, str] | None
    signed: bool
    language: str | None


@dataclass(frozen=True)
class BodyInfo:
    """A body document (one per language) of the message."""

    name: str
    language: str | None
    media_type: str
    size: int
    main_content: bool


@dataclass(frozen=True)
class InboxMessage:
    """Everything the contract's `Message` shows, as the inbox view holds it."""

    message_id: str
    ebox: EboxId
    publication_id: str
    sender_organization_id: str
    sender_application_id: str
    message_type_id: str
    subjects: dict[str, str]
    receipt_date: datetime
    expiration_date: datetime
    read: bool
    first_read_at: datetime | None
    visible: bool
    archived: bool
    expired: bool
    registered_mail: bool
    reply_authorized: bool
    original_message_id: str | None
    for_the_attention_of: dict[str, Any] | None
    business_data: list[dict[str, Any]] | None
    attachments: tuple[AttachmentInfo, ...]
    bodies: tuple[BodyInfo, ...]
    has_body: bool
    body_main_content: bool
    has_payment_data: bool
    total_size: int
    """Bytes of all the message's documents (attachments, bodies, payment data)."""


@dataclass(frozen=True)
class MessageFilter:
    """The filters of getMessagesByEBoxId; None means "do not filter on this".

    Bounds are instants: `*_after` is inclusive (>=), `*_before` exclusive (<), so
    consecutive ranges never overlap. `q` needs `qlang` (nl, fr, de or en).
    """

    received_after: datetime | None = None
    received_before: datetime | None = None
    expires_after: datetime | None = None
    expires_before: datetime | None = None
    read: bool | None = None
    visible: bool | None = None
    archived: bool | None = None
    message_type_id: str | None = None
    sender_organization_id: str | None = None
    sender_application_id: str | None = None
    registered_mail: bool | None = None
    q: str | None = None
    qlang: str | None = None
    include_expired: bool = False
    """Messages whose content was destroyed (Expired) are left out unless asked for."""


@dataclass(frozen=True)
class EboxSummary:
    """The contract's Ebox; `total_size` in bytes (the contract shows kilobytes)."""

    number_of_messages: int
    number_of_unread_messages: int
    last_receipt_date: datetime | None
    last_consultation_date: datetime | None
    total_size: int


# --------------------------------------------------------------------------- the view


class InboxView(View):
    """The inbox tables, and the queries of the eBox REST API on one eBox's messages.

    Its projection also writes the reference catalogue, so a rebuild empties both.
    """

    projection_name = "inbox"
    view_tables = (inbox_messages, *ReferenceCatalogue.view_tables)

    def clear(self, session: Session) -> None:
        super().clear(session)
        session.execute(search.clear_statement())

    def messages(
        self,
        ebox: EboxId,
        filters: MessageFilter | None = None,
        page: int = 1,
        page_size: int = 25,
    ) -> Page[InboxMessage]:
        """getMessagesByEBoxId: newest receipt first (then message id), one page."""
        offset = check_paging(page, page_size)
        where = self._conditions(ebox, filters or MessageFilter())
        t = inbox_messages
        listing = (
            select(inbox_messages)
            .where(*where)
            .order_by(t.c.receipt_date.desc(), t.c.message_id.desc())
            .limit(page_size)
            .offset(offset)
        )
        with self.reading() as session:
            rows = session.execute(listing).all()
            if offset == 0 and len(rows) < page_size:
                total = len(rows)
            else:
                total = session.execute(select(func.count()).where(*where)).scalar_one()
        return Page(tuple(_message(r) for r in rows), int(total), page, page_size)

    def message(self, ebox: EboxId, message_id: str, include_expired: bool = False) -> InboxMessage:
        """getMessageById, within the caller's eBox only."""
        message_id = canonical_message_id(message_id)
        where = self._conditions(ebox, MessageFilter(include_expired=include_expired))
        query = select(inbox_messages).where(inbox_messages.c.message_id == message_id, *where)
        with self.reading() as session:
            row = session.execute(query).first()
        if row is None:
            raise MessageNotFound(f"no message {message_id} in the eBox of {ebox.address}")
        return _message(row)

    def summary(self, ebox: EboxId) -> EboxSummary:
        """getEBoxById: counts over the delivered messages whose content still exists."""
        t = inbox_messages
        query = select(
            func.count(),
            func.coalesce(func.sum(case((t.c.read == false(), 1), else_=0)), 0),
            func.max(t.c.receipt_date),
            func.coalesce(func.sum(t.c.total_size), 0),
        ).where(*self._conditions(ebox, MessageFilter()))
        consulted = select(mailbox_consultations.c.last_consulted_at).where(
            mailbox_consultations.c.mailbox_id == ebox.mailbox_id
        )
        with self.reading() as session:
            count, unread, last, size = session.execute(query).one()
            last_consulted = session.execute(consulted).scalar()
        return EboxSummary(int(count), int(unread), utc(last), utc(last_consulted), int(size))

    def unread_count(self, ebox: EboxId) -> int:
        """The summary's number of unread messages alone: one count on the mailbox's read index."""
        where = self._conditions(ebox, MessageFilter(read=False))
        with self.reading() as session:
            return int(session.execute(select(func.count()).where(*where)).scalar_one())

    def record_consultation(self, ebox: EboxId, at: datetime | None = None) -> datetime | None:
        """Remember that the mailbox was consulted; return the previous consultation.

        Not an event: looking at a listing changes no message and has no legal
        effect (opening a main content does, and is the Read event). Logging
        every listing in the append-only, hash-chained ledger would keep a
        permanent record of a person's browsing that no one needs as evidence,
        so it stays a last-write-wins row that a rebuild leaves alone.
        """
        at = utc_required(at or datetime.now(UTC))
        t = mailbox_consultations
        upsert = pg_insert(t) if self.dialect == "postgresql" else sqlite_insert(t)
        statement = upsert.values(mailbox_id=ebox.mailbox_id, last_consulted_at=at)
        statement = statement.on_conflict_do_update(
            index_elements=[t.c.mailbox_id], set_={"last_consulted_at": at}
        )
        with self.transaction(commit=True) as session:
            previous = session.execute(
                select(t.c.last_consulted_at).where(t.c.mailbox_id == ebox.mailbox_id)
            ).scalar()
            session.execute(statement)
        return utc(previous)

    def _conditions(self, ebox: EboxId, f: MessageFilter) -> list[ColumnElement[bool]]:
        """The WHERE clause: this mailbox's delivered letters, then each filter asked for."""
        t = inbox_messages
        where: list[ColumnElement[bool]] = [
            t.c.mailbox_id == ebox.mailbox_id,
            t.c.receipt_date.is_not(None),
        ]
        if not f.include_expired:
            where.append(t.c.expired == false())
        if f.received_after is not None:
            where.append(t.c.receipt_date >= utc(f.received_after))
        if f.received_before is not None:
            where.append(t.c.receipt_date < utc(f.received_before))
        if f.expires_after is not None:
            where.append(t.c.expires_at >= utc(f.expires_after))
        if f.expires_before is not None:
            where.append(t.c.expires_at < utc(f.expires_before))
        for wanted_flag, flag in [
            (f.read, t.c.read),
            (f.visible, t.c.visible),
            (f.archived, t.c.archived),
            (f.registered_mail, t.c.registered),
        ]:
            if wanted_flag is not None:
                where.append(flag == (true() if wanted_flag else false()))
        for wanted_id, column in [
            (f.message_type_id, t.c.message_type_id),
            (f.sender_organization_id, t.c.sender_kbo),
            (f.sender_application_id, t.c.sender_application_id),
        ]:
            if wanted_id is not None:
                where.append(column == wanted_id)
        if f.q is not None:
            where.append(search.matching(self.dialect, ebox.mailbox_id, f.q, f.qlang))
        else:
            search.check_language(f.qlang)
        return where


def _message(row: Row[Any]) -> InboxMessage:
    return InboxMessage(
        message_id=row.message_id,
        ebox=EboxId(row.ebox_type, row.ebox_id_value),
        publication_id=row.publication_id,
        sender_organization_id=row.sender_kbo,
        sender_application_id=row.sender_application_id,
        message_type_id=row.message_type_id,
        subjects=dict(row.subjects),
        receipt_date=utc_required(row.receipt_date),
        expiration_date=utc_required(row.expires_at),
        read=bool(row.read),
        first_read_at=utc(row.first_read_at),
        visible=bool(row.visible),
        archived=bool(row.archived),
        expired=bool(row.expired),
        registered_mail=bool(row.registered),
        reply_authorized=bool(row.reply_authorized),
        original_message_id=row.original_message_id,
        for_the_attention_of=row.for_the_attention_of,
        business_data=row.business_data,
        attachments=tuple(AttachmentInfo(**a) for a in row.attachments),
        bodies=tuple(BodyInfo(**b) for b in row.bodies),
        has_body=bool(row.has_body),
        body_main_content=bool(row.body_main_content),
        has_payment_data=bool(row.has_payment_data),
        total_size=int(row.total_size),
    )
