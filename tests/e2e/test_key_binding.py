"""A database is bound to its keys; the read-only commands create nothing and need no write.

Run as an operator and an auditor run `ebox`: a demo ledger is made with one data
directory; another data directory is then refused by every command that would
sign or unwrap with its keys (one line naming both key ids and the directory),
while an empty one may still audit and inspect the ledger and makes no key.
An auditor's read-only copy (a 0444 SQLite file in a 0555 folder, a PostgreSQL
role with SELECT only) audits and inspects as well.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

UNABLE = 2
LIVENESS_SECONDS = 120  # `serve` must refuse before it listens: should it not, the run ends here


def ebox(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    shell = {name: value for name, value in os.environ.items() if not name.startswith("EBOX_")}
    return subprocess.run(
        [sys.executable, "-m", "ebox.cli.main", *args],
        env={**shell, "EBOX_HOME": str(home), "COLUMNS": "200"},
        cwd=next(p for p in home.parents if p.is_dir()),
        capture_output=True,
        text=True,
        check=False,
        timeout=LIVENESS_SECONDS,
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def key_id(home: Path) -> str:
    return ok(ebox(home, "ledger", "vkey")).strip().split("+")[1]


@pytest.fixture(scope="module")
def owner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The operator's data directory, with a demo ledger in its SQLite file."""
    home = tmp_path_factory.mktemp("key-binding") / "home"
    ok(ebox(home, "demo", "--letters", "4", "--seed", "2"))
    return home


def db_of(home: Path) -> str:
    return f"sqlite:///{home / 'ebox.sqlite'}"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("demo", "--letters", "1"), id="demo"),
        pytest.param(("workers", "--once"), id="workers"),
        pytest.param(("serve", "--port", "0", "--no-workers"), id="serve"),
        pytest.param(("audit",), id="audit"),
    ],
)
def test_another_data_directory_is_refused_in_one_line_naming_both_keys(
    owner: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    stranger = tmp_path / "stranger"
    ok(ebox(stranger, "demo", "--letters", "1"))  # a ledger of its own: other keys
    before = (stranger / "ledger.key").read_bytes()
    done = ebox(stranger, *args, "--db", db_of(owner))
    assert done.returncode == UNABLE, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    for needle in (key_id(owner), key_id(stranger), str(stranger.resolve()), "bound to"):
        assert needle in done.stderr, done.stderr
    assert (stranger / "ledger.key").read_bytes() == before


def test_a_data_directory_without_keys_cannot_write_and_creates_none(
    owner: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    done = ebox(empty, "demo", "--letters", "1", "--db", db_of(owner))
    assert done.returncode == UNABLE, done.stderr
    assert key_id(owner) in done.stderr and "may only read" in done.stderr, done.stderr
    assert not empty.exists()


def test_a_data_directory_without_keys_still_audits_and_inspects(
    owner: Path, tmp_path: Path
) -> None:
    auditor = tmp_path / "auditor"
    vkey = ok(ebox(owner, "ledger", "vkey")).strip()
    ok(ebox(auditor, "audit", "--db", db_of(owner), "--vkey", vkey))
    assert ok(ebox(auditor, "ledger", "vkey", "--db", db_of(owner))).strip() == vkey
    assert ok(ebox(auditor, "ledger", "checkpoint", "--db", db_of(owner))).startswith(
        "ebox.example.be/ledger\n"
    )
    assert not auditor.exists()


@pytest.fixture
def read_only_copy(owner: Path, tmp_path: Path) -> Iterator[Path]:
    """A consistent copy of the ledger file, 0444 in a 0555 folder (as an auditor gets one)."""
    folder = tmp_path / "copy"
    folder.mkdir()
    copy = folder / "ledger.sqlite"
    with sqlite3.connect(owner / "ebox.sqlite") as source, sqlite3.connect(copy) as target:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
    copy.chmod(0o444)
    folder.chmod(0o555)
    yield copy
    folder.chmod(0o755)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("audit",), id="audit"),
        pytest.param(("ledger", "checkpoint"), id="ledger-checkpoint"),
        pytest.param(("ledger", "export"), id="ledger-export"),
        pytest.param(("ledger", "checkpoints"), id="ledger-checkpoints"),
        pytest.param(("ledger", "proof", "0"), id="ledger-proof"),
    ],
)
def test_a_read_only_sqlite_copy_is_audited_and_inspected_unchanged(
    owner: Path, read_only_copy: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    digest = hashlib.sha256(read_only_copy.read_bytes()).hexdigest()
    ok(ebox(owner, *args, "--db", f"sqlite:///{read_only_copy}"))
    assert sorted(p.name for p in read_only_copy.parent.iterdir()) == ["ledger.sqlite"]
    assert hashlib.sha256(read_only_copy.read_bytes()).hexdigest() == digest


@pytest.fixture
def read_only_role(postgres_url: str) -> Iterator[str]:
    """A role that may only SELECT in the test database; its URL (trust authentication)."""
    role = f"ebox_ro_{secrets.token_hex(4)}"
    engine = create_engine(postgres_url, poolclass=NullPool)
    database = make_url(postgres_url).database
    with engine.begin() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN"))
        connection.execute(text(f'GRANT CONNECT ON DATABASE "{database}" TO {role}'))
        connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        connection.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    yield make_url(postgres_url).set(username=role).render_as_string(hide_password=False)
    with engine.begin() as connection:
        connection.execute(text(f"DROP OWNED BY {role}"))
        connection.execute(text(f"DROP ROLE {role}"))
    engine.dispose()


def test_a_read_only_postgresql_role_audits_and_inspects(
    postgres_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    home = tmp_path / "home"
    ok(ebox(home, "demo", "--letters", "3", "--db", postgres_url))
    url = request.getfixturevalue("read_only_role")
    vkey = ok(ebox(home, "ledger", "vkey")).strip()
    for data_dir in (home, tmp_path / "auditor"):  # the operator's keys, or none at all
        ok(ebox(data_dir, "audit", "--db", url, "--vkey", vkey))
        ok(ebox(data_dir, "ledger", "checkpoint", "--db", url))
        ok(ebox(data_dir, "ledger", "export", "--db", url))
    assert not (tmp_path / "auditor").exists()
    refused = ebox(home, "demo", "--letters", "1", "--db", url)  # writing needs a writer
    assert refused.returncode == UNABLE
    assert "permission denied" in refused.stderr and refused.stderr.count("\n") == 1
