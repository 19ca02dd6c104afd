"""`ebox demo`: a small but real day in the life of the ledger.

Everything goes through the same use cases as production: real Ed25519
signatures, real encryption, the delivery worker and the sealer. The
onboarding (senders, keys, applications, message types, mailboxes, the partner
and its consent, OAuth clients) calls the very `EboxLedger` methods and client
registry that `ebox admin ...` and `/admin/v1` call.
"""

from __future__ import annotations

import random
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from nacl.signing import SigningKey
from rich.progress import Progress

from ebox.adapters.runtime import Ledger
from ebox.cli.demo_data import (
    MESSAGE_TYPES,
    SENDERS,
    SUBJECTS,
    kbo,
    letter_pdf,
    national_register_number,
)
from ebox.domain.errors import Conflict
from ebox.domain.proofs.envelope import SubmissionEnvelope, sign_envelope
from ebox.domain.publication import Document, Publication, Recipient
from ebox.projections.delivery import DeliveryWorker

BATCH = 500


@dataclass
class DemoSummary:
    senders: int = 0
    mailboxes: int = 0
    published: int = 0
    delivered: int = 0
    read: int = 0
    archived: int = 0
    leaves: int = 0
    credentials: Path | None = None
    person: str = ""


@dataclass
class DemoSender:
    kbo: str
    names: dict[str, str]
    key: SigningKey
    key_id: str


def signed_publication(
    sender: DemoSender,
    recipient: Recipient | list[Recipient],
    message_type: str,
    subjects: dict[str, str],
    documents: list[Document],
    registered: bool,
    idempotency_key: str,
) -> Publication:
    """Build the envelope exactly as the ledger will, and sign it as a sender would."""
    recipients = recipient if isinstance(recipient, list) else [recipient]
    unsigned = Publication(
        sender=sender.kbo,
        application="mybox-publisher",
        message_type=message_type,
        subjects=subjects,
        documents=documents,
        recipients=recipients,
        submitted_at=datetime.now(UTC),
        client_id=f"sender:{sender.kbo}",
        registered=registered,
        idempotency_key=idempotency_key,
        signing_key_id=sender.key_id,
    )
    signature = sign_envelope(SubmissionEnvelope.of(unsigned), sender.key)
    return replace(unsigned, signature=signature)


def setup_senders(ledger: Ledger) -> list[DemoSender]:
    app = ledger.app
    senders = []
    for base, names in SENDERS:
        number = kbo(base)
        try:
            app.register_sender(number, names)
            app.register_application(number, "mybox-publisher", {"en": "Publication gateway"})
            for type_id, type_names, unit, amount, registered in MESSAGE_TYPES:
                # As `ebox admin message-type add --validity 2y` does: the same use case.
                validity = f"{amount}{unit[0].lower()}"
                app.register_message_type_for(number, type_id, type_names, validity, registered)
        except Conflict:
            pass  # A second demo run reuses the organisations of the first.
        key = SigningKey.generate()
        key_id = app.add_signing_key(number, bytes(key.verify_key))
        senders.append(DemoSender(number, names, key, key_id))
    return senders


def setup_mailboxes(ledger: Ledger, rng: random.Random, people: int) -> list[Recipient]:
    recipients = []
    for _ in range(people):
        recipients.append(Recipient("citizen", national_register_number(rng)))
    for base, _names in SENDERS[2:]:
        recipients.append(Recipient("enterprise", kbo(base)))
    for recipient in recipients:
        with suppress(Conflict):  # a second demo run reuses the first run's mailboxes
            ledger.app.open_mailbox(recipient.ebox_type, recipient.id_value)
    return recipients


def letters(senders: list[DemoSender], recipients: list[Recipient], count: int, rng: random.Random):  # type: ignore[no-untyped-def]
    year = datetime.now(UTC).year
    for number in range(count):
        sender = senders[number % len(senders)]
        recipient = recipients[rng.randrange(len(recipients))]
        type_id, _names, _unit, _amount, registered = MESSAGE_TYPES[number % len(MESSAGE_TYPES)]
        subjects = {
            lang: text.format(year=year) for lang, text in SUBJECTS[number % len(SUBJECTS)].items()
        }
        pdf = letter_pdf(
            subjects["nl"],
            [
                f"Aan {recipient.address}",
                f"Van {sender.names['nl']} ({sender.kbo})",
                f"Referentie {number:06d}",
            ],
        )
        documents = [
            Document("brief.pdf", "application/pdf", pdf, main_content=True, language="nl"),
            Document(
                "details.xml",
                "text/xml",
                _annex(number, rng.randint(10, 5000)),
            ),
        ]
        yield signed_publication(
            sender,
            recipient,
            type_id,
            subjects,
            documents,
            registered,
            f"demo-{rng.getrandbits(64):016x}",
        )


def _annex(number: int, amount: int) -> bytes:
    return f"<letter><ref>{number:06d}</ref><amount>{amount}</amount></letter>".encode()


def run_demo(ledger: Ledger, count: int, seed: int | None = None) -> DemoSummary:
    rng = random.Random(seed)
    app = ledger.app
    summary = DemoSummary()
    with Progress(transient=True) as progress:
        senders = setup_senders(ledger)
        recipients = setup_mailboxes(ledger, rng, people=max(10, min(200, count // 10)))
        summary.senders, summary.mailboxes = len(senders), len(recipients)

        task = progress.add_task("Publishing letters", total=count)
        message_ids: list[str] = []
        batch: list[Publication] = []
        for publication in letters(senders, recipients, count, rng):
            batch.append(publication)
            if len(batch) == BATCH:
                message_ids += [o.message_id for o in app.publish_many(batch) if o.message_id]
                progress.advance(task, len(batch))
                batch = []
        if batch:
            message_ids += [o.message_id for o in app.publish_many(batch) if o.message_id]
            progress.advance(task, len(batch))
        summary.published = len(message_ids)

        task = progress.add_task("Delivering", total=len(message_ids))
        worker = DeliveryWorker(ledger)
        while handled := worker.run_once():
            summary.delivered += handled
            progress.advance(task, handled)

        reading = message_ids[: len(message_ids) // 3]
        task = progress.add_task("Reading", total=len(reading))
        for message_id in reading:
            message = app.message(message_id)
            app.open_document(
                message_id, "brief.pdf", reader=message_reader(message), channel="portal"
            )
            progress.advance(task)
        summary.read = len(reading)

        archiving = message_ids[::5]
        task = progress.add_task("Archiving", total=len(archiving))
        for message_id in archiving:
            app.archive(message_id, by="owner")
            progress.advance(task)
        summary.archived = len(archiving)

        from ebox.projections.runner import ViewRunner
        from ebox.projections.sealer import Sealer

        views = ViewRunner(ledger)
        task = progress.add_task("Read models", total=sum(views.lags().values()))
        while handled := views.run_once():
            progress.advance(task, handled)

        summary.credentials = write_credentials(ledger, recipients[0], senders[0].kbo)
        summary.person = recipients[0].id_value
        views.run_until_idle()

        sealer = Sealer(ledger)
        task = progress.add_task("Sealing", total=sealer.lag())
        while handled := sealer.run_once():
            summary.leaves += handled
            progress.advance(task, handled)
        sealer.checkpoint_now()
    return summary


def message_reader(message) -> str:  # type: ignore[no-untyped-def]
    return f"owner:{message.mailbox_id}"


DEMO_PARTNER = "mybox-partner-demo"


def write_credentials(ledger: Ledger, person: Recipient, sender_kbo: str) -> Path:
    """demo-credentials.json: what a newcomer needs to call the API with curl at once.

    The private keys exist only in this file (mode 0600) and in no database.
    """
    import json
    import os

    from ebox.adapters.clients import generate_key
    from ebox.adapters.onboarding import add_client
    from ebox.api.oauth import token_endpoint
    from ebox.api.oidc import mint_person_token
    from ebox.api.settings import Settings

    settings = Settings.from_env()
    sender_key, partner_key = generate_key("EdDSA"), generate_key("EdDSA")
    with suppress(Conflict):
        ledger.app.register_partner(DEMO_PARTNER, "My eBox partner (demo)")
    sender_client = add_client(ledger, "sender", sender_kbo, sender_key.public_jwk)
    partner_client = add_client(ledger, "partner", DEMO_PARTNER, partner_key.public_jwk)
    with suppress(Conflict):
        ledger.app.grant_partner_consent(person.ebox_type, person.id_value, DEMO_PARTNER)
    credentials = {
        "api": settings.public_url,
        "token_url": token_endpoint(settings),
        "sender_organization": {
            "kbo_number": sender_kbo,
            "client_id": sender_client,
            "private_key_pem": sender_key.private_pem.decode(),
        },
        "partner_app": {
            "partner_id": DEMO_PARTNER,
            "client_id": partner_client,
            "private_key_pem": partner_key.private_pem.decode(),
        },
        "person": {
            "national_register_number": person.id_value,
            "access_token": mint_person_token(ledger.home, person.id_value, None, 24 * 3600),
            "partner_access_token": mint_person_token(
                ledger.home, person.id_value, DEMO_PARTNER, 24 * 3600
            ),
        },
    }
    path = ledger.home / "demo-credentials.json"
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(credentials, handle, indent=2)
    return path
