"""Search scoped to the mailbox on SQLite: every FTS5 term carries the mailbox's mark.

An FTS5 MATCH reads the whole index, so a search in one eBox cost as much as
the table (ebox.projections.search). From this revision each term stored in
`inbox_search` is `<mark><word>`, the mark being the first 12 hex digits of
SHA-256 of the mailbox id; this migration rewrites the rows written before.
The rewrite is the same as `scoped_document` in ebox.projections.search, kept
here as it was at this revision so that later changes there do not change
what this migration did. PostgreSQL is unchanged: its search reads the
mailbox's rows through `inbox_search_mailbox_idx`.

Revision ID: 0005_search_scope
Revises: 0004
Create Date: 2026-12-01
"""

import hashlib
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0005_search_scope"
down_revision = "0004"
branch_labels = None
depends_on = None

LANGUAGES = ("nl", "fr", "de", "en")
MARK_LENGTH = 12
BATCH = 5_000


def _mark(mailbox_id: str) -> str:
    return hashlib.sha256(mailbox_id.encode()).hexdigest()[:MARK_LENGTH]


def _scoped(mailbox_id: str, document: str) -> str:
    mark = _mark(mailbox_id)
    tokens = [piece for word in document.split() for piece in word.split("_") if piece]
    return " ".join(mark + token for token in tokens)


def _unscoped(_mailbox_id: str, document: str) -> str:
    return " ".join(term[MARK_LENGTH:] for term in document.split())


def _rewrite(change: Callable[[str, str], str]) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT s.rowid, m.mailbox_id, "
            + ", ".join(f"s.{lang}" for lang in LANGUAGES)
            + " FROM inbox_search s JOIN inbox_messages m ON m.message_id = s.message_id"
        )
    ).all()
    statement = sa.text(
        "UPDATE inbox_search SET "
        + ", ".join(f"{lang} = :{lang}" for lang in LANGUAGES)
        + " WHERE rowid = :rowid"
    )
    for start in range(0, len(rows), BATCH):
        bind.execute(
            statement,
            [
                {
                    "rowid": row[0],
                    **{lang: change(row[1], row[2 + i] or "") for i, lang in enumerate(LANGUAGES)},
                }
                for row in rows[start : start + BATCH]
            ],
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rewrite(_scoped)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rewrite(_unscoped)
