"""Search terms of SQLite's FTS5 table `inbox_search`, scoped to one mailbox.

A search always looks in one person's eBox, but an FTS5 `MATCH` reads the
whole index: for a word that every letter of a sender holds (its name), it
materialises every such letter of every mailbox before the mailbox filter
can throw them away (6 s for one person's 39 letters among 300,000). So
every indexed term carries its mailbox: each word is stored as
`<mark><word>`, where the mark is a fixed-length digest of the mailbox id,
and a query asks for `"<mark><word>"*`. A prefix query then walks only the
caller's own terms, and the cost follows the person's letters, not the
table.

The mark is 12 hex digits (48 bits) of SHA-256 of the mailbox id. Two
mailboxes sharing a mark would only cost each other's search time: the
listing still filters on `inbox_messages.mailbox_id`, so no one ever sees
another's letter.

FTS5's unicode61 tokenizer splits on `_` where `\\w` does not; words are
split there too, so that every token FTS5 indexes starts with the mark.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

MARK_LENGTH = 12


def mailbox_mark(mailbox_id: str) -> str:
    """The prefix of every search term of this mailbox."""
    return hashlib.sha256(mailbox_id.encode()).hexdigest()[:MARK_LENGTH]


def _tokens(words: Iterable[str]) -> list[str]:
    return [piece for word in words for piece in word.split("_") if piece]


def scoped_document(mailbox_id: str, document: str) -> str:
    """A search document (space-separated folded words) as FTS5 indexes it for this mailbox."""
    mark = mailbox_mark(mailbox_id)
    return " ".join(mark + token for token in _tokens(document.split()))


def scoped_query(mailbox_id: str, language: str, words: Iterable[str]) -> str | None:
    """An FTS5 query: every word, as a prefix, in this language's column of this mailbox.

    None when no word is left to search (only underscores): nothing matches.
    """
    mark = mailbox_mark(mailbox_id)
    tokens = _tokens(words)
    if not tokens:
        return None
    phrases = " AND ".join(f'"{mark}{token}"*' for token in tokens)
    return f"{{{language}}} : ({phrases})"
