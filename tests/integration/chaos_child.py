"""Child process for the chaos test: `ebox workers` whose inbox view fails on one letter.

Run as `python chaos_child.py --db URL [workers options]`; the test stops it with SIGINT.
"""

from __future__ import annotations

import sys

from tests.poison import poison_inbox

if __name__ == "__main__":
    poison_inbox()
    from ebox.cli.main import app

    app(["workers", *sys.argv[1:]])
