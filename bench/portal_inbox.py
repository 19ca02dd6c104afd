"""Benchmark of the portal's inbox page beside the API listing, in the same run, same data.

Issue 11 asks for the inbox page's server time p95 at 1 M messages next to the
REST API's listing. This reuses bench/inbox.py's loading (a small real ledger,
then N rows bulk-loaded into the inbox view, Zipf-like over many citizen
eBoxes; see its docstring) on a fresh PostgreSQL database, then serves the real
app (`create_app`, portal included) in a child process and, interleaved in
rounds, GETs

- ``/inbox`` (the HTML page: session lookup, the same `Consultation` and
  `InboxView.messages`, sender names, Jinja2 rendering) with a portal session
  of the benchmarked person, and
- ``/ebox/citizen/v2/ebox/messages?page=1&pageSize=20`` (the API's JSON, 20 items
  like the page) with a person token of the same person.

The server's own time per request is read from the `Server-Timing` header
(bench/inbox.py's ASGI wrapper); the client's time is printed beside it. The
portal session is made in the server process (the sign-in's OIDC dance is not
what is measured): its id is handed to the parent in a 0600 file.

    .venv/bin/python -m bench.portal_inbox                   # 1,000,000 messages
    .venv/bin/python -m bench.portal_inbox --messages 100000 --requests 300
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.inbox import (
    DEFAULT_LARGEST,
    DEFAULT_MAILBOXES,
    DEFAULT_MESSAGES,
    DEFAULT_POSTGRES_URL,
    DEFAULT_TARGET,
    POSTGRES_URL_ENV,
    REAL_LETTERS,
    SEARCH_KEY,
    SERVER_TIMING,
    Latencies,
    ServerTiming,
    bulk_rows,
    check,
    citizen_numbers,
    free_port,
    load_average,
    load_postgres,
    mailbox_counts,
    parse_server_timing,
    plan_owners,
    postgres_database,
    search_documents,
    server_kind,
    setup_real,
    wait_until_healthy,
)
from ebox.adapters.certificate_seal import DEMO_CERT, DEMO_KEY, load_sealing_identity
from ebox.adapters.runtime import open_ledger
from ebox.adapters.tables import inbox_messages
from ebox.api.oidc import mint_person_token
from ebox.api.settings import Settings

PAGE_SIZE = 20  # the portal's page (ebox.api.portal.inbox.PAGE_SIZE)
COOKIE = "ebox_portal"


def production_settings(home: Path, public_url: str) -> Settings:
    """The app's production settings, with the demo seal of `home` (production requires one)."""
    load_sealing_identity("Benchmark operator", home)  # makes the demo seal files once
    return Settings(
        environment="production",
        public_url=public_url,
        seal_cert_file=home / DEMO_CERT,
        seal_key_file=home / DEMO_KEY,
    )


def serve(url: str, home: Path, port: int, public_url: str, nrn: str, session_file: Path) -> None:
    """The child process: the real app, with one signed-in portal session of `nrn`."""
    import uvicorn

    from ebox.api.app import create_app
    from ebox.api.portal.sessions import SessionStore

    ledger = open_ledger(url, home=home)
    settings = production_settings(home, public_url)
    app = create_app(ledger, settings)
    app.state.home = home
    store = SessionStore(settings.portal_idle_timeout_seconds)
    app.state.portal_sessions = store
    session = store.replace(store.create(language="en"), nrn)
    fd = os.open(session_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(session.session_id)
    uvicorn.run(ServerTiming(app), host="127.0.0.1", port=port, log_level="warning")


@contextmanager
def server(url: str, home: Path, public_url: str, nrn: str) -> Iterator[tuple[str, str]]:
    """(base URL, portal session id) of the child server, stopped at the end."""

    port = free_port()
    session_file = Path(tempfile.mkdtemp(prefix="ebox-portal-bench-")) / "session"
    command = [
        sys.executable,
        "-m",
        "bench.portal_inbox",
        *("--serve-url", url, "--serve-home", str(home), "--serve-port", str(port)),
        *("--serve-public-url", public_url, "--serve-nrn", nrn),
        *("--serve-session-file", str(session_file)),
    ]
    process = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base, "the server")
        yield base, session_file.read_text()
    finally:
        session_file.unlink(missing_ok=True)
        session_file.parent.rmdir()
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def timed_get(client: Any, path: str, server: Latencies, wall: Latencies, **kwargs: Any) -> Any:
    started = time.perf_counter_ns()
    response = client.get(path, **kwargs)
    wall.add((time.perf_counter_ns() - started) / 1e6)
    check(response.status_code == 200, f"{path}: HTTP {response.status_code}")
    app = parse_server_timing(response.headers.get(SERVER_TIMING, "")).get("app")
    check(app is not None, f"{path}: no Server-Timing")
    server.add(float(app or 0.0))
    return response


def run(args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    messages = args.messages
    rng = random.Random(args.seed)
    counts, bench_rank, _ = mailbox_counts(messages, args.mailboxes, args.largest, args.target)
    numbers = citizen_numbers(rng, args.mailboxes)
    bench_nrn, largest_nrn = numbers[bench_rank], numbers[0]
    figures: dict[str, Any] = {
        "messages": messages,
        "mailboxes": args.mailboxes,
        "benchmarked_ebox_messages": counts[bench_rank],
        "requests": args.requests,
        "server": server_kind(),
        "load_average_start": load_average(),
    }
    server_url = args.postgres or os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)
    with (
        postgres_database(server_url) as url,
        tempfile.TemporaryDirectory(prefix="ebox-portal-bench-home-") as home_dir,
    ):
        home = Path(home_dir)
        ledger = open_ledger(url, home=home)
        try:
            templates = setup_real(ledger, bench_nrn, largest_nrn, args.seed)
            documents = search_documents(ledger)
            for template in templates:
                template[SEARCH_KEY] = documents[template["message_id"]]
            now = min(r["receipt_date"] for r in templates)
            print(f"[postgresql] bulk load of {messages - REAL_LETTERS:,} rows ...", flush=True)
            started = time.perf_counter()
            owners = plan_owners(counts, numbers, bench_rank, rng)
            loaded = load_postgres(url, bulk_rows(owners, templates, now, rng))
            figures["load_s"] = round(time.perf_counter() - started, 1)
            check(loaded == messages - REAL_LETTERS, f"loaded {loaded:,} rows")
            with ledger.db.read() as session:
                stored = session.execute(select(func.count()).select_from(inbox_messages))
                check(stored.scalar() == messages, "the view does not hold every message")
        finally:
            ledger.close()

        public_url = f"http://127.0.0.1:{free_port()}"
        settings = production_settings(home, public_url)
        token = mint_person_token(home, bench_nrn, settings=settings)
        page_server, page_wall, api_server, api_wall = (Latencies() for _ in range(4))
        with (
            server(url, home, public_url, bench_nrn) as (base, session_id),
            httpx.Client(base_url=base, timeout=30) as client,
        ):
            cookies = {COOKIE: session_id}
            params = {"page": 1, "pageSize": PAGE_SIZE}
            headers = {"Authorization": f"Bearer {token}"}
            first = client.get("/inbox", cookies=cookies)
            check(first.status_code == 200 and "/letters/" in first.text, "the inbox page")
            for _ in range(args.requests // 10):  # warm-up
                client.get("/inbox", cookies=cookies)
                client.get("/ebox/citizen/v2/ebox/messages", headers=headers, params=params)
            per_round = max(1, args.requests // args.rounds)
            for _ in range(args.rounds):
                for _ in range(per_round):
                    timed_get(client, "/inbox", page_server, page_wall, cookies=cookies)
                for _ in range(per_round):
                    timed_get(
                        client,
                        "/ebox/citizen/v2/ebox/messages",
                        api_server,
                        api_wall,
                        headers=headers,
                        params=params,
                    )
    figures["load_average_end"] = load_average()
    figures["portal_inbox_server"] = page_server.summary()
    figures["portal_inbox_client"] = page_wall.summary()
    figures["api_listing_server"] = api_server.summary()
    figures["api_listing_client"] = api_wall.summary()
    figures["ratio_p95_server"] = round(page_server.pct(95) / api_server.pct(95), 2)
    return figures


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES)
    parser.add_argument("--mailboxes", type=int, default=DEFAULT_MAILBOXES)
    parser.add_argument("--largest", type=int, default=DEFAULT_LARGEST)
    parser.add_argument("--target", type=int, default=DEFAULT_TARGET)
    parser.add_argument("--requests", type=int, default=500, help="timed requests per path")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--postgres", help=f"server URL (default ${POSTGRES_URL_ENV})")
    parser.add_argument("--serve-url", help=argparse.SUPPRESS)
    parser.add_argument("--serve-home", help=argparse.SUPPRESS)
    parser.add_argument("--serve-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-public-url", help=argparse.SUPPRESS)
    parser.add_argument("--serve-nrn", help=argparse.SUPPRESS)
    parser.add_argument("--serve-session-file", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_url:
        serve(
            args.serve_url,
            Path(args.serve_home),
            args.serve_port,
            args.serve_public_url,
            args.serve_nrn,
            Path(args.serve_session_file),
        )
        return 0
    figures = run(args)
    for name in ("portal_inbox", "api_listing"):
        s, c = figures[f"{name}_server"], figures[f"{name}_client"]
        print(
            f"{name:<14} server p50 {s['p50_ms']:7.2f} ms  p95 {s['p95_ms']:7.2f} ms   "
            f"client p50 {c['p50_ms']:7.2f} ms  p95 {c['p95_ms']:7.2f} ms  (n={s['n']})"
        )
    print(f"portal / API, server p95: {figures['ratio_p95_server']}x")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
