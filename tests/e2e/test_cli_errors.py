"""Everyday mistakes with `ebox`: each is one clear line on stderr and exit 2, never a traceback.

Run as an operator runs the command (a fresh interpreter, a chosen environment),
on one demo ledger of the module. Each case names the mistake, the command, and
what the line must say so that the operator knows what to fix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

UNABLE = 2


@dataclass(frozen=True)
class Demo:
    home: Path
    url: str
    mailbox_id: str


def ebox(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    shell = {name: value for name, value in os.environ.items() if not name.startswith("EBOX_")}
    return subprocess.run(
        [sys.executable, "-m", "ebox.cli.main", *args],
        env={**shell, "EBOX_HOME": str(home), "COLUMNS": "80", **(env or {})},
        cwd=next(p for p in home.parents if p.is_dir()),
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    from ebox.domain.ids import mailbox_id

    home = tmp_path_factory.mktemp("cli-errors") / "home"
    done = ebox(home, "demo", "--letters", "3", "--seed", "5")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in ebox(home, "ledger", "export").stdout.splitlines()]
    sent = next(r["canonical"] for r in rows if r["canonical"]["type"] == "Sent")
    recipient = sent["data"]["mailbox_id"]
    assert recipient == str(recipient)  # a mailbox's id, as an operator might paste it
    assert mailbox_id  # (the id is derived from the eBox type and value: see ebox.domain.ids)
    return Demo(home, f"sqlite:///{home / 'ebox.sqlite'}", recipient)


def unwritable_home(tmp_path: Path) -> Path:
    """A data directory ebox cannot create: under a plain file (root ignores a 0500 folder)."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        return locked / "home"
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    return blocker / "home"


def assert_one_line(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == UNABLE, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("ebox: "), done.stderr
    for needle in needles:
        assert needle in done.stderr, done.stderr


POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432"


def test_a_postgresql_database_that_does_not_exist(tmp_path: Path) -> None:
    done = ebox(tmp_path / "home", "ledger", "checkpoint", "--db", f"{POSTGRES}/ebox_no_such_db")
    assert_one_line(done, 'database "ebox_no_such_db" does not exist', "ebox db upgrade")


def test_the_postgres_scheme_is_accepted_as_postgresql(tmp_path: Path) -> None:
    """`postgres://` is read as PostgreSQL: the error is the missing database, not the URL."""
    url = "postgres://postgres@127.0.0.1:5432/ebox_no_such_db"
    done = ebox(tmp_path / "home", "ledger", "checkpoint", "--db", url)
    assert_one_line(done, 'database "ebox_no_such_db" does not exist')


def test_a_refused_connection(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/ebox"
        done = ebox(tmp_path / "home", "ledger", "checkpoint", "--db", url)
    assert_one_line(done, "cannot connect", "Connection refused")


@pytest.mark.parametrize("url", ["::not a url::", "nosuchdialect://x/y"])
def test_a_url_that_does_not_parse(tmp_path: Path, url: str) -> None:
    done = ebox(tmp_path / "home", "ledger", "checkpoint", "--db", url)
    assert_one_line(done, "not a SQLAlchemy database URL")


def test_an_unwritable_ebox_home(tmp_path: Path) -> None:
    home = unwritable_home(tmp_path)
    done = ebox(home, "demo", "--letters", "1")
    assert_one_line(done, str(home))


def test_an_output_into_a_missing_folder(demo: Demo) -> None:
    target = demo.home.parent / "no-such-folder" / "export.jsonl"
    done = ebox(demo.home, "ledger", "export", "-o", str(target))
    assert_one_line(done, str(target), "No such file or directory")


@pytest.mark.parametrize("content", [None, b"-----BEGIN PRIVATE KEY-----\nnot a key\n"])
def test_an_unreadable_pem_for_a_client_assertion(tmp_path: Path, content: bytes | None) -> None:
    pem = tmp_path / "sender.pem"
    if content is not None:
        pem.write_bytes(content)
    done = ebox(tmp_path / "home", "token", "assertion", "some-client", "--key", str(pem))
    assert_one_line(done, str(pem))


def test_evidence_asked_for_a_mailbox_id(demo: Demo, tmp_path: Path) -> None:
    out = tmp_path / "evidence.json"
    done = ebox(demo.home, "evidence", demo.mailbox_id, "-o", str(out))
    assert_one_line(done, demo.mailbox_id, "Mailbox")
    assert not out.exists()


def test_a_vkey_naming_a_missing_file(demo: Demo, tmp_path: Path) -> None:
    missing = tmp_path / "ledger.vkey"
    done = ebox(demo.home, "audit", "--vkey", str(missing))
    assert_one_line(done, str(missing), "no such file")


def test_a_consistency_size_beyond_the_log(demo: Demo) -> None:
    done = ebox(demo.home, "ledger", "consistency", "1", "1000000")
    assert_one_line(done, "1000000", "leaves")


def test_an_eleven_digit_number_with_a_wrong_check_digit(tmp_path: Path) -> None:
    done = ebox(tmp_path / "home", "token", "person", "85073003329")  # valid: ...328
    assert_one_line(done, "85073003329", "check digit")


def test_a_missing_database_for_a_read_only_command(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = ebox(home, "audit")
    assert_one_line(done, str(home / "ebox.sqlite"))
    assert not home.exists()
