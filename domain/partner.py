"""Partner: an app (Doccle, Zoomit, a bank) that people may let read their eBox.

Registering a partner is an operator's act on the ledger like any other: the
partner id it names is the one mailboxes give consent to and the one a partner
OAuth client is registered for, so it is recorded, and a second registration
of the same id collides on the derived aggregate id.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ebox.domain.chain import ChainedAggregate
from ebox.domain.ids import partner_aggregate_id
from ebox.domain.limits import LIMITS, FieldRejected, checked_text

PARTNER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""The same shape as an OAuth client's subject (adapters.clients), which it becomes."""


class Partner(ChainedAggregate):
    aggregate_type = "Partner"

    @staticmethod
    def create_id(partner_id: str, **_: Any) -> Any:  # type: ignore[override]
        return partner_aggregate_id(partner_id)

    class Registered(ChainedAggregate.Created):
        partner_id: str
        name: str

        def apply(self, partner: Partner) -> None:
            partner.partner_id = self.partner_id
            partner.name = self.name

    if TYPE_CHECKING:  # state set by the events' apply(); not dataclass fields
        partner_id: str
        name: str

    @classmethod
    def register(cls, partner_id: str, name: str) -> Partner:
        if not isinstance(partner_id, str) or not PARTNER_ID.fullmatch(partner_id):
            raise FieldRejected("a partner id is 1 to 64 letters, digits, '.', '_' or '-'")
        checked_text(name, "the partner's name", LIMITS.title)
        if not name.strip():
            raise FieldRejected("the partner's name is empty")
        return cls._create(cls.Registered, partner_id=partner_id, name=name)
