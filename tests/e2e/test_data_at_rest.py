"""Personal data at rest is its owner's alone (issue 7, finding 11).

The data directory holds national register numbers, subjects and business data
(the SQLite database and its -wal/-shm files) and the secrets: 0700, each file
0600, whatever the umask (these processes run with the usual 022). A disclosed
evidence bundle holds the letter's data key: 0600 too.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.served import ebox_env, served


def ebox(home: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ebox.cli.main", *args],
        env=ebox_env(home),
        cwd=home.parent,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def modes(home: Path) -> dict[str, str]:
    """The data directory's mode and every file's in it."""
    return {".": mode(home)} | {p.name: mode(p) for p in sorted(home.iterdir())}


def private(home: Path) -> dict[str, str]:
    return {".": "0o700"} | {p.name: "0o600" for p in sorted(home.iterdir())}


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("at-rest") / "home"
    ebox(home, "demo", "--letters", "5", "--seed", "11")
    return home


def test_the_demo_leaves_the_data_directory_to_its_owner(demo_home: Path) -> None:
    found = modes(demo_home)
    assert {"ebox.sqlite", "kek.key", "ledger.key", "demo-credentials.json"} <= set(found)
    assert found == private(demo_home)


def test_a_served_ledger_keeps_its_files_private_and_tightens_loose_ones(
    demo_home: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    for source in demo_home.iterdir():
        shutil.copy(source, home / source.name)  # with its mode
    os.chmod(home, 0o755)  # as an older version left them (and a key loosened by hand)
    for path in home.iterdir():
        if path.name.startswith("ebox.sqlite") or path.name == "kek.key":
            os.chmod(path, 0o644)
    with served(home) as server:
        status, _, _ = server.get("/ledger/checkpoint")
        assert status == 200
        found = modes(home)  # while the server holds the database open
    assert {"ebox.sqlite", "ebox.sqlite-wal", "ebox.sqlite-shm"} <= set(found)
    assert found == private(home)


def test_a_disclosed_evidence_bundle_is_readable_by_its_owner_alone(
    demo_home: Path, tmp_path: Path
) -> None:
    rows = [json.loads(line) for line in ebox(demo_home, "ledger", "export").splitlines()]
    message_id = next(
        r["canonical"]["aggregate_id"] for r in rows if r["canonical"]["type"] == "Sent"
    )
    bundle, certificate = tmp_path / "disclosed.json", tmp_path / "certificate.pdf"
    bundle.write_text("an earlier file, world-readable")
    os.chmod(bundle, 0o644)
    ebox(
        demo_home,
        "evidence",
        message_id,
        "--disclose",
        "-o",
        str(bundle),
        "--pdf",
        str(certificate),
    )
    assert json.loads(bundle.read_text())  # the new bundle replaced the old file
    assert mode(bundle) == "0o600"
    assert mode(certificate) == "0o600"


def test_exports_for_an_audit_are_owner_only(demo_home: Path, tmp_path: Path) -> None:
    """An export names every recipient: `ebox ledger export|checkpoints|envelopes -o` write 0600."""
    files = {name: tmp_path / f"{name}.out" for name in ("export", "checkpoints", "envelopes")}
    files["export"].write_text("an earlier file, world-readable")
    os.chmod(files["export"], 0o644)
    for name, path in files.items():
        ebox(demo_home, "ledger", name, "-o", str(path))
        assert path.stat().st_size > 0
        assert mode(path) == "0o600", name
