"""Benchmark of the ledger core: letters published end to end, against raw eventsourcing.

For each database (SQLite in a temporary directory, PostgreSQL in fresh
databases created and dropped by the run) it

1. opens a ledger, registers the demo senders and opens many mailboxes (untimed);
2. has the senders build and sign N letters on their side (untimed: the sender
   signs, not the ledger);
3. times the ledger's own work: ``publish_many`` in batches (signature check,
   encryption, key wrapping, hash chain, append of Sent, blobs and wrapped keys
   in one transaction per batch), the delivery worker (Delivered per letter) and
   the sealer (every new event a Merkle leaf, signed checkpoints);
4. in the same run, on the same kind of database and server, appends the same
   number of events through a plain eventsourcing ``Application`` (same
   persistence module, its own fresh database) in batches of the same size,
   with payloads as large as the ledger's stored events: the baseline;
5. hashes the same number of leaves in memory with ``root_of`` (sealing baseline).

It prints one table per database, the goals and whether each is met, and a
final JSON line of every figure. Figures are measured, never adjusted.

Run ``python bench/publish.py --help`` for the options; see bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import random
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ebox.adapters.runtime import Ledger, open_ledger
from ebox.adapters.schema import upgrade
from ebox.cli.demo import DemoSender, letters, setup_senders
from ebox.cli.demo_data import SENDERS, kbo, national_register_number
from ebox.domain.message import Message
from ebox.domain.proofs.merkle import leaf_hash, root_of
from ebox.domain.publication import Publication, Recipient
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.sealer import Sealer

DEFAULT_LETTERS = 20_000
DEFAULT_BATCH = 500
DEFAULT_MAILBOXES = 1_000
DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
POSTGRES_URL_ENV = "EBOX_BENCH_POSTGRES_URL"

GOAL_LETTERS_PER_SECOND = 1_500.0
GOAL_RATIO = 0.5
GOAL_SEALING_LEAVES_PER_SECOND = 20_000.0
GOAL_BATCH = 500
# Letters published before the clock starts, to size the baseline's payloads.
PROBE_LETTERS = 12
# Opening mailboxes is setup, not measured: commit them this many at a time.
MAILBOXES_PER_COMMIT = 250


# --------------------------------------------------------------------------- figures


@dataclass
class Figures:
    database: str
    letters: int
    batch: int
    mailboxes: int
    published: int = 0
    delivered: int = 0
    events_recorded: int = 0
    leaves_sealed: int = 0
    checkpoints: int = 0
    sender_signing_s: float = 0.0
    publish_s: float = 0.0
    deliver_s: float = 0.0
    seal_s: float = 0.0
    sent_state_bytes: float = 0.0
    delivered_state_bytes: float = 0.0
    baseline_events: int = 0
    baseline_before_s: float = 0.0
    baseline_after_s: float = 0.0
    baseline_sent_state_bytes: float = 0.0
    baseline_delivered_state_bytes: float = 0.0
    raw_sealing_leaves: int = 0
    raw_sealing_s: float = 0.0
    load_average_start: float = 0.0
    load_average_end: float = 0.0
    profiled: bool = False
    goals: dict[str, bool] = field(default_factory=dict)

    @property
    def publish_letters_per_s(self) -> float:
        return _rate(self.published, self.publish_s)

    @property
    def deliver_letters_per_s(self) -> float:
        return _rate(self.delivered, self.deliver_s)

    @property
    def sealing_leaves_per_s(self) -> float:
        return _rate(self.leaves_sealed, self.seal_s)

    @property
    def end_to_end_s(self) -> float:
        return self.publish_s + self.deliver_s + self.seal_s

    @property
    def end_to_end_letters_per_s(self) -> float:
        return _rate(self.published, self.end_to_end_s)

    @property
    def ledger_events_per_s(self) -> float:
        return _rate(self.events_recorded, self.publish_s + self.deliver_s)

    @property
    def baseline_s(self) -> float:
        return self.baseline_before_s + self.baseline_after_s

    @property
    def baseline_events_per_s(self) -> float:
        """Both rounds together: the events of both over the time of both."""
        return _rate(self.baseline_events, self.baseline_s)

    @property
    def baseline_before_events_per_s(self) -> float:
        return _rate(self.baseline_events // 2, self.baseline_before_s)

    @property
    def baseline_after_events_per_s(self) -> float:
        return _rate(self.baseline_events // 2, self.baseline_after_s)

    @property
    def ratio(self) -> float:
        base = self.baseline_events_per_s
        return self.ledger_events_per_s / base if base else 0.0

    @property
    def raw_sealing_leaves_per_s(self) -> float:
        return _rate(self.raw_sealing_leaves, self.raw_sealing_s)

    @property
    def sealing_ratio(self) -> float:
        base = self.raw_sealing_leaves_per_s
        return self.sealing_leaves_per_s / base if base else 0.0

    def judge(self) -> None:
        self.goals = {
            "end_to_end_letters_per_s": self.end_to_end_letters_per_s >= GOAL_LETTERS_PER_SECOND,
            "ratio": self.ratio >= GOAL_RATIO,
            "sealing_leaves_per_s": self.sealing_leaves_per_s >= GOAL_SEALING_LEAVES_PER_SECOND,
        }

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in (
            "publish_letters_per_s",
            "deliver_letters_per_s",
            "sealing_leaves_per_s",
            "end_to_end_s",
            "end_to_end_letters_per_s",
            "ledger_events_per_s",
            "baseline_s",
            "baseline_events_per_s",
            "baseline_before_events_per_s",
            "baseline_after_events_per_s",
            "ratio",
            "raw_sealing_leaves_per_s",
            "sealing_ratio",
        ):
            data[name] = round(getattr(self, name), 3)
        for name, value in data.items():
            if isinstance(value, float):
                data[name] = round(value, 4)
        return data


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


# --------------------------------------------------------------------------- timing


class Stopwatch:
    """Times phases, optionally under cProfile (the profile is kept per phase)."""

    def __init__(self, profile: bool) -> None:
        self.profile = profile
        self.profiles: dict[str, pstats.Stats] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[list[float]]:
        result = [0.0]
        gc.collect()
        profiler = cProfile.Profile() if self.profile else None
        start = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        try:
            yield result
        finally:
            if profiler is not None:
                profiler.disable()
            result[0] = time.perf_counter() - start
            if profiler is not None:
                self.profiles[name] = pstats.Stats(profiler)


def print_profile(title: str, stats: pstats.Stats, top: int, sort: str) -> None:
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.strip_dirs().sort_stats(sort).print_stats(top)
    print(f"\n--- cProfile, {title}: top {top} by {sort} ---")
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    print("\n".join(lines[max(0, start - 3) :]))


# --------------------------------------------------------------------------- setup (untimed)


def open_mailboxes(ledger: Ledger, rng: random.Random, people: int) -> list[Recipient]:
    """Open `people` citizen eBoxes plus the enterprise ones, a few hundred per commit.

    Each goes through the application's own `open_mailbox` (key pair, vault,
    Opened and key events); only the commits are grouped, which the datastore
    allows by nesting in one outer transaction.
    """
    numbers: dict[str, None] = {}
    while len(numbers) < people:
        numbers[national_register_number(rng)] = None
    recipients = [Recipient("citizen", n) for n in numbers]
    recipients += [Recipient("enterprise", kbo(base)) for base, _names in SENDERS[2:]]
    for start in range(0, len(recipients), MAILBOXES_PER_COMMIT):
        with ledger.db.write():
            for recipient in recipients[start : start + MAILBOXES_PER_COMMIT]:
                ledger.app.open_mailbox(recipient.ebox_type, recipient.id_value)
    return recipients


def signed_letters(
    senders: list[DemoSender], recipients: list[Recipient], count: int, rng: random.Random
) -> list[Publication]:
    return list(letters(senders, recipients, count, rng))


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --------------------------------------------------------------------------- ledger run


def run_ledger(
    url: str,
    home: Path,
    args: argparse.Namespace,
    figures: Figures,
    watch: Stopwatch,
    baseline: Callable[[str, dict[str, float]], None],
) -> None:
    """Set up (untimed), then baseline round, timed ledger phases, baseline round.

    The baseline runs once just before and once just after the ledger's timed
    phases, so a load that drifts during the run (other processes on the
    machine) weighs on both sides alike.
    """
    rng = random.Random(args.seed)
    ledger = open_ledger(url, home=home)
    try:
        app = ledger.app
        senders = setup_senders(ledger)
        recipients = open_mailboxes(ledger, rng, args.mailboxes)
        figures.mailboxes = len(recipients)

        start = time.perf_counter()
        publications = signed_letters(senders, recipients, args.letters, rng)
        figures.sender_signing_s = time.perf_counter() - start

        # A few probe letters give the size of the ledger's stored events, which
        # the baseline's payloads copy.
        probes = signed_letters(senders, recipients, PROBE_LETTERS, random.Random(args.seed + 1))
        check(all(o.ok for o in app.publish_many(probes)), "a probe letter was refused")
        worker = DeliveryWorker(ledger, batch_size=args.batch)
        worker.run_until_idle()
        probe_sizes = mean_state_sizes(ledger)

        # Seal the setup events first, so the timed sealing covers the letters' events only.
        sealer = Sealer(ledger)
        sealer.run_until_idle()
        sealer.checkpoint_now()
        before = count_events(ledger)

        baseline("before", probe_sizes)

        with watch.phase(f"{figures.database}: publish") as elapsed:
            published = 0
            for batch in chunks(publications, args.batch):
                published += sum(1 for outcome in app.publish_many(batch) if outcome.ok)
        figures.publish_s, figures.published = elapsed[0], published

        with watch.phase(f"{figures.database}: deliver") as elapsed:
            delivered = worker.run_until_idle()
        figures.deliver_s, figures.delivered = elapsed[0], delivered

        checkpoints_before = count_checkpoints(ledger)
        with watch.phase(f"{figures.database}: seal") as elapsed:
            sealed = sealer.run_until_idle()
            sealer.checkpoint_now()
        figures.seal_s, figures.leaves_sealed = elapsed[0], sealed
        figures.checkpoints = count_checkpoints(ledger) - checkpoints_before

        baseline("after", probe_sizes)

        after = count_events(ledger)
        figures.events_recorded = after["total"] - before["total"]
        sizes = mean_state_sizes(ledger)
        figures.sent_state_bytes = sizes["sent"]
        figures.delivered_state_bytes = sizes["delivered"]
        check(figures.published == args.letters, f"published {figures.published} of {args.letters}")
        check(figures.delivered == figures.published, f"delivered {figures.delivered}")
        check(
            figures.events_recorded == 2 * figures.published,
            f"recorded {figures.events_recorded} events for {figures.published} letters",
        )
        check(figures.leaves_sealed == figures.events_recorded, f"sealed {figures.leaves_sealed}")
    finally:
        ledger.close()


def topic_of(cls: type) -> str:
    from eventsourcing.utils import get_topic

    return get_topic(cls)


def events_table(ledger: Ledger) -> Any:
    return ledger.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]


def count_events(ledger: Ledger) -> dict[str, int]:
    table = events_table(ledger)
    with ledger.db.read() as session:
        total = session.execute(select(func.count()).select_from(table)).scalar()
    return {"total": int(total or 0)}


def count_checkpoints(ledger: Ledger) -> int:
    from ebox.adapters.tables import checkpoints

    with ledger.db.read() as session:
        return int(session.execute(select(func.count()).select_from(checkpoints)).scalar() or 0)


def mean_state_sizes(ledger: Ledger) -> dict[str, float]:
    """Mean stored state of the letters' events, by kind (`sent`, `delivered`)."""
    table = events_table(ledger)
    query = select(table.c.topic, func.avg(func.length(table.c.state))).group_by(table.c.topic)
    with ledger.db.read() as session:
        by_topic = {topic: float(size) for topic, size in session.execute(query)}
    return {
        "sent": by_topic.get(topic_of(Message.Sent), 0.0),
        "delivered": by_topic.get(topic_of(Message.Delivered), 0.0),
    }


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"benchmark run is not valid: {message}")


# --------------------------------------------------------------------------- baselines


class BaselineLetter(Aggregate):
    """A plain eventsourcing aggregate: no chain, no crypto, just a payload."""

    @event("Sent")
    def __init__(self, payload: str) -> None:
        self.payload = payload
        self.delivered = False

    @event("Delivered")
    def deliver(self, payload: str) -> None:
        self.delivered = True


class BaselineApp(Application):  # type: ignore[type-arg]
    name = "EboxBenchBaseline"


class BaselineAppBefore(BaselineApp):
    name = "EboxBenchBaselineBefore"


class BaselineAppAfter(BaselineApp):
    name = "EboxBenchBaselineAfter"


BASELINE_APPS: dict[str, type[BaselineApp]] = {
    "before": BaselineAppBefore,
    "after": BaselineAppAfter,
}


def padding_for(app: BaselineApp, target_bytes: float, make: Callable[[str], Any]) -> str:
    """A payload that makes the stored event state about `target_bytes` long."""
    overhead = len(app.mapper.to_stored_event(make("")).state)
    return "x" * max(0, round(target_bytes) - overhead)


def run_baseline(
    url: str,
    round_name: str,
    sizes: dict[str, float],
    args: argparse.Namespace,
    figures: Figures,
    watch: Stopwatch,
) -> None:
    """Sent then Delivered for `letters` plain aggregates, appended raw, in the same batches.

    Each round has its own application name, hence its own fresh events table.
    """
    app = BASELINE_APPS[round_name](
        {
            "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
            "SQLALCHEMY_URL": url,
            "CREATE_TABLE": "y",
        }
    )
    try:
        probe = BaselineLetter(payload="")
        sent_payload = padding_for(
            app, sizes["sent"], lambda p: BaselineLetter(payload=p).collect_events()[0]
        )

        def delivered_event(payload: str) -> Any:
            probe.deliver(payload)
            return probe.collect_events()[-1]

        delivered_payload = padding_for(app, sizes["delivered"], delivered_event)
        count = args.letters
        with watch.phase(f"{figures.database}: baseline append ({round_name})") as elapsed:
            aggregates: list[BaselineLetter] = []
            for start in range(0, count, args.batch):
                batch = [
                    BaselineLetter(payload=sent_payload)
                    for _ in range(min(args.batch, count - start))
                ]
                app.save(*batch)
                aggregates.extend(batch)
            for chunk in chunks(aggregates, args.batch):
                for aggregate in chunk:
                    aggregate.deliver(delivered_payload)
                app.save(*chunk)
        if round_name == "before":
            figures.baseline_before_s = elapsed[0]
        else:
            figures.baseline_after_s = elapsed[0]
        figures.baseline_events += 2 * count

        table = app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        query = select(table.c.topic, func.avg(func.length(table.c.state))).group_by(table.c.topic)
        with app.factory.datastore.transaction(commit=False) as session:  # type: ignore[attr-defined]
            stored = session.execute(select(func.count()).select_from(table)).scalar()
            by_topic = {topic: float(size) for topic, size in session.execute(query)}
        check(stored == 2 * count, f"baseline {round_name} stored {stored} events")
        figures.baseline_sent_state_bytes = by_topic.get(topic_of(BaselineLetter.Sent), 0.0)  # type: ignore[attr-defined]
        figures.baseline_delivered_state_bytes = by_topic.get(
            topic_of(BaselineLetter.Delivered),  # type: ignore[attr-defined]
            0.0,
        )
    finally:
        app.close()
        engine = app.factory.datastore.engine  # type: ignore[attr-defined]
        if engine is not None:
            engine.dispose()


def run_raw_sealing(figures: Figures) -> None:
    """SHA-256 leaf hashes and the RFC 6962 root of as many leaves, in memory."""
    event_hashes = [secrets.token_bytes(32) for _ in range(figures.leaves_sealed)]
    gc.collect()
    start = time.perf_counter()
    root_of([leaf_hash(h) for h in event_hashes])
    figures.raw_sealing_s = time.perf_counter() - start
    figures.raw_sealing_leaves = len(event_hashes)


# --------------------------------------------------------------------------- databases


def with_database(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def admin(server_url: str, statement: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


@contextmanager
def postgres_databases(server_url: str) -> Iterator[tuple[str, str]]:
    suffix = secrets.token_hex(4)
    names = (f"ebox_bench_{suffix}", f"ebox_bench_base_{suffix}")
    created: list[str] = []
    try:
        for name in names:
            admin(server_url, f'CREATE DATABASE "{name}"')
            created.append(name)
        ledger_url, baseline_url = (with_database(server_url, n) for n in names)
        upgrade(ledger_url)
        yield ledger_url, baseline_url
    finally:
        for name in created:
            admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def sqlite_databases() -> Iterator[tuple[str, str, Path]]:
    workdir = Path(tempfile.mkdtemp(prefix="ebox-bench-"))
    try:
        yield (
            f"sqlite:///{workdir / 'ledger.sqlite'}",
            f"sqlite:///{workdir / 'baseline.sqlite'}",
            workdir,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def bench_database(
    name: str, ledger_url: str, baseline_url: str, home: Path, args: argparse.Namespace
) -> Figures:
    figures = Figures(database=name, letters=args.letters, batch=args.batch, mailboxes=0)
    watch = Stopwatch(args.profile)
    figures.profiled = args.profile
    print(f"\n[{name}] ledger {redact(ledger_url)}, baseline {redact(baseline_url)}", flush=True)
    figures.load_average_start = load_average()

    def baseline(round_name: str, sizes: dict[str, float]) -> None:
        print(f"[{name}] eventsourcing baseline, round {round_name} the ledger ...", flush=True)
        run_baseline(baseline_url, round_name, sizes, args, figures, watch)
        if round_name == "before":
            print(f"[{name}] ledger: publish, deliver, seal ...", flush=True)

    run_ledger(ledger_url, home, args, figures, watch, baseline)
    run_raw_sealing(figures)
    figures.load_average_end = load_average()
    figures.judge()
    print_table(figures)
    for title, stats in watch.profiles.items():
        print_profile(title, stats, args.profile_top, args.profile_sort)
    return figures


# --------------------------------------------------------------------------- report


def load_average() -> float:
    """The 1-minute load average (0 where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def print_table(f: Figures) -> None:
    def met(goal: str) -> str:
        return "met" if f.goals.get(goal) else "NOT met"

    rows: list[tuple[str, str, str]] = [
        ("letters published / delivered", f"{f.published:,} / {f.delivered:,}", ""),
        ("batch size", f"{f.batch:,}", ""),
        ("mailboxes (recipients)", f"{f.mailboxes:,}", ""),
        ("sender-side signing (untimed)", f"{f.sender_signing_s:.2f} s", ""),
        ("publish", f"{f.publish_s:.2f} s  {f.publish_letters_per_s:,.0f} letters/s", ""),
        ("delivery", f"{f.deliver_s:.2f} s  {f.deliver_letters_per_s:,.0f} letters/s", ""),
        (
            "sealing",
            f"{f.seal_s:.2f} s  {f.sealing_leaves_per_s:,.0f} leaves/s"
            f"  ({f.leaves_sealed:,} leaves, {f.checkpoints} checkpoints)",
            f">= {GOAL_SEALING_LEAVES_PER_SECOND:,.0f}: {met('sealing_leaves_per_s')}",
        ),
        (
            "end to end (publish+deliver+seal)",
            f"{f.end_to_end_s:.2f} s  {f.end_to_end_letters_per_s:,.0f} letters/s",
            f">= {GOAL_LETTERS_PER_SECOND:,.0f}: {met('end_to_end_letters_per_s')}",
        ),
        (
            "ledger events/s (publish+deliver)",
            f"{f.ledger_events_per_s:,.0f}  ({f.events_recorded:,} events)",
            "",
        ),
        (
            "baseline eventsourcing append",
            f"{f.baseline_s:.2f} s  {f.baseline_events_per_s:,.0f} events/s"
            f"  ({f.baseline_events:,} events in 2 rounds)",
            "",
        ),
        (
            "  round before / after the ledger",
            f"{f.baseline_before_events_per_s:,.0f} / "
            f"{f.baseline_after_events_per_s:,.0f} events/s",
            "",
        ),
        (
            "ratio ledger / baseline events/s",
            f"{f.ratio:.3f}",
            f">= {GOAL_RATIO}: {met('ratio')}",
        ),
        (
            "baseline in-memory sealing",
            f"{f.raw_sealing_leaves_per_s:,.0f} leaves/s  (sealer at {f.sealing_ratio:.3f} of it)",
            "",
        ),
        (
            "mean stored state, Sent / Delivered",
            f"ledger {f.sent_state_bytes:,.0f} / {f.delivered_state_bytes:,.0f} B, "
            f"baseline {f.baseline_sent_state_bytes:,.0f} / "
            f"{f.baseline_delivered_state_bytes:,.0f} B",
            "",
        ),
        (
            "load average (1 min), start / end",
            f"{f.load_average_start:.2f} / {f.load_average_end:.2f}  on {os.cpu_count()} CPUs",
            "",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    title = f"{f.database}: {f.letters:,} letters in batches of {f.batch}"
    if f.profiled:
        title += "  (UNDER cProfile: timings inflated, not benchmark figures)"
    print(f"\n{title}")
    print("-" * (width + vwidth + 30))
    for label, value, goal in rows:
        print(f"{label:<{width}}  {value:<{vwidth}}  {goal}")
    if f.batch != GOAL_BATCH:
        print(f"(the goals are set for batches of {GOAL_BATCH}; this run used {f.batch})")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Publish N letters end to end on SQLite and PostgreSQL, "
        "against a raw eventsourcing append baseline measured in the same run."
    )
    parser.add_argument("--letters", type=int, default=DEFAULT_LETTERS, help="letters per database")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="letters per transaction")
    parser.add_argument(
        "--mailboxes", type=int, default=DEFAULT_MAILBOXES, help="citizen mailboxes to open"
    )
    parser.add_argument("--seed", type=int, default=2024, help="random seed of the test data")
    parser.add_argument(
        "--sqlite", action=argparse.BooleanOptionalAction, default=True, help="bench SQLite"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL,
        help=f"PostgreSQL server URL (default ${POSTGRES_URL_ENV} or {DEFAULT_POSTGRES_URL}); "
        "fresh databases are created on it and dropped at the end",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run each timed phase under cProfile and print the hot spots (inflates timings)",
    )
    parser.add_argument("--profile-top", type=int, default=25, help="rows of each profile")
    parser.add_argument(
        "--profile-sort",
        default="cumulative",
        choices=["cumulative", "tottime", "ncalls"],
        help="order of the profile rows",
    )
    args = parser.parse_args(argv)
    if args.letters < 1 or args.batch < 1 or args.mailboxes < 1:
        parser.error("--letters, --batch and --mailboxes must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"eBox ledger benchmark: {args.letters:,} letters, batches of {args.batch}, "
        f"{args.mailboxes:,} citizen mailboxes; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs"
    )
    idle = load_average()
    print(f"load average (1 min) before the run: {idle:.2f}")
    if idle > 0.5:
        print(
            "  other processes are busy on this machine: every figure, the baselines' too, "
            "will be lower than on an idle one"
        )
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="ebox-bench-home-") as home_dir:
        home = Path(home_dir)
        if args.sqlite:
            with sqlite_databases() as (ledger_url, baseline_url, _workdir):
                results.append(bench_database("sqlite", ledger_url, baseline_url, home, args))
        if not args.no_postgres:
            with postgres_databases(args.postgres) as (ledger_url, baseline_url):
                results.append(bench_database("postgresql", ledger_url, baseline_url, home, args))
    if not results:
        print("nothing to do: both databases were switched off")
        return 2
    print("\nSummary")
    for f in results:
        verdict = ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in f.goals.items())
        print(
            f"  {f.database:<10} {f.end_to_end_letters_per_s:>8,.0f} letters/s end to end, "
            f"publish {f.publish_letters_per_s:,.0f}/s, ratio {f.ratio:.3f}, "
            f"sealing {f.sealing_leaves_per_s:,.0f} leaves/s: {verdict}"
        )
    print(json.dumps({"bench": "publish", "results": [f.as_json() for f in results]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
