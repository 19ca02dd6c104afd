"""Search scoped to the mailbox on SQLite: every FTS5 term carries the mailbox's mark.

An FTS5 MATCH reads the whole index, so a search in one eBox cost as much as
the table (ebox.projections.search). From this revision each term stored in
`inbox_search` is `<mark><word>`, the mark being the first 12 hex digits of
SHA-256 of the mailbox id; this migration rewrites the rows written before.
The rewrite is the same as `scoped_document` in ebox.projections.search, kept
here as it was at this revision so that later changes there do not change
what this migration did.

On PostgreSQL the search now reads the person's rows through
`inbox_search_mailbox_idx` and matches their tsvectors (a prefix match in a
GIN index collects every matching row of the whole table first), so the GIN
index per language is no longer read; it is dropped, which also spares every
projected letter four GIN updates. The downgrade builds them again.

Revision ID: 0006_search_scope
Revises: 0005_followers
Create Date: 2026-12-01
"""

import hashlib
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0006_search_scope"
down_revision = "0005_followers"
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
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _rewrite(_scoped)
    elif dialect == "postgresql":
        for lang in LANGUAGES:
            op.drop_index(f"inbox_search_{lang}_idx", table_name="inbox_search")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _rewrite(_unscoped)
    elif dialect == "postgresql":
        for lang in LANGUAGES:
            op.create_index(
                f"inbox_search_{lang}_idx", "inbox_search", [f"tsv_{lang}"], postgresql_using="gin"
            )
