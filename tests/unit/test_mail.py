"""The mail adapters: EBOX_SMTP_URL's three forms (anything else: one clear error), and the
embedded default's `.eml` outbox (0600, one file per notification however often written)."""

from __future__ import annotations

import os
import stat
from email.message import EmailMessage
from pathlib import Path

import pytest

from ebox.adapters.mail import (
    BadSmtpUrl,
    OutboxMailer,
    SmtpMailer,
    SmtpTarget,
    mailer_from_env,
    parse_smtp_url,
)
from ebox.api.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("smtp://127.0.0.1:2525", SmtpTarget("smtp", "127.0.0.1", 2525)),
        ("smtp://relay.example", SmtpTarget("smtp", "relay.example", 25)),
        ("smtp+starttls://relay.example:587", SmtpTarget("smtp+starttls", "relay.example", 587)),
        ("smtp+starttls://relay.example", SmtpTarget("smtp+starttls", "relay.example", 587)),
        ("smtps://relay.example", SmtpTarget("smtps", "relay.example", 465)),
        (
            "smtps://mailer:p%40ss@relay.example:465",
            SmtpTarget("smtps", "relay.example", 465, "mailer", "p@ss"),
        ),
    ],
)
def test_the_three_url_forms_name_their_relay(url: str, target: SmtpTarget) -> None:
    assert parse_smtp_url(url) == target


@pytest.mark.parametrize(
    "url",
    [
        "http://relay.example",
        "relay.example:25",
        "smtp://",
        "smtp://relay.example:99999",
        "smtp://relay.example:25/inbox",
        "smtp://relay.example:25?tls=1",
        "smtp://relay.example:port",
    ],
)
def test_any_other_url_is_one_clear_error(url: str) -> None:
    with pytest.raises(BadSmtpUrl) as refused:
        parse_smtp_url(url)
    message = str(refused.value)
    assert message.startswith("EBOX_SMTP_URL: ") and "\n" not in message
    assert "smtp+starttls://host:587" in message


def test_the_settings_refuse_a_bad_smtp_url_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("EBOX_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("EBOX_SMTP_URL", "smtp+ssl://relay.example")
    with pytest.raises(SettingsError) as refused:
        Settings.from_env()
    assert str(refused.value).count("\n") == 0 and "EBOX_SMTP_URL" in str(refused.value)


def test_credentials_come_from_the_settings_over_the_url(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("from-file\n")
    env = {
        "EBOX_SMTP_URL": "smtp+starttls://url-user:url-pass@relay.example:587",
        "EBOX_SMTP_USERNAME": "mailer",
        "EBOX_SMTP_PASSWORD_FILE": str(password),
    }
    mailer = mailer_from_env(env, tmp_path)
    assert isinstance(mailer, SmtpMailer)
    assert mailer.target == SmtpTarget("smtp+starttls", "relay.example", 587, "mailer", "from-file")
    url_only = mailer_from_env({"EBOX_SMTP_URL": "smtps://u:p@relay.example"}, tmp_path)
    assert isinstance(url_only, SmtpMailer) and url_only.target.password == "p"


def _mail(message_id: str = "<abc@ebox>") -> EmailMessage:
    mail = EmailMessage()
    mail["To"] = "jan@example.be"
    mail["Subject"] = "New document in your eBox"
    mail["Message-ID"] = message_id
    mail.set_content("FOD Financiën has sent you a document.\n")
    return mail


def test_without_a_relay_each_mail_is_an_eml_file_only_its_owner_reads(tmp_path: Path) -> None:
    mailer = mailer_from_env({}, tmp_path)
    assert isinstance(mailer, OutboxMailer) and mailer.directory == tmp_path / "outbox"
    mailer.send(_mail())
    mailer.send(_mail())  # the same notification again (a crash before commit): one file
    mailer.send(_mail("<def@ebox>"))
    files = sorted((tmp_path / "outbox").iterdir())
    assert [f.name for f in files] == ["abc_at_ebox.eml", "def_at_ebox.eml"]
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
        assert b"Subject: New document in your eBox" in file.read_bytes()
    assert stat.S_IMODE((tmp_path / "outbox").stat().st_mode) == 0o700
