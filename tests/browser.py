"""Shared pieces of the portal's tests: a served demo ledger, Debian's chromium, signing in.

    with portal_demo(tmp_path_factory.mktemp("portal")) as demo:   # `ebox demo` + `ebox serve`
        page = browser.new_page(accept_downloads=True)
        sign_in(page, demo.server.url, demo.person)

`chromium()` launches /usr/bin/chromium through Playwright (never a downloaded
browser). Without it the test is skipped, except under CI=true, where a
missing browser is a failure: CI must run what it claims to run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.served import LIVENESS_SECONDS, Server, ebox_env, served

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_LETTERS = 40
DEMO_SEED = 1

T = TypeVar("T")


def require_chromium() -> None:
    """Skip without Debian's chromium, unless under CI=true: there it fails."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium driven by Playwright (a `playwright.sync_api.Browser`)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PortalDemo:
    server: Server
    home: Path
    person: str
    """The national register number of the demo's person (demo-credentials.json)."""
    credentials: dict[str, Any]


def run_demo(home: Path, letters: int = DEMO_LETTERS, seed: int = DEMO_SEED) -> dict[str, Any]:
    """`ebox demo` into `home`; its credentials file."""
    home.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ebox.cli.main",
            "demo",
            "--letters",
            str(letters),
            "--seed",
            str(seed),
        ],
        env=ebox_env(home),
        cwd=home.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads((home / "demo-credentials.json").read_text())  # type: ignore[no-any-return]


@contextmanager
def portal_demo(
    base: Path, *options: str, env: dict[str, str] | None = None
) -> Iterator[PortalDemo]:
    """A demo ledger served with its workers (delivery, views, sealer) on a free port."""
    home = base / "home"
    credentials = run_demo(home)
    with served(home, *options, env=env, workers=True) as server:
        yield PortalDemo(
            server, home, credentials["person"]["national_register_number"], credentials
        )


def eventually(check: Callable[[], T | None], what: str) -> T:
    """The first truthy answer of `check` (the workers follow the ledger asynchronously)."""
    deadline = time.monotonic() + LIVENESS_SECONDS
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.2)


def sign_in(page: Any, url: str, nrn: str, language: str = "en") -> None:
    """Through the embedded issuer's development page, as a person would."""
    page.goto(f"{url}/sign-in?lang={language}")
    page.fill("input[name=nrn]", nrn)
    page.locator("form[action='/embedded-oidc/authorize'] button[type=submit]").click()
    page.wait_for_url(f"{url}/inbox*")


def http_sign_in(http: httpx.Client, url: str, nrn: str) -> None:
    """The same sign-in with a plain HTTP client (cookies kept by `http`)."""
    answer = http.get(f"{url}/sign-in", follow_redirects=True)
    form = hidden_fields(answer.text)
    answer = http.post(
        f"{url}/embedded-oidc/authorize", data={**form, "nrn": nrn}, follow_redirects=True
    )
    assert answer.status_code == 200 and str(answer.url).startswith(f"{url}/inbox"), answer.text


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
