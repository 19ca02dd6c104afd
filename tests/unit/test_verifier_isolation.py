"""The offline verifier runs where SQLAlchemy, FastAPI, Alembic and eventsourcing cannot load.

An auditor installs the verifier and nothing of the operator's stack. A fresh
interpreter is started with an import hook that refuses those packages; in it,
every module of ebox.verifier is imported, a bundle is verified and rendered
(text and PDF) and a ledger export is audited, through `python -m ebox.verifier`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_evidence_bundle import registered_letter

BLOCKED = ("sqlalchemy", "fastapi", "starlette", "alembic", "eventsourcing", "psycopg2", "typer")

_BOOTSTRAP = """
import importlib, importlib.abc, pkgutil, runpy, sys

BLOCKED = {blocked!r}

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} must not be imported by the offline verifier")
        return None

sys.meta_path.insert(0, Refuse())
import ebox.verifier
for info in pkgutil.walk_packages(ebox.verifier.__path__, "ebox.verifier."):
    importlib.import_module(info.name)
sys.argv = ["python -m ebox.verifier", *{argv!r}]
try:
    runpy.run_module("ebox.verifier", run_name="__main__", alter_sys=True)
finally:
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print("LOADED:", loaded, file=sys.stderr)
"""


def run_isolated(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    code = _BOOTSTRAP.format(blocked=BLOCKED, argv=list(argv))
    return subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    letter = registered_letter()
    directory = tmp_path_factory.mktemp("isolated")
    (directory / "evidence.json").write_text(letter.bundle.to_json(), encoding="utf-8")
    with (directory / "export.jsonl").open("w", encoding="utf-8") as out:
        for row in letter.log.export_rows():
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    note = letter.bundle.ledger.checkpoint
    (directory / "checkpoints.notes").write_text(note, encoding="utf-8")
    return {"dir": str(directory), "vkey": letter.vkey}


def test_a_bundle_verifies_and_renders_without_the_operators_stack(files: dict[str, str]) -> None:
    directory = Path(files["dir"])
    done = run_isolated(
        directory, "bundle", "evidence.json", "--vkey", files["vkey"], "--pdf", "certificate.pdf"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("EVIDENCE VERIFIED")
    assert "LOADED: []" in done.stderr
    assert (directory / "certificate.pdf").read_bytes().startswith(b"%PDF")


def test_an_export_is_audited_without_the_operators_stack(files: dict[str, str]) -> None:
    done = run_isolated(
        Path(files["dir"]),
        "audit",
        "export.jsonl",
        "--checkpoints",
        "checkpoints.notes",
        "--vkey",
        files["vkey"],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("LEDGER AUDIT PASSED")
    assert "LOADED: []" in done.stderr


def test_the_import_hook_really_refuses(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _BOOTSTRAP.format(blocked=BLOCKED, argv=[]).split("import ebox.verifier")[0]
            + "import sqlalchemy\n",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "must not be imported by the offline verifier" in done.stderr
