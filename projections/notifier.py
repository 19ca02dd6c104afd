"""The notifier: tells a mailbox's owner by mail of a new letter, a reminder, an expiry alert.

Two halves, like the lifecycle scheduler it plugs into. `NotifierScheduler`
is a follower on the one follower engine: on a letter's Delivered it records,
in `lifecycle_due` and in the transaction that moves its position, a
`new_document` item due at once (from its receipt) and a `reminder` item due EBOX_REMINDER_DAYS
(15) later; on Sent, an `expiry_alert` item EBOX_EXPIRY_ALERT_DAYS (7) before
the letter expires. `Notifier` is the `DueWork` handler of those three kinds:
as of the clock's time it builds the mail (the mailbox's language, the sender
organisation's name, a link to EBOX_PUBLIC_URL, never the content, no subject
unless the message type says it is not sensitive), hands it to the Mailer and
records `Notified` on the Message; a refused mail records `NotificationFailed`
and the item comes back after a backoff (EBOX_NOTIFY_RETRY_SECONDS, doubled on
each attempt, at most `MAX_ATTEMPTS`).

Exactly once. The item is claimed by DueWork's conditional UPDATE, the mail is
sent and `Notified` is saved, all in the claim's transaction: a second runner
or replica waits on the claim and then finds the item done, and a restart
finds it done. What no transaction can cover is a crash after the relay
accepted the mail and before the commit: the item is then un-claimed and the
mail sent again on the next run. We chose that (at least once towards SMTP,
exactly once in the ledger) over marking the item done before sending, which
would lose a mail on such a crash. The repeat is the very same mail: its
Message-ID is derived from the letter and the kind (and its Date from the due
time), so mail clients and relays that deduplicate by Message-ID show it once,
and the outbox overwrites the same `.eml` file.

The daily digest (a mailbox's choice, `Mailbox.DigestSet`): a new letter's
item is then done as "in digest" and the mailbox's one `digest` item is due at
the next EBOX_DIGEST_HOUR (8) o'clock in Brussels (`next_digest_at`: local time,
so it stays 8:00 for the person across the DST changes); it sends one mail
for every letter waiting, unread and unexpired, and records `Notified`
(newDocument) on each, with the digest's SHA-256. Reminders and expiry alerts
stay one mail per letter.

A reader is not told twice: a Read closes pending reminders and alerts (the
lifecycle scheduler), and the handler checks the letter itself before sending
(read, expired, or a mailbox without an address: nothing is sent).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ebox.adapters.mail import DEFAULT_FROM, MailRefused, mailer_from_env
from ebox.adapters.runtime import Ledger
from ebox.adapters.tables import lifecycle_due
from ebox.domain.message import Message
from ebox.domain.ports import Mailer
from ebox.domain.proofs.canonical import parse_rfc3339
from ebox.projections.follower import Follower
from ebox.projections.lifecycle import RETRY, DueItem, Handler, utc
from ebox.projections.notice_texts import render, render_digest

NEW_DOCUMENT = "new_document"
REMINDER = "reminder"
EXPIRY_ALERT = "expiry_alert"
DIGEST = "digest"
IN_DIGEST = "in digest"
EVENT_KINDS = {
    NEW_DOCUMENT: "newDocument",
    REMINDER: "newDocumentReminder",
    EXPIRY_ALERT: "documentExpirationAlert",
}
"""Due kinds -> the event API's names, which `Notified.kind` and the feed use."""
CHANNEL = "email"
DEFAULT_REMINDER_DAYS = 15
DEFAULT_EXPIRY_ALERT_DAYS = 7
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEFAULT_DIGEST_HOUR = 8
BRUSSELS = ZoneInfo("Europe/Brussels")
_MAIL_NAMESPACE = UUID("5d1b8f0e-5c4f-4f7e-9a57-2f0c1e6d9b11")


def _days(env: Mapping[str, str], name: str, default: int) -> timedelta:
    return timedelta(days=int(env.get(name) or default))


def next_digest_at(after: datetime, hour: int = DEFAULT_DIGEST_HOUR) -> datetime:
    """The first `hour` o'clock in Brussels strictly after `after`, in UTC.

    Local time, not a fixed UTC hour: the person gets the digest at the same
    hour on their clock in winter and summer. On the spring change an hour that
    does not exist (02:00 on the last Sunday of March) is the first moment after
    the gap; on the autumn change an hour that happens twice is its first time.
    """
    local = utc(after).astimezone(BRUSSELS)
    day = local.date()
    while True:
        candidate = datetime.combine(day, time(hour), BRUSSELS).astimezone(UTC)
        if candidate > utc(after):
            return candidate
        day += timedelta(days=1)


def address_sha256(address: str) -> str:
    """The fingerprint the ledger keeps instead of the address (trimmed, lower case)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


class NotifierScheduler(Follower):
    """Follows Sent and Delivered, and records each letter's notifications as due work."""

    name = "notifier"
    topics = (get_topic(Message.Sent), get_topic(Message.Delivered))

    def __init__(
        self,
        ledger: Ledger,
        batch_size: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(ledger, batch_size)
        env = os.environ if env is None else env
        self.reminder_after = _days(env, "EBOX_REMINDER_DAYS", DEFAULT_REMINDER_DAYS)
        self.alert_before = _days(env, "EBOX_EXPIRY_ALERT_DAYS", DEFAULT_EXPIRY_ALERT_DAYS)

    def handle(self, session: Session, notifications: Sequence[Notification]) -> None:
        sent: dict[str, Any] = {}
        for notification in notifications:
            event = self.app.mapper.to_domain_event(notification)
            message_id = str(event.originator_id)
            if isinstance(event, Message.Sent):
                sent[message_id] = event
                expires = utc(parse_rfc3339(event.expires_at))
                self._due(session, event, EXPIRY_ALERT, expires - self.alert_before)
            elif isinstance(event, Message.Delivered):
                facts = sent.get(message_id) or self.app.sent(message_id)
                at = utc(event.timestamp)
                # Due at once: from the ledger's receipt (the row exists only once delivered,
                # and a clock read before delivery finished still finds it due).
                self._due(session, facts, NEW_DOCUMENT, min(at, utc(facts.timestamp)))
                self._due(session, facts, REMINDER, at + self.reminder_after)

    def _due(self, session: Session, sent: Any, kind: str, due_at: datetime) -> None:
        row = {
            "message_id": str(sent.originator_id),
            "kind": kind,
            "due_at": due_at,
            "publication_id": sent.publication_id,
            "mailbox_id": sent.mailbox_id,
            "attempts": 0,
        }
        session.execute(self.ledger.db.insert_ignore(lifecycle_due), row)


class Notifier:
    """The DueWork handler of the notification kinds: one mail, one event."""

    def __init__(
        self,
        mailer: Mailer | None = None,
        env: Mapping[str, str] | None = None,
        home: Path | None = None,
    ) -> None:
        """Without `mailer`, the one of the settings; the outbox under `home` (the ledger's)."""
        env = os.environ if env is None else env
        self.mailer = mailer_from_env(env, home) if mailer is None else mailer
        self.public_url = (env.get("EBOX_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/")
        self.sender_address = env.get("EBOX_MAIL_FROM") or DEFAULT_FROM
        self.digest_hour = int(env.get("EBOX_DIGEST_HOUR") or DEFAULT_DIGEST_HOUR)

    def handlers(self) -> dict[str, Handler]:
        return {**{kind: self.handle for kind in EVENT_KINDS}, DIGEST: self.digest}

    def handle(self, ledger: Ledger, session: Session, item: DueItem) -> str:
        app = ledger.app
        message = app.message(item.message_id)
        if message.expired:
            return "expired"
        if message.read:  # opened before we got to it: nothing left to tell
            return "read"
        mailbox = app.repository.get(UUID(item.mailbox_id))
        if not mailbox.email or mailbox.closed:
            return "no address"
        if item.kind == NEW_DOCUMENT and getattr(mailbox, "digest", False):
            self._to_digest(ledger, session, item)
            return IN_DIGEST
        kind = EVENT_KINDS[item.kind]
        mail = self.mail(app, message, kind, item, mailbox.email, mailbox.language)
        try:
            self.mailer.send(mail)
        except MailRefused as refused:
            attempt = int(session.execute(_attempts(item)).scalar() or 0) + 1
            message.record_notification_failed(kind, CHANNEL, str(refused), attempt)
            app.save(message)
            return RETRY
        message.record_notified(
            kind,
            CHANNEL,
            address_sha256(mailbox.email),
            hashlib.sha256(mail.as_bytes()).hexdigest(),
            str(mail["Message-ID"]),
        )
        app.save(message)
        return "notified"

    def _to_digest(self, ledger: Ledger, session: Session, item: DueItem) -> None:
        """The mailbox's digest item (one row per mailbox, reused day after day) is due at
        the next digest hour in Brussels after this letter; a digest already sent is due again."""
        t = lifecycle_due.c
        key = str(uuid5(_MAIL_NAMESPACE, f"digest:{item.mailbox_id}"))
        due_at = next_digest_at(item.due_at, self.digest_hour)
        where = (t.message_id == key, t.kind == DIGEST)
        row = session.execute(select(t.done_at, t.due_at).where(*where)).first()
        if row is None:
            row_values = {
                "message_id": key,
                "kind": DIGEST,
                "due_at": due_at,
                "publication_id": DIGEST,
                "mailbox_id": item.mailbox_id,
                "attempts": 0,
            }
            session.execute(ledger.db.insert_ignore(lifecycle_due), row_values)
        elif row.done_at is not None:
            session.execute(
                update(lifecycle_due)
                .where(*where)
                .values(done_at=None, outcome=None, attempts=0, last_error=None, due_at=due_at)
            )

    def digest(self, ledger: Ledger, session: Session, item: DueItem) -> str:
        """One mail for the mailbox's letters waiting in its digest; `Notified` on each."""
        app = ledger.app
        t = lifecycle_due.c
        waiting = (t.mailbox_id == item.mailbox_id, t.kind == NEW_DOCUMENT, t.outcome == IN_DIGEST)
        ids = sorted(session.execute(select(t.message_id).where(*waiting)).scalars())
        messages = [app.message(i) for i in ids]
        told = [m for m in messages if not m.expired and not m.read]
        mailbox = app.repository.get(UUID(item.mailbox_id))
        if not told or not mailbox.email or mailbox.closed:
            session.execute(update(lifecycle_due).where(*waiting).values(outcome="not needed"))
            return "nothing to tell"
        lang = mailbox.language or "en"
        senders = sorted({self._sender_name(app, app.sent(m.id).sender, lang) for m in told})
        text = render_digest(
            mailbox.language, senders=senders, count=len(told), link=self.public_url + "/"
        )
        mail_id = uuid5(_MAIL_NAMESPACE, "digest:" + ",".join(str(m.id) for m in told))
        mail = self._envelope(mailbox.email, text.subject, item.due_at, f"<{mail_id}@ebox>", lang)
        mail.set_content(text.body)
        mail["Content-Language"] = lang
        try:
            self.mailer.send(mail)
        except MailRefused as refused:
            attempt = int(session.execute(_attempts(item)).scalar() or 0) + 1
            for message in told:
                message.record_notification_failed(
                    EVENT_KINDS[NEW_DOCUMENT], CHANNEL, str(refused), attempt
                )
            app.save(*told)
            return RETRY
        digest = hashlib.sha256(mail.as_bytes()).hexdigest()
        for message in told:
            message.record_notified(
                EVENT_KINDS[NEW_DOCUMENT],
                CHANNEL,
                address_sha256(mailbox.email),
                digest,
                str(mail["Message-ID"]),
            )
        app.save(*told)
        session.execute(update(lifecycle_due).where(*waiting).values(outcome="digested"))
        return "notified"

    @staticmethod
    def _sender_name(app: Any, kbo: str, lang: str) -> str:
        names: dict[str, str] = dict(app.sender(kbo).names)
        return names.get(lang) or next(iter(names.values()), kbo)

    def _envelope(
        self, to: str, subject: str, date: datetime, message_id: str, lang: str
    ) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender_address
        mail["To"] = to
        mail["Subject"] = subject
        mail["Date"] = format_datetime(date)
        mail["Message-ID"] = message_id
        return mail

    def mail(
        self,
        app: Any,
        message: Message,
        kind: str,
        item: DueItem,
        address: str,
        language: str | None,
    ) -> EmailMessage:
        """The mail for one due item: the same bytes however often it is built."""
        sent = app.sent(item.message_id)
        sender = app.sender(sent.sender)
        lang = language or "en"
        sender_name = self._sender_name(app, sent.sender, lang)
        message_type = dict(sender.message_types.get(sent.message_type, {}))
        sensitive = bool(message_type.get("sensitive", True))
        subjects: dict[str, str] = dict(sent.subjects or {})
        subject = None if sensitive else (subjects.get(lang) or next(iter(subjects.values()), None))
        text = render(
            kind,
            language,
            sender=sender_name,
            link=self.public_url + "/",
            expires=sent.expires_at[:10],
            subject=subject,
        )
        mail_id = f"<{uuid5(_MAIL_NAMESPACE, f'{item.message_id}:{kind}')}@ebox>"
        mail = self._envelope(address, text.subject, item.due_at, mail_id, lang)
        mail.set_content(text.body)
        mail["Content-Language"] = lang  # after set_content, which drops Content-* headers
        return mail


def _attempts(item: DueItem) -> Any:
    t = lifecycle_due.c
    return select(t.attempts).where(t.message_id == item.message_id, t.kind == item.kind)
