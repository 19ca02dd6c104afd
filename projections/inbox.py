"""The inbox view: what a mailbox holder sees, and the reference data it names.

One row per message in `inbox_messages`, written at Sent with no receipt date
and answering queries only once Delivered gives it one; every later event of
the message (read, archived, hidden, expired) updates the row. The projection
also keeps the senders' organisations, applications and message types
(`ref_*` tables) from the SenderOrganization events: the `/referenceData/*`
operations read them, and each message's search documents include their names.
Names are fixed at registration (the domain has no rename event); a rename
would have to refresh the search documents of that sender's messages too.

Search (`q` + `qlang`) works on one accent-free, case-folded document per
language: the subject, the attachment titles and business data in that
language, and the sender organisation, application and message type names in
that language. PostgreSQL matches the tsvectors of the person's rows (read by
mailbox) with the language's own text search configuration (stemming, stop words);
SQLite with its FTS5 table `inbox_search`, whose terms carry the mailbox
(ebox.projections.search). All words must match, each as a prefix.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    false,
    func,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from ebox.domain.ids import sender_id
from ebox.domain.message import Message
from ebox.domain.proofs.canonical import parse_rfc3339
from ebox.domain.sender import SenderOrganization
from ebox.projections.queries import (
    EboxId,
    InvalidQuery,
    NotFound,
    Page,
    canonical_message_id,
    check_paging,
    utc,
    utc_required,
)
from ebox.projections.search import scoped_document, scoped_query
from ebox.projections.tables import (
    SEARCH_LANGUAGES,
    inbox_messages,
    mailbox_consultations,
    ref_message_types,
    ref_sender_applications,
    ref_sender_organizations,
)
from ebox.projections.views import (
    RowBatch,
    View,
    ViewProjection,
    dispatch,
)

LANGUAGES = tuple(SEARCH_LANGUAGES)


class MessageNotFound(NotFound):
    """No such delivered message in this eBox."""


class ReferenceNotFound(NotFound):
    """No such sender organisation, application or message type."""


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


@dataclass(frozen=True)
class SenderOrganizationInfo:
    organization_id: str
    names: dict[str, str]
    application_ids: tuple[str, ...]
    message_type_ids: tuple[str, ...]


@dataclass(frozen=True)
class SenderApplicationInfo:
    """One application id; several organisations may register the same id."""

    application_id: str
    names: dict[str, str]
    sender_organization_ids: tuple[str, ...]
    message_type_ids: tuple[str, ...]


@dataclass(frozen=True)
class MessageTypeInfo:
    message_type_id: str
    names: dict[str, str]
    validity_unit: str
    validity_amount: int
    registered_mail: bool
    sender_organization_ids: tuple[str, ...]
    sender_application_ids: tuple[str, ...]


# --------------------------------------------------------------------------- search text


def fold(value: str) -> str:
    """Case-folded and accent-free: 'Financiën' and 'FINANCIEN' search alike everywhere."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def search_words(q: str) -> list[str]:
    return re.findall(r"\w+", fold(q))


def _in_language(value: Any, lang: str) -> list[str]:
    if isinstance(value, dict):
        text_value = value.get(lang)
        return [text_value] if isinstance(text_value, str) else []
    return []


def _business_texts(business_data: Any, lang: str) -> list[str]:
    texts: list[str] = []
    for item in business_data if isinstance(business_data, list) else []:
        if not isinstance(item, dict):
            continue
        texts += _in_language(item.get("name"), lang) + _in_language(item.get("description"), lang)
        for value in item.get("values") or []:
            texts += _in_language(value, lang)
    return texts


# --------------------------------------------------------------------------- the view


SEARCH_TABLE = "inbox_search"
"""One row per message: tsvectors and GIN indexes on PostgreSQL, FTS5 on SQLite (migration 0002)."""


class InboxView(View):
    """The inbox and reference-data tables, and the queries the eBox REST API asks."""

    projection_name = "inbox"
    view_tables = (
        inbox_messages,
        ref_sender_organizations,
        ref_sender_applications,
        ref_message_types,
    )

    def clear(self, session: Session) -> None:
        super().clear(session)
        session.execute(text(f"DELETE FROM {SEARCH_TABLE}"))

    # Messages.

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
            where.append(self._search(ebox.mailbox_id, f.q, f.qlang))
        elif f.qlang is not None and f.qlang not in SEARCH_LANGUAGES:
            raise InvalidQuery(f"qlang must be one of {', '.join(LANGUAGES)}")
        return where

    def _search(self, mailbox: str, q: str, qlang: str | None) -> ColumnElement[bool]:
        if qlang is None:
            raise InvalidQuery("q needs qlang: the language whose texts to search")
        if qlang not in SEARCH_LANGUAGES:
            raise InvalidQuery(f"qlang must be one of {', '.join(LANGUAGES)}")
        words = search_words(q)
        if not words:
            return false()
        if self.dialect == "postgresql":
            # The person's rows first (inbox_search_mailbox_idx), then their tsvectors
            # matched: OFFSET 0 keeps the match out of the index scan, so a word that
            # most letters of the table hold never costs its whole posting list
            # (prefix matches in a GIN index collect every matching row of the table).
            config = SEARCH_LANGUAGES[qlang]
            prefixes = " & ".join(f"{w}:*" for w in words)
            matching = text(
                f"SELECT message_id FROM (SELECT message_id, tsv_{qlang} AS tsv "
                f"FROM {SEARCH_TABLE} WHERE mailbox_id = :search_mailbox OFFSET 0) AS mine "
                f"WHERE tsv @@ to_tsquery('{config}'::regconfig, :search_query)"
            ).bindparams(search_mailbox=mailbox, search_query=prefixes)
        else:
            # Every term carries the mailbox (ebox.projections.search): the MATCH walks
            # this person's terms only, whatever the table holds.
            query = scoped_query(mailbox, qlang, words)
            if query is None:
                return false()
            matching = text(
                f"SELECT message_id FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :search_query"
            ).bindparams(search_query=query)
        return inbox_messages.c.message_id.in_(
            matching.columns(message_id=inbox_messages.c.message_id.type)
        )

    # Reference data.

    def sender_organizations(
        self, page: int = 1, page_size: int = 25
    ) -> Page[SenderOrganizationInfo]:
        offset = check_paging(page, page_size)
        t = ref_sender_organizations
        with self.reading() as session:
            total = session.execute(select(func.count()).select_from(t)).scalar_one()
            kbos = (
                session.execute(
                    select(t.c.kbo_number).order_by(t.c.kbo_number).limit(page_size).offset(offset)
                )
                .scalars()
                .all()
            )
            items = self._organizations(session, list(kbos))
        return Page(tuple(items), int(total), page, page_size)

    def sender_organization(self, kbo_number: str) -> SenderOrganizationInfo:
        with self.reading() as session:
            found = self._organizations(session, [kbo_number])
        if not found:
            raise ReferenceNotFound(f"no sender organisation {kbo_number}")
        return found[0]

    def sender_applications(
        self, page: int = 1, page_size: int = 25
    ) -> Page[SenderApplicationInfo]:
        offset = check_paging(page, page_size)
        t = ref_sender_applications
        with self.reading() as session:
            total = session.execute(select(func.count(t.c.application_id.distinct()))).scalar_one()
            ids = (
                session.execute(
                    select(t.c.application_id)
                    .distinct()
                    .order_by(t.c.application_id)
                    .limit(page_size)
                    .offset(offset)
                )
                .scalars()
                .all()
            )
            items = self._applications(session, list(ids))
        return Page(tuple(items), int(total), page, page_size)

    def sender_application(self, application_id: str) -> SenderApplicationInfo:
        with self.reading() as session:
            found = self._applications(session, [application_id])
        if not found:
            raise ReferenceNotFound(f"no sender application {application_id}")
        return found[0]

    def message_types(self, page: int = 1, page_size: int = 25) -> Page[MessageTypeInfo]:
        offset = check_paging(page, page_size)
        t = ref_message_types
        with self.reading() as session:
            total = session.execute(select(func.count(t.c.message_type_id.distinct()))).scalar_one()
            ids = (
                session.execute(
                    select(t.c.message_type_id)
                    .distinct()
                    .order_by(t.c.message_type_id)
                    .limit(page_size)
                    .offset(offset)
                )
                .scalars()
                .all()
            )
            items = self._message_types(session, list(ids))
        return Page(tuple(items), int(total), page, page_size)

    def message_type(self, message_type_id: str) -> MessageTypeInfo:
        with self.reading() as session:
            found = self._message_types(session, [message_type_id])
        if not found:
            raise ReferenceNotFound(f"no message type {message_type_id}")
        return found[0]

    def _organizations(self, session: Session, kbos: list[str]) -> list[SenderOrganizationInfo]:
        o, a, m = ref_sender_organizations, ref_sender_applications, ref_message_types
        names: dict[str, dict[str, str]] = {
            kbo: names
            for kbo, names in session.execute(
                select(o.c.kbo_number, o.c.names).where(o.c.kbo_number.in_(kbos))
            )
        }
        apps = _grouped(
            session.execute(
                select(a.c.sender_kbo, a.c.application_id).where(a.c.sender_kbo.in_(kbos))
            )
        )
        types = _grouped(
            session.execute(
                select(m.c.sender_kbo, m.c.message_type_id).where(m.c.sender_kbo.in_(kbos))
            )
        )
        return [
            SenderOrganizationInfo(kbo, dict(names[kbo]), apps.get(kbo, ()), types.get(kbo, ()))
            for kbo in kbos
            if kbo in names
        ]

    def _applications(self, session: Session, ids: list[str]) -> list[SenderApplicationInfo]:
        a, m = ref_sender_applications, ref_message_types
        rows = session.execute(
            select(a.c.application_id, a.c.sender_kbo, a.c.names)
            .where(a.c.application_id.in_(ids))
            .order_by(a.c.registered_at, a.c.sender_kbo)
        ).all()
        kbos = sorted({r.sender_kbo for r in rows})
        types = _grouped(
            session.execute(
                select(m.c.sender_kbo, m.c.message_type_id).where(m.c.sender_kbo.in_(kbos))
            )
        )
        result = []
        for application_id in ids:
            mine = [r for r in rows if r.application_id == application_id]
            if not mine:
                continue
            senders = tuple(sorted({r.sender_kbo for r in mine}))
            type_ids = tuple(sorted({t for kbo in senders for t in types.get(kbo, ())}))
            result.append(
                SenderApplicationInfo(application_id, dict(mine[0].names), senders, type_ids)
            )
        return result

    def _message_types(self, session: Session, ids: list[str]) -> list[MessageTypeInfo]:
        a, m = ref_sender_applications, ref_message_types
        rows = session.execute(
            select(m)
            .where(m.c.message_type_id.in_(ids))
            .order_by(m.c.registered_at, m.c.sender_kbo)
        ).all()
        kbos = sorted({r.sender_kbo for r in rows})
        apps = _grouped(
            session.execute(
                select(a.c.sender_kbo, a.c.application_id).where(a.c.sender_kbo.in_(kbos))
            )
        )
        result = []
        for type_id in ids:
            mine = [r for r in rows if r.message_type_id == type_id]
            if not mine:
                continue
            first = mine[0]
            senders = tuple(sorted({r.sender_kbo for r in mine}))
            result.append(
                MessageTypeInfo(
                    type_id,
                    dict(first.names),
                    first.validity_unit,
                    first.validity_amount,
                    bool(first.registered_mail),
                    senders,
                    tuple(sorted({x for kbo in senders for x in apps.get(kbo, ())})),
                )
            )
        return result


def _grouped(rows: Iterable[Any]) -> dict[str, tuple[str, ...]]:
    groups: dict[str, set[str]] = {}
    for key, value in rows:
        groups.setdefault(key, set()).add(value)
    return {key: tuple(sorted(values)) for key, values in groups.items()}


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


# --------------------------------------------------------------------------- the projection


@dataclass
class _References:
    """Reference names by key; immutable once registered, so safe to keep across batches."""

    kbo_of_sender: dict[str, str] = field(default_factory=dict)
    organizations: dict[str, dict[str, str]] = field(default_factory=dict)
    applications: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    message_types: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)


class InboxProjection(ViewProjection[InboxView]):
    name = "inbox"
    topics = tuple(
        get_topic(cls)
        for cls in (
            SenderOrganization.Registered,
            SenderOrganization.ApplicationRegistered,
            SenderOrganization.MessageTypeRegistered,
            Message.Sent,
            Message.Delivered,
            Message.Read,
            Message.Archived,
            Message.Unarchived,
            Message.Hidden,
            Message.Shown,
            Message.Expired,
        )
    )

    def __init__(self, view: InboxView) -> None:
        super().__init__(view)
        self.references = _References()

    def forget(self) -> None:
        self.references = _References()

    def apply(self, session: Session, items: Sequence[tuple[Any, Tracking]]) -> None:
        writer = _InboxWriter(self.view, session, self.references)
        dispatch(writer.handlers(), items)
        writer.flush()


class _InboxWriter:
    """The rows one batch writes; one method per event type."""

    def __init__(self, view: InboxView, session: Session, references: _References) -> None:
        self.view = view
        self.session = session
        self.refs = references
        self.messages = RowBatch(inbox_messages, "message_id")
        self.search: dict[str, dict[str, str]] = {}

    def handlers(self) -> dict[type, Any]:
        return {
            SenderOrganization.Registered: self.sender_registered,
            SenderOrganization.ApplicationRegistered: self.application_registered,
            SenderOrganization.MessageTypeRegistered: self.message_type_registered,
            Message.Sent: self.sent,
            Message.Delivered: lambda e, _: self.change(e, receipt_date=e.timestamp),
            Message.Read: lambda e, _: self.change(e, read=True, first_read_at=e.timestamp),
            Message.Archived: lambda e, _: self.change(e, archived=True),
            Message.Unarchived: lambda e, _: self.change(e, archived=False),
            Message.Hidden: lambda e, _: self.change(e, visible=False),
            Message.Shown: lambda e, _: self.change(e, visible=True),
            Message.Expired: lambda e, _: self.change(e, expired=True),
        }

    def change(self, event: Any, **values: Any) -> None:
        self.messages.update(str(event.originator_id), **values)

    def flush(self) -> None:
        self.messages.flush(self.session)
        if self.search:
            rows = list(self.search.values())
            if self.view.dialect != "postgresql":
                rows = [
                    {
                        **row,
                        **{
                            lang: scoped_document(row["mailbox_id"], row[lang])
                            for lang in LANGUAGES
                        },
                    }
                    for row in rows
                ]
            self.session.execute(self._search_insert(), rows)

    def _search_insert(self) -> Any:
        columns = ", ".join(LANGUAGES)
        if self.view.dialect == "postgresql":
            values = ", ".join(
                f"to_tsvector('{config}'::regconfig, :{lang})"
                for lang, config in SEARCH_LANGUAGES.items()
            )
            return text(
                f"INSERT INTO {SEARCH_TABLE} (message_id, mailbox_id, "
                f"{', '.join(f'tsv_{lang}' for lang in LANGUAGES)}) "
                f"VALUES (:message_id, :mailbox_id, {values})"
            )
        values = ", ".join(f":{lang}" for lang in LANGUAGES)
        return text(
            f"INSERT INTO {SEARCH_TABLE} (message_id, {columns}) VALUES (:message_id, {values})"
        )

    # Reference data.

    def sender_registered(self, event: Any, _: Tracking) -> None:
        self.session.execute(
            ref_sender_organizations.insert().values(
                kbo_number=event.kbo_number, names=dict(event.names), registered_at=event.timestamp
            )
        )
        self.refs.kbo_of_sender[str(event.originator_id)] = event.kbo_number
        self.refs.organizations[event.kbo_number] = dict(event.names)

    def application_registered(self, event: Any, _: Tracking) -> None:
        kbo = self._kbo(str(event.originator_id))
        self.session.execute(
            ref_sender_applications.insert().values(
                application_id=event.application_id,
                sender_kbo=kbo,
                names=dict(event.names),
                registered_at=event.timestamp,
            )
        )
        self.refs.applications[(kbo, event.application_id)] = dict(event.names)

    def message_type_registered(self, event: Any, _: Tracking) -> None:
        kbo = self._kbo(str(event.originator_id))
        self.session.execute(
            ref_message_types.insert().values(
                message_type_id=event.message_type_id,
                sender_kbo=kbo,
                names=dict(event.names),
                validity_unit=event.validity_unit,
                validity_amount=event.validity_amount,
                registered_mail=event.registered_mail,
                registered_at=event.timestamp,
            )
        )
        self.refs.message_types[(kbo, event.message_type_id)] = dict(event.names)

    # Messages.

    def sent(self, event: Any, _: Tracking) -> None:
        documents: list[dict[str, Any]] = list(event.documents)
        details: dict[str, Any] = dict(event.details or {})
        kinds = [d.get("kind", "attachment") for d in documents]
        attachments = [
            _attachment(d) for d, k in zip(documents, kinds, strict=True) if k == "attachment"
        ]
        bodies = [_body(d) for d, k in zip(documents, kinds, strict=True) if k == "body"]
        ebox = EboxId.parse(event.recipient)
        row = {
            "message_id": str(event.originator_id),
            "mailbox_id": event.mailbox_id,
            "ebox_type": ebox.ebox_type,
            "ebox_id_value": ebox.id_value,
            "publication_id": event.publication_id,
            "sender_kbo": event.sender,
            "sender_application_id": event.application,
            "message_type_id": event.message_type,
            "subjects": dict(event.subjects),
            "receipt_date": None,
            "expires_at": parse_rfc3339(event.expires_at),
            "read": False,
            "first_read_at": None,
            "visible": True,
            "archived": False,
            "expired": False,
            "registered": bool(event.registered),
            "reply_authorized": bool(details.get("reply_authorized", False)),
            "original_message_id": details.get("original_message_id"),
            "for_the_attention_of": details.get("for_the_attention_of"),
            "business_data": details.get("business_data"),
            "attachments": attachments,
            "bodies": bodies,
            "has_body": bool(bodies),
            "body_main_content": any(b["main_content"] for b in bodies),
            "has_payment_data": "payment_data" in kinds,
            "total_size": sum(int(d.get("size", 0)) for d in documents),
        }
        self.messages.insert(row)
        self.search[row["message_id"]] = {
            "message_id": row["message_id"],
            "mailbox_id": row["mailbox_id"],
            **{
                lang: self._search_document(event, attachments, details, lang) for lang in LANGUAGES
            },
        }

    def _search_document(
        self, event: Any, attachments: list[dict[str, Any]], details: dict[str, Any], lang: str
    ) -> str:
        kbo = event.sender
        texts = _in_language(event.subjects, lang)
        for attachment in attachments:
            texts += _in_language(attachment["title"], lang)
        texts += _business_texts(details.get("business_data"), lang)
        texts += _in_language(self._organization(kbo), lang)
        texts += _in_language(self._names(ref_sender_applications, kbo, event.application), lang)
        texts += _in_language(self._names(ref_message_types, kbo, event.message_type), lang)
        # Words only, so both engines split the text as the query is split ("d-77" is
        # "d" and "77" to each, not "d" and the number -77 PostgreSQL would see).
        return " ".join(search_words(" ".join(texts)))

    def _kbo(self, sender_aggregate_id: str) -> str:
        kbo = self.refs.kbo_of_sender.get(sender_aggregate_id)
        if kbo is None:
            # The aggregate id is derived from the KBO number: find the registered one.
            o = ref_sender_organizations
            for (number,) in self.session.execute(select(o.c.kbo_number)):
                self.refs.kbo_of_sender[str(sender_id(number))] = number
            kbo = self.refs.kbo_of_sender[sender_aggregate_id]
        return kbo

    def _organization(self, kbo: str) -> dict[str, str]:
        if kbo not in self.refs.organizations:
            o = ref_sender_organizations
            names = self.session.execute(select(o.c.names).where(o.c.kbo_number == kbo)).scalar()
            self.refs.organizations[kbo] = dict(names or {})
        return self.refs.organizations[kbo]

    def _names(self, table: Any, kbo: str, key: str) -> dict[str, str]:
        cache = (
            self.refs.applications if table is ref_sender_applications else self.refs.message_types
        )
        if (kbo, key) not in cache:
            id_column = (
                table.c.application_id
                if table is ref_sender_applications
                else table.c.message_type_id
            )
            names = self.session.execute(
                select(table.c.names).where(and_(table.c.sender_kbo == kbo, id_column == key))
            ).scalar()
            cache[(kbo, key)] = dict(names or {})
        return cache[(kbo, key)]


def _attachment(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "attachment_id": str(document.get("attachment_id") or document["name"]),
        "name": document["name"],
        "media_type": document["media_type"],
        "size": int(document.get("size", 0)),
        "sha256": document["sha256"],
        "main_content": bool(document.get("main_content", False)),
        "title": document.get("title"),
        "signed": bool(document.get("signed", False)),
        "language": document.get("language"),
    }


def _body(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": document["name"],
        "language": document.get("language"),
        "media_type": document["media_type"],
        "size": int(document.get("size", 0)),
        "main_content": bool(document.get("main_content", False)),
    }
