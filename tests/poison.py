"""A read model that fails on one letter, the way a real one did (issue 7, finding 1).

The inbox projection is patched to run, for every letter to `POISONED`, an
INSERT that the database refuses (NOT NULL columns left out), with the
recipient's national register number and the letter's subjects bound into it:
a real database error whose text would carry personal data. Used in the test
process (monkeypatch) and in a worker process (`chaos_child.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from ebox.domain.message import Message
from ebox.domain.publication import Recipient
from ebox.projections.inbox import InboxProjection

POISONED = Recipient("citizen", "85073003328")
"""The recipient whose letters the poisoned inbox cannot take."""

Apply = Callable[[InboxProjection, Session, Sequence[tuple[Any, Any]]], None]


def poisoned(apply: Apply) -> Apply:
    def apply_or_fail(self: InboxProjection, session: Session, items: Sequence[Any]) -> None:
        for event, _ in items:
            if isinstance(event, Message.Sent) and event.recipient == POISONED.address:
                session.execute(
                    text(
                        "INSERT INTO inbox_messages (message_id, ebox_id_value, subjects) "
                        "VALUES (:message_id, :nrn, :subjects)"
                    ),
                    {
                        "message_id": str(event.originator_id),
                        "nrn": POISONED.id_value,
                        "subjects": json.dumps(event.subjects),
                    },
                )
        apply(self, session, items)

    return apply_or_fail


def poison_inbox() -> None:
    """Patch the inbox projection of this process (for a child process: no undo)."""
    InboxProjection.apply = poisoned(InboxProjection.apply)  # type: ignore[method-assign]
