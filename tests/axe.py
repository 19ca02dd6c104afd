"""axe-core inside Chromium: a page's WCAG 2.1 A and AA violations (issue 11 asks for none).

axe.min.js comes from npm (scripts/install-axe, into .ci/node). It is run with
`page.evaluate` of the file's text, not `page.add_script_tag`: a tag is an
inline script, which the portal's Content-Security-Policy rightly refuses,
while evaluate runs through the DevTools protocol, outside the page's CSP, so
the page is tested exactly as served. Without axe the test is skipped, except
under CI=true (a failure there), as for the browser itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / ".ci" / "node" / "node_modules" / "axe-core" / "axe.min.js"
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@cache
def axe_source() -> str:
    """The text of axe.min.js, installed by scripts/install-axe when npm is there."""
    if not AXE.exists() and shutil.which("npm"):
        subprocess.run(["bash", str(ROOT / "scripts" / "install-axe")], check=True)
    if not AXE.exists():
        message = f"{AXE} is missing: run scripts/install-axe (needs npm)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's violations of the WCAG 2.0/2.1 A and AA rules on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    result = page.evaluate(
        "async (tags) => await window.axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG21_AA,
    )
    return list(result["violations"])


def describe(found: list[dict[str, Any]]) -> str:
    """One line per violation and node: enough to find it in the template."""
    lines = []
    for violation in found:
        for node in violation["nodes"]:
            rule = f"{violation['id']} ({violation['impact']})"
            lines.append(f"{rule}: {node['target']} {node['failureSummary']}")
    return "\n".join(lines)


def assert_accessible(page: Any) -> None:
    found = violations(page)
    assert found == [], f"{page.url}:\n{describe(found)}"
