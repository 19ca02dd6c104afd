"""The restore drill of docs/OPERATIONS.md: a backup plus the keys is a ledger `ebox audit` accepts.

A ledger with letters is backed up the way the guide says (PostgreSQL: `pg_dump
-Fc`, restored with `pg_restore` into a new database; SQLite: `sqlite3 .backup`),
and `ebox audit` verifies the restored copy with the same data directory (the
keys): every event's chain, the Merkle log and every signed checkpoint.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests import pg
from tests.served import ebox_env


def ebox(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = ebox_env(home)
    env.pop("EBOX_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "ebox.cli.main", *args],
        env=env,
        cwd=home.parent,
        capture_output=True,
        text=True,
        check=False,
    )


def libpq(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_a_postgresql_dump_restored_elsewhere_passes_the_audit(
    postgres_url: str, postgres_databases: pg.DatabaseFactory, tmp_path: Path
) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore are not installed")
    home = tmp_path / "home"
    made = ebox(home, "demo", "--db", postgres_url, "--letters", "5", "--seed", "3")
    assert made.returncode == 0, made.stderr
    dump = tmp_path / "ebox.dump"
    subprocess.run(
        ["pg_dump", "-Fc", "--no-owner", "-f", str(dump), libpq(postgres_url)],
        check=True,
        capture_output=True,
    )
    name = postgres_databases.new_name("restored")
    restored = postgres_databases.create(name)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "-d", libpq(restored), str(dump)],
            check=True,
            capture_output=True,
        )
        audited = ebox(home, "audit", "--db", restored)
        assert audited.returncode == 0, audited.stdout + audited.stderr
    finally:
        postgres_databases.drop(name)


def test_a_sqlite_backup_passes_the_audit(tmp_path: Path) -> None:
    if shutil.which("sqlite3") is None:
        pytest.skip("the sqlite3 shell is not installed")
    home = tmp_path / "home"
    made = ebox(home, "demo", "--letters", "5", "--seed", "4")
    assert made.returncode == 0, made.stderr
    copy = tmp_path / "restored" / "ebox.sqlite"
    copy.parent.mkdir(mode=0o700)
    subprocess.run(
        ["sqlite3", str(home / "ebox.sqlite"), f".backup '{copy}'"], check=True, capture_output=True
    )
    os.chmod(copy, 0o600)
    audited = ebox(home, "audit", "--db", f"sqlite:///{copy}")
    assert audited.returncode == 0, audited.stdout + audited.stderr
