"""The inbox projection: the rows of the message view and of the reference catalogue.

From the SenderOrganization events it writes the catalogue (`ref_*` tables,
read by ebox.projections.catalogue); from the Message events one row per
message in `inbox_messages` (read by ebox.projections.inbox_view), written at
Sent with no receipt date and given one by Delivered; every later event of the
message (read, archived, hidden, expired) updates the row. At Sent it also
indexes the letter's search documents, whose words include the catalogue's
names (ebox.projections.search).

The view, its values and the search words are re-exported here, where callers
have always found them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from ebox.adapters.tables import (
    SEARCH_LANGUAGES,
    inbox_messages,
    ref_message_types,
    ref_sender_applications,
    ref_sender_organizations,
)
from ebox.domain.ids import sender_id
from ebox.domain.message import Message
from ebox.domain.proofs.canonical import parse_rfc3339
from ebox.domain.sender import SenderOrganization
from ebox.projections import search
from ebox.projections.catalogue import (
    MessageTypeInfo,
    ReferenceCatalogue,
    ReferenceNotFound,
    SenderApplicationInfo,
    SenderOrganizationInfo,
)
from ebox.projections.inbox_view import (
    AttachmentInfo,
    BodyInfo,
    EboxSummary,
    InboxMessage,
    InboxView,
    MessageFilter,
    MessageNotFound,
)
from ebox.projections.queries import EboxId
from ebox.projections.search import LANGUAGES, SEARCH_TABLE, fold, search_words
from ebox.projections.views import RowBatch, ViewProjection, dispatch

__all__ = [
    "LANGUAGES",
    "SEARCH_LANGUAGES",
    "SEARCH_TABLE",
    "AttachmentInfo",
    "BodyInfo",
    "EboxSummary",
    "InboxMessage",
    "InboxProjection",
    "InboxView",
    "MessageFilter",
    "MessageNotFound",
    "MessageTypeInfo",
    "ReferenceCatalogue",
    "ReferenceNotFound",
    "SenderApplicationInfo",
    "SenderOrganizationInfo",
    "fold",
    "search_words",
]

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
            dialect = self.view.dialect
            rows = search.insert_rows(dialect, self.search.values())
            self.session.execute(search.insert_statement(dialect), rows)

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
        return search.search_document(
            event.subjects,
            [attachment["title"] for attachment in attachments],
            details.get("business_data"),
            [
                self._organization(kbo),
                self._names(ref_sender_applications, kbo, event.application),
                self._names(ref_message_types, kbo, event.message_type),
            ],
            lang,
        )

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
