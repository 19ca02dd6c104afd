"""Test data builders: a registered sender with a key, open mailboxes, signed letters."""

from __future__ import annotations

from dataclasses import dataclass

from nacl.signing import SigningKey

from ebox.adapters.runtime import Ledger
from ebox.cli.demo import DemoSender, signed_publication
from ebox.domain.publication import Document, Publication, Recipient

SENDER_KBO = "0308357159"
OTHER_KBO = "0206731645"
CITIZEN = Recipient("citizen", "58102882214")
ENTERPRISE = Recipient("enterprise", "0207251386")
SECRET_SENTENCE = b"The secret assessment amount is EUR 4,242.17 for Ms Janssens."


@dataclass
class World:
    ledger: Ledger
    sender: DemoSender

    def letter(
        self,
        recipient: Recipient | list[Recipient] = CITIZEN,
        content: bytes = SECRET_SENTENCE,
        registered: bool = True,
        idempotency_key: str = "k-1",
    ) -> Publication:
        documents = [
            Document("letter.pdf", "application/pdf", b"%PDF-1.4\n" + content, main_content=True),
            Document("annex.xml", "text/xml", b"<annex/>"),
        ]
        return signed_publication(
            self.sender,
            recipient,
            "TAX",
            {"nl": "Aanslag", "fr": "Avertissement"},
            documents,
            registered,
            idempotency_key,
        )


def make_world(ledger: Ledger) -> World:
    app = ledger.app
    app.register_sender(
        SENDER_KBO, {"nl": "FOD Financiën", "fr": "SPF Finances", "de": "FÖD Finanzen"}
    )
    app.register_application(SENDER_KBO, "mybox-publisher", {"en": "gateway"})
    app.register_message_type(SENDER_KBO, "TAX", {"nl": "Aanslag"}, "YEAR", 2, True)
    key = SigningKey.generate()
    key_id = app.add_signing_key(SENDER_KBO, bytes(key.verify_key))
    app.open_mailbox(CITIZEN.ebox_type, CITIZEN.id_value)
    app.open_mailbox(ENTERPRISE.ebox_type, ENTERPRISE.id_value)
    return World(ledger, DemoSender(SENDER_KBO, {"nl": "FOD Financiën"}, key, key_id))
