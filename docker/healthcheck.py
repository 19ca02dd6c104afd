"""The containers' healthcheck: is this process answering? (stdlib only, no curl in the image).

`python healthcheck.py URL` exits 0 when URL answers 200, or, for /health, 503 with
`"status": "degraded"`: a follower is late or parked, which restarting this API
replica would not cure (the API still serves; /metrics and /health say which
follower). It exits 1 when nothing answers, or /health says `unavailable` (the
database is unreachable or behind the migrations): take the replica out.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request


def healthy(url: str, timeout: float = 4.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return bool(answer.status == 200)
    except urllib.error.HTTPError as error:
        if error.code != 503 or not url.endswith("/health"):
            return False
        try:
            return bool(json.loads(error.read()).get("status") == "degraded")
        except ValueError:
            return False
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(0 if healthy(sys.argv[1]) else 1)
