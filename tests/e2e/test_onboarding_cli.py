"""An operator onboards a sender and a thousand people with `ebox admin ...` alone (issue 9).

From an empty database, on SQLite and on PostgreSQL, only commands run as an
operator runs them (subprocesses of the real CLI, `--json` read as a script
reads it): a sender organisation, its Ed25519 signing key (given as PEM, and a
second one as base64url), an application, a message type, 1,000 mailboxes
from a CSV, a sender OAuth client. Then `ebox serve` takes a letter signed
with that key over HTTP, and the person reads it. The letter's origin is
recorded as signed by the key the operator registered.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.builders import CITIZEN, SENDER_KBO
from tests.e2e.test_evidence_cli import ebox
from tests.onboarding import MAILBOXES, letter_is_read, mailbox_csv, new_sender_key, sent_event
from tests.served import served


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file not made yet, or a migrated PostgreSQL one."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


def admin(home: Path, db: str, *args: str) -> dict[str, object]:
    """One `ebox admin ... --json` command: exit 0 and exactly one JSON object on stdout."""
    done = ebox(home, "admin", *args, "--db", db, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    (line,) = done.stdout.splitlines()
    result = json.loads(line)
    assert isinstance(result, dict)
    return result


def test_only_admin_commands_onboard_a_sender_and_a_thousand_people(
    database: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    signing, spare = new_sender_key(), new_sender_key()
    (tmp_path / "sender.pem").write_bytes(signing.pem)
    (tmp_path / "spare.b64").write_text(
        signing.base64url.replace(signing.base64url, spare.base64url)
    )

    sender = admin(
        home,
        database,
        "sender",
        "add",
        SENDER_KBO,
        "--name-nl",
        "FOD Financiën",
        "--name-fr",
        "SPF Finances",
        "--name-de",
        "FÖD Finanzen",
    )
    assert sender["kbo_number"] == SENDER_KBO
    key = admin(
        home,
        database,
        "sender",
        "key",
        "add",
        SENDER_KBO,
        "--public-key",
        str(tmp_path / "sender.pem"),
    )
    second = admin(
        home,
        database,
        "sender",
        "key",
        "add",
        SENDER_KBO,
        "--public-key",
        str(tmp_path / "spare.b64"),
        "--valid-until",
        "2030-01-01T00:00:00Z",
    )
    assert isinstance(key["key_id"], str) and key["key_id"] != second["key_id"]
    revoked = admin(
        home,
        database,
        "sender",
        "key",
        "revoke",
        SENDER_KBO,
        str(second["key_id"]),
        "--reason",
        "spare not needed",
    )
    assert revoked["revoked"] is True
    admin(
        home,
        database,
        "application",
        "add",
        SENDER_KBO,
        "mybox-publisher",
        "--name-en",
        "Publication gateway",
    )
    kind = admin(
        home,
        database,
        "message-type",
        "add",
        SENDER_KBO,
        "TAX",
        "--validity",
        "2y",
        "--name-nl",
        "Aanslagbiljet",
        "--registered-mail",
    )
    assert (kind["validity_unit"], kind["validity_amount"]) == ("YEAR", 2)

    imported = admin(home, database, "mailbox", "import", str(mailbox_csv(tmp_path / "people.csv")))
    assert imported == {
        "file": str(tmp_path / "people.csv"),
        "format": "csv",
        "rows": MAILBOXES,
        "opened": MAILBOXES,
        "already_open": 0,
    }
    again = admin(home, database, "mailbox", "import", str(tmp_path / "people.csv"))
    assert (again["opened"], again["already_open"]) == (0, MAILBOXES)

    key_file = tmp_path / "gateway.pem"
    client = admin(
        home, database, "client", "add", "sender", SENDER_KBO, "--key-out", str(key_file)
    )
    assert str(client["client_id"]).startswith("sender-") and client["scopes"] == [
        "ebox:publication"
    ]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    with served(home, db=database, workers=True) as server:
        message_id = letter_is_read(
            server, str(client["client_id"]), key_file.read_bytes(), signing, str(key["key_id"])
        )
    assert sent_event(database, home, message_id) == {
        "origin": "signed",
        "key_id": key["key_id"],
        "sender": SENDER_KBO,
    }


def test_the_older_token_client_command_still_registers_a_client(tmp_path: Path) -> None:
    home, db = tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    admin(home, db, "partner", "add", "doccle", "--name", "Doccle")
    done = ebox(
        home,
        "token",
        "client",
        "partner",
        "doccle",
        "--key-out",
        str(tmp_path / "doccle.pem"),
        "--db",
        db,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("partner-")


def test_consents_and_mandates_are_granted_and_revoked(tmp_path: Path) -> None:
    home, db = tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    holder = "85073003328"
    admin(
        home,
        db,
        "mailbox",
        "open",
        "citizen",
        CITIZEN.id_value,
        "--email",
        "an@example.be",
        "--language",
        "fr",
    )
    admin(home, db, "partner", "add", "doccle", "--name", "Doccle")
    granted = admin(home, db, "consent", "grant", "doccle", "citizen", CITIZEN.id_value)
    assert granted["consent"] is True
    revoked = admin(home, db, "partner", "consent", "revoke", "doccle", "citizen", CITIZEN.id_value)
    assert revoked["consent"] is False
    mandate = admin(home, db, "mandate", "grant", holder, "citizen", CITIZEN.id_value)
    assert mandate == {
        "holder": holder,
        "ebox_type": "citizen",
        "id_value": CITIZEN.id_value,
        "mandate": True,
    }
    admin(home, db, "mandate", "revoke", holder, "citizen", CITIZEN.id_value)
    closed = admin(home, db, "mailbox", "close", "citizen", CITIZEN.id_value)
    assert closed["closed"] is True

    from ebox.adapters.runtime import open_ledger

    ledger = open_ledger(db, home=home)
    try:
        mailbox = ledger.app.mailbox("citizen", CITIZEN.id_value)
        assert (mailbox.email, mailbox.language, mailbox.closed) == ("an@example.be", "fr", True)
        assert (mailbox.partners, mailbox.mandates) == ([], {})
        assert ledger.app.partner("doccle").name == "Doccle"
    finally:
        ledger.close()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("sender", "add", "0308357158", "--name-nl", "X"), "wrong check digits 58 (expected 59)"),
        (("mailbox", "open", "citizen", "58102882215"), "wrong check digits 15 (expected 14"),
        (("mailbox", "open", "enterprise", "12345"), "a KBO number is 10 digits"),
        (("mandate", "grant", "1234", "citizen", CITIZEN.id_value), "11 digits"),
        (
            ("message-type", "add", SENDER_KBO, "T", "--validity", "2w", "--name-nl", "T"),
            "90d, 3m or 1y",
        ),
        (("sender", "key", "add", SENDER_KBO, "--public-key", "missing.pem"), "cannot be read"),
        (("application", "add", SENDER_KBO, "app", "--name-nl", "A"), "no sender organisation"),
        (("mailbox", "close", "citizen", CITIZEN.id_value), "has no eBox"),
        (("client", "add", "root", "x", "--key-out", "root.pem"), "KIND is one of"),
        (("sender", "add", SENDER_KBO), "give a name"),
    ],
)
def test_a_mistake_is_one_line_naming_it_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    home, db = tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    done = ebox(home, "admin", *args, "--db", db, "--json")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert says in line
    assert not (tmp_path / "root.pem").exists()


def test_an_import_with_one_bad_row_names_its_line_and_imports_nothing(tmp_path: Path) -> None:
    home, db = tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    good = mailbox_csv(tmp_path / "people.csv", 600)
    lines = good.read_text().splitlines()
    lines[500] = lines[500].replace(",nl", ",es")  # line 501 of the file: the header is line 1
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")

    done = ebox(home, "admin", "mailbox", "import", str(bad), "--db", db)
    assert done.returncode == 2, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "line 501: the language is one of nl, fr, de, en, not 'es'" in line
    assert "nothing was imported" in line
    imported = admin(home, db, "mailbox", "import", str(good))
    assert (imported["opened"], imported["already_open"]) == (600, 0)


def test_the_import_help_shows_the_file_format(tmp_path: Path) -> None:
    shown = ebox(tmp_path / "home", "admin", "mailbox", "import", "--help")
    assert shown.returncode == 0, shown.stderr
    assert "type,id,email,language" in shown.stdout and "NDJSON" in shown.stdout
