"""`ebox admin ... --json`: exactly one JSON object on stdout, with the ids it made.

Outside scripts parse this output, so its shape is a contract: one line, one
object, sorted keys, the made ids (sender_id, key_id, mailbox_id, client_id)
under these names; nothing else on stdout (progress goes to stderr). Run
in-process on a SQLite file of the test's own.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey
from typer.testing import CliRunner

from ebox.cli.main import app

KBO = "0308357159"
NRN = "58102882214"


@pytest.fixture
def run(tmp_path: Path) -> Any:
    env = {"EBOX_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"

    def admin(*args: str) -> dict[str, Any]:
        result = CliRunner().invoke(app, ["admin", *args, "--db", db, "--json"], env=env)
        assert result.exit_code == 0, result.output
        (line,) = result.stdout.splitlines()
        answer = json.loads(line)
        assert isinstance(answer, dict)
        assert line == json.dumps(answer, sort_keys=True, ensure_ascii=False)
        return answer

    return admin


def test_each_command_prints_one_object_with_what_it_made(run: Any, tmp_path: Path) -> None:
    key = tmp_path / "key.b64"
    key.write_text(base64.urlsafe_b64encode(bytes(SigningKey.generate().verify_key)).decode())
    people = tmp_path / "people.ndjson"
    people.write_text(json.dumps({"type": "enterprise", "id": "0207251386"}) + "\n")

    sender = run("sender", "add", "0308.357.159", "--name-nl", "FOD Financiën")
    assert sender["kbo_number"] == KBO and len(sender["sender_id"]) == 36
    added = run("sender", "key", "add", KBO, "--public-key", str(key))
    assert set(added) == {"kbo_number", "key_id"} and len(added["key_id"]) == 64
    assert run("message-type", "add", KBO, "INFO", "--validity", "90d", "--name-nl", "I") == {
        "kbo_number": KBO,
        "message_type_id": "INFO",
        "validity_unit": "DAY",
        "validity_amount": 90,
        "registered_mail": False,
        "sensitive": True,
    }
    opened = run("mailbox", "open", "citizen", "58.10.28-822.14")
    assert (opened["id_value"], len(opened["mailbox_id"])) == (NRN, 36)
    assert run("mailbox", "import", str(people)) == {
        "file": str(people),
        "format": "ndjson",
        "rows": 1,
        "opened": 1,
        "already_open": 0,
    }
    client = run("client", "add", "auditor", "court", "--key-out", str(tmp_path / "court.pem"))
    assert client["client_id"].startswith("auditor-") and client["scopes"] == ["ebox:audit"]
    assert run("client", "disable", client["client_id"]) == {
        "client_id": client["client_id"],
        "disabled": True,
    }


def test_the_operator_marks_a_message_type_sensitive_or_not(run: Any, tmp_path: Path) -> None:
    """`--not-sensitive` at `add`, and `sensitivity` later: the sender's message type says so
    (the notifier then names, or never names, the letter's subject)."""
    from ebox.adapters.runtime import open_ledger

    run("sender", "add", KBO, "--name-nl", "FOD Financiën")
    added = run(
        "message-type", "add", KBO, "INFO", "--validity", "90d", "--name-nl", "I", "--not-sensitive"
    )
    assert added["sensitive"] is False
    run("message-type", "add", KBO, "TAX", "--validity", "1y", "--name-nl", "T")

    def sensitive() -> dict[str, bool]:
        ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", home=tmp_path / "home")
        try:
            types = ledger.app.sender(KBO).message_types
            return {name: bool(dict(t).get("sensitive", True)) for name, t in types.items()}
        finally:
            ledger.close()

    assert sensitive() == {"INFO": False, "TAX": True}
    assert run("message-type", "sensitivity", KBO, "TAX", "--not-sensitive") == {
        "kbo_number": KBO,
        "message_type_id": "TAX",
        "sensitive": False,
    }
    assert run("message-type", "sensitivity", KBO, "INFO", "--sensitive")["sensitive"] is True
    assert sensitive() == {"INFO": True, "TAX": False}

    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    env = {"EBOX_HOME": str(tmp_path / "home")}
    for args, says in [
        (["TAX"], "--sensitive or --not-sensitive"),
        (["NOPE", "--sensitive"], "NOPE"),
    ]:
        cmd = ["admin", "message-type", "sensitivity", KBO, *args, "--db", db]
        refused = CliRunner().invoke(app, cmd, env=env)
        assert refused.exit_code == 2 and says in refused.output
        assert "Traceback" not in refused.output
