"""The reference catalogue: sender organisations, their applications and message types.

The `ref_*` tables, written by the inbox projection (ebox.projections.inbox)
from the SenderOrganization events, in the transaction of its inbox rows: each
letter's search documents include these names. The `/referenceData/*`
operations read them here. Names are fixed at registration (the domain has no
rename event); a rename would have to refresh the search documents of that
sender's messages too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ebox.adapters.tables import (
    ref_message_types,
    ref_sender_applications,
    ref_sender_organizations,
)
from ebox.projections.queries import NotFound, Page, check_paging
from ebox.projections.views import View


class ReferenceNotFound(NotFound):
    """No such sender organisation, application or message type."""


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


class ReferenceCatalogue(View):
    """The queries of the reference data; its rows are the inbox projection's."""

    projection_name = "inbox"
    view_tables = (ref_sender_organizations, ref_sender_applications, ref_message_types)

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
