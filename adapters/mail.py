"""The Mailer port's adapters: SMTP for EBOX_SMTP_URL, and `.eml` files without it.

`EBOX_SMTP_URL` names the relay: `smtp://host:port` (plain: a local relay or a
test server), `smtp+starttls://host:587` (upgraded with STARTTLS) or
`smtps://host:465` (TLS from the first byte). Credentials come from
EBOX_SMTP_USERNAME and EBOX_SMTP_PASSWORD (or EBOX_SMTP_PASSWORD_FILE), or from
the URL's user part. TLS is verified against EBOX_SMTP_CA_FILE (PEM trust anchors;
unset: the system store) and the relay's host name is checked. Credentials are
refused over plain `smtp://` except to this machine (localhost, 127.0.0.1, ::1):
a password is never sent in the clear over a network. Without a URL the
embedded default writes each mail as an `.eml` file under `$EBOX_HOME/outbox`
(0600: it names the person's address), so the demo shows what would have been sent.

A mail that the relay refuses raises `MailRefused` with a reason that names no
address: the notifier records that reason in the ledger (`NotificationFailed`).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ebox.adapters.home import data_dir, text_from_env
from ebox.domain.ports import Mailer

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
DEFAULT_FROM = "eBox <noreply@ebox.invalid>"
SMTP_TIMEOUT = 30.0
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class BadSmtpUrl(ValueError):
    """EBOX_SMTP_URL is not one of the three forms (the message says which are)."""


class CredentialsInTheClear(BadSmtpUrl):
    """Credentials for a plain `smtp://` relay that is not this machine."""


class MailRefused(RuntimeError):
    """The relay did not take the mail (refused, unreachable): retry later."""


@dataclass(frozen=True)
class SmtpTarget:
    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a log line or a repr
    ca_file: Path | None = None


def refuse_credentials_in_the_clear(target: SmtpTarget) -> None:
    """One line at start rather than a password sent unencrypted to a remote relay."""
    credentials = bool(target.username or target.password)
    if target.scheme == "smtp" and credentials and target.host.lower() not in LOOPBACK:
        raise CredentialsInTheClear(
            "EBOX_SMTP_URL: credentials (EBOX_SMTP_USERNAME/PASSWORD) are sent only over "
            "smtp+starttls:// or smtps:// (plain smtp:// only to localhost)"
        )


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Verifies the relay's certificate and host name: against `ca_file`, else the system."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def parse_smtp_url(url: str) -> SmtpTarget:
    """The relay of one of the three URL forms, or BadSmtpUrl saying which they are."""
    forms = "smtp://host:port, smtp+starttls://host:587 or smtps://host:465"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise BadSmtpUrl(f"EBOX_SMTP_URL: not a URL; use {forms}") from None
    if parts.scheme not in SCHEMES:
        raise BadSmtpUrl(f"EBOX_SMTP_URL: unknown scheme {parts.scheme!r}; use {forms}")
    if not parts.hostname:
        raise BadSmtpUrl(f"EBOX_SMTP_URL: no host; use {forms}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise BadSmtpUrl(f"EBOX_SMTP_URL: takes no path or query; use {forms}")
    return SmtpTarget(
        parts.scheme,
        parts.hostname,
        port or SCHEMES[parts.scheme],
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


class SmtpMailer:
    """Hands each mail to the relay of EBOX_SMTP_URL, one connection per mail."""

    def __init__(self, target: SmtpTarget, timeout: float = SMTP_TIMEOUT) -> None:
        self.target = target
        self.timeout = timeout

    def send(self, mail: EmailMessage) -> None:
        t = self.target
        try:
            smtp: smtplib.SMTP
            if t.scheme == "smtps":
                smtp = smtplib.SMTP_SSL(
                    t.host, t.port, timeout=self.timeout, context=tls_context(t.ca_file)
                )
            else:
                smtp = smtplib.SMTP(t.host, t.port, timeout=self.timeout)
            with smtp:
                if t.scheme == "smtp+starttls":
                    smtp.starttls(context=tls_context(t.ca_file))
                if t.username:
                    smtp.login(t.username, t.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as error:
            codes = sorted({str(code) for code, _ in error.recipients.values()})
            raise MailRefused(f"recipient refused by the relay (SMTP {', '.join(codes)})") from None
        except smtplib.SMTPResponseException as error:
            raise MailRefused(f"refused by the relay (SMTP {error.smtp_code})") from None
        except ssl.SSLCertVerificationError as error:
            reason = error.verify_message or "not trusted"
            raise MailRefused(f"relay certificate refused ({reason})") from None
        except (smtplib.SMTPException, OSError) as error:
            raise MailRefused(f"relay unavailable ({type(error).__name__})") from None


class OutboxMailer:
    """The embedded default: each mail an `.eml` file (0600) under the outbox directory.

    The file is named by the mail's Message-ID, so the same notification
    written twice (a crash before the ledger recorded it) is one file.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, mail: EmailMessage) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = str(mail["Message-ID"] or "mail").strip("<>").replace("/", "_").replace("@", "_at_")
        path = self.directory / f"{name}.eml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(mail.as_bytes())
        os.chmod(path, 0o600)


def mailer_from_env(env: Mapping[str, str] | None = None, home: Path | None = None) -> Mailer:
    """SMTP when EBOX_SMTP_URL (or _FILE) is set, the outbox under EBOX_HOME otherwise."""
    env = os.environ if env is None else env
    url = text_from_env("EBOX_SMTP_URL", env)
    if not url:
        return OutboxMailer((home or data_dir()) / "outbox")
    target = parse_smtp_url(url)
    username = env.get("EBOX_SMTP_USERNAME") or target.username
    password = text_from_env("EBOX_SMTP_PASSWORD", env) or target.password
    ca_file = Path(env["EBOX_SMTP_CA_FILE"]) if env.get("EBOX_SMTP_CA_FILE") else None
    relay = SmtpTarget(target.scheme, target.host, target.port, username, password, ca_file)
    refuse_credentials_in_the_clear(relay)
    return SmtpMailer(relay)
