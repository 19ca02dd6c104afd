"""Every file holding a key or personal data is created 0600, in a 0700 directory.

Run as an operator runs `ebox`, with a permissive umask (022, the usual default):
the modes must come from the code, not from the shell.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

PRIVATE_FILE, PRIVATE_DIRECTORY = 0o600, 0o700


def ebox(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    shell = {name: value for name, value in os.environ.items() if not name.startswith("EBOX_")}
    return subprocess.run(
        [sys.executable, "-m", "ebox.cli.main", *args],
        env={**shell, "EBOX_HOME": str(home), "COLUMNS": "200"},
        cwd=home.parent,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=lambda: os.umask(0o022),
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_and_everything_in_it_are_its_owners_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = ebox(home, "demo", "--letters", "2")
    assert done.returncode == 0, done.stderr
    assert mode(home) == PRIVATE_DIRECTORY
    names = {p.name for p in home.iterdir()}
    for expected in ("ebox.sqlite", "ledger.key", "kek.key", "person-issuer.key"):
        assert expected in names
    assert "demo-credentials.json" in names  # private keys of the demo's clients, a token
    for path in home.iterdir():
        assert mode(path) == PRIVATE_FILE, f"{path.name} is {oct(mode(path))}"


def test_written_keys_and_exports_are_0600(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert ebox(home, "demo", "--letters", "2").returncode == 0
    key = tmp_path / "auditor.pem"
    done = ebox(home, "token", "client", "auditor", "court-of-ghent", "--key-out", str(key))
    assert done.returncode == 0, done.stderr
    export = tmp_path / "export.jsonl"
    assert ebox(home, "ledger", "export", "-o", str(export)).returncode == 0
    assert mode(key) == PRIVATE_FILE
    assert mode(export) == PRIVATE_FILE


def test_the_readme_walkthrough_writes_no_key_into_the_repository() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for line in readme.splitlines():
        if "> " in line and ".pem" in line:
            assert ".ebox/" in line or "/tmp/" in line or "$EBOX_HOME" in line, line
    ignored = (Path(__file__).resolve().parents[2] / ".gitignore").read_text().split()
    assert "*.pem" in ignored and ".ebox/" in ignored
