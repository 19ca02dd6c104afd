"""The SMTP adapter over real TLS: an aiosmtpd relay speaking STARTTLS or implicit TLS (SMTPS)
with a certificate from a test CA made here. The relay's certificate is verified against
EBOX_SMTP_CA_FILE and its host name checked; a wrong CA or a wrong name is a `MailRefused`
(recorded and retried by the notifier), never a crash. Credentials go over TLS only, or over
plain smtp:// to this machine; the password is never in a reason or a repr."""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ebox.adapters.mail import (
    CredentialsInTheClear,
    MailRefused,
    SmtpMailer,
    mailer_from_env,
)
from ebox.api.settings import Settings, SettingsError

PASSWORD = "s3cret-relay-password"


@dataclass(frozen=True)
class RelayPki:
    ca_file: Path
    other_ca_file: Path
    server: ssl.SSLContext
    wrong_name_server: ssl.SSLContext


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _server_context(
    tmp: Path,
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
    names: list[x509.GeneralName],
) -> ssl.SSLContext:
    ca_key, ca_cert = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("relay"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    stem = tmp / f"server-{x509.random_serial_number()}"
    cert_file, key_file = stem.with_suffix(".crt"), stem.with_suffix(".key")
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture
def pki(tmp_path: Path) -> RelayPki:
    ca = _ca("eBox test relay CA")
    _, other = _ca("Some other CA")
    ca_file, other_file = tmp_path / "ca.pem", tmp_path / "other-ca.pem"
    ca_file.write_bytes(ca[1].public_bytes(serialization.Encoding.PEM))
    other_file.write_bytes(other.public_bytes(serialization.Encoding.PEM))
    local: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(IPv4Address("127.0.0.1")),
    ]
    elsewhere: list[x509.GeneralName] = [x509.DNSName("relay.elsewhere.test")]
    return RelayPki(
        ca_file,
        other_file,
        _server_context(tmp_path, ca, local),
        _server_context(tmp_path, ca, elsewhere),
    )


@dataclass
class Relay:
    """Keeps each accepted mail, whether the session was encrypted and who logged in."""

    mails: list[tuple[bool, str | None, EmailMessage]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login = (data.login.decode(), data.password.decode())
        self.logins.append(login)
        return AuthResult(success=login == ("mailer", PASSWORD))

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        user = (session.authenticated and self.logins[-1][0]) or None
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.mails.append((encrypted, user, mail))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serve() -> Iterator[Any]:
    """Starts relays (STARTTLS or SMTPS) on free ports; stops them after the test."""
    controllers: list[Controller] = []

    def start(
        relay: Relay, *, starttls: ssl.SSLContext | None = None, smtps: ssl.SSLContext | None = None
    ) -> int:
        port = _free_port()
        options: dict[str, Any] = {"authenticator": relay.authenticate}
        if starttls is not None:
            options |= {"tls_context": starttls, "require_starttls": True}
        if smtps is not None:  # aiosmtpd sees only STARTTLS as TLS for AUTH; this is TLS too
            options |= {"auth_require_tls": False}
        controller = Controller(
            relay,
            hostname="127.0.0.1",
            port=port,
            ssl_context=smtps,
            server_hostname="localhost",
            **options,
        )
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


def _mail() -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "eBox <noreply@ebox.invalid>"
    mail["To"] = "jan@example.be"
    mail["Subject"] = "Nieuw document in uw eBox"
    mail["Message-ID"] = "<tls@ebox>"
    mail.set_content("FOD Financien heeft u een document gestuurd.\n")
    return mail


def _mailer(url: str, ca_file: Path, **extra: str) -> SmtpMailer:
    mailer = mailer_from_env({"EBOX_SMTP_URL": url, "EBOX_SMTP_CA_FILE": str(ca_file), **extra})
    assert isinstance(mailer, SmtpMailer)
    return mailer


def test_starttls_upgrades_verifies_the_relay_and_then_logs_in(pki: RelayPki, serve: Any) -> None:
    relay = Relay()
    port = serve(relay, starttls=pki.server)
    credentials = {"EBOX_SMTP_USERNAME": "mailer", "EBOX_SMTP_PASSWORD": PASSWORD}
    _mailer(f"smtp+starttls://localhost:{port}", pki.ca_file, **credentials).send(_mail())
    [(encrypted, user, mail)] = relay.mails
    assert encrypted and user == "mailer" and mail["Message-ID"] == "<tls@ebox>"


def test_smtps_speaks_tls_from_the_first_byte(pki: RelayPki, serve: Any) -> None:
    relay = Relay()
    port = serve(relay, smtps=pki.server)
    credentials = {"EBOX_SMTP_USERNAME": "mailer", "EBOX_SMTP_PASSWORD": PASSWORD}
    _mailer(f"smtps://127.0.0.1:{port}", pki.ca_file, **credentials).send(_mail())
    [(encrypted, user, _)] = relay.mails
    assert encrypted and user == "mailer"


@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
def test_a_relay_certificate_from_another_ca_is_refused_and_nothing_is_sent(
    pki: RelayPki, serve: Any, scheme: str
) -> None:
    relay = Relay()
    port = serve(relay, **{"starttls" if scheme == "smtp+starttls" else "smtps": pki.server})
    credentials = {"EBOX_SMTP_USERNAME": "mailer", "EBOX_SMTP_PASSWORD": PASSWORD}
    mailer = _mailer(f"{scheme}://localhost:{port}", pki.other_ca_file, **credentials)
    with pytest.raises(MailRefused) as refused:
        mailer.send(_mail())
    assert str(refused.value).startswith("relay certificate refused")
    assert PASSWORD not in str(refused.value) and PASSWORD not in repr(mailer.target)
    assert relay.mails == [] and relay.logins == []


@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
def test_a_relay_certificate_for_another_host_name_is_refused(
    pki: RelayPki, serve: Any, scheme: str
) -> None:
    relay = Relay()
    kind = "starttls" if scheme == "smtp+starttls" else "smtps"
    port = serve(relay, **{kind: pki.wrong_name_server})
    with pytest.raises(MailRefused) as refused:
        _mailer(f"{scheme}://localhost:{port}", pki.ca_file).send(_mail())
    assert "refused" in str(refused.value) and "ostname mismatch" in str(refused.value)
    assert relay.mails == []


def test_without_a_ca_file_the_system_store_does_not_trust_a_test_ca(
    pki: RelayPki, serve: Any
) -> None:
    relay = Relay()
    port = serve(relay, smtps=pki.server)
    mailer = mailer_from_env({"EBOX_SMTP_URL": f"smtps://localhost:{port}"})
    assert isinstance(mailer, SmtpMailer) and mailer.target.ca_file is None
    with pytest.raises(MailRefused, match="relay certificate refused"):
        mailer.send(_mail())
    assert relay.mails == []


@pytest.mark.parametrize(
    "env",
    [
        {"EBOX_SMTP_URL": "smtp://relay.example:25", "EBOX_SMTP_USERNAME": "mailer"},
        {"EBOX_SMTP_URL": "smtp://relay.example:25", "EBOX_SMTP_PASSWORD": PASSWORD},
        {"EBOX_SMTP_URL": f"smtp://mailer:{PASSWORD}@10.0.0.5:25"},
    ],
)
def test_credentials_over_plain_smtp_to_another_machine_are_refused_at_start(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CredentialsInTheClear):
        mailer_from_env(env)
    for name in [n for n in os.environ if n.startswith("EBOX_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        Settings.from_env()
    line = str(refused.value)
    assert line.count("\n") == 0 and "smtp+starttls://" in line and PASSWORD not in line


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_credentials_over_plain_smtp_to_this_machine_are_allowed(host: str) -> None:
    env = {"EBOX_SMTP_URL": f"smtp://{host}:2525", "EBOX_SMTP_USERNAME": "mailer"}
    mailer = mailer_from_env(env)
    assert isinstance(mailer, SmtpMailer) and mailer.target.username == "mailer"


def test_the_ca_file_setting_must_be_pem_certificates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("EBOX_")]:
        monkeypatch.delenv(name)
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    monkeypatch.setenv("EBOX_SMTP_CA_FILE", str(not_pem))
    with pytest.raises(SettingsError) as refused:
        Settings.from_env()
    assert "EBOX_SMTP_CA_FILE" in str(refused.value)
