"""Benchmark: checkpoint-to-cosigned latency with two witnesses under 1,000 letters/s.

One ledger (SQLite in a temporary directory, or a fresh database of
``--postgres SERVER_URL``) runs its real workers in an ``ebox workers`` process
(compose.yaml's topology; threads of this one with ``--in-process``, and always on
SQLite, whose single writer a second process would meet as "database is locked"): delivery,
read models, the sealer (a checkpoint every 1,000 leaves or second) and
witnessing, with EBOX_WITNESS_POLICY naming two witnesses over real HTTP on
loopback (2 of 2). This process drives the load: signed letters published
in-process through the real publication use case (``publish_many``, ``--batch``
letters a call, paced to ``--rate`` letters/s for ``--seconds``); the rate
achieved is printed beside the rate offered. The witnesses are two
``ebox witness serve`` processes (each its key and state file) on loopback.

For every checkpoint signed during the load it measures the time from its
``signed_at`` to the moment a checkpoint at least as large was cosigned by
both witnesses (the later ``received_at`` of the two lines): how long until
the served (quorum-cosigned) checkpoint covers it. The baseline of the same
run is the checkpoint interval (time between consecutive ``signed_at``):
without witnesses a new event waits for the next checkpoint, with them for
the next cosigned one. Goal: p95 under 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC
from itertools import pairwise
from pathlib import Path

from sqlalchemy import func, select

from bench.publish import (
    chunks,
    events_table,
    open_mailboxes,
    postgres_databases,
    signed_letters,
)
from ebox.adapters.runtime import Ledger, open_ledger
from ebox.adapters.tables import checkpoints, witness_cosignatures
from ebox.adapters.transparency import TransparencyLog
from ebox.cli.demo import setup_senders
from ebox.projections.workers import Workers
from tests.served import free_port

GOAL_P95_S = 2.0


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=1000, help="letters per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="load duration")
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="run on a fresh PostgreSQL database of this server (default: SQLite in a temp dir)",
    )
    parser.add_argument("--mailboxes", type=int, default=500)
    parser.add_argument("--batch", type=int, default=500, help="letters per publish_many")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the workers as threads of the load's process (default: an `ebox workers` "
        "process, as compose.yaml's workers service)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ebox-bench-witnessing-") as tmp:
        if args.postgres:
            with postgres_databases(args.postgres) as (url, _baseline):
                result = run(url, Path(tmp), args)
        else:
            result = run(f"sqlite:///{tmp}/ledger.db", Path(tmp), args)
    print(
        f"letters published: {result['letters']} in {result['load_s']} s "
        f"({result['achieved_rate']} letters/s, offered {args.rate})"
    )
    print(
        f"checkpoints during the load: {result['checkpoints']} "
        f"({result['not_cosigned_by_end']} not cosigned by the end)"
    )
    print(
        f"checkpoint -> cosigned by both: p50 {result['cosigned_p50_s']} s, "
        f"p95 {result['cosigned_p95_s']} s, max {result['cosigned_max_s']} s"
    )
    print(
        f"baseline, checkpoint interval:  p50 {result['baseline_interval_p50_s']} s, "
        f"p95 {result['baseline_interval_p95_s']} s"
    )
    met = float(str(result["cosigned_p95_s"])) < GOAL_P95_S
    print(f"goal p95 < {GOAL_P95_S} s: {'met' if met else 'NOT met'}")
    print(json.dumps(result))
    return 0


def run(url: str, tmp: Path, args: argparse.Namespace) -> dict[str, object]:
    ledger = open_ledger(url, home=tmp / "home")
    rng = random.Random(7)
    senders = setup_senders(ledger)
    recipients = open_mailboxes(ledger, rng, args.mailboxes)
    letters = signed_letters(senders, recipients, int(args.rate * args.seconds), rng)
    vkey = TransparencyLog(ledger).vkey()
    with (
        ebox_witness(tmp / "witness-a", "witness-a.example/w", vkey) as a,
        ebox_witness(tmp / "witness-b", "witness-b.example/w", vkey) as b,
    ):
        policy = tmp / "witnesses.policy"
        policy.write_text(
            f"log {vkey}\nwitness A {a[0]} {a[1]}\n"
            f"witness B {b[0]} {b[1]}\ngroup both all A B\nquorum both\n"
        )
        os.environ["EBOX_WITNESS_POLICY"] = str(policy)
        Workers(ledger).run_until_idle()  # the set-up's events sealed before the clock
        started = time.time()
        # SQLite has one writer: a second process would meet "database is locked".
        in_process = args.in_process or url.startswith("sqlite")
        stop = _start_workers(ledger, url, tmp, in_process)
        try:
            published = 0
            began = time.monotonic()
            period = args.batch / args.rate
            for i, batch in enumerate(chunks(letters, args.batch)):
                ledger.app.publish_many(list(batch))
                published += len(batch)
                delay = began + (i + 1) * period - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            load_seconds = time.monotonic() - began
            ended = time.time()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not _settled(ledger):
                time.sleep(0.5)  # the last events sealed, their checkpoint cosigned by both
        finally:
            stop()
    latencies, intervals, uncovered = _measure(ledger, started, ended)
    ledger.close()
    return {
        "database": url.split(":")[0].split("+")[0],
        "workers": "threads" if in_process else "ebox workers process",
        "letters": published,
        "load_s": round(load_seconds, 1),
        "offered_rate": args.rate,
        "achieved_rate": round(published / load_seconds, 1),
        "checkpoints": len(latencies) + uncovered,
        "not_cosigned_by_end": uncovered,
        "cosigned_p50_s": round(percentile(latencies, 0.5), 3),
        "cosigned_p95_s": round(percentile(latencies, 0.95), 3),
        "cosigned_max_s": round(max(latencies, default=float("nan")), 3),
        "baseline_interval_p50_s": round(percentile(intervals, 0.5), 3),
        "baseline_interval_p95_s": round(percentile(intervals, 0.95), 3),
    }


@contextmanager
def ebox_witness(directory: Path, name: str, log_vkey: str) -> Iterator[tuple[str, str]]:
    """(cosigner vkey, submission prefix) of an `ebox witness serve` process for the run."""
    directory.mkdir()
    ebox = str(Path(sys.executable).parent / "ebox")
    key, port = directory / "witness.key", free_port()
    command = [ebox, "witness", "serve", "--port", str(port), "--key", str(key)]
    command += ["--state", str(directory / "state.json"), "--log", log_vkey, "--name", name]
    env = {**os.environ, "EBOX_HOME": str(directory / "home")}
    child = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        vkey = subprocess.run(
            [ebox, "witness", "vkey", "--key", str(key)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        yield vkey, f"http://127.0.0.1:{port}"
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=30)


def _start_workers(ledger: Ledger, url: str, tmp: Path, in_process: bool) -> Callable[[], None]:
    """The workers with witnessing, as threads here or as an `ebox workers` process."""
    if in_process:
        work = Workers(ledger)
        work.start(interval=0.05)
        return work.stop
    env = {**os.environ, "EBOX_HOME": str(tmp / "home"), "EBOX_LOG_LEVEL": "WARNING"}
    ebox = Path(sys.executable).parent / "ebox"
    child = subprocess.Popen([str(ebox), "workers", "--db", url, "--interval", "0.05"], env=env)

    def stop() -> None:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=60)

    return stop


def _settled(ledger: Ledger) -> bool:
    with ledger.db.read() as session:
        latest = session.execute(
            select(checkpoints.c.size).order_by(checkpoints.c.size.desc()).limit(1)
        ).scalar()
        events = session.execute(select(func.count()).select_from(events_table(ledger))).scalar()
        if latest != events:
            return False
        cosigned = (
            session.execute(
                select(witness_cosignatures.c.size).order_by(witness_cosignatures.c.size.desc())
            )
            .scalars()
            .all()
        )
    return latest is not None and list(cosigned).count(latest) == 2


def _measure(ledger: Ledger, started: float, ended: float) -> tuple[list[float], list[float], int]:
    with ledger.db.read() as session:
        signed = [
            (int(size), (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp())
            for size, at in session.execute(
                select(checkpoints.c.size, checkpoints.c.signed_at).order_by(checkpoints.c.size)
            )
        ]
        lines = session.execute(
            select(witness_cosignatures.c.size, witness_cosignatures.c.received_at)
        ).all()
    both: dict[int, list[float]] = {}
    for size, received in lines:
        moment = (received if received.tzinfo else received.replace(tzinfo=UTC)).timestamp()
        both.setdefault(int(size), []).append(moment)
    quorum = sorted((size, max(times)) for size, times in both.items() if len(times) == 2)
    during = [(s, t) for s, t in signed if started <= t <= ended]
    latencies: list[float] = []
    uncovered = 0
    for size, at in during:
        covering = [t for s, t in quorum if s >= size]
        if covering:
            latencies.append(min(covering) - at)
        else:
            uncovered += 1
    intervals = [later - earlier for (_, earlier), (_, later) in pairwise(during)]
    return latencies, intervals, uncovered


if __name__ == "__main__":
    sys.exit(main())
