"""Benchmark of the consultation listing: one eBox's message page among a million messages.

For each database (PostgreSQL in a fresh database created and dropped by the
run; optionally SQLite in a temporary directory) it

1. migrates the database and sets up a small *real* ledger (untimed): the demo
   senders with their applications and message types, the benchmarked citizen
   eBox and the largest one opened through ``open_mailbox`` (the route loads the
   Mailbox aggregate from the event store), and a dozen real letters published,
   delivered and projected into the inbox view. Those letters are the templates
   of the bulk rows;
2. bulk-loads the inbox view (``inbox_messages``) with N messages (default
   1,000,000) spread Zipf-like over many citizen eBoxes (default 50,000; the
   largest holds 20,000, the benchmarked one 2,000). The rows are copied from
   the projected templates (same columns, same JSON shapes, as the projection
   writes them) with new ids, dates, digests, sizes and read / archived /
   hidden / expired flags, in receipt order, so one eBox's rows are spread over
   the table as in a real log. Loading goes straight into the view table (COPY
   on PostgreSQL, with the secondary indexes dropped and recreated from their
   own definitions; executemany on SQLite), then VACUUM / ANALYZE: publishing a
   million letters through the ledger would take hours on a small machine, and
   the listing reads the view only;
3. starts the real API (``create_app``) under uvicorn in a child process on a
   free port of 127.0.0.1, mints a person token for the benchmarked eBox, warms
   up, and issues M GET requests per scenario through one keep-alive httpx
   client, timing each (client side; the server adds its own time per request
   in a ``Server-Timing`` header, split into token check, Mailbox load, view
   query, consultation upsert and JSON rendering);
4. in the same run, reads the same page with the very SQL statements the view
   sends (captured from SQLAlchemy), executed directly through the DB-API driver
   (psycopg2 / sqlite3) in one read transaction: page plus count, M times; and
   calls ``InboxView.messages`` in process (no HTTP) M times;
5. prints EXPLAIN (ANALYZE, BUFFERS) of the listing and count on PostgreSQL.

It prints one table per database, the goal (p95 over HTTP at most 15 ms on
PostgreSQL, page 1 of the benchmarked eBox) with met / NOT met, and a final
JSON line of every figure. Figures are measured, never adjusted.

Run ``python bench/inbox.py --help`` for the options; see bench/README.md.
"""

from __future__ import annotations

import argparse
import contextvars
import csv
import hashlib
import io
import json
import math
import os
import platform
import queue
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ebox.adapters.runtime import Ledger, open_ledger
from ebox.adapters.schema import upgrade
from ebox.adapters.tables import inbox_messages, ref_sender_organizations
from ebox.api.oidc import mint_person_token
from ebox.api.settings import Settings
from ebox.cli.demo import letters, setup_senders
from ebox.cli.demo_data import national_register_number
from ebox.domain.ids import mailbox_id
from ebox.domain.publication import Recipient
from ebox.projections.delivery import DeliveryWorker
from ebox.projections.inbox import LANGUAGES, InboxView, MessageFilter, search_words
from ebox.projections.runner import EboxId, ViewRunner
from ebox.projections.search import MARK_LENGTH, scoped_document

DEFAULT_MESSAGES = 1_000_000
DEFAULT_SQLITE_MESSAGES = 200_000
DEFAULT_MAILBOXES = 50_000
DEFAULT_LARGEST = 20_000
DEFAULT_TARGET = 2_000
DEFAULT_REQUESTS = 1_000
DEFAULT_ROUNDS = 10
DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
POSTGRES_URL_ENV = "EBOX_BENCH_POSTGRES_URL"

GOAL_P95_MS = 15.0
GOAL_SCENARIO = "page 1"
SEARCH_SCENARIO = "search, page 1"
SEARCH_GOAL_RATIO = 3.0
"""Search p95 at most this many times the plain listing's (page 1, same eBox, same run)."""
SEARCH_LANGUAGE = "nl"
SEARCH_KEY = "_search"
"""Key of a bulk row's search documents (its template's), beside the inbox columns."""
PAGE_SIZE = 25
REAL_LETTERS = 12
"""Real letters published to the benchmarked eBox: 4 senders x 3 message types."""
COPY_CHUNK = 20_000
SQLITE_CHUNK = 5_000
HISTORY_DAYS = 730
SERVER_TIMING = "server-timing"
COMPONENTS = ("auth", "mailbox", "view", "consult", "render")


# --------------------------------------------------------------------------- figures


@dataclass
class Latencies:
    """Milliseconds of n timed calls."""

    samples: list[float] = field(default_factory=list)

    def add(self, ms: float) -> None:
        self.samples.append(ms)

    def pct(self, q: float) -> float:
        """Nearest-rank percentile."""
        if not self.samples:
            return 0.0
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]

    @property
    def mean(self) -> float:
        return sum(self.samples) / len(self.samples) if self.samples else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "n": len(self.samples),
            "p50_ms": round(self.pct(50), 3),
            "p95_ms": round(self.pct(95), 3),
            "p99_ms": round(self.pct(99), 3),
            "mean_ms": round(self.mean, 3),
            "max_ms": round(max(self.samples, default=0.0), 3),
        }


@dataclass
class Scenario:
    name: str
    nrn: str
    params: dict[str, Any]
    filters: MessageFilter
    page: int
    page_size: int = PAGE_SIZE
    expected_total: int = 0
    items_on_page: int = 0
    response_bytes: int = 0
    http: Latencies = field(default_factory=Latencies)
    app: Latencies = field(default_factory=Latencies)
    parts: dict[str, Latencies] = field(default_factory=dict)
    bare_sql: Latencies = field(default_factory=Latencies)
    view: Latencies = field(default_factory=Latencies)
    statements: list[str] = field(default_factory=list)
    explain: list[str] = field(default_factory=list)
    load_average: list[float] = field(default_factory=lambda: [0.0, 0.0])

    def derived(self) -> dict[str, Latencies]:
        """Per request: the app's time outside the timed parts, and the time outside the app."""
        result: dict[str, Latencies] = {}
        if self.app.samples and self.parts:
            other = Latencies()
            for i, app_ms in enumerate(self.app.samples):
                other.add(app_ms - sum(p.samples[i] for p in self.parts.values()))
            result["other"] = other
        if self.app.samples:
            outside = Latencies()
            for http_ms, app_ms in zip(self.http.samples, self.app.samples, strict=True):
                outside.add(http_ms - app_ms)
            result["outside"] = outside
        return result

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": self.params,
            "total_items": self.expected_total,
            "items_on_page": self.items_on_page,
            "response_bytes": self.response_bytes,
            "load_average": [round(x, 2) for x in self.load_average],
            "http": self.http.summary(),
            "server_app": self.app.summary(),
            "server_parts": {k: v.summary() for k, v in self.parts.items()},
            "derived": {k: v.summary() for k, v in self.derived().items()},
            "bare_sql": self.bare_sql.summary(),
            "view_in_process": self.view.summary(),
        }


@dataclass
class Figures:
    database: str
    messages: int
    mailboxes: int
    largest: int
    target: int
    requests: int
    zipf_exponent: float = 0.0
    listed_in_target: int = 0
    load_s: float = 0.0
    rows_per_s: float = 0.0
    table_bytes: int = 0
    indexes_bytes: int = 0
    setup_s: float = 0.0
    load_average_start: float = 0.0
    load_average_end: float = 0.0
    cpu_ms_before: float = 0.0
    cpu_ms_after: float = 0.0
    server: str = ""
    breakdown: bool = True
    scenarios: list[Scenario] = field(default_factory=list)
    goal_met: bool | None = None
    search_word: str = ""
    search_ratio: float = 0.0
    """Search p95 over the plain listing's p95, HTTP, same eBox, same run."""
    search_goal_met: bool | None = None

    def judge(self) -> None:
        main = next(s for s in self.scenarios if s.name == GOAL_SCENARIO)
        search = next(s for s in self.scenarios if s.name == SEARCH_SCENARIO)
        if main.http.samples and search.http.samples:
            self.search_ratio = search.http.pct(95) / main.http.pct(95)
            self.search_goal_met = self.search_ratio <= SEARCH_GOAL_RATIO
        if self.database == "postgresql":
            self.goal_met = main.http.pct(95) <= GOAL_P95_MS

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["scenarios"] = [s.as_json() for s in self.scenarios]
        for name, value in data.items():
            if isinstance(value, float):
                data[name] = round(value, 4)
        return data


def load_average() -> float:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def cpu_calibration() -> float:
    """Milliseconds of a fixed CPU-bound workload, best of 3 (lower is faster).

    On a shared or virtual machine the CPU's speed drifts between runs; this
    figure, printed beside the latencies, tells runs on a slow moment apart.
    """
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        digest = b"ebox"
        for _ in range(50_000):
            digest = hashlib.sha256(digest).digest()
        sum(i * i for i in range(300_000))
        best = min(best, (time.perf_counter() - started) * 1e3)
    return best


def wait_until_healthy(process: subprocess.Popen[bytes], base: str, what: str) -> None:
    """Until `base`/health answers 200 (60 s at most); fails if the server exits first."""
    import httpx  # the bench's client, from the test extras (as below)

    deadline = time.monotonic() + 60
    while True:
        check(process.poll() is None, f"{what} exited at start-up")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        check(time.monotonic() < deadline, f"{what} did not answer /health in 60 s")
        time.sleep(0.2)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"benchmark run is not valid: {message}")


# --------------------------------------------------------------------------- the mailboxes


def zipf_exponent(total: int, mailboxes: int, largest: int) -> float:
    """The s for which counts largest * r^-s over ranks 1..mailboxes add up to total."""

    def total_for(s: float) -> float:
        return sum(largest * r**-s for r in range(1, mailboxes + 1))

    low, high = 0.0, 8.0
    for _ in range(40):
        middle = (low + high) / 2
        if total_for(middle) > total:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def mailbox_counts(
    total: int, mailboxes: int, largest: int, target: int
) -> tuple[list[int], int, float]:
    """Messages per eBox (rank order, largest first), the benchmarked rank and the exponent.

    Zipf-like: the largest eBox holds `largest`, the counts fall as rank^-s with
    s chosen so that they add up to `total`; the eBox whose count is nearest to
    `target` (not the largest) is set to exactly `target` and benchmarked; the
    smallest eBoxes absorb the rounding, so the counts add up to `total` exactly.
    """
    check(mailboxes >= 3, "at least 3 mailboxes")
    check(
        mailboxes <= total <= largest * mailboxes,
        f"{total:,} messages cannot fill {mailboxes:,} eBoxes of at most {largest:,}",
    )
    check(0 < target < largest, "the benchmarked eBox must hold fewer messages than the largest")
    s = zipf_exponent(total, mailboxes, largest)
    counts = [max(1, round(largest * r**-s)) for r in range(1, mailboxes + 1)]
    bench = min(range(1, mailboxes), key=lambda i: abs(counts[i] - target))
    counts[bench] = target
    diff = total - sum(counts)
    i = mailboxes - 1
    while diff:
        if i not in (0, bench) and (diff > 0 or counts[i] > 1):
            step = 1 if diff > 0 else -1
            counts[i] += step
            diff -= step
        i = i - 1 if i > 1 else mailboxes - 1
    return counts, bench, s


def citizen_numbers(rng: random.Random, count: int) -> list[str]:
    numbers: dict[str, None] = {}
    while len(numbers) < count:
        numbers[national_register_number(rng)] = None
    return list(numbers)


# --------------------------------------------------------------------------- real setup (untimed)


def setup_real(ledger: Ledger, bench_nrn: str, largest_nrn: str, seed: int) -> list[dict[str, Any]]:
    """Senders, the two eBoxes the requests read, and real letters: the projected templates."""
    senders = setup_senders(ledger)
    app = ledger.app
    app.open_mailbox("citizen", bench_nrn)
    app.open_mailbox("citizen", largest_nrn)
    batch = list(
        letters(senders, [Recipient("citizen", bench_nrn)], REAL_LETTERS, random.Random(seed))
    )
    outcomes = app.publish_many(batch)
    check(all(o.ok for o in outcomes), "a real letter was refused")
    DeliveryWorker(ledger).run_until_idle()
    ViewRunner(ledger, ["inbox"]).run_until_idle()
    with ledger.db.read() as session:
        rows = [dict(r) for r in session.execute(select(inbox_messages)).mappings()]
    check(len(rows) == REAL_LETTERS, f"the inbox view holds {len(rows)} real letters")
    check(all(r["receipt_date"] is not None for r in rows), "a real letter was not delivered")
    return rows


def search_documents(ledger: Ledger) -> dict[str, dict[str, str]]:
    """Each real letter's search row as the projection wrote it, per language.

    PostgreSQL: the tsvectors' text (they depend on the words only, so a bulk
    row copies its template's); SQLite: the words with the mailbox mark taken
    off, marked again with each bulk row's own mailbox when loaded.
    """
    if ledger.db.dialect == "postgresql":
        columns = ", ".join(f"tsv_{lang}::text" for lang in LANGUAGES)
    else:
        columns = ", ".join(LANGUAGES)
    with ledger.db.read() as session:
        rows = session.execute(text(f"SELECT message_id, {columns} FROM inbox_search")).all()
    documents: dict[str, dict[str, str]] = {}
    for message_id, *values in rows:
        docs = dict(zip(LANGUAGES, (v or "" for v in values), strict=True))
        if ledger.db.dialect != "postgresql":
            docs = {k: " ".join(t[MARK_LENGTH:] for t in v.split()) for k, v in docs.items()}
        documents[str(message_id)] = docs
    check(len(documents) == REAL_LETTERS, f"{len(documents)} search rows for the real letters")
    return documents


def search_word(ledger: Ledger, templates: list[dict[str, Any]]) -> str:
    """The word most letters hold (their sender's name or subject), as a person would search.

    The old SQLite search paid for every letter of the table holding it.
    """
    with ledger.db.read() as session:
        names = dict(
            session.execute(
                select(ref_sender_organizations.c.kbo_number, ref_sender_organizations.c.names)
            ).all()
        )
    counts: dict[str, int] = {}
    for t in templates:
        texts = [
            t["subjects"].get(SEARCH_LANGUAGE, ""),
            names[t["sender_kbo"]].get(SEARCH_LANGUAGE, ""),
        ]
        for word in set(search_words(" ".join(texts))):
            if word.isalpha() and len(word) >= 4:
                counts[word] = counts.get(word, 0) + 1
    check(bool(counts), "no word to search in the real letters")
    return min(counts, key=lambda w: (-counts[w], w))


# --------------------------------------------------------------------------- bulk rows


def bulk_rows(
    owners: list[tuple[str, str]],
    templates: list[dict[str, Any]],
    now: datetime,
    rng: random.Random,
) -> Iterator[dict[str, Any]]:
    """One row per entry of `owners` (mailbox id, NRN), in receipt order, as the projection writes.

    Receipts are spread evenly over the last HISTORY_DAYS days, ending an hour
    before the real letters. Older letters are mostly read; some are archived,
    a few hidden; about 4 % of those older than 120 days are expired (their
    content destroyed, so the listings leave them out).
    """
    year = str(now.year)
    start = (now - timedelta(days=HISTORY_DAYS)).timestamp()
    step = (HISTORY_DAYS * 86_400 - 3_600) / max(1, len(owners))
    now_ts = now.timestamp()
    for i, (mailbox, nrn) in enumerate(owners):
        template = templates[i % len(templates)]
        received_ts = start + (i + rng.random()) * step
        received = datetime.fromtimestamp(received_ts, UTC)
        age_days = (now_ts - received_ts) / 86_400
        read = rng.random() < (0.92 if age_days > 30 else 0.4)
        expired = age_days > 120 and rng.random() < 0.05
        expires_ts = received_ts + 90 * 86_400 if expired else now_ts + rng.uniform(1, 730) * 86_400
        attachments = [
            {
                **a,
                "sha256": f"{rng.getrandbits(256):064x}",
                "size": rng.randint(30_000, 350_000)
                if a["main_content"]
                else rng.randint(150, 4_000),
            }
            for a in template["attachments"]
        ]
        yield {
            **template,
            "message_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "mailbox_id": mailbox,
            "ebox_type": "citizen",
            "ebox_id_value": nrn,
            "publication_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "subjects": {
                k: v.replace(year, str(received.year)) for k, v in template["subjects"].items()
            },
            "receipt_date": received,
            "expires_at": datetime.fromtimestamp(expires_ts, UTC),
            "read": read,
            "first_read_at": (
                datetime.fromtimestamp(min(now_ts, received_ts + rng.uniform(60, 259_200)), UTC)
                if read
                else None
            ),
            "visible": rng.random() >= 0.03,
            "archived": read and rng.random() < 0.2,
            "expired": expired,
            "attachments": attachments,
            "total_size": sum(a["size"] for a in attachments),
        }


def plan_owners(
    counts: list[int], numbers: list[str], bench: int, rng: random.Random
) -> list[tuple[str, str]]:
    """The owner of each bulk row, shuffled: eBoxes interleave in receipt order."""
    owners: list[tuple[str, str]] = []
    for rank, (count, nrn) in enumerate(zip(counts, numbers, strict=True)):
        bulk = count - REAL_LETTERS if rank == bench else count
        owners.extend([(str(mailbox_id("citizen", nrn)), nrn)] * bulk)
    rng.shuffle(owners)
    return owners


JSON_COLUMNS = {c.name for c in inbox_messages.columns if c.type.__class__.__name__ == "JSON"}
COLUMNS = [c.name for c in inbox_messages.columns]


def csv_value(name: str, value: Any) -> Any:
    """A CSV field as psycopg2 + SQLAlchemy would store the value (JSON None is JSON null)."""
    if name in JSON_COLUMNS:
        return json.dumps(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------- loading


BULK_TABLES = ("inbox_messages", "inbox_search")
SEARCH_COLUMNS = ["message_id", "mailbox_id", *(f"tsv_{lang}" for lang in LANGUAGES)]


def secondary_indexes(cursor: Any) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN %s "
        "AND indexname NOT LIKE '%%_pkey' ORDER BY indexname",
        (BULK_TABLES,),
    )
    return [(str(n), str(d)) for n, d in cursor.fetchall()]


def load_postgres(url: str, rows: Iterator[dict[str, Any]]) -> int:
    """COPY the rows into inbox_messages and their search rows into inbox_search.

    Secondary indexes (the search table's GIN indexes too) are dropped first and
    rebuilt from their own definitions. A search row copies its template's
    tsvectors, which depend on the words only, not on the mailbox.
    """
    engine = create_engine(url, poolclass=NullPool)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        indexes = secondary_indexes(cursor)
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        raw.commit()

        chunks: queue.Queue[tuple[str, str, int] | None] = queue.Queue(maxsize=4)
        failure: list[BaseException] = []

        def produce() -> None:
            try:
                buffers = (io.StringIO(), io.StringIO())
                writers = [csv.writer(b, lineterminator="\n") for b in buffers]
                pending = 0
                for row in rows:
                    writers[0].writerow([csv_value(c, row[c]) for c in COLUMNS])
                    search = row[SEARCH_KEY]
                    writers[1].writerow(
                        [row["message_id"], row["mailbox_id"], *(search[x] for x in LANGUAGES)]
                    )
                    pending += 1
                    if pending == COPY_CHUNK:
                        chunks.put((buffers[0].getvalue(), buffers[1].getvalue(), pending))
                        buffers = (io.StringIO(), io.StringIO())
                        writers = [csv.writer(b, lineterminator="\n") for b in buffers]
                        pending = 0
                if pending:
                    chunks.put((buffers[0].getvalue(), buffers[1].getvalue(), pending))
            except BaseException as error:
                failure.append(error)
            finally:
                chunks.put(None)

        producer = threading.Thread(target=produce, name="bulk-rows", daemon=True)
        producer.start()
        copy = f"COPY inbox_messages ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
        copy_search = (
            f"COPY inbox_search ({', '.join(SEARCH_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
        )
        loaded = 0
        while (chunk := chunks.get()) is not None:
            cursor.copy_expert(copy, io.StringIO(chunk[0]))
            cursor.copy_expert(copy_search, io.StringIO(chunk[1]))
            loaded += chunk[2]
            raw.commit()
            if loaded % 200_000 < COPY_CHUNK:
                print(f"    {loaded:>10,} rows copied", flush=True)
        producer.join()
        if failure:
            raise failure[0]

        cursor.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in indexes:
            started = time.perf_counter()
            cursor.execute(definition)
            raw.commit()
            print(f"    index {name} rebuilt in {time.perf_counter() - started:.1f} s", flush=True)
        check(
            secondary_indexes(cursor) == indexes, "the rebuilt indexes differ from the migration's"
        )
        raw.commit()
        raw.driver_connection.autocommit = True  # type: ignore[union-attr]
        # The visibility map lets the count read the index alone, as autovacuum
        # would allow on a live table; a checkpoint keeps the load's writes out
        # of the timed requests.
        cursor.execute("VACUUM (ANALYZE) inbox_messages")
        cursor.execute("VACUUM (ANALYZE) inbox_search")
        cursor.execute("ANALYZE")
        try:
            cursor.execute("CHECKPOINT")
        except Exception as error:  # needs pg_checkpoint or superuser
            print(f"    (no CHECKPOINT: {str(error).strip()})")
        return loaded
    finally:
        raw.close()
        engine.dispose()


def load_sqlite(url: str, rows: Iterator[dict[str, Any]]) -> int:
    """executemany through SQLAlchemy Core, as the projection's RowBatch and search insert write."""
    engine = create_engine(url, poolclass=NullPool)
    loaded = 0
    try:
        batch: list[dict[str, Any]] = []
        search_insert = text(
            f"INSERT INTO inbox_search (message_id, {', '.join(LANGUAGES)}) "
            f"VALUES (:message_id, {', '.join(f':{lang}' for lang in LANGUAGES)})"
        )

        def write(connection: Any, batch: list[dict[str, Any]]) -> None:
            # The search rows as the projection writes them: each term marked with the mailbox.
            search = [
                {
                    "message_id": row["message_id"],
                    **{
                        lang: scoped_document(row["mailbox_id"], row[SEARCH_KEY][lang])
                        for lang in LANGUAGES
                    },
                }
                for row in batch
            ]
            connection.execute(
                insert(inbox_messages), [{c: row[c] for c in COLUMNS} for row in batch]
            )
            connection.execute(search_insert, search)

        with engine.begin() as connection:
            for row in rows:
                batch.append(row)
                if len(batch) == SQLITE_CHUNK:
                    write(connection, batch)
                    loaded += len(batch)
                    batch = []
                    if loaded % 50_000 == 0:
                        print(f"    {loaded:>10,} rows inserted", flush=True)
            if batch:
                write(connection, batch)
                loaded += len(batch)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        return loaded
    finally:
        engine.dispose()


def table_sizes(ledger: Ledger) -> tuple[int, int]:
    if ledger.db.dialect != "postgresql":
        path = make_url(ledger.url).database or ""
        return (os.path.getsize(path) if path and os.path.exists(path) else 0), 0
    with ledger.db.read() as session:
        table, indexes = session.execute(
            text("SELECT pg_table_size('inbox_messages'), pg_indexes_size('inbox_messages')")
        ).one()
    return int(table), int(indexes)


def check_fidelity(ledger: Ledger, real: dict[str, Any], bench: EboxId) -> None:
    """A bulk row reads back like a projected one: same NULLs, same JSON kinds, same types."""
    t = inbox_messages
    with ledger.db.read() as session:
        bulk_id = session.execute(
            select(t.c.message_id)
            .where(
                t.c.mailbox_id == bench.mailbox_id,
                t.c.message_id.not_in([real["message_id"]]),
                t.c.read.is_(False),
                t.c.expired.is_(False),
                t.c.message_type_id == real["message_type_id"],
                t.c.sender_kbo == real["sender_kbo"],
            )
            .limit(1)
        ).scalar_one()
        if ledger.db.dialect == "postgresql":
            probes = ", ".join(
                f"CASE WHEN {c} IS NULL THEN 'NULL' ELSE "
                + (f"json_typeof({c})" if c in JSON_COLUMNS else "'value'")
                + " END"
                for c in COLUMNS
            )
            kinds = [
                tuple(
                    session.execute(
                        text(f"SELECT {probes} FROM inbox_messages WHERE message_id = :id"),
                        {"id": message},
                    ).one()
                )
                for message in (real["message_id"], bulk_id)
            ]
            check(kinds[0] == kinds[1], f"bulk row stored unlike a projected one: {kinds}")
    view = InboxView.of(ledger)
    projected, loaded = view.message(bench, real["message_id"]), view.message(bench, bulk_id)
    for name in projected.__dataclass_fields__:
        a, b = getattr(projected, name), getattr(loaded, name)
        check(type(a) is type(b), f"{name}: {type(a).__name__} vs {type(b).__name__}")


# --------------------------------------------------------------------------- bare SQL


@contextmanager
def captured_statements(ledger: Ledger) -> Iterator[list[tuple[str, Any]]]:
    """The (statement, parameters) the engine sends to the driver meanwhile."""
    engine = ledger.app.factory.datastore.engine  # type: ignore[attr-defined]
    seen: list[tuple[str, Any]] = []

    def listener(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def listing_statements(
    ledger: Ledger, view: InboxView, ebox: EboxId, s: Scenario
) -> list[tuple[str, Any]]:
    with captured_statements(ledger) as seen:
        page = view.messages(ebox, s.filters, s.page, s.page_size)
    s.expected_total, s.items_on_page = page.total_items, len(page.items)
    check(bool(seen), "the view sent no SQL")
    return list(seen)


Call = Callable[[bool], None]
"""One timed call; True records its time, False is a warm-up."""


def bare_sql_call(connection: Any, statements: list[tuple[str, Any]], s: Scenario) -> Call:
    """The view's own statements through the driver: one read transaction, rows fetched."""

    def call(record: bool) -> None:
        started = time.perf_counter_ns()
        cursor = connection.cursor()
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            cursor.fetchall()
        cursor.close()
        connection.rollback()
        if record:
            s.bare_sql.add((time.perf_counter_ns() - started) / 1e6)

    return call


def view_call(view: InboxView, ebox: EboxId, s: Scenario) -> Call:
    def call(record: bool) -> None:
        started = time.perf_counter_ns()
        view.messages(ebox, s.filters, s.page, s.page_size)
        if record:
            s.view.add((time.perf_counter_ns() - started) / 1e6)

    return call


def measure(s: Scenario, calls: Sequence[Call], n: int, rounds: int) -> None:
    """Warm each up, then `rounds` rounds of n/rounds calls of each in turn.

    Interleaving puts the HTTP requests, the bare SQL and the in-process view
    under the same machine load, whatever other processes do meanwhile.
    """
    s.load_average = [load_average(), 0.0]
    for call in calls:
        for _ in range(max(50, n // 10)):
            call(False)
    for r in range(rounds):
        share = n // rounds + (1 if r < n % rounds else 0)
        for call in calls:
            for _ in range(share):
                call(True)
    s.load_average[1] = load_average()


def explain(ledger: Ledger, statements: list[tuple[str, Any]]) -> list[str]:
    engine = ledger.app.factory.datastore.engine  # type: ignore[attr-defined]
    raw = engine.raw_connection()
    lines: list[str] = []
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
            sent = cursor.mogrify(statement, parameters).decode()  # type: ignore[attr-defined]
            lines.append("-- " + " ".join(sent.split()))
            lines += [row[0] for row in cursor.fetchall()]
        raw.rollback()
    finally:
        raw.close()
    return lines


# --------------------------------------------------------------------------- the server


_timings: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar(
    "bench_timings", default=None
)


def _timed(part: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            timings = _timings.get()
            if timings is not None:
                timings[part] = timings.get(part, 0.0) + (time.perf_counter() - started) * 1e3

    return wrapper


def instrument() -> None:
    """Time the parts of a listing request in this (server) process; a few us per request.

    Only functions looked up at call time are wrapped: the person token check,
    the Mailbox load from the event store, the view's page + count, the
    consultation upsert, and the JSON shaping and rendering.
    """
    from starlette.responses import JSONResponse

    import ebox.api.ebox_routes as routes
    from ebox.api.oidc import PersonTokenVerifier
    from ebox.domain.application import EboxLedger

    PersonTokenVerifier.verify = _timed("auth", PersonTokenVerifier.verify)  # type: ignore[method-assign]
    EboxLedger.mailbox = _timed("mailbox", EboxLedger.mailbox)  # type: ignore[method-assign]
    InboxView.messages = _timed("view", InboxView.messages)  # type: ignore[method-assign]
    InboxView.record_consultation = _timed("consult", InboxView.record_consultation)  # type: ignore[method-assign]
    routes.message_json = _timed("render", routes.message_json)  # type: ignore[assignment]
    JSONResponse.render = _timed("render", JSONResponse.render)  # type: ignore[method-assign]


class ServerTiming:
    """ASGI wrapper: the app's own time per request (and its parts) in a Server-Timing header."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        timings: dict[str, float] = {}
        token = _timings.set(timings)
        started = time.perf_counter()

        async def timed_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                total = (time.perf_counter() - started) * 1e3
                value = ", ".join(
                    [f"app;dur={total:.3f}"] + [f"{k};dur={v:.3f}" for k, v in timings.items()]
                )
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"server-timing", value.encode())],
                }
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            _timings.reset(token)


def serve(url: str, home: Path, port: int, public_url: str, breakdown: bool) -> None:
    """The child process: the real app on the benchmark database."""
    import uvicorn

    from ebox.api.app import create_app

    if breakdown:
        instrument()
    ledger = open_ledger(url, home=home)
    app = create_app(ledger, Settings(environment="production", public_url=public_url))
    app.state.home = home
    uvicorn.run(
        ServerTiming(app),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_kind() -> str:
    http = "httptools" if find_spec("httptools") else "h11"
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    return f"uvicorn, 1 process, {http}, {loop}"


@contextmanager
def api_server(url: str, home: Path, public_url: str, breakdown: bool) -> Iterator[str]:

    port = free_port()
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--serve-url",
        url,
        "--serve-home",
        str(home),
        "--serve-port",
        str(port),
        "--serve-public-url",
        public_url,
    ]
    if breakdown:
        command.append("--serve-breakdown")
    process = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base, "the API server")
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def parse_server_timing(value: str) -> dict[str, float]:
    parts: dict[str, float] = {}
    for item in value.split(","):
        name, _, duration = item.strip().partition(";dur=")
        if duration:
            parts[name] = float(duration)
    return parts


def http_call(client: Any, s: Scenario, token: str, breakdown: bool) -> Call:
    """GET of the listing through the keep-alive client; checked once against the view."""
    path = "/ebox/citizen/v2/ebox/messages"
    headers = {"Authorization": f"Bearer {token}"}
    first = client.get(path, params=s.params, headers=headers)
    check(first.status_code == 200, f"{s.name}: HTTP {first.status_code} {first.text[:300]}")
    body = first.json()
    check(
        body["totalItems"] == s.expected_total and len(body["items"]) == s.items_on_page,
        f"{s.name}: the API answered {body['totalItems']} / {len(body['items'])}, the view "
        f"{s.expected_total} / {s.items_on_page}",
    )
    s.response_bytes = len(first.content)

    def call(record: bool) -> None:
        started = time.perf_counter_ns()
        response = client.get(path, params=s.params, headers=headers)
        elapsed = (time.perf_counter_ns() - started) / 1e6
        check(response.status_code == 200, f"{s.name}: HTTP {response.status_code}")
        if not record:
            return
        s.http.add(elapsed)
        parts = parse_server_timing(response.headers.get(SERVER_TIMING, ""))
        if "app" in parts:
            s.app.add(parts.pop("app"))
        if breakdown:
            for name in COMPONENTS:
                s.parts.setdefault(name, Latencies()).add(parts.get(name, 0.0))

    return call


# --------------------------------------------------------------------------- one database


def scenarios_for(bench_nrn: str, largest_nrn: str, word: str) -> list[Scenario]:
    search = {"page": 1, "pageSize": PAGE_SIZE, "q": word, "qlang": SEARCH_LANGUAGE}
    return [
        Scenario(GOAL_SCENARIO, bench_nrn, {"page": 1, "pageSize": PAGE_SIZE}, MessageFilter(), 1),
        Scenario(
            "unread, page 1",
            bench_nrn,
            {"page": 1, "pageSize": PAGE_SIZE, "readStatus": "false"},
            MessageFilter(read=False),
            1,
        ),
        Scenario("last page", bench_nrn, {}, MessageFilter(), 0),  # page set once known
        Scenario(
            "largest eBox, page 1",
            largest_nrn,
            {"page": 1, "pageSize": PAGE_SIZE},
            MessageFilter(),
            1,
        ),
        Scenario(
            SEARCH_SCENARIO, bench_nrn, search, MessageFilter(q=word, qlang=SEARCH_LANGUAGE), 1
        ),
        Scenario(
            "search, largest eBox",
            largest_nrn,
            search,
            MessageFilter(q=word, qlang=SEARCH_LANGUAGE),
            1,
        ),
    ]


def bench_database(
    name: str, url: str, home: Path, args: argparse.Namespace, messages: int
) -> Figures:
    import httpx

    figures = Figures(
        database=name,
        messages=messages,
        mailboxes=args.mailboxes,
        largest=args.largest,
        target=args.target,
        requests=args.requests,
        server=server_kind(),
        breakdown=args.breakdown,
    )
    figures.load_average_start = load_average()
    rng = random.Random(args.seed)
    counts, bench_rank, figures.zipf_exponent = mailbox_counts(
        messages, args.mailboxes, args.largest, args.target
    )
    numbers = citizen_numbers(rng, args.mailboxes)
    bench_nrn, largest_nrn = numbers[bench_rank], numbers[0]
    print(
        f"\n[{name}] {messages:,} messages over {args.mailboxes:,} citizen eBoxes "
        f"(Zipf s = {figures.zipf_exponent:.3f}: largest {counts[0]:,}, rank 2 {counts[1]:,}, "
        f"median {sorted(counts)[len(counts) // 2]}, smallest {counts[-1]}); benchmarked eBox "
        f"citizen:{bench_nrn} (rank {bench_rank + 1}) holds {counts[bench_rank]:,}",
        flush=True,
    )

    started = time.perf_counter()
    ledger = open_ledger(url, home=home)
    try:
        print(f"[{name}] real setup: senders, 2 eBoxes, {REAL_LETTERS} letters ...", flush=True)
        templates = setup_real(ledger, bench_nrn, largest_nrn, args.seed)
        documents = search_documents(ledger)
        for template in templates:
            template[SEARCH_KEY] = documents[template["message_id"]]
        word = figures.search_word = search_word(ledger, templates)
        figures.setup_s = time.perf_counter() - started
        now = min(r["receipt_date"] for r in templates)
        now = now if now.tzinfo else now.replace(tzinfo=UTC)

        print(f"[{name}] bulk load of {messages - REAL_LETTERS:,} rows into the view ...")
        owners = plan_owners(counts, numbers, bench_rank, rng)
        rows = bulk_rows(owners, templates, now, rng)
        started = time.perf_counter()
        loader = load_postgres if name == "postgresql" else load_sqlite
        loaded = loader(url, rows)
        figures.load_s = time.perf_counter() - started
        figures.rows_per_s = loaded / figures.load_s if figures.load_s else 0.0
        del owners
        check(loaded == messages - REAL_LETTERS, f"loaded {loaded:,} rows")
        with ledger.db.read() as session:
            stored = session.execute(select(func.count()).select_from(inbox_messages)).scalar()
        check(stored == messages, f"the view holds {stored:,} messages, not {messages:,}")
        figures.table_bytes, figures.indexes_bytes = table_sizes(ledger)
        print(
            f"[{name}] loaded in {figures.load_s:.1f} s ({figures.rows_per_s:,.0f} rows/s); "
            f"table {figures.table_bytes / 2**20:,.0f} MiB, "
            f"indexes {figures.indexes_bytes / 2**20:,.0f} MiB",
            flush=True,
        )
        bench_ebox = EboxId("citizen", bench_nrn)
        check_fidelity(ledger, templates[0], bench_ebox)

        view = InboxView.of(ledger)
        scenarios = scenarios_for(bench_nrn, largest_nrn, word)
        listed = view.messages(bench_ebox, MessageFilter(), 1, PAGE_SIZE).total_items
        figures.listed_in_target = listed
        last = scenarios[2]
        last.page = max(1, math.ceil(listed / PAGE_SIZE))
        last.params = {"page": last.page, "pageSize": PAGE_SIZE}
        last.name = f"last page ({last.page})"
        statements: dict[str, list[tuple[str, Any]]] = {}
        for s in scenarios:
            statements[s.name] = listing_statements(ledger, view, EboxId("citizen", s.nrn), s)
            s.statements = [" ".join(st.split()) for st, _ in statements[s.name]]

        public_url = f"http://127.0.0.1:{free_port()}"
        settings = Settings(environment="production", public_url=public_url)
        tokens = {
            nrn: mint_person_token(home, nrn, settings=settings)
            for nrn in {s.nrn for s in scenarios}
        }
        print(
            f"[{name}] API: {figures.server}; {args.requests:,} requests per scenario, "
            f"interleaved in {args.rounds} rounds with the bare SQL and the in-process view ..."
        )
        engine = ledger.app.factory.datastore.engine  # type: ignore[attr-defined]
        raw = engine.raw_connection()
        figures.cpu_ms_before = cpu_calibration()
        try:
            with (
                api_server(url, home, public_url, args.breakdown) as base,
                httpx.Client(base_url=base, timeout=30) as client,
            ):
                for s in scenarios:
                    calls = [
                        http_call(client, s, tokens[s.nrn], args.breakdown),
                        bare_sql_call(raw.driver_connection, statements[s.name], s),
                        view_call(view, EboxId("citizen", s.nrn), s),
                    ]
                    measure(s, calls, args.requests, args.rounds)
                    print(
                        f"    {s.name:<22} HTTP p50 {s.http.pct(50):6.2f} ms  "
                        f"p95 {s.http.pct(95):6.2f} ms; bare SQL p50 {s.bare_sql.pct(50):5.2f} ms"
                        f"  (load {s.load_average[0]:.2f} -> {s.load_average[1]:.2f})",
                        flush=True,
                    )
        finally:
            raw.close()
        figures.cpu_ms_after = cpu_calibration()
        if name == "postgresql" and args.explain:
            for s in scenarios:
                s.explain = explain(ledger, statements[s.name])
        figures.scenarios = scenarios
    finally:
        ledger.close()
    figures.load_average_end = load_average()
    figures.judge()
    print_table(figures)
    return figures


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
def postgres_database(server_url: str) -> Iterator[str]:
    name = f"ebox_bench_inbox_{secrets.token_hex(4)}"
    admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        url = with_database(server_url, name)
        print(f"\n[postgresql] fresh database {redact(url)}", flush=True)
        upgrade(url)
        yield url
    finally:
        admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def sqlite_database() -> Iterator[str]:
    workdir = Path(tempfile.mkdtemp(prefix="ebox-bench-inbox-"))
    try:
        yield f"sqlite:///{workdir / 'ledger.sqlite'}"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def postgres_settings(server_url: str) -> str:
    engine = create_engine(server_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar()
            values = [
                f"{n}={connection.execute(text(f'SHOW {n}')).scalar()}"
                for n in ("shared_buffers", "work_mem", "synchronous_commit", "fsync", "jit")
            ]
        return f"PostgreSQL {version}: {', '.join(values)}"
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- report


def print_table(f: Figures) -> None:
    def row(label: str, lat: Latencies) -> str:
        return (
            f"  {label:<30} {lat.pct(50):8.2f} {lat.pct(95):8.2f} {lat.pct(99):8.2f} "
            f"{lat.mean:8.2f} {max(lat.samples, default=0.0):8.2f}"
        )

    print(
        f"\n{f.database}: {f.messages:,} messages in the view, {f.mailboxes:,} eBoxes; "
        f"{f.requests:,} timed requests per scenario, one keep-alive client, one at a time"
    )
    print(f"  server: {f.server}; breakdown instrumentation {'on' if f.breakdown else 'off'}")
    print("-" * 78)
    print(f"  {'ms':<30} {'p50':>8} {'p95':>8} {'p99':>8} {'mean':>8} {'max':>8}")
    for s in f.scenarios:
        print(
            f"{s.name}  (totalItems {s.expected_total:,}, {s.items_on_page} on the page, "
            f"{s.response_bytes:,} B JSON; load average {s.load_average[0]:.2f} -> "
            f"{s.load_average[1]:.2f})"
        )
        print(row("HTTP GET, client side", s.http))
        if s.app.samples:
            print(row("  inside the app (server)", s.app))
        for part in COMPONENTS:
            if part in s.parts:
                print(row(f"    {PART_LABELS[part]}", s.parts[part]))
        for label, lat in s.derived().items():
            print(row(f"    {DERIVED_LABELS[label]}", lat))
        print(row("InboxView.messages, in process", s.view))
        print(row("bare SQL (page + count)", s.bare_sql))
        if f.database == "postgresql":
            verdict = "met" if s.http.pct(95) <= GOAL_P95_MS else "NOT met"
            marker = "GOAL" if s.name == GOAL_SCENARIO else "(for information)"
            print(f"  p95 HTTP <= {GOAL_P95_MS:g} ms: {verdict}  {marker}")
    print("-" * 78)
    print(
        f"  bulk load {f.load_s:.1f} s ({f.rows_per_s:,.0f} rows/s), real setup {f.setup_s:.1f} s; "
        f"load average {f.load_average_start:.2f} -> {f.load_average_end:.2f} "
        f"on {os.cpu_count()} CPUs"
    )
    print(
        f"  CPU calibration (fixed workload, lower is faster) before / after the timed calls: "
        f"{f.cpu_ms_before:.0f} / {f.cpu_ms_after:.0f} ms"
    )


PART_LABELS = {
    "auth": "person token check",
    "mailbox": "Mailbox load (event store)",
    "view": "view: page + count",
    "consult": "consultation upsert (write)",
    "render": "JSON shaping + render",
}
DERIVED_LABELS = {
    "other": "rest of the app (FastAPI, deps)",
    "outside": "outside the app (HTTP, client)",
}


def print_explains(results: list[Figures]) -> None:
    for f in results:
        for s in f.scenarios:
            if s.explain:
                print(f"\nEXPLAIN (ANALYZE, BUFFERS), {f.database}, {s.name}:")
                print("\n".join(f"  {line}" for line in s.explain))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="GET of one eBox's message list over HTTP among N messages, against the "
        "same page read by bare SQL in the same run."
    )
    parser.add_argument(
        "--messages", type=int, default=DEFAULT_MESSAGES, help="messages in the view (PostgreSQL)"
    )
    parser.add_argument("--mailboxes", type=int, default=DEFAULT_MAILBOXES, help="citizen eBoxes")
    parser.add_argument(
        "--largest", type=int, default=DEFAULT_LARGEST, help="messages of the largest eBox"
    )
    parser.add_argument(
        "--target", type=int, default=DEFAULT_TARGET, help="messages of the benchmarked eBox"
    )
    parser.add_argument(
        "--requests", type=int, default=DEFAULT_REQUESTS, help="timed requests per scenario"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help="rounds interleaving HTTP, bare SQL and in-process view calls",
    )
    parser.add_argument("--seed", type=int, default=2024, help="random seed of the data")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL,
        help=f"PostgreSQL server URL (default ${POSTGRES_URL_ENV} or {DEFAULT_POSTGRES_URL}); "
        "a fresh database is created on it and dropped at the end",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--sqlite",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also bench SQLite (default off)",
    )
    parser.add_argument(
        "--sqlite-messages",
        type=int,
        default=DEFAULT_SQLITE_MESSAGES,
        help="messages in the view on SQLite",
    )
    parser.add_argument(
        "--breakdown",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time the parts of each request inside the server (a few us per request)",
    )
    parser.add_argument(
        "--explain",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="print EXPLAIN (ANALYZE, BUFFERS) of the listing queries on PostgreSQL",
    )
    # The child process that serves the API.
    parser.add_argument("--serve-url", help=argparse.SUPPRESS)
    parser.add_argument("--serve-home", help=argparse.SUPPRESS)
    parser.add_argument("--serve-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-public-url", help=argparse.SUPPRESS)
    parser.add_argument("--serve-breakdown", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if (
        min(args.messages, args.mailboxes, args.largest, args.target, args.requests, args.rounds)
        < 1
    ):
        parser.error("counts must be positive")
    if args.target <= REAL_LETTERS:
        parser.error(f"--target must exceed the {REAL_LETTERS} real letters")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_url:
        serve(
            args.serve_url,
            Path(args.serve_home),
            args.serve_port,
            args.serve_public_url,
            args.serve_breakdown,
        )
        return 0
    print(
        f"eBox inbox listing benchmark: {args.messages:,} messages (PostgreSQL), "
        f"{args.mailboxes:,} eBoxes, {args.requests:,} requests per scenario; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    print(
        "The view is bulk-loaded (COPY / executemany) from real projected letters: publishing "
        "a million letters through the ledger would take hours on this machine."
    )
    idle = load_average()
    print(
        f"load average (1 min) before the run: {idle:.2f}; CPU calibration "
        f"{cpu_calibration():.0f} ms (a fixed workload: lower is faster)"
    )
    if idle > 0.5:
        print(
            "  other processes are busy on this machine: latencies, the bare SQL's too, will be "
            "higher than on an idle one (see the load average printed per scenario)"
        )
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="ebox-bench-inbox-home-") as home_dir:
        home = Path(home_dir)
        if not args.no_postgres:
            print(postgres_settings(args.postgres))
            with postgres_database(args.postgres) as url:
                results.append(bench_database("postgresql", url, home, args, args.messages))
        if args.sqlite:
            with sqlite_database() as url:
                results.append(bench_database("sqlite", url, home, args, args.sqlite_messages))
    if not results:
        print("nothing to do: both databases were switched off")
        return 2
    print_explains(results)
    print("\nSummary")
    for f in results:
        for s in f.scenarios:
            print(
                f"  {f.database:<10} {s.name:<22} HTTP p50 {s.http.pct(50):6.2f} ms, "
                f"p95 {s.http.pct(95):6.2f} ms; bare SQL p50 {s.bare_sql.pct(50):5.2f} ms, "
                f"p95 {s.bare_sql.pct(95):5.2f} ms"
            )
        if f.goal_met is not None:
            print(
                f"  {f.database:<10} goal p95 <= {GOAL_P95_MS:g} ms over HTTP ({GOAL_SCENARIO}): "
                f"{'met' if f.goal_met else 'NOT met'}"
            )
        if f.search_goal_met is not None:
            print(
                f"  {f.database:<10} goal search p95 <= {SEARCH_GOAL_RATIO:g} x the listing's "
                f"(q={f.search_word!r}, {SEARCH_SCENARIO} vs {GOAL_SCENARIO}, HTTP): "
                f"{f.search_ratio:.2f} x, {'met' if f.search_goal_met else 'NOT met'}"
            )
    print(json.dumps({"bench": "inbox", "results": [f.as_json() for f in results]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
