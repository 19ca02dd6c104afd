"""Trusted time through the commands an operator and a court run.

A demo ledger (SQLite); a real TSA (OpenSSL's `ts -reply` behind HTTP); `ebox workers
--once` with EBOX_TSA_URL stamps the latest checkpoint; `ebox evidence` writes a bundle
that carries the token; `ebox verify --tsa-ca` names the TSA and its time. A token for
another checkpoint, a changed token and a TSA outside the trust anchors are refused in
one line; the by-hand check of docs/EVIDENCE.md works as written. Exit codes: 0 verified,
1 refused, 2 unable.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ebox.adapters.tsa import TsaClient
from tests.tsa_server import TsaFiles, TsaServer, make_tsa


@dataclass(frozen=True)
class Stamped:
    home: Path
    vkey: str
    bundle: Path
    tsa: TsaFiles
    server: TsaServer


def ebox(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ebox.cli.main", *args],
        env={**os.environ, "EBOX_HOME": str(home), "COLUMNS": "200", **env},
        cwd=home.parent,
        capture_output=True,
        text=True,
        check=False,
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def stamped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stamped]:
    root = tmp_path_factory.mktemp("trusted-time")
    tsa = make_tsa(root / "tsa")
    home = root / "home"
    ok(ebox(home, "demo", "--letters", "5", "--seed", "3"))
    with TsaServer(tsa) as server:
        ok(
            ebox(
                home,
                "workers",
                "--once",
                EBOX_TSA_URL=server.url,
                EBOX_TSA_CA_FILE=str(tsa.ca_pem),
            )
        )
        assert server.replies == 1
        rows = [json.loads(line) for line in ok(ebox(home, "ledger", "export")).splitlines()]
        message_id = next(
            r["canonical"]["aggregate_id"] for r in rows if r["canonical"]["type"] == "Sent"
        )
        bundle = root / "evidence.json"
        # The operator's own check uses EBOX_TSA_CA_FILE (its certificate says "TSA trusted").
        ok(ebox(home, "evidence", message_id, "-o", str(bundle), EBOX_TSA_CA_FILE=str(tsa.ca_pem)))
        yield Stamped(home, ok(ebox(home, "ledger", "vkey")).strip(), bundle, tsa, server)


def verify(stamped: Stamped, bundle: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return ebox(stamped.home, "verify", str(bundle), "--vkey", stamped.vkey, *options)


def with_trusted_time(stamped: Stamped, path: Path, **changes: object) -> Path:
    body = json.loads(stamped.bundle.read_text())
    body["trusted_time"].update(changes)
    path.write_text(json.dumps(body))
    return path


def test_the_bundle_carries_the_token_and_verify_names_the_tsa_and_its_time(
    stamped: Stamped,
) -> None:
    body = json.loads(stamped.bundle.read_text())
    trusted = body["trusted_time"]
    assert trusted["checkpoint"] == body["ledger"]["checkpoint"]
    assert trusted["consistency"] == []
    report = ok(verify(stamped, stamped.bundle, "--tsa-ca", str(stamped.tsa.ca_pem)))
    assert report.startswith("EVIDENCE VERIFIED")
    report = " ".join(report.split())  # as read, without the line wrapping
    assert "TIME: no later than" in report and "(TSA trusted)" in report
    assert "RFC 3161 token by Organization: eBox tests, Common Name: Test TSA" in report
    assert "Brussels" in report and "operator's clock" in report


def test_the_standalone_verifier_checks_the_token_too(stamped: Stamped) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ebox.verifier", "bundle", str(stamped.bundle), "--vkey",
         stamped.vkey, "--tsa-ca", str(stamped.tsa.ca_pem)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(TSA trusted)" in done.stdout


def test_without_trust_anchors_the_token_is_checked_but_the_tsa_is_not_trusted(
    stamped: Stamped,
) -> None:
    report = ok(verify(stamped, stamped.bundle))
    assert "TIME: time-stamp intact, TSA not trusted" in report


def test_a_token_for_another_checkpoint_is_refused(stamped: Stamped, tmp_path: Path) -> None:
    note = json.loads(stamped.bundle.read_text())["ledger"]["checkpoint"]
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) - 1)  # another checkpoint's body
    other = TsaClient(stamped.server.url).stamp(0, "\n".join(lines)).token
    swapped = with_trusted_time(
        stamped, tmp_path / "swapped.json", token=base64.b64encode(other).decode()
    )
    done = verify(stamped, swapped, "--tsa-ca", str(stamped.tsa.ca_pem))
    assert done.returncode == 1
    assert done.stdout.startswith("VERIFICATION FAILED\n  time-stamp refused: the time-stamp ")
    assert "is for another checkpoint" in done.stdout


def test_a_changed_token_is_refused(stamped: Stamped, tmp_path: Path) -> None:
    token = bytearray(
        base64.b64decode(json.loads(stamped.bundle.read_text())["trusted_time"]["token"])
    )
    at = token.find(b"\x18\x0f")  # genTime
    token[at + 2 + 3] ^= 0x01
    changed = with_trusted_time(
        stamped, tmp_path / "changed.json", token=base64.b64encode(bytes(token)).decode()
    )
    done = verify(stamped, changed, "--tsa-ca", str(stamped.tsa.ca_pem))
    assert done.returncode == 1
    assert "time-stamp refused: the time-stamp token's signature does not hold" in done.stdout


def test_a_tsa_outside_the_trust_anchors_is_refused(stamped: Stamped, tmp_path: Path) -> None:
    stranger = make_tsa(tmp_path / "stranger", "Stranger TSA")
    done = verify(stamped, stamped.bundle, "--tsa-ca", str(stranger.ca_pem))
    assert done.returncode == 1
    assert "does not validate against the TSA trust anchors given" in done.stdout
    both = ok(
        verify(
            stamped,
            stamped.bundle,
            "--tsa-ca",
            str(stranger.ca_pem),
            "--tsa-ca",
            str(stamped.tsa.ca_pem),
        )
    )
    assert "(TSA trusted)" in both


def test_an_unreadable_tsa_ca_file_is_one_line_and_exit_2(stamped: Stamped, tmp_path: Path) -> None:
    (tmp_path / "not.pem").write_text("not a certificate\n")
    for path in (tmp_path / "missing.pem", tmp_path / "not.pem"):
        done = verify(stamped, stamped.bundle, "--tsa-ca", str(path))
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and "--tsa-ca" in done.stderr
        assert "Traceback" not in done.stderr


def test_the_by_hand_openssl_check_of_the_documentation_works(
    stamped: Stamped, tmp_path: Path
) -> None:
    """The two commands of docs/EVIDENCE.md, "Trusted time (RFC 3161)", as written there."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "EVIDENCE.md").read_text()
    section = docs[docs.index("### 10.2 Trusted time (RFC 3161)") :]
    block = section[section.index("```sh\n") + 6 : section.index("\n```", section.index("```sh"))]
    script = block.replace("evidence.json", str(stamped.bundle)).replace(
        "tsa-ca.pem", str(stamped.tsa.ca_pem)
    )
    done = subprocess.run(
        script, shell=True, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert "Verification: OK" in done.stdout, done.stdout + done.stderr


def test_a_tsa_that_is_down_leaves_the_workers_running_and_logs_no_url(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok(ebox(home, "demo", "--letters", "1", "--seed", "4"))
    down = "http://user:s3cret@127.0.0.1:9/tsa"
    done = ebox(home, "workers", "--once", EBOX_TSA_URL=down)
    assert done.returncode == 0, done.stderr
    assert "time-stamping failed (TsaUnavailable" in done.stderr
    assert "s3cret" not in done.stderr and "127.0.0.1:9" not in done.stderr
