"""`ebox witness serve` as a real process over real HTTP, as another log would use it.

Every status code of C2SP tlog-witness add-checkpoint on one keep-alive
connection, 409 then the retry, restart, two processes on one state file racing
N and N+K, the interoperability vector of transparency-dev/witness, a forked log,
and a real `ebox demo` ledger checkpoint. The logs are played by tests/witness_log.py.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ebox.domain.proofs.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ebox.domain.proofs.cosignature import CosignatureVerifier, Cosigner
from ebox.domain.proofs.note import NoteVerifier
from ebox.witness.request import encode_add_checkpoint
from tests.served import LIVENESS_SECONDS, free_port
from tests.witness_log import (
    MONKEYS_5,
    MONKEYS_8,
    MONKEYS_PROOF_5_8,
    MONKEYS_VKEY,
    PlayedLog,
    forked,
)


@dataclass
class Witness:
    port: int
    key: Path
    state: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=LIVENESS_SECONDS)

    def stderr(self) -> str:
        return self.log_path.read_text()

    def vkey(self, home: Path) -> str:
        return ebox(home, "witness", "vkey", "--key", str(self.key)).stdout.strip()


def ebox(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ebox.cli.main", *args],
        env={**os.environ, "EBOX_HOME": str(home)},
        cwd=home.parent,
        capture_output=True,
        text=True,
        check=False,
    )


def witness_args(port: int, key: Path, state: Path, logs: list[str], *extra: str) -> list[str]:
    command = ["witness", "serve", "--port", str(port), "--key", str(key), "--state", str(state)]
    for vkey in logs:
        command += ["--log", vkey]
    return [*command, *extra]


@contextmanager
def witness_serving(
    directory: Path, logs: list[str], *, state: Path | None = None, name: str = "witness.test/w1"
) -> Iterator[Witness]:
    """The witness on a free port until the block ends; ready when it accepts connections."""
    port = free_port()
    key, state = directory / "witness.key", state or directory / "witness-state.json"
    log_path = directory / f"witness-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ebox.cli.main",
                *witness_args(port, key, state, logs, "--name", name),
            ],
            env={**os.environ, "EBOX_HOME": str(directory / "home")},
            cwd=directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: os.umask(0o022),
        )
    witness = Witness(port, key, state, process, log_path)
    try:
        deadline = time.monotonic() + LIVENESS_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"ebox witness serve exited: {witness.stderr()}")
            try:
                with closing(socket.create_connection(("127.0.0.1", port), timeout=1)):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield witness
    finally:
        process.terminate()
        process.wait(timeout=LIVENESS_SECONDS)


def post(conn: http.client.HTTPConnection, body: bytes) -> tuple[int, str, str]:
    conn.request("POST", "/add-checkpoint", body=body)
    response = conn.getresponse()
    return response.status, response.getheader("Content-Type", ""), response.read().decode()


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, str]:
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read().decode()


def checkpoint_path(origin: str) -> str:
    return f"/{hashlib.sha256(origin.encode()).hexdigest()}/checkpoint"


def test_every_answer_of_add_checkpoint_on_one_keep_alive_connection(tmp_path: Path) -> None:
    log = PlayedLog().grow(30)
    with witness_serving(tmp_path, [log.vkey]) as witness:
        verifier = CosignatureVerifier(witness.vkey(tmp_path / "home"))
        conn = witness.connect()
        assert get(conn, checkpoint_path(log.origin))[0] == 404  # never cosigned
        conn_socket = conn.sock

        stranger = PlayedLog("example.org/stranger").grow(3)
        assert post(conn, stranger.request(0))[0] == 404
        impostor = PlayedLog(log.origin).grow(3)
        assert post(conn, impostor.request(0))[0] == 403
        assert post(conn, b"old 01\n\n" + log.checkpoint(5).encode())[0] == 400
        assert post(conn, encode_add_checkpoint(6, [], log.checkpoint(5)))[0] == 400
        empty_wrong = sign_checkpoint(Checkpoint(log.origin, 0, log.root(1)), log.signer)
        assert post(conn, encode_add_checkpoint(0, [], empty_wrong))[0] == 422
        assert post(conn, encode_add_checkpoint(0, log.proof(2, 5), log.checkpoint(5)))[0] == 422

        status, _, body = post(conn, log.request(0, 10))
        assert status == 200 and body.startswith("\u2014 witness.test/w1 ")
        assert verifier.timestamp(log.checkpoint(10) + body) is not None

        assert post(conn, log.request(4, 20)) == (409, "text/x.tlog.size", "10\n")
        assert (
            post(conn, encode_add_checkpoint(10, log.proof(11, 20), log.checkpoint(20)))[0] == 422
        )
        fork = forked(log, common=7, extra=3)
        assert post(conn, encode_add_checkpoint(10, [], fork.checkpoint(10)))[0] == 422
        status, _, body = post(conn, log.request(10, 20))  # the retry from the stated size
        assert status == 200

        status, note = get(conn, checkpoint_path(log.origin))
        assert status == 200 and note == log.checkpoint(20) + body
        assert open_checkpoint(note, NoteVerifier(log.vkey)).size == 20
        assert verifier.timestamp(note) is not None
        assert conn.sock is conn_socket  # keep-alive through every refusal
        conn.close()
    assert stat.S_IMODE(witness.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(witness.state.stat().st_mode) == 0o600


def test_the_transparency_dev_witness_vector_over_http(tmp_path: Path) -> None:
    """Checkpoints signed by the Go implementation; tests/witness_log.py cites the source."""
    with witness_serving(tmp_path, [MONKEYS_VKEY]) as witness:
        verifier = CosignatureVerifier(witness.vkey(tmp_path / "home"))
        conn = witness.connect()
        status, _, first = post(conn, encode_add_checkpoint(0, [], MONKEYS_5))
        assert status == 200 and verifier.timestamp(MONKEYS_5 + first) is not None
        status, _, second = post(conn, encode_add_checkpoint(5, MONKEYS_PROOF_5_8, MONKEYS_8))
        assert status == 200 and verifier.timestamp(MONKEYS_8 + second) is not None
        assert get(conn, checkpoint_path("monkeys")) == (200, MONKEYS_8 + second)


def test_a_forked_log_is_refused_and_its_checkpoint_logged_as_evidence(tmp_path: Path) -> None:
    log = PlayedLog().grow(12)
    fork = forked(log, common=8, extra=4)  # two checkpoints of size 12, one ledger key
    with witness_serving(tmp_path, [log.vkey]) as witness:
        conn = witness.connect()
        status, _, cosignature = post(conn, log.request(0, 12))
        assert status == 200
        status, _, reason = post(conn, encode_add_checkpoint(12, [], fork.checkpoint(12)))
        assert status == 422 and "root" in reason
        assert get(conn, checkpoint_path(log.origin)) == (200, log.checkpoint(12) + cosignature)
    evidence = [line for line in witness.stderr().splitlines() if "refused" in line]
    assert len(evidence) == 1 and fork.checkpoint(12).splitlines()[2] in evidence[0]


def test_a_restarted_witness_remembers_what_it_cosigned(tmp_path: Path) -> None:
    log = PlayedLog().grow(9)
    with witness_serving(tmp_path, [log.vkey]) as witness:
        vkey = witness.vkey(tmp_path / "home")
        assert post(witness.connect(), log.request(0, 6))[0] == 200
    with witness_serving(tmp_path, [log.vkey]) as again:
        assert again.vkey(tmp_path / "home") == vkey  # the same key file, not a new one
        conn = again.connect()
        assert post(conn, log.request(0, 9)) == (409, "text/x.tlog.size", "6\n")
        assert post(conn, log.request(6, 9))[0] == 200


def test_two_processes_on_one_state_file_never_roll_back(tmp_path: Path) -> None:
    """N and N+K submitted at once to two witness processes sharing a state file, each
    retrying from the size a 409 states while that is below its own: always N+K."""
    log = PlayedLog().grow(120)
    state = tmp_path / "shared-state.json"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with witness_serving(tmp_path / "a", [log.vkey], state=state) as first:
        (tmp_path / "b" / "witness.key").write_bytes(first.key.read_bytes())
        with witness_serving(tmp_path / "b", [log.vkey], state=state) as second:
            assert post(first.connect(), log.request(0, 50))[0] == 200
            cosigned = 50
            for round_ in range(10):
                n, n_plus_k = cosigned + 1, cosigned + 2 + round_
                barrier = threading.Barrier(2)

                def push(
                    witness: Witness,
                    size: int,
                    old: int = cosigned,
                    barrier: threading.Barrier = barrier,
                ) -> None:
                    conn = witness.connect()
                    barrier.wait()
                    while True:
                        status, _, body = post(conn, log.request(old, size))
                        if status != 409 or int(body) >= size:
                            return
                        old = int(body)

                threads = [
                    threading.Thread(target=push, args=(first, n)),
                    threading.Thread(target=push, args=(second, n_plus_k)),
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                status, note = get(second.connect(), checkpoint_path(log.origin))
                assert status == 200
                assert open_checkpoint(note, NoteVerifier(log.vkey)).size == n_plus_k
                cosigned = n_plus_k


def test_a_real_ebox_ledger_checkpoint_is_cosigned(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert ebox(home, "demo", "--letters", "20", "--seed", "3").returncode == 0
    note = ebox(home, "ledger", "checkpoint").stdout
    log_vkey = ebox(home, "ledger", "vkey").stdout.strip()
    with witness_serving(tmp_path, [log_vkey]) as witness:
        verifier = CosignatureVerifier(witness.vkey(home))
        status, _, line = post(witness.connect(), encode_add_checkpoint(0, [], note))
    assert status == 200
    assert verifier.timestamp(note + line) is not None
    assert open_checkpoint(note + line, NoteVerifier(log_vkey)).size > 0


# --------------------------------------------------------------------------- command errors


def test_vkey_prints_the_cosigner_key_of_type_0x04(tmp_path: Path) -> None:
    log = PlayedLog()
    with witness_serving(tmp_path, [log.vkey], name="witness.test/w9") as witness:
        vkey = witness.vkey(tmp_path / "home")
    name, _, key = vkey.split("+", 2)  # base64 may contain "+"
    assert name == "witness.test/w9" and base64.b64decode(key)[0] == 0x04
    assert witness.key.read_text().startswith("PRIVATE+KEY+witness.test/w9+")


@pytest.mark.parametrize("problem", ["missing key", "bad vkey", "state", "key", "port", "name"])
def test_an_operator_mistake_is_one_line_and_exit_2(tmp_path: Path, problem: str) -> None:
    home = tmp_path / "home"
    log = PlayedLog()
    key, state = tmp_path / "witness.key", tmp_path / "state.json"
    if problem == "missing key":
        result = ebox(home, "witness", "vkey", "--key", str(key))
    else:
        logs, extra = [log.vkey], ["--name", "witness.test/w1"]
        if problem == "bad vkey":
            logs = [log.vkey.replace("+", "-", 1)]
        if problem == "state":
            state.mkdir()
        if problem == "key":
            key.write_text("PRIVATE+KEY+not-a-key\n")
        if problem == "name":
            key.write_text(Cosigner.generate("witness.test/other").skey + "\n")
        with closing(socket.socket()) as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1] if problem == "port" else free_port()
            result = ebox(home, *witness_args(port, key, state, logs, *extra))
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
