"""The witness's state file: persisted before answering, 0600, and read back after a restart."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ebox.witness.errors import StateUnavailable
from ebox.witness.state import LogState, StateFile

ROOT = bytes(range(32))


def test_a_recorded_state_is_on_disk_0600_when_the_transaction_ends(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = StateFile(path)
    with state.transaction() as transaction:
        assert transaction.get("example.org/log") is None
        transaction.record("example.org/log", LogState(7, ROOT, "note\n"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text())
    assert document["version"] == 1
    assert document["logs"]["example.org/log"]["size"] == 7
    assert StateFile(path).latest("example.org/log") == LogState(7, ROOT, "note\n")  # restart
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_a_refused_request_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = StateFile(path)
    with state.transaction() as transaction:
        transaction.record("example.org/log", LogState(7, ROOT, "note\n"))
    before = path.read_bytes()
    with pytest.raises(RuntimeError), state.transaction() as transaction:
        transaction.record("example.org/log", LogState(9, ROOT, "other\n"))
        raise RuntimeError("refused after the check")
    assert path.read_bytes() == before


def test_no_state_file_is_the_empty_state(tmp_path: Path) -> None:
    assert StateFile(tmp_path / "absent.json").read() == {}


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"version": 2, "logs": {}}',
        '{"version": 1}',
        '{"version": 1, "logs": {"o": {"size": -1, "root": "", "checkpoint": ""}}}',
        '{"version": 1, "logs": {"o": {"size": 1, "root": "AAAA", "checkpoint": "x"}}}',
    ],
)
def test_a_damaged_state_file_is_refused_not_reset(tmp_path: Path, content: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(content)
    with pytest.raises(StateUnavailable):
        StateFile(path).check()


def test_an_unreadable_state_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.mkdir()  # unreadable as a file, even for root
    with pytest.raises(StateUnavailable, match="cannot read"):
        StateFile(path).check()
