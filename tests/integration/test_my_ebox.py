"""My e-box's settings use cases: who opened my letters, partner apps, mandates, switching.

Issue 11: a person sees every opening of their letters (reader, channel, time;
themselves, a mandate holder or a partner app) with the proof of each entry,
grants and revokes partner consents, and sees the mandates given and held.
"""

from __future__ import annotations

import pytest

from ebox.adapters.clients import generate_key, register_client
from ebox.adapters.runtime import Ledger
from ebox.adapters.transparency import TransparencyLog
from ebox.api import my_ebox
from ebox.domain.errors import NoConsent, NoMandate, NotTheOwner, UnknownPartner
from ebox.projections.access import MANDATE, PARTNER, SELF
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.runner import ViewRunner
from ebox.projections.sealer import Sealer
from tests.builders import CITIZEN, ENTERPRISE, World, make_world

HOLDER_NRN = "85073003328"
OWNER_NRN = CITIZEN.id_value


@pytest.fixture
def world(ledger: Ledger) -> World:
    world = make_world(ledger)
    app = ledger.app
    app.open_mailbox("citizen", HOLDER_NRN)
    app.grant_mandate(CITIZEN.ebox_type, CITIZEN.id_value, f"citizen:{HOLDER_NRN}")
    app.grant_mandate(ENTERPRISE.ebox_type, ENTERPRISE.id_value, f"citizen:{HOLDER_NRN}")
    app.register_partner("doccle", "Doccle")
    register_client(ledger, "partner", "doccle", ["ebox:consultation"], generate_key().public_jwk)
    app.grant_partner_consent(CITIZEN.ebox_type, CITIZEN.id_value, "doccle")
    return world


def catch_up(ledger: Ledger) -> None:
    DeliveryWorker(ledger).run_until_idle()
    ViewRunner(ledger, ["access"]).run_until_idle()


def test_every_opening_is_listed_newest_first_with_who_and_its_proof(
    ledger: Ledger, world: World
) -> None:
    app = ledger.app
    letter = app.publish(world.letter(idempotency_key="a"))
    DeliveryWorker(ledger).run_until_idle()
    app.open_document(letter, "letter.pdf", CITIZEN.address, "portal")
    app.open_document(letter, "annex.xml", f"citizen:{HOLDER_NRN}", f"mandate:citizen:{HOLDER_NRN}")
    app.open_document(letter, "letter.pdf", CITIZEN.address, "partner:doccle")
    catch_up(ledger)
    sealer = Sealer(ledger, checkpoint_every=1000, checkpoint_seconds=3600)
    sealer.run_until_idle()
    sealer.checkpoint_now()

    page = my_ebox.access_history(ledger, OWNER_NRN, CITIZEN)

    assert [(e.event_type, e.reader, e.channel, e.kind, e.document) for e in page.entries] == [
        ("ContentAccessed", CITIZEN.address, "partner:doccle", PARTNER, "letter.pdf"),
        (
            "ContentAccessed",
            f"citizen:{HOLDER_NRN}",
            f"mandate:citizen:{HOLDER_NRN}",
            MANDATE,
            "annex.xml",
        ),
        ("Read", CITIZEN.address, "portal", SELF, "letter.pdf"),
    ]
    assert page.next_before is None
    assert all(e.message_id == letter and e.sender_kbo == world.sender.kbo for e in page.entries)
    assert page.entries[-1].subjects["nl"] == "Aanslag"
    assert page.entries[0].time >= page.entries[-1].time
    log = TransparencyLog(ledger)
    for entry in page.entries:
        assert entry.leaf_index is not None
        assert entry.proof_path == f"/ledger/proof?index={entry.leaf_index}"
        assert log.inclusion(entry.leaf_index, None).encode()  # the proof is served


def test_an_entry_not_yet_sealed_has_no_leaf_and_no_proof(ledger: Ledger, world: World) -> None:
    letter = ledger.app.publish(world.letter(idempotency_key="a"))
    DeliveryWorker(ledger).run_until_idle()
    ledger.app.open_document(letter, "letter.pdf", CITIZEN.address, "portal")
    catch_up(ledger)

    (entry,) = my_ebox.access_history(ledger, OWNER_NRN, CITIZEN).entries

    assert entry.leaf_index is None and entry.proof_path is None


def test_history_pages_by_keyset_and_shows_only_this_ebox(ledger: Ledger, world: World) -> None:
    app = ledger.app
    letters = [app.publish(world.letter(idempotency_key=f"k{n}")) for n in range(3)]
    other = app.publish(world.letter(ENTERPRISE, idempotency_key="e"))
    DeliveryWorker(ledger).run_until_idle()
    for letter in letters:
        app.open_document(letter, "letter.pdf", CITIZEN.address, "portal")
    app.open_document(other, "letter.pdf", f"citizen:{HOLDER_NRN}", f"mandate:citizen:{HOLDER_NRN}")
    catch_up(ledger)

    first = my_ebox.access_history(ledger, OWNER_NRN, CITIZEN, page_size=2)
    rest = my_ebox.access_history(ledger, OWNER_NRN, CITIZEN, before=first.next_before, page_size=2)

    assert [e.message_id for e in first.entries + rest.entries] == letters[::-1]
    assert rest.next_before is None
    (enterprise_entry,) = my_ebox.access_history(ledger, HOLDER_NRN, ENTERPRISE).entries
    assert enterprise_entry.message_id == other and enterprise_entry.kind == MANDATE


def test_a_person_without_a_mandate_is_told_nothing(ledger: Ledger, world: World) -> None:
    with pytest.raises(NoMandate):
        my_ebox.access_history(ledger, "90010100123", CITIZEN)
    with pytest.raises(NoMandate):
        my_ebox.access_history(ledger, OWNER_NRN, ENTERPRISE)
    with pytest.raises(NoMandate):  # no such eBox: the same answer
        my_ebox.access_history(ledger, OWNER_NRN, my_ebox.EboxId("enterprise", "0000000097"))


def test_the_switch_menu_is_the_own_ebox_then_the_mandated_ones(
    ledger: Ledger, world: World
) -> None:
    catch_up(ledger)
    assert my_ebox.switchable_eboxes(ledger, HOLDER_NRN) == (
        my_ebox.own_ebox(HOLDER_NRN),
        CITIZEN,
        ENTERPRISE,
    )
    mandates = my_ebox.mandates(ledger, OWNER_NRN, CITIZEN)
    assert mandates.given == (f"citizen:{HOLDER_NRN}",) and mandates.held == ()

    ledger.app.revoke_mandate(ENTERPRISE.ebox_type, ENTERPRISE.id_value, f"citizen:{HOLDER_NRN}")
    with pytest.raises(NoMandate):  # refused at once, before the view has caught up
        my_ebox.access_history(ledger, HOLDER_NRN, ENTERPRISE)
    catch_up(ledger)
    assert my_ebox.switchable_eboxes(ledger, HOLDER_NRN) == (my_ebox.own_ebox(HOLDER_NRN), CITIZEN)


def test_the_owner_revokes_and_grants_a_partner_app(ledger: Ledger, world: World) -> None:
    assert my_ebox.partner_apps(ledger, OWNER_NRN, CITIZEN) == (
        my_ebox.PartnerApp("doccle", "Doccle", consent=True),
    )

    my_ebox.revoke_partner_consent(ledger, OWNER_NRN, CITIZEN, "doccle")
    assert my_ebox.partner_apps(ledger, OWNER_NRN, CITIZEN)[0].consent is False
    with pytest.raises(NoConsent):
        my_ebox.revoke_partner_consent(ledger, OWNER_NRN, CITIZEN, "doccle")

    my_ebox.grant_partner_consent(ledger, OWNER_NRN, CITIZEN, "doccle")
    assert my_ebox.partner_apps(ledger, OWNER_NRN, CITIZEN)[0].consent is True
    with pytest.raises(UnknownPartner):
        my_ebox.grant_partner_consent(ledger, OWNER_NRN, CITIZEN, "nobody")


def test_a_mandate_holder_manages_an_enterprise_s_apps_but_not_a_citizen_s(
    ledger: Ledger, world: World
) -> None:
    with pytest.raises(NotTheOwner):
        my_ebox.revoke_partner_consent(ledger, HOLDER_NRN, CITIZEN, "doccle")

    my_ebox.grant_partner_consent(ledger, HOLDER_NRN, ENTERPRISE, "doccle")

    assert ledger.app.mailbox(ENTERPRISE.ebox_type, ENTERPRISE.id_value).partners == ["doccle"]


def test_the_owner_sets_where_and_in_which_language_to_be_told(
    ledger: Ledger, world: World
) -> None:
    my_ebox.set_contact(ledger, OWNER_NRN, CITIZEN, "an@example.be", "fr")

    mailbox = ledger.app.mailbox(CITIZEN.ebox_type, CITIZEN.id_value)
    assert (mailbox.email, mailbox.language) == ("an@example.be", "fr")
    with pytest.raises(NotTheOwner):
        my_ebox.set_contact(ledger, HOLDER_NRN, CITIZEN, "other@example.be", None)


def test_the_owner_chooses_one_daily_digest_and_back(ledger: Ledger, world: World) -> None:
    my_ebox.set_contact(ledger, OWNER_NRN, CITIZEN, "an@example.be", "nl", digest=True)
    assert ledger.app.mailbox(CITIZEN.ebox_type, CITIZEN.id_value).digest is True

    my_ebox.set_contact(ledger, OWNER_NRN, CITIZEN, "an@example.be", "nl")  # None: unchanged
    assert ledger.app.mailbox(CITIZEN.ebox_type, CITIZEN.id_value).digest is True

    my_ebox.set_contact(ledger, OWNER_NRN, CITIZEN, "an@example.be", "nl", digest=False)
    assert ledger.app.mailbox(CITIZEN.ebox_type, CITIZEN.id_value).digest is False


def test_the_owner_named_by_mailbox_id_is_the_owner(ledger: Ledger, world: World) -> None:
    """The demo and operator tools record the owner as ``owner:<mailbox id>``."""
    letter = ledger.app.publish(world.letter(idempotency_key="a"))
    DeliveryWorker(ledger).run_until_idle()
    box = ledger.app.mailbox(CITIZEN.ebox_type, CITIZEN.id_value)
    ledger.app.open_document(letter, "letter.pdf", f"owner:{box.id}", "portal")
    catch_up(ledger)

    (entry,) = my_ebox.access_history(ledger, OWNER_NRN, CITIZEN).entries

    assert entry.kind == SELF
