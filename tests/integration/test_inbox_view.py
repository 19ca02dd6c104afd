"""The inbox view answers getEBoxById, getMessagesByEBoxId and getMessageById.

A small world: the tax office (FOD Financiën) sends a registered tax letter and
a pension certificate, the police (another sender) a traffic fine, all to one
citizen; each is delivered in turn, so receipt dates increase in that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ebox.adapters.runtime import Ledger
from ebox.domain.publication import Document, Publication, Recipient
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.inbox import (
    InboxMessage,
    InboxView,
    MessageFilter,
    MessageNotFound,
    ReferenceCatalogue,
    ReferenceNotFound,
)
from ebox.projections.runner import EboxId, InvalidQuery, ViewRunner
from tests.builders import CITIZEN, ENTERPRISE, OTHER_KBO, SENDER_KBO, World, make_world

CITIZEN_BOX = EboxId(CITIZEN.ebox_type, CITIZEN.id_value)
ENTERPRISE_BOX = EboxId(ENTERPRISE.ebox_type, ENTERPRISE.id_value)
READER = CITIZEN.address


def letter(
    recipient: Recipient = CITIZEN,
    *,
    sender: str = SENDER_KBO,
    application: str = "mybox-publisher",
    message_type: str = "TAX",
    subjects: dict[str, str] | None = None,
    registered: bool = False,
    expires_in: timedelta = timedelta(days=200),
    documents: list[Document] | None = None,
    details: dict[str, Any] | None = None,
) -> Publication:
    """An unsigned (attested) letter: the view does not care how its origin was proven."""
    now = datetime.now(UTC)
    return Publication(
        sender=sender,
        application=application,
        message_type=message_type,
        subjects=subjects or {"nl": "Brief", "fr": "Lettre"},
        documents=documents
        or [
            Document("letter.pdf", "application/pdf", b"%PDF-1.4 letter", main_content=True),
            Document("annex.xml", "application/xml", b"<annex/>"),
        ],
        recipients=[recipient],
        submitted_at=now,
        client_id=f"sender:{sender}",
        registered=registered,
        expires_at=now + expires_in,
        details=details or {},
    )


def register_more(world: World) -> None:
    app = world.ledger.app
    app.register_application(SENDER_KBO, "pension-app", {"nl": "Mijn pensioen", "fr": "Ma pension"})
    app.register_message_type(
        SENDER_KBO, "PENSION", {"nl": "Pensioenattest", "fr": "Attestation de pension"}
    )
    app.register_sender(OTHER_KBO, {"nl": "Federale Politie", "fr": "Police fédérale"})
    app.register_application(OTHER_KBO, "fines-app", {"nl": "Boetes", "fr": "Amendes"})
    app.register_message_type(
        OTHER_KBO, "FINE", {"nl": "Verkeersboete", "fr": "Amende routière"}, "MONTH", 6
    )


@dataclass
class Inbox:
    ledger: Ledger
    world: World
    view: InboxView
    runner: ViewRunner
    tax: str
    pension: str
    fine: str

    def deliver(self, publication: Publication) -> str:
        message_id = self.ledger.app.publish(publication)
        DeliveryWorker(self.ledger).run_until_idle()
        return message_id

    def ids(self, filters: MessageFilter | None = None, ebox: EboxId = CITIZEN_BOX) -> list[str]:
        self.runner.run_until_idle()
        return [m.message_id for m in self.view.messages(ebox, filters, page_size=100).items]

    def get(self, message_id: str) -> InboxMessage:
        self.runner.run_until_idle()
        return self.view.message(CITIZEN_BOX, message_id)


@pytest.fixture
def inbox(ledger: Ledger) -> Inbox:
    world = make_world(ledger)
    register_more(world)
    runner = ViewRunner(ledger, ["inbox"])
    box = Inbox(ledger, world, InboxView.of(ledger), runner, "", "", "")
    box.tax = box.deliver(
        letter(
            subjects={"nl": "Aanslag personenbelasting", "fr": "Avertissement-extrait de rôle"},
            registered=True,
            expires_in=timedelta(days=400),
        )
    )
    box.pension = box.deliver(
        letter(
            application="pension-app",
            message_type="PENSION",
            subjects={"nl": "Uw pensioen", "fr": "Votre pension"},
            expires_in=timedelta(days=30),
        )
    )
    box.fine = box.deliver(
        letter(
            sender=OTHER_KBO,
            application="fines-app",
            message_type="FINE",
            subjects={"nl": "Snelheidsovertreding", "fr": "Excès de vitesse"},
            expires_in=timedelta(days=100),
        )
    )
    runner.run_until_idle()
    return box


def test_a_letter_enters_the_inbox_when_it_is_delivered_not_when_it_is_sent(inbox: Inbox) -> None:
    waiting = inbox.ledger.app.publish(letter(subjects={"nl": "Nog onderweg"}))
    assert waiting not in inbox.ids()
    with pytest.raises(MessageNotFound):
        inbox.get(waiting)

    DeliveryWorker(inbox.ledger).run_until_idle()
    assert inbox.ids()[0] == waiting
    sent_and_delivered = [
        e for e in inbox.ledger.app.events.get(inbox.ledger.app.message(waiting).id)
    ]
    assert inbox.get(waiting).receipt_date == sent_and_delivered[-1].timestamp


def test_the_list_is_newest_first_and_holds_only_this_eboxs_letters(inbox: Inbox) -> None:
    other = inbox.deliver(letter(ENTERPRISE))
    assert inbox.ids() == [inbox.fine, inbox.pension, inbox.tax]
    assert inbox.ids(ebox=ENTERPRISE_BOX) == [other]
    assert inbox.ids(ebox=EboxId("citizen", "00000000000")) == []


def test_every_filter_and_combinations_of_them(inbox: Inbox) -> None:
    inbox.ledger.app.open_document(inbox.tax, "letter.pdf", READER, "portal")
    inbox.ledger.app.hide(inbox.pension, by=READER)
    inbox.ledger.app.archive(inbox.fine, by=READER)
    inbox.runner.run_until_idle()
    tax, pension, fine = (inbox.get(m) for m in (inbox.tax, inbox.pension, inbox.fine))
    t, p, f = tax.message_id, pension.message_id, fine.message_id

    cases: list[tuple[MessageFilter, list[str]]] = [
        (MessageFilter(), [f, p, t]),
        (MessageFilter(read=True), [t]),
        (MessageFilter(read=False), [f, p]),
        (MessageFilter(visible=False), [p]),
        (MessageFilter(visible=True), [f, t]),
        (MessageFilter(archived=True), [f]),
        (MessageFilter(registered_mail=True), [t]),
        (MessageFilter(registered_mail=False), [f, p]),
        (MessageFilter(message_type_id="PENSION"), [p]),
        (MessageFilter(message_type_id="NOPE"), []),
        (MessageFilter(sender_organization_id=OTHER_KBO), [f]),
        (MessageFilter(sender_organization_id=SENDER_KBO), [p, t]),
        (MessageFilter(sender_application_id="pension-app"), [p]),
        (MessageFilter(received_after=pension.receipt_date), [f, p]),
        (MessageFilter(received_before=pension.receipt_date), [t]),
        (
            MessageFilter(received_after=tax.receipt_date, received_before=fine.receipt_date),
            [p, t],
        ),
        (MessageFilter(expires_before=fine.expiration_date), [p]),
        (MessageFilter(expires_after=fine.expiration_date), [f, t]),
        (MessageFilter(read=False, sender_organization_id=SENDER_KBO), [p]),
        (MessageFilter(registered_mail=False, visible=True), [f]),
        (MessageFilter(q="pension", qlang="fr", visible=False), [p]),
        (MessageFilter(q="pension", qlang="fr", visible=True), []),
        (MessageFilter(read=True, registered_mail=True, message_type_id="TAX"), [t]),
    ]
    for filters, expected in cases:
        assert inbox.ids(filters) == expected, filters


def test_search_looks_in_one_language_only(inbox: Inbox) -> None:
    cases = [
        ("aanslag", "nl", ["tax"]),  # a Dutch word, found in Dutch...
        ("aanslag", "fr", []),  # ...and not in French
        ("AANSL", "nl", ["tax"]),  # a prefix, in any case
        ("role", "fr", ["tax"]),  # 'rôle' without its accent
        ("rôle", "fr", ["tax"]),
        ("financien", "nl", ["pension", "tax"]),  # the sender organisation's name
        ("finances", "fr", ["pension", "tax"]),
        ("fédérale", "fr", ["fine"]),
        ("verkeersboete", "nl", ["fine"]),  # the message type's name
        ("amendes", "fr", ["fine"]),  # the application's name
        ("gateway", "en", ["tax"]),  # the application's English name
        ("pension attest", "fr", ["pension"]),  # every word must match
        ("avertissement pension", "fr", []),
        ("!!!", "nl", []),
    ]
    names = {inbox.tax: "tax", inbox.pension: "pension", inbox.fine: "fine"}
    for q, qlang, expected in cases:
        found = [names[m] for m in inbox.ids(MessageFilter(q=q, qlang=qlang))]
        assert sorted(found) == expected, (q, qlang)


def test_a_search_needs_a_known_language(inbox: Inbox) -> None:
    with pytest.raises(InvalidQuery):
        inbox.view.messages(CITIZEN_BOX, MessageFilter(q="aanslag"))
    with pytest.raises(InvalidQuery):
        inbox.view.messages(CITIZEN_BOX, MessageFilter(q="aanslag", qlang="xx"))


def test_paging_walks_the_whole_list_once(inbox: Inbox) -> None:
    for number in range(4):
        inbox.deliver(letter(subjects={"nl": f"Brief {number}"}))
    inbox.runner.run_until_idle()
    everything = inbox.ids()
    assert len(everything) == 7

    pages = [inbox.view.messages(CITIZEN_BOX, page=n, page_size=3) for n in (1, 2, 3, 4)]
    assert [len(p.items) for p in pages] == [3, 3, 1, 0]
    assert {p.total_items for p in pages} == {7}
    assert [m.message_id for p in pages for m in p.items] == everything

    filtered = inbox.view.messages(CITIZEN_BOX, MessageFilter(read=False), page=2, page_size=5)
    assert (len(filtered.items), filtered.total_items) == (2, 7)

    for page, size in [(0, 25), (1, 0), (1, 101)]:
        with pytest.raises(InvalidQuery):
            inbox.view.messages(CITIZEN_BOX, page=page, page_size=size)


def test_reading_a_main_content_flips_read_status(inbox: Inbox) -> None:
    assert not inbox.get(inbox.tax).read
    inbox.ledger.app.open_document(inbox.tax, "annex.xml", READER, "portal")  # not a main content
    assert not inbox.get(inbox.tax).read

    inbox.ledger.app.open_document(inbox.tax, "letter.pdf", READER, "portal")
    message = inbox.get(inbox.tax)
    assert message.read and message.first_read_at is not None
    assert inbox.view.summary(CITIZEN_BOX).number_of_unread_messages == 2


def test_archiving_and_hiding_are_reflected_and_undone(inbox: Inbox) -> None:
    app = inbox.ledger.app
    app.archive(inbox.tax, by=READER)
    app.hide(inbox.tax, by=READER)
    message = inbox.get(inbox.tax)
    assert message.archived and not message.visible

    app.unarchive(inbox.tax, by=READER)
    app.show(inbox.tax, by=READER)
    message = inbox.get(inbox.tax)
    assert not message.archived and message.visible


def test_an_expired_letter_leaves_the_inbox_unless_asked_for(inbox: Inbox) -> None:
    inbox.ledger.app.expire(inbox.pension, reason="retention period over")
    assert inbox.ids() == [inbox.fine, inbox.tax]
    assert inbox.pension in inbox.ids(MessageFilter(include_expired=True))
    with pytest.raises(MessageNotFound):
        inbox.get(inbox.pension)
    assert inbox.view.message(CITIZEN_BOX, inbox.pension, include_expired=True).expired
    assert inbox.view.summary(CITIZEN_BOX).number_of_messages == 2


def test_a_message_is_found_in_its_own_ebox_only(inbox: Inbox) -> None:
    assert inbox.get(inbox.tax.upper()).message_id == inbox.tax
    with pytest.raises(MessageNotFound):
        inbox.view.message(ENTERPRISE_BOX, inbox.tax)
    with pytest.raises(MessageNotFound):
        inbox.view.message(CITIZEN_BOX, "not-a-uuid")


def test_a_message_has_everything_the_contract_shows(inbox: Inbox) -> None:
    documents = [
        Document(
            "letter.pdf",
            "application/pdf",
            b"%PDF main",
            main_content=True,
            title={"nl": "Beslissing", "fr": "Décision"},
            signed=True,
        ),
        Document("annex.csv", "text/csv", b"a,b\n1,2\n"),
        Document(
            "body-nl", "text/plain", b"Beste burger", kind="body", language="nl", main_content=True
        ),
        Document("payment", "application/json", b'{"amount": 12}', kind="payment_data"),
    ]
    details = {
        "reply_authorized": True,
        "original_message_id": "orig-42",
        "for_the_attention_of": {"id": "85073003328", "type": "ssin", "name": "A. Peeters"},
        "business_data": [
            {"key": "dossier", "name": {"nl": "Dossier"}, "values": [{"nl": "D-77"}]}
        ],
    }
    message_id = inbox.deliver(
        letter(
            subjects={"nl": "Beslissing", "de": "Entscheidung"},
            documents=documents,
            details=details,
        )
    )
    m = inbox.get(message_id)
    assert (m.ebox, m.sender_organization_id, m.sender_application_id, m.message_type_id) == (
        CITIZEN_BOX,
        SENDER_KBO,
        "mybox-publisher",
        "TAX",
    )
    assert m.subjects == {"nl": "Beslissing", "de": "Entscheidung"}
    assert (m.reply_authorized, m.original_message_id) == (True, "orig-42")
    assert m.for_the_attention_of == details["for_the_attention_of"]
    assert m.business_data == details["business_data"]
    assert [(a.attachment_id, a.name, a.main_content, a.signed) for a in m.attachments] == [
        ("1", "letter.pdf", True, True),
        ("2", "annex.csv", False, False),
    ]
    assert m.attachments[0].title == {"nl": "Beslissing", "fr": "Décision"}
    assert m.attachments[1].size == 8 and len(m.attachments[1].sha256) == 64
    assert (m.has_body, m.body_main_content, m.has_payment_data) == (True, True, True)
    assert [(b.name, b.language) for b in m.bodies] == [("body-nl", "nl")]
    assert m.total_size == sum(len(d.content) for d in documents)
    assert m.expiration_date > m.receipt_date
    # attachment titles and business data are searchable in their language
    assert message_id in inbox.ids(MessageFilter(q="dossier d-77", qlang="nl"))
    assert message_id in inbox.ids(MessageFilter(q="decision", qlang="fr"))


def test_the_ebox_summary_counts_and_remembers_consultations(inbox: Inbox) -> None:
    inbox.ledger.app.open_document(inbox.tax, "letter.pdf", READER, "portal")
    inbox.runner.run_until_idle()
    summary = inbox.view.summary(CITIZEN_BOX)
    assert (summary.number_of_messages, summary.number_of_unread_messages) == (3, 2)
    assert summary.last_receipt_date == inbox.get(inbox.fine).receipt_date
    assert summary.total_size == 3 * (len(b"%PDF-1.4 letter") + len(b"<annex/>"))
    assert summary.last_consultation_date is None

    first = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    assert inbox.view.record_consultation(CITIZEN_BOX, first) is None
    assert inbox.view.record_consultation(CITIZEN_BOX, first + timedelta(hours=1)) == first
    assert inbox.view.summary(CITIZEN_BOX).last_consultation_date == first + timedelta(hours=1)

    empty = inbox.view.summary(ENTERPRISE_BOX)
    assert (empty.number_of_messages, empty.last_receipt_date, empty.total_size) == (0, None, 0)


def test_reference_data_of_organisations_applications_and_message_types(inbox: Inbox) -> None:
    view = ReferenceCatalogue.of(inbox.ledger)
    organisations = view.sender_organizations(page_size=1)
    assert organisations.total_items == 2 and len(organisations.items) == 1
    tax_office = view.sender_organization(SENDER_KBO)
    assert tax_office.names["nl"] == "FOD Financiën"
    assert tax_office.application_ids == ("mybox-publisher", "pension-app")
    assert tax_office.message_type_ids == ("PENSION", "TAX")

    inbox.ledger.app.register_application(OTHER_KBO, "mybox-publisher", {"en": "gateway"})
    inbox.runner.run_until_idle()
    gateway = view.sender_application("mybox-publisher")
    assert gateway.names == {"en": "gateway"}
    assert gateway.sender_organization_ids == tuple(sorted([SENDER_KBO, OTHER_KBO]))
    assert view.sender_applications().total_items == 3

    fine = view.message_type("FINE")
    assert (fine.validity_unit, fine.validity_amount, fine.registered_mail) == ("MONTH", 6, False)
    assert fine.names["fr"] == "Amende routière"
    assert fine.sender_organization_ids == (OTHER_KBO,)
    assert fine.sender_application_ids == ("fines-app", "mybox-publisher")
    assert [t.message_type_id for t in view.message_types().items] == ["FINE", "PENSION", "TAX"]

    for lookup in (view.sender_organization, view.sender_application, view.message_type):
        with pytest.raises(ReferenceNotFound):
            lookup("nothing-of-that-name")
