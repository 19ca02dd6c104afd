"""One name per concept: the contract's EboxId is the domain's Recipient.

A publication names its recipients, the read models' queries name the eBox
they read; both are the contract's EboxId (`eboxType` + `eboxIdValue`), so the
one class answers both: its address, its Mailbox aggregate's id, and parsing
the `type:value` form the events record.
"""

from __future__ import annotations

from ebox.domain.ids import mailbox_id
from ebox.domain.publication import Recipient
from ebox.projections.queries import EboxId
from tests.builders import CITIZEN, ENTERPRISE


def test_the_read_models_eboxid_is_the_domains_recipient() -> None:
    assert EboxId is Recipient
    assert EboxId("citizen", CITIZEN.id_value) == Recipient("citizen", CITIZEN.id_value)
    assert len({EboxId("citizen", "1"), Recipient("citizen", "1")}) == 1


def test_a_recipient_names_its_mailbox_and_parses_from_its_address() -> None:
    recipient = Recipient("enterprise", ENTERPRISE.id_value)
    assert recipient.address == f"enterprise:{ENTERPRISE.id_value}"
    assert recipient.mailbox_id == str(mailbox_id("enterprise", ENTERPRISE.id_value))
    assert Recipient.parse(recipient.address) == recipient
    assert Recipient.parse("citizen:") == Recipient("citizen", "")
