"""Notifications, end to end: a real SMTP server (aiosmtpd) started by the test, over HTTP.

The person sets an address and a language through the preferences route; a
sender publishes; the workers (the same function as `ebox workers --once
--now T`) mail the new document in the person's language, naming the sender
and linking to the eBox, without the content or the letter's subject; 15 days
later the reminder, 7 days before expiry the alert, at expiry 410 and nothing
more. The event feed shows each; the ledger records `Notified` with a
fingerprint of the address, never the address. A relay that refuses (550)
gives `NotificationFailed`, and the retry after the backoff succeeds; a restart
(new workers) in the middle sends nothing twice.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from ebox.adapters.clock import FixedClock
from ebox.adapters.mail import mailer_from_env
from ebox.adapters.runtime import Ledger, open_ledger
from ebox.api.feed import PAGE_KEY
from ebox.domain.proofs.canonical import parse_rfc3339
from ebox.projections.notifier import Notifier, next_digest_at
from ebox.projections.workers import Workers
from ebox.verifier.etsi_events import ETSI_EVENT_BASE, etsi_event, etsi_event_uri
from tests.auth_helpers import api_client, auditor_token, bearer, person_token_for, sender_token
from tests.builders import CITIZEN, SENDER_KBO, make_world
from tests.e2e.test_evidence_cli import ebox, ok
from tests.e2e.test_publication_api import PDF, message_to_publish, publish

ADDRESS = "Jan.Janssens@Example.be"
PREFERENCES = "/ebox/citizen/v2/ebox/preferences"
FEED = "/ebox/citizen/document/events"
PUBLIC_URL = "https://ebox.example.be"


@dataclass
class Relay:
    """An SMTP server in the test: keeps every mail it accepts, or refuses with 550."""

    refuse: bool = False
    mails: list[EmailMessage] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def relay(monkeypatch: pytest.MonkeyPatch) -> Iterator[Relay]:
    handler = Relay()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("EBOX_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("EBOX_PUBLIC_URL", PUBLIC_URL)
    try:
        yield handler
    finally:
        controller.stop()


def run(ledger: Ledger, now: datetime) -> None:
    """`ebox workers --once --now T` in this process: a fresh Workers each time (a restart)."""
    assert Workers(ledger).run_until_idle(FixedClock(now)) == []


def events_of(ledger: Ledger, message_id: str) -> list[Any]:
    return list(ledger.app.events.get(ledger.app.message(message_id).id))


def feed_types(http: TestClient, ledger: Ledger) -> list[str]:
    params = {"lastSequenceNbr": 0, "pageSize": 100}
    answer = http.get(FEED, params=params, headers=bearer(auditor_token(http, ledger)))
    assert answer.status_code == 200, answer.text
    return [item["eventData"]["eventType"] for item in answer.json()[PAGE_KEY]]


def published_letter(http: TestClient, ledger: Ledger) -> str:
    person = bearer(person_token_for(http, CITIZEN.id_value))
    put = http.put(PREFERENCES, json={"email": ADDRESS, "language": "fr"}, headers=person)
    assert put.status_code == 200, put.text
    assert put.json() == {"email": ADDRESS, "language": "fr", "digest": False}
    published = publish(http, sender_token(http, ledger, SENDER_KBO), message_to_publish())
    assert published.status_code == 201, published.text
    return str(published.json()["messageId"])


def test_a_letter_is_notified_reminded_alerted_and_then_expires_silently(
    ledger: Ledger, ledger_home: Path, relay: Relay
) -> None:
    make_world(ledger)
    with api_client(ledger, ledger_home) as http:
        message_id = published_letter(http, ledger)
        run(ledger, datetime.now(UTC))

        assert len(relay.mails) == 1
        mail = relay.mails[0]
        assert mail["To"] == ADDRESS
        assert mail["Subject"] == "Nouveau document dans votre eBox"
        assert mail["Content-Language"] == "fr"
        text = mail.get_content()
        assert "SPF Finances" in text and PUBLIC_URL in text
        raw = mail.as_bytes()
        assert b"Votre avertissement" not in raw and b"Uw aanslagbiljet" not in raw  # sensitive
        assert PDF not in raw and b"1.234,56" not in raw  # never the content
        assert feed_types(http, ledger) == ["newDocument"]

        delivered = next(
            e for e in events_of(ledger, message_id) if type(e).__name__ == "Delivered"
        )
        expires = parse_rfc3339(str(ledger.app.sent(message_id).expires_at))

        run(ledger, delivered.timestamp + timedelta(days=14))  # a restart: nothing new yet
        assert len(relay.mails) == 1

        run(ledger, delivered.timestamp + timedelta(days=15, minutes=1))
        assert [m["Subject"] for m in relay.mails[1:]] == [
            "Rappel : document non lu dans votre eBox"
        ]
        run(ledger, delivered.timestamp + timedelta(days=15, minutes=2))  # again: nothing twice
        assert len(relay.mails) == 2

        run(ledger, expires - timedelta(days=7) + timedelta(minutes=1))
        assert relay.mails[2]["Subject"] == "Un document de votre eBox expire bientôt"
        assert expires.strftime("%Y-%m-%d") in relay.mails[2].get_content()

        run(ledger, expires + timedelta(days=1))
        assert len(relay.mails) == 3  # expiry tells nobody and sends nothing more
        person = bearer(person_token_for(http, CITIZEN.id_value))
        gone = http.get(f"/ebox/citizen/v2/ebox/messages/{message_id}", headers=person)
        assert gone.status_code == 410
        assert feed_types(http, ledger) == [
            "newDocument",
            "newDocumentReminder",
            "documentExpirationAlert",
        ]

    notified = [e for e in events_of(ledger, message_id) if type(e).__name__ == "Notified"]
    assert [e.kind for e in notified] == [
        "newDocument",
        "newDocumentReminder",
        "documentExpirationAlert",
    ]
    fingerprint = hashlib.sha256(ADDRESS.lower().encode()).hexdigest()
    for event, mail in zip(notified, relay.mails, strict=True):
        assert event.channel == "email" and event.address_sha256 == fingerprint
        assert event.mail_sha256 == hashlib.sha256(mail.as_bytes()).hexdigest()
        assert event.mail_id == mail["Message-ID"]
        assert ADDRESS.lower() not in repr(event.__dict__).lower()


def test_a_refused_mail_is_recorded_and_retried_after_the_backoff(
    ledger: Ledger, ledger_home: Path, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EBOX_NOTIFY_RETRY_SECONDS", "600")
    make_world(ledger)
    relay.refuse = True
    with api_client(ledger, ledger_home) as http:
        message_id = published_letter(http, ledger)
    now = datetime.now(UTC)
    workers = Workers(ledger)
    assert workers.run_until_idle(FixedClock(now)) == ["due work (see lifecycle_due.last_error)"]
    assert relay.mails == []
    failed = [e for e in events_of(ledger, message_id) if type(e).__name__ == "NotificationFailed"]
    assert [(e.kind, e.channel, e.attempt) for e in failed] == [("newDocument", "email", 1)]
    assert "550" in failed[0].reason and ADDRESS.lower() not in failed[0].reason.lower()

    relay.refuse = False
    run(ledger, now + timedelta(seconds=599))  # still backing off
    assert relay.mails == []
    run(ledger, now + timedelta(seconds=601))
    assert len(relay.mails) == 1
    run(ledger, now + timedelta(seconds=900))  # a restart after success: nothing twice
    assert len(relay.mails) == 1
    kinds = [type(e).__name__ for e in events_of(ledger, message_id)]
    assert kinds.count("NotificationFailed") == 1 and kinds.count("Notified") == 1


def test_without_an_address_nothing_is_sent(
    ledger: Ledger, ledger_home: Path, relay: Relay
) -> None:
    make_world(ledger)
    with api_client(ledger, ledger_home) as http:
        published = publish(http, sender_token(http, ledger, SENDER_KBO), message_to_publish())
        assert published.status_code == 201, published.text
    run(ledger, datetime.now(UTC))
    assert relay.mails == []


def test_preferences_refuse_a_bad_address_or_language(ledger: Ledger, ledger_home: Path) -> None:
    make_world(ledger)
    with api_client(ledger, ledger_home) as http:
        person = bearer(person_token_for(http, CITIZEN.id_value))
        bad = http.put(PREFERENCES, json={"email": "not an address"}, headers=person)
        assert bad.status_code == 400 and "code" in bad.json(), bad.text
        wrong = http.put(PREFERENCES, json={"language": "xx"}, headers=person)
        assert wrong.status_code == 400 and "code" in wrong.json(), wrong.text
        assert http.get(PREFERENCES, headers=person).json()["email"] is None
        paths = http.get("/openapi.json").json()["paths"]
        assert "put" in paths[PREFERENCES] and "get" in paths[PREFERENCES]


def test_a_daily_digest_tells_the_days_letters_in_one_mail(
    ledger: Ledger, ledger_home: Path, relay: Relay
) -> None:
    make_world(ledger)
    with api_client(ledger, ledger_home) as http:
        person = bearer(person_token_for(http, CITIZEN.id_value))
        put = http.put(
            PREFERENCES, json={"email": ADDRESS, "language": "nl", "digest": True}, headers=person
        )
        assert put.status_code == 200 and put.json()["digest"] is True, put.text
        token = sender_token(http, ledger, SENDER_KBO)
        ids = []
        for _ in range(2):
            published = publish(http, token, message_to_publish())
            assert published.status_code == 201, published.text
            ids.append(published.json()["messageId"])
    now = datetime.now(UTC)
    run(ledger, now)
    assert relay.mails == []  # not one mail per letter
    digest_at = next_digest_at(now)  # 08:00 in Brussels (EBOX_DIGEST_HOUR's default)
    run(ledger, digest_at - timedelta(minutes=1))
    assert relay.mails == []
    run(ledger, digest_at + timedelta(minutes=1))
    assert len(relay.mails) == 1
    digest = relay.mails[0]
    assert digest["Subject"] == "Nieuwe documenten in uw eBox"
    assert "2 nieuwe" in digest.get_content() and "FOD Financiën" in digest.get_content()
    run(ledger, digest_at + timedelta(hours=1))  # a restart: the digest is not sent again
    assert len(relay.mails) == 1
    sha = hashlib.sha256(digest.as_bytes()).hexdigest()
    for message_id in ids:
        notified = [e for e in events_of(ledger, message_id) if type(e).__name__ == "Notified"]
        assert [(e.kind, e.mail_sha256) for e in notified] == [("newDocument", sha)]


def test_the_evidence_of_a_notified_letter_verifies_and_names_the_notifications(
    tmp_path: Path, relay: Relay
) -> None:
    home = tmp_path / "home"
    ledger = open_ledger(None, home)
    try:
        make_world(ledger)
        with api_client(ledger, home) as http:
            message_id = published_letter(http, ledger)
        relay.refuse = True
        now = datetime.now(UTC)
        Workers(ledger).run_until_idle(FixedClock(now))
        relay.refuse = False
        run(ledger, now + timedelta(days=1))
        assert len(relay.mails) == 1
    finally:
        ledger.close()
    evidence = tmp_path / "evidence.json"
    ok(ebox(home, "evidence", message_id, "-o", str(evidence)))
    vkey = ok(ebox(home, "ledger", "vkey")).strip()
    report = ok(ebox(home, "verify", str(evidence), "--vkey", vkey))
    assert report.startswith("EVIDENCE VERIFIED") and "4 events" in report
    bundle = evidence.read_text()
    assert '"NotificationFailed"' in bundle and '"Notified"' in bundle
    assert etsi_event_uri("Notified") == ETSI_EVENT_BASE + "ConsignmentNotification"
    assert etsi_event("NotificationFailed") == "ConsignmentNotificationFailure"
    assert ADDRESS.lower() not in report.lower()


def test_a_message_type_marked_not_sensitive_lets_the_mail_name_the_subject(
    ledger: Ledger, ledger_home: Path, relay: Relay
) -> None:
    make_world(ledger)
    ledger.app.set_message_type_sensitivity(SENDER_KBO, "TAX", False)
    with api_client(ledger, ledger_home) as http:
        published_letter(http, ledger)
    run(ledger, datetime.now(UTC))
    (mail,) = relay.mails
    assert "Objet : Votre avertissement." in mail.get_content()
    assert PDF not in mail.as_bytes()


@dataclass
class CrashAfterAccept:
    """Hands the mail to the relay, then dies before the ledger commits (the one window)."""

    relay_url: str

    def send(self, mail: EmailMessage) -> None:
        mailer_from_env({"EBOX_SMTP_URL": self.relay_url}).send(mail)
        raise SystemError("the process died after the relay accepted the mail")


def test_a_crash_between_relay_and_commit_repeats_the_same_mail_and_records_it_once(
    ledger: Ledger, ledger_home: Path, relay: Relay
) -> None:
    make_world(ledger)
    with api_client(ledger, ledger_home) as http:
        message_id = published_letter(http, ledger)
    now = datetime.now(UTC)
    crashing = Notifier(mailer=CrashAfterAccept(os.environ["EBOX_SMTP_URL"]))
    assert Workers(ledger, notifier=crashing).run_until_idle(FixedClock(now)) == [
        "due work (see lifecycle_due.last_error)"
    ]
    assert len(relay.mails) == 1
    assert "Notified" not in [type(e).__name__ for e in events_of(ledger, message_id)]
    run(ledger, now)  # the restart
    first, again = relay.mails
    assert again.as_bytes() == first.as_bytes() and again["Message-ID"] == first["Message-ID"]
    run(ledger, now + timedelta(hours=1))
    assert len(relay.mails) == 2
    kinds = [type(e).__name__ for e in events_of(ledger, message_id)]
    assert kinds.count("Notified") == 1 and "NotificationFailed" not in kinds


def test_the_operator_sets_the_contact_with_the_same_use_case(tmp_path: Path) -> None:
    home, db = tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    opened = ebox(home, "admin", "mailbox", "open", "citizen", CITIZEN.id_value, "--db", db)
    assert opened.returncode == 0, opened.stderr
    args = ("admin", "mailbox", "contact", "citizen", CITIZEN.id_value, "--db", db)
    ok(ebox(home, *args, "--email", ADDRESS, "--language", "de", "--digest"))
    refused = ebox(home, *args, "--language", "xx")
    assert refused.returncode != 0 and len(refused.stderr.strip().splitlines()) == 1
    ledger = open_ledger(db, home)
    try:
        mailbox = ledger.app.mailbox("citizen", CITIZEN.id_value)
        assert (mailbox.email, mailbox.language, mailbox.digest) == (ADDRESS, "de", True)
    finally:
        ledger.close()


def test_without_a_relay_the_mail_is_an_eml_file_in_the_data_directory(
    ledger: Ledger, ledger_home: Path
) -> None:
    make_world(ledger)
    with api_client(ledger, ledger_home) as http:
        message_id = published_letter(http, ledger)
    run(ledger, datetime.now(UTC))
    (written,) = (ledger_home / "outbox").glob("*.eml")
    assert written.stat().st_mode & 0o777 == 0o600
    mail = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert mail["To"] == ADDRESS and mail["Subject"] == "Nouveau document dans votre eBox"
    notified = [e for e in events_of(ledger, message_id) if type(e).__name__ == "Notified"]
    assert [e.mail_sha256 for e in notified] == [hashlib.sha256(written.read_bytes()).hexdigest()]


def test_two_replicas_running_at_once_send_each_notification_once(
    ledger: Ledger, ledger_home: Path, relay: Relay
) -> None:
    make_world(ledger)
    with api_client(ledger, ledger_home) as http:
        message_id = published_letter(http, ledger)
    Workers(ledger).run_until_idle()  # delivered and scheduled, nothing due yet
    now = datetime.now(UTC) + timedelta(days=15, minutes=5)  # the new document and the reminder
    replicas = [Workers(ledger) for _ in range(2)]
    start = threading.Barrier(2)

    def replica(workers: Workers) -> None:
        start.wait()
        workers.due.run(FixedClock(now))

    threads = [threading.Thread(target=replica, args=(w,)) for w in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m["Subject"] for m in relay.mails) == [
        "Nouveau document dans votre eBox",
        "Rappel : document non lu dans votre eBox",
    ]
    kinds = [e.kind for e in events_of(ledger, message_id) if type(e).__name__ == "Notified"]
    assert sorted(kinds) == ["newDocument", "newDocumentReminder"]


def test_a_relay_with_an_untrusted_certificate_is_a_recorded_failure_retried_after_the_backoff(
    ledger: Ledger, ledger_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SMTPS to a relay whose certificate chains to a CA we were not told to trust: no mail,
    `NotificationFailed` naming the certificate, no crash; with EBOX_SMTP_CA_FILE corrected, the
    retry after the backoff delivers it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509 import DNSName

    from tests.unit.test_mail_tls import _ca, _server_context

    ca, other = _ca("relay CA"), _ca("another CA")
    (tmp_path / "ca.pem").write_bytes(ca[1].public_bytes(serialization.Encoding.PEM))
    (tmp_path / "other.pem").write_bytes(other[1].public_bytes(serialization.Encoding.PEM))
    handler, port = Relay(), _free_port()
    server_tls = _server_context(tmp_path, ca, [DNSName("localhost")])
    controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=server_tls)
    controller.start()
    try:
        monkeypatch.setenv("EBOX_SMTP_URL", f"smtps://localhost:{port}")
        monkeypatch.setenv("EBOX_SMTP_CA_FILE", str(tmp_path / "other.pem"))
        monkeypatch.setenv("EBOX_NOTIFY_RETRY_SECONDS", "600")
        make_world(ledger)
        with api_client(ledger, ledger_home) as http:
            message_id = published_letter(http, ledger)
        now = datetime.now(UTC)
        outcome = Workers(ledger).run_until_idle(FixedClock(now))
        assert outcome == ["due work (see lifecycle_due.last_error)"]
        assert handler.mails == []
        failed = [
            e for e in events_of(ledger, message_id) if type(e).__name__ == "NotificationFailed"
        ]
        assert [(e.kind, e.attempt) for e in failed] == [("newDocument", 1)]
        assert failed[0].reason.startswith("relay certificate refused")

        monkeypatch.setenv("EBOX_SMTP_CA_FILE", str(tmp_path / "ca.pem"))
        run(ledger, now + timedelta(seconds=601))
        assert len(handler.mails) == 1 and handler.mails[0]["To"] == ADDRESS
    finally:
        controller.stop()
