"""Child process for test_crash.py: broadcasts, printing each acknowledged batch.

Run as `python crash_child.py URL HOME`; the test kills it with SIGKILL.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ebox.adapters.runtime import open_ledger
from ebox.domain.publication import Recipient
from tests.builders import World
from tests.integration.test_crash import BATCH, recipients, world_sender


def main() -> None:
    url, home = sys.argv[1], Path(sys.argv[2])
    ledger = open_ledger(url, home=home)
    world = World(ledger, world_sender(home))
    everyone: list[Recipient] = recipients()
    publication = world.letter(recipient=everyone, idempotency_key="crash-broadcast")

    def acknowledge(batch: list) -> None:  # type: ignore[type-arg]
        print(json.dumps([o.message_id for o in batch if o.message_id]), flush=True)

    ledger.app.broadcast(publication, batch_size=BATCH, on_batch=acknowledge)
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
