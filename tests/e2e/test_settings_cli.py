"""`ebox` and its settings, run as an operator runs it: a bad one is one line and exit 2.

The settings themselves are specified in tests/unit/test_settings.py; here the
command is run in a fresh interpreter with a chosen environment and nothing else.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ebox.adapters.home import DEFAULT_ORIGIN
from ebox.domain.proofs.note import NoteSigner

REFUSED = 2
# `serve` must refuse before it listens: should it not, the run ends here and fails.
LIVENESS_SECONDS = 120


def ebox(home: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    shell = {name: value for name, value in os.environ.items() if not name.startswith("EBOX_")}
    return subprocess.run(
        [sys.executable, "-m", "ebox.cli.main", *args],
        env={**shell, "EBOX_HOME": str(home), "COLUMNS": "200", **env},
        cwd=home.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=LIVENESS_SECONDS,
    )


def assert_refused_in_one_line(result: subprocess.CompletedProcess[str], variable: str) -> None:
    assert result.returncode == REFUSED, result.stderr
    assert result.stderr.startswith(f"{variable}: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("ledger", "vkey"), id="ledger-vkey"),
        pytest.param(("serve", "--port", "0", "--no-workers"), id="serve"),
        pytest.param(("workers", "--once"), id="workers"),
    ],
)
def test_a_bad_value_stops_any_command_with_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = ebox(tmp_path / "home", {"EBOX_MAX_LAG": "abc"}, *args)
    assert_refused_in_one_line(result, "EBOX_MAX_LAG")
    assert not (tmp_path / "home").exists()  # refused before anything was made


def test_a_database_url_that_is_not_one_stops_the_command_with_one_line(tmp_path: Path) -> None:
    result = ebox(tmp_path / "home", {"EBOX_DATABASE_URL": "ebox.sqlite"}, "ledger", "checkpoint")
    assert_refused_in_one_line(result, "EBOX_DATABASE_URL")


def test_a_missing_secret_file_stops_the_command_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "run" / "secrets" / "kek"
    result = ebox(tmp_path / "home", {"EBOX_KEK_FILE": str(missing)}, "ledger", "vkey")
    assert_refused_in_one_line(result, "EBOX_KEK_FILE")
    assert str(missing) in result.stderr


def test_the_ledger_signs_with_the_key_its_file_holds(tmp_path: Path) -> None:
    seed = bytes(range(100, 132))
    key_file = tmp_path / "ledger-key"
    key_file.write_text(base64.b64encode(seed).decode() + "\n")
    result = ebox(tmp_path / "home", {"EBOX_LEDGER_KEY_FILE": str(key_file)}, "ledger", "vkey")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == NoteSigner(DEFAULT_ORIGIN, seed).vkey


def test_the_offline_verifier_needs_no_setting(tmp_path: Path) -> None:
    result = ebox(tmp_path / "home", {"EBOX_MAX_LAG": "abc"}, "verify", "--help")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("db", "says"),
    [
        pytest.param("nonsense", "is not a SQLAlchemy database URL", id="not-a-url"),
        pytest.param("nosuchdriver://x/y", "is not a SQLAlchemy database URL", id="no-driver"),
        pytest.param(
            "postgresql+psycopg2://postgres:secret-pw@127.0.0.1:1/ebox",
            "cannot be opened",
            id="server-down",
        ),
    ],
)
def test_a_bad_db_option_is_one_line_without_the_password(
    tmp_path: Path, db: str, says: str
) -> None:
    """`--db` is checked where the ledger is opened: one line, exit 2, no traceback."""
    result = ebox(tmp_path / "home", {}, "ledger", "checkpoint", "--db", db)
    assert result.returncode == REFUSED, result.stderr
    assert result.stderr.startswith("ebox: "), result.stderr
    assert says in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "secret-pw" not in result.stderr
