"""Benchmark of publishMessage over real HTTP: `ebox serve` against a minimal FastAPI baseline.

For each database (SQLite, PostgreSQL), each number of concurrent clients
(``--clients 1,8``) and, with ``--topology``, the compose topology on
PostgreSQL, one *run* on fresh databases:

1. the ledger is set up (untimed): the demo senders with their applications,
   message types and Ed25519 signing keys, `--mailboxes` citizen eBoxes, and one
   OAuth sender client per bench client (private_key_jwt);
2. the servers start as child processes: `ebox serve` with its workers (or,
   for the topology, two `ebox serve --no-workers` processes and one
   `ebox workers`), and the baseline (bench/http_baseline.py) the same way:
   uvicorn, one process (two for the topology), h11;
3. each client gets its bearer token once, at `/oauth/token` with a client
   assertion (the endpoint is rate-limited per client: one token per client for
   the whole run); the baseline's tokens are Ed25519 JWTs it verifies;
4. the baseline publishes half the letters, the ledger all N, the baseline the
   other half (load that drifts weighs on both), each from the same clients
   with the same requests (bench/http_load.py): a signed `messageToPublish`,
   one small PDF, an `Idempotency-Key` per request;
5. while the ledger is timed, the lag watch records for each 201 when the letter
   is in the inbox view and its Sent event sealed.

It prints letters/s, p50/p95/p99 of both, their ratio, the lag and the load
average per run, the goals (PostgreSQL, 8 clients), and a final JSON line.

Run ``python -m bench.http_publish --help`` (from the repository root); see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: the repository root holds the bench package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from bench.http_baseline import mint_baseline_token
from bench.http_load import LagWatch, Letter, LoadResult, Sender, run_load
from bench.publish import (
    DEFAULT_POSTGRES_URL,
    POSTGRES_URL_ENV,
    check,
    load_average,
    open_mailboxes,
    postgres_databases,
    redact,
    sqlite_databases,
)
from ebox.adapters.clients import ALLOWED_SCOPES, generate_key, register_client
from ebox.adapters.runtime import open_ledger
from ebox.api.client_assertion import ASSERTION_TYPE, make_client_assertion
from ebox.api.oauth import GRANT_TYPE, TOKEN_PATH
from ebox.cli.demo import DemoSender, setup_senders
from ebox.cli.demo_data import MESSAGE_TYPES, SUBJECTS, letter_pdf

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LETTERS = 2_000
DEFAULT_CLIENTS = "1,8"
DEFAULT_MAILBOXES = 500
DEFAULT_WARMUP = 5
LAG_TIMEOUT_S = 300.0
GOAL_CLIENTS = 8
GOAL_LETTERS_PER_S = 500.0
GOAL_RATIO = 0.5
GOAL_P95_MS = 30.0
GOAL_LAG_P95_S = 1.0


# --------------------------------------------------------------------------- figures


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


@dataclass
class Side:
    """One server's figures in a run: the ledger's or the baseline's."""

    letters: int = 0
    wall_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0

    def add(self, result: LoadResult, server_cpu_s: float) -> None:
        self.letters += len(result.accepted)
        self.wall_s += result.wall_s
        self.latencies_ms += [o.latency_s * 1000 for o in result.accepted]
        for key, count in result.errors().items():
            self.errors[key] = self.errors.get(key, 0) + count
        self.client_cpu_s += result.client_cpu_s
        self.server_cpu_s += server_cpu_s

    @property
    def letters_per_s(self) -> float:
        return self.letters / self.wall_s if self.wall_s > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        per_letter = 1000 / self.letters if self.letters else 0.0
        return {
            "letters": self.letters,
            "wall_s": round(self.wall_s, 3),
            "letters_per_s": round(self.letters_per_s, 1),
            "p50_ms": round(percentile(self.latencies_ms, 50), 2),
            "p95_ms": round(percentile(self.latencies_ms, 95), 2),
            "p99_ms": round(percentile(self.latencies_ms, 99), 2),
            "errors": self.errors,
            "client_cpu_ms_per_letter": round(self.client_cpu_s * per_letter, 2),
            "server_cpu_ms_per_letter": round(self.server_cpu_s * per_letter, 2),
        }


@dataclass
class Run:
    database: str
    topology: str
    clients: int
    ledger: Side = field(default_factory=Side)
    baseline: Side = field(default_factory=Side)
    lags_s: list[float] = field(default_factory=list)
    lag_unfinished: int = 0
    lag_polls: int = 0
    server_log_problems: list[str] = field(default_factory=list)
    load_average: tuple[float, float] = (0.0, 0.0)

    @property
    def ratio(self) -> float:
        base = self.baseline.letters_per_s
        return self.ledger.letters_per_s / base if base else 0.0

    def goals(self) -> dict[str, bool]:
        if self.database != "postgresql" or self.clients != GOAL_CLIENTS:
            return {}
        goals = {
            "letters_per_s": self.ledger.letters_per_s >= GOAL_LETTERS_PER_S,
            "ratio": self.ratio >= GOAL_RATIO,
            "p95_ms": percentile(self.ledger.latencies_ms, 95) <= GOAL_P95_MS,
        }
        if self.lags_s:  # not measured with --no-lag
            goals["lag_p95_s"] = percentile(self.lags_s, 95) < GOAL_LAG_P95_S
        return goals

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "topology": self.topology,
            "clients": self.clients,
            "ledger": self.ledger.summary(),
            "baseline": self.baseline.summary(),
            "ratio": round(self.ratio, 3),
            "lag_p50_s": round(percentile(self.lags_s, 50), 3),
            "lag_p95_s": round(percentile(self.lags_s, 95), 3),
            "lag_max_s": round(max(self.lags_s, default=0.0), 3),
            "lag_letters": len(self.lags_s),
            "lag_unfinished": self.lag_unfinished,
            "lag_polls": self.lag_polls,
            "server_log_problems": self.server_log_problems,
            "load_average": self.load_average,
            "goals": self.goals(),
        }


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def child(command: list[str], env: dict[str, str], log: Path, health: str | None) -> Iterator[int]:
    """A server or worker process, its output in `log`, stopped with SIGINT at the end."""
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while health is not None:
            check(process.poll() is None, f"{command[:2]} exited at start-up (see {log})")
            try:
                httpx.get(health, timeout=2)
                break
            except httpx.HTTPError:
                check(time.monotonic() < deadline, f"{health} did not answer in 60 s")
                time.sleep(0.2)
        yield process.pid
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def sampled(pids: Sequence[int], directory: Path | None, name: str | None) -> Iterator[None]:
    """With --profile, py-spy samples the ledger's processes while the block runs.

    Each process's collapsed stacks go to `directory/name-<n>-wall.txt` (every
    thread not idle, waits on the database included) and `name-<n>-gil.txt` (the
    thread holding the GIL only: where the Python CPU goes), in py-spy's raw
    format: one stack and its sample count a line, for flame graphs or grep.
    """
    if directory is None or name is None:
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    samplers = [
        subprocess.Popen(
            [
                *(py_spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "250"),
                *("--nonblocking", "--output", str(directory / f"{name}-{n}{suffix}.txt")),
                *options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n, pid in enumerate(pids)
        for suffix, options in (("-wall", ()), ("-gil", ("--gil",)))
    ]
    try:
        yield
    finally:
        for sampler in samplers:
            sampler.send_signal(signal.SIGINT)
        for sampler in samplers:
            sampler.wait(timeout=60)


def log_problems(logs: Sequence[Path]) -> list[str]:
    """Tracebacks and ERROR lines the servers and workers logged (first of each, counted)."""
    problems: dict[str, int] = {}
    for log in logs:
        if not log.exists():
            continue
        lines = log.read_text(errors="replace").splitlines()
        for number, line in enumerate(lines):
            if line.startswith("Traceback"):
                # The exception is the first line after the traceback that is not indented.
                ending = next((x for x in lines[number + 1 :] if x[:1] not in " \t"), "?")
                line = f"Traceback ... {ending}"
            elif " ERROR " not in line and not line.startswith("ERROR"):
                continue
            key = f"{log.name}: {line.strip()[:240]}"
            problems[key] = problems.get(key, 0) + 1
    return [f"{count} x {line}" for line, count in problems.items()]


# --------------------------------------------------------------------------- setup (untimed)


@dataclass(frozen=True)
class ClientKey:
    organisation: DemoSender
    client_id: str
    kid: str
    private_pem: bytes = field(repr=False)


def prepare_ledger(
    url: str, home: Path, clients: int, mailboxes: int, count: int, seed: int
) -> tuple[list[ClientKey], list[Letter]]:
    """Senders, mailboxes and one OAuth sender client per bench client; N letters to send."""
    rng = random.Random(seed)
    ledger = open_ledger(url, home=home)
    try:
        organisations = setup_senders(ledger)
        recipients = open_mailboxes(ledger, rng, mailboxes)
        keys = []
        for number in range(clients):
            organisation = organisations[number % len(organisations)]
            pair = generate_key("EdDSA")
            client_id = register_client(
                ledger, "sender", organisation.kbo, ALLOWED_SCOPES["sender"], pair.public_jwk
            )
            keys.append(
                ClientKey(organisation, client_id, pair.public_jwk["kid"], pair.private_pem)
            )
    finally:
        ledger.close()
    year = time.gmtime().tm_year
    letters = []
    for number in range(count):
        recipient = recipients[rng.randrange(len(recipients))]
        type_id, _names, _unit, _amount, registered = MESSAGE_TYPES[number % len(MESSAGE_TYPES)]
        subjects = {k: v.format(year=year) for k, v in SUBJECTS[number % len(SUBJECTS)].items()}
        pdf = letter_pdf(subjects["nl"], [f"Aan {recipient.address}", f"Referentie {number:06d}"])
        letters.append(Letter(recipient, type_id, registered, subjects, pdf))
    return keys, letters


def ledger_token(base: str, public_url: str, key: ClientKey) -> str:
    """The client's access token, once, from the ledger's token endpoint (private_key_jwt)."""
    assertion = make_client_assertion(
        key.private_pem, key.client_id, f"{public_url}{TOKEN_PATH}", kid=key.kid
    )
    response = httpx.post(
        f"{base}{TOKEN_PATH}",
        data={
            "grant_type": GRANT_TYPE,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
            "scope": "ebox:publication",
        },
        timeout=30,
    )
    check(response.status_code == 200, f"token: {response.status_code} {response.text[:300]}")
    return str(response.json()["access_token"])


@contextmanager
def fresh_databases(database: str, args: argparse.Namespace) -> Iterator[tuple[str, str, Path]]:
    """The ledger's and the baseline's databases, new for this run, and a data directory."""
    if database == "sqlite":
        with sqlite_databases() as (ledger_url, baseline_url, workdir):
            home = workdir / "home"
            home.mkdir(mode=0o700)
            yield ledger_url, baseline_url, home
    else:
        with (
            postgres_databases(args.postgres) as (ledger_url, baseline_url),
            tempfile.TemporaryDirectory(prefix="ebox-http-bench-") as home_dir,
        ):
            yield ledger_url, baseline_url, Path(home_dir)


# --------------------------------------------------------------------------- one run


def bench_run(database: str, topology: str, clients: int, args: argparse.Namespace) -> Run:
    run = Run(database, topology, clients)
    load_start = load_average()
    with fresh_databases(database, args) as (ledger_url, baseline_url, home):
        print(
            f"\n[{database}, {topology}, {clients} client(s)] ledger {redact(ledger_url)}, "
            f"baseline {redact(baseline_url)}; setting up ...",
            flush=True,
        )
        keys, letters = prepare_ledger(
            ledger_url, home, clients, args.mailboxes, args.letters, args.seed
        )
        processes = 2 if topology == "compose" else 1
        ledger_ports = [free_port() for _ in range(processes)]
        public_url = f"http://127.0.0.1:{ledger_ports[0]}"
        env = {**os.environ, "EBOX_HOME": str(home), "EBOX_PUBLIC_URL": public_url}
        ebox = str(Path(sys.executable).with_name("ebox"))
        baseline_key = ed25519.Ed25519PrivateKey.generate()
        public_pem = home / "baseline-token.pub"
        public_pem.write_bytes(
            baseline_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        private_pem = baseline_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        logs: list[Path] = []
        with ExitStack() as stack:
            ledger_pids = []
            for number, port in enumerate(ledger_ports):
                command = [ebox, "serve", "--db", ledger_url, "--port", str(port)]
                if topology == "compose":
                    command.append("--no-workers")
                logs.append(home / f"serve-{number}.log")
                health = f"http://127.0.0.1:{port}/health"
                ledger_pids.append(stack.enter_context(child(command, env, logs[-1], health)))
            if topology == "compose":
                logs.append(home / "workers.log")
                command = [ebox, "workers", "--db", ledger_url]
                ledger_pids.append(stack.enter_context(child(command, env, logs[-1], None)))
            baseline_ports = [free_port() for _ in range(processes)]
            baseline_pids = []
            for number, port in enumerate(baseline_ports):
                command = [sys.executable, "-m", "bench.http_baseline", "--db", baseline_url]
                command += ["--port", str(port), "--public-key", str(public_pem)]
                logs.append(home / f"baseline-{number}.log")
                health = f"http://127.0.0.1:{port}/health"
                baseline_pids.append(stack.enter_context(child(command, env, logs[-1], health)))
            ledger_bases = [f"http://127.0.0.1:{p}" for p in ledger_ports]
            baseline_bases = [f"http://127.0.0.1:{p}" for p in baseline_ports]
            ledger_senders = [
                Sender(k.organisation, ledger_token(ledger_bases[0], public_url, k)) for k in keys
            ]
            baseline_senders = [
                Sender(k.organisation, mint_baseline_token(private_pem, k.client_id)) for k in keys
            ]

            def timed(
                side: Side,
                bases: list[str],
                senders: list[Sender],
                pids: list[int],
                batch: Sequence[Letter],
                watch: LagWatch | None = None,
                profile: str | None = None,
            ) -> None:
                cpu = sum(cpu_seconds(p) for p in pids)
                with sampled(pids, args.profile, profile):
                    result = run_load(
                        bases, senders, batch, args.warmup, watch.expect if watch else None
                    )
                side.add(result, sum(cpu_seconds(p) for p in pids) - cpu)

            half = len(letters) // 2
            print("  baseline, first half ...", flush=True)
            timed(run.baseline, baseline_bases, baseline_senders, baseline_pids, letters[:half])
            print("  ledger ...", flush=True)
            watch = LagWatch(ledger_url) if args.lag else None
            if watch is not None:
                watch.start()
            profile = f"{database}-{topology}-{clients}"
            timed(run.ledger, ledger_bases, ledger_senders, ledger_pids, letters, watch, profile)
            if watch is not None:
                run.lag_unfinished = watch.finish(LAG_TIMEOUT_S)
                run.lags_s, run.lag_polls = watch.lags, watch.polls
            print("  baseline, second half ...", flush=True)
            timed(run.baseline, baseline_bases, baseline_senders, baseline_pids, letters[half:])
            run.server_log_problems = log_problems(logs)  # before the shutdown's own messages
    run.load_average = (load_start, load_average())
    print_run(run)
    return run


# --------------------------------------------------------------------------- report


def print_run(run: Run) -> None:
    figures = run.as_json()
    ledger, base = figures["ledger"], figures["baseline"]
    print(
        f"  {'':<9} {'letters/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'client CPU ms/letter':>21} {'server CPU ms/letter':>21}"
    )
    for name, side in (("ledger", ledger), ("baseline", base)):
        print(
            f"  {name:<9} {side['letters_per_s']:>10,.1f} {side['p50_ms']:>8.2f}"
            f" {side['p95_ms']:>8.2f} {side['p99_ms']:>8.2f}"
            f" {side['client_cpu_ms_per_letter']:>21.2f} {side['server_cpu_ms_per_letter']:>21.2f}"
        )
    print(f"  ratio ledger / baseline letters/s: {figures['ratio']:.3f}")
    if run.lag_polls:
        print(
            f"  lag 201 -> in the inbox and sealed: p50 {figures['lag_p50_s'] * 1000:.0f} ms, "
            f"p95 {figures['lag_p95_s'] * 1000:.0f} ms, max {figures['lag_max_s'] * 1000:.0f} ms "
            f"({figures['lag_letters']} letters, {figures['lag_unfinished']} not done in "
            f"{LAG_TIMEOUT_S:.0f} s; {run.lag_polls} polls)"
        )
    for side_name, side in (("ledger", ledger), ("baseline", base)):
        for error, count in side["errors"].items():
            print(f"  {side_name} REFUSED/FAILED {count} x {error}")
    for problem in run.server_log_problems[:10]:
        print(f"  server log: {problem}")
    print(
        f"  load average (1 min) start / end: {run.load_average[0]:.2f} / "
        f"{run.load_average[1]:.2f} on {os.cpu_count()} CPUs"
    )
    for goal, met in figures["goals"].items():
        print(f"  goal {goal}: {'met' if met else 'NOT met'}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="publishMessage over real HTTP against `ebox serve` (workers running) "
        "and a minimal FastAPI baseline, on SQLite and PostgreSQL."
    )
    parser.add_argument("--letters", type=int, default=DEFAULT_LETTERS, help="letters per run")
    parser.add_argument(
        "--clients", default=DEFAULT_CLIENTS, help="concurrent clients, comma-separated"
    )
    parser.add_argument("--mailboxes", type=int, default=DEFAULT_MAILBOXES)
    parser.add_argument("--warmup", type=int, default=DEFAULT_WARMUP, help="untimed, per client")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL,
        help=f"PostgreSQL server URL (default ${POSTGRES_URL_ENV} or {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--lag",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="watch the lag from each 201 to inbox and sealed (its polls load the client side)",
    )
    parser.add_argument(
        "--topology",
        action="store_true",
        help="also the compose topology on PostgreSQL: two `ebox serve --no-workers` "
        "round-robin and one `ebox workers`",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample the ledger's processes with py-spy while timed (collapsed stacks in DIR)",
    )
    args = parser.parse_args(argv)
    args.client_counts = [int(c) for c in args.clients.split(",") if c.strip()]
    if args.letters < 2 or args.mailboxes < 1 or not all(c >= 1 for c in args.client_counts):
        parser.error("--letters (at least 2), --mailboxes and --clients must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"eBox HTTP publication benchmark: {args.letters:,} letters per run, clients "
        f"{args.client_counts}; Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"load average (1 min) {load_average():.2f}"
    )
    plan = [("sqlite", "one process")] if args.sqlite else []
    if not args.no_postgres:
        plan.append(("postgresql", "one process"))
        if args.topology:
            plan.append(("postgresql", "compose"))
    runs = [bench_run(db, topology, c, args) for db, topology in plan for c in args.client_counts]
    if not runs:
        print("nothing to do: both databases were switched off")
        return 2
    print("\nSummary (letters/s, p95 ms; ratio; lag p95)")
    for run in runs:
        f = run.as_json()
        goals = ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in f["goals"].items())
        lag = f"{f['lag_p95_s'] * 1000:.0f} ms" if run.lags_s else "not measured"
        print(
            f"  {run.database:<10} {run.topology:<11} {run.clients:>2} client(s): ledger "
            f"{f['ledger']['letters_per_s']:>7,.1f}/s p95 {f['ledger']['p95_ms']:6.1f}; baseline "
            f"{f['baseline']['letters_per_s']:>7,.1f}/s p95 {f['baseline']['p95_ms']:6.1f}; "
            f"ratio {f['ratio']:.3f}; lag p95 {lag}; "
            f"load {run.load_average[0]:.1f}->{run.load_average[1]:.1f}"
            + (f"; {goals}" if goals else "")
        )
    print(json.dumps({"bench": "http_publish", "results": [r.as_json() for r in runs]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
