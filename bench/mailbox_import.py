"""Bulk mailbox import: mailboxes/s of `ebox admin mailbox import`'s path, against raw appends.

What an operator onboarding a municipality's population waits for: ROWS
mailboxes from a CSV (type, id, email, language), on SQLite (a temporary
file) and PostgreSQL (a fresh database, dropped at the end). Timed, as the
command runs them (ebox.cli.admin_mailboxes):

- check: `read_mailbox_file`, every row's check digits, email and language;
- open: `EboxLedger.open_mailboxes` per batch: a fresh X25519 key pair per
  mailbox, its private key sealed under the KEK, Opened + EncryptionKeyAdded +
  ContactSet hashed into each chain, events and sealed keys in one transaction;
- re-run: the same file again (every mailbox already open, skipped and counted).

Baseline, in the same run and on a fresh database of the same kind: a plain
eventsourcing `Application` (same persistence module) appends as many events
as the import recorded, in aggregates of as many events each, padded to the
same mean stored size, one `save` per batch of the same size. It runs just
before and just after the import (each round on its own table) and the rate is
both rounds' events over both rounds' time. The ratio printed is the import's
events/s over the baseline's: what the ledger's chain, keys and checks cost.

    .venv/bin/python bench/mailbox_import.py                 # 100,000 rows, both databases
    .venv/bin/python bench/mailbox_import.py --rows 10000 --no-postgres
"""

from __future__ import annotations

import argparse
import random
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ebox.adapters.mailbox_file import read_mailbox_file
from ebox.adapters.runtime import Ledger, open_ledger
from ebox.adapters.schema import upgrade

POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def write_csv(path: Path, rows: int, seed: int) -> None:
    """`rows` distinct citizens (valid NRNs, born 1950-1999) with an email and a language."""
    rng, seen = random.Random(seed), set[str]()
    languages = ("nl", "fr", "de", "en")
    with path.open("w") as out:
        out.write("type,id,email,language\n")
        while len(seen) < rows:
            body = f"{rng.randint(50, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            body += f"{rng.randint(1, 997):03d}"
            nrn = f"{body}{97 - int(body) % 97:02d}"
            if nrn in seen:
                continue
            seen.add(nrn)
            out.write(f"citizen,{nrn},p{len(seen)}@example.be,{rng.choice(languages)}\n")


@dataclass
class Figures:
    database: str
    rows: int
    check_s: float = 0.0
    open_s: float = 0.0
    rerun_s: float = 0.0
    events: int = 0
    mean_state: float = 0.0
    baseline_events: int = 0
    baseline_s: float = 0.0
    baseline_state: float = 0.0

    @property
    def mailboxes_per_s(self) -> float:
        return self.rows / (self.check_s + self.open_s)

    @property
    def events_per_s(self) -> float:
        return self.events / (self.check_s + self.open_s)

    @property
    def baseline_events_per_s(self) -> float:
        return self.baseline_events / self.baseline_s


def import_file(ledger: Ledger, csv: Path, batch: int) -> tuple[float, float, int, int]:
    """The command's path: check the whole file, then open in batches. (check s, open s, ...)."""
    started = time.perf_counter()
    checked = read_mailbox_file(csv)
    checked_at = time.perf_counter()
    opened = already = 0
    for start in range(0, len(checked.rows), batch):
        new, old = ledger.app.open_mailboxes(checked.rows[start : start + batch])
        opened, already = opened + new, already + old
    return checked_at - started, time.perf_counter() - checked_at, opened, already


def stored_events(ledger: Ledger) -> tuple[int, float]:
    with ledger.db.read() as session:
        count, mean = session.execute(
            text("SELECT count(*), avg(length(state)) FROM ebox_events")
        ).one()
    return int(count), float(mean or 0)


class Row(Aggregate):
    """A baseline aggregate: created, then as many more events as a mailbox records."""

    def __init__(self, payload: str) -> None:
        self.payload = payload

    @event("Changed")
    def change(self, payload: str) -> None:
        self.payload = payload


class BaselineBefore(Application):  # type: ignore[type-arg]
    name = "MailboxBaselineBefore"


class BaselineAfter(Application):  # type: ignore[type-arg]
    name = "MailboxBaselineAfter"


def baseline(
    url: str, app_class: type[Application], count: int, per: int, size: float, batch: int
) -> tuple[int, float, float]:
    """Append `count` aggregates of `per` events each, padded to `size`: (events, s, mean size)."""
    app = app_class(
        {
            "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
            "SQLALCHEMY_URL": url,
            "CREATE_TABLE": "y",
        }
    )
    try:
        probe = app.mapper.to_stored_event(Row(payload="").collect_events()[0])
        payload = "x" * max(0, round(size) - len(probe.state))
        sizes = _sizes(app, payload, per)
        payload = "x" * max(0, len(payload) + round(size - sum(sizes) / len(sizes)))
        sizes = _sizes(app, payload, per)  # the mean of the created and the changed events
        events = 0
        started = time.perf_counter()
        for start in range(0, count, batch):
            rows = []
            for _ in range(min(batch, count - start)):
                row = Row(payload=payload)
                for _ in range(per - 1):
                    row.change(payload)
                rows.append(row)
            events += len(app.save(*rows))
        return events, time.perf_counter() - started, sum(sizes) / len(sizes)
    finally:
        app.close()


def _sizes(app: Application, payload: str, per: int) -> list[int]:  # type: ignore[type-arg]
    sample = Row(payload=payload)
    for _ in range(per - 1):
        sample.change(payload)
    return [len(app.mapper.to_stored_event(e).state) for e in sample.collect_events()]


def measure(name: str, url: str, base_url: str, csv: Path, home: Path, args: Any) -> Figures:
    figures = Figures(name, args.rows)
    ledger = open_ledger(url, home=home)
    try:
        # The import's own size per event, from a small probe file (untimed, then removed).
        probe = csv.with_name("probe.csv")
        write_csv(probe, 200, seed=args.seed + 1)
        import_file(ledger, probe, args.batch)
        probe_events, probe_state = stored_events(ledger)
        per = round(probe_events / 200)
        before = baseline(base_url, BaselineBefore, args.rows // 2, per, probe_state, args.batch)
        check_s, open_s, opened, _ = import_file(ledger, csv, args.batch)
        assert opened == args.rows, opened
        figures.check_s, figures.open_s = check_s, open_s
        events, figures.mean_state = stored_events(ledger)
        figures.events = events - probe_events
        after = baseline(
            base_url, BaselineAfter, args.rows - args.rows // 2, per, probe_state, args.batch
        )
        rerun_check, rerun_open, reopened, skipped = import_file(ledger, csv, args.batch)
        assert (reopened, skipped) == (0, args.rows)
        figures.rerun_s = rerun_check + rerun_open
        figures.baseline_events = before[0] + after[0]
        figures.baseline_s = before[1] + after[1]
        figures.baseline_state = (before[2] + after[2]) / 2
    finally:
        ledger.close()
    return figures


@contextmanager
def postgres_databases(server: str) -> Iterator[tuple[str, str]]:
    """Two fresh databases on `server`: the ledger's (migrated) and the baseline's."""
    names = [f"ebox_bench_import_{secrets.token_hex(4)}", f"ebox_bench_base_{secrets.token_hex(4)}"]
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    urls = [make_url(server).set(database=n).render_as_string(hide_password=False) for n in names]
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        upgrade(urls[0])
        yield urls[0], urls[1]
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def report(figures: Figures) -> None:
    f = figures
    print(f"\n{f.database}: {f.rows:,} mailboxes")
    print(f"  check the file          {f.check_s:8.2f} s")
    print(f"  open (batches)          {f.open_s:8.2f} s")
    print(
        f"  import                  {f.mailboxes_per_s:8.0f} mailboxes/s"
        f"  ({f.events:,} events, {f.events_per_s:,.0f} events/s, mean state {f.mean_state:.0f} B)"
    )
    print(f"  re-run (all skipped)    {f.rerun_s:8.2f} s  ({f.rows / f.rerun_s:,.0f} rows/s)")
    print(
        f"  baseline append         {f.baseline_events_per_s:8,.0f} events/s"
        f"  ({f.baseline_events:,} events, mean state {f.baseline_state:.0f} B)"
    )
    print(f"  ratio import / baseline {f.events_per_s / f.baseline_events_per_s:8.2f} (events/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="mailboxes per transaction")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--postgres", default=POSTGRES, help="server URL (its maintenance db)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ebox-bench-import-") as tmp:
        root = Path(tmp)
        csv = root / "people.csv"
        write_csv(csv, args.rows, args.seed)
        print(f"{args.rows:,} rows, batches of {args.batch}, file {csv.stat().st_size:,} bytes")
        if args.sqlite:
            url, base = f"sqlite:///{root / 'ledger.sqlite'}", f"sqlite:///{root / 'base.sqlite'}"
            report(measure("SQLite", url, base, csv, root / "home-sqlite", args))
        if not args.no_postgres:
            with postgres_databases(args.postgres) as (url, base):
                report(measure("PostgreSQL", url, base, csv, root / "home-postgres", args))


if __name__ == "__main__":
    main()
