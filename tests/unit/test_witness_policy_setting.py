"""EBOX_WITNESS_POLICY is refused at start, in one line naming it, when the log could not
use it: unreadable, not the tlog-policy syntax, a witness without its submission URL, or a
`log` line for another origin."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ebox.api.settings import Settings, SettingsError
from ebox.domain.proofs.cosignature import Cosigner
from ebox.domain.proofs.note import NoteSigner

WITNESS = Cosigner("witness.example/w1", bytes([1]) * 32)
OURS = NoteSigner("ebox.example.be/ledger", bytes([2]) * 32)
OTHER = NoteSigner("other.example/log", bytes([3]) * 32)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("EBOX_")]:
        monkeypatch.delenv(name)


def settings_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | None) -> Settings:
    path = tmp_path / "witnesses.policy"
    if text is not None:
        path.write_text(text)
    monkeypatch.setenv("EBOX_WITNESS_POLICY", str(path))
    monkeypatch.setenv("EBOX_LEDGER_ORIGIN", "ebox.example.be/ledger")
    return Settings.from_env()


def test_a_policy_naming_our_log_and_reachable_witnesses_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = f"log {OURS.vkey}\nwitness W {WITNESS.vkey} https://w.example/\nquorum W\n"
    assert (
        settings_with(tmp_path, monkeypatch, text).witness_policy == tmp_path / "witnesses.policy"
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (None, "EBOX_WITNESS_POLICY: cannot read"),
        ("witness W\nquorum W\n", "policy line 1"),
        (f"witness W {WITNESS.vkey}\nquorum W\n", "has no http(s) submission URL"),
        (
            f"log {OTHER.vkey}\nwitness W {WITNESS.vkey} https://w.example/\nquorum W\n",
            "lists the log 'other.example/log', but this ledger's origin is",
        ),
    ],
)
def test_an_unusable_policy_is_refused_in_one_line_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | None, says: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        settings_with(tmp_path, monkeypatch, text)
    message = str(refused.value)
    assert says in message and "EBOX_WITNESS_POLICY" in message and "\n" not in message.strip()
