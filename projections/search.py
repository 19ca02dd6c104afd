"""Search in one person's eBox: the documents the inbox view indexes and the queries it asks.

`q` + `qlang` work on one accent-free, case-folded document per language: the
subject, the attachment titles and business data in that language, and the
sender organisation, application and message type names in that language
(`search_document`). All words must match, each as a prefix. PostgreSQL
matches the tsvectors of the person's rows (read by mailbox) with the
language's own text search configuration (stemming, stop words); SQLite its
FTS5 table `inbox_search` (`matching`, `insert_statement`).

On SQLite the terms are scoped to one mailbox. A search always looks in one
person's eBox, but an FTS5 `MATCH` reads the
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
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, TextClause, false, text

from ebox.adapters.tables import SEARCH_LANGUAGES, inbox_messages
from ebox.projections.queries import InvalidQuery

LANGUAGES = tuple(SEARCH_LANGUAGES)

SEARCH_TABLE = "inbox_search"
"""One row per message: tsvectors and GIN indexes on PostgreSQL, FTS5 on SQLite (migration 0002)."""

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


# --------------------------------------------------------------------------- search text


def fold(value: str) -> str:
    """Case-folded and accent-free: 'Financiën' and 'FINANCIEN' search alike everywhere."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def search_words(q: str) -> list[str]:
    return re.findall(r"\w+", fold(q))


def in_language(value: Any, lang: str) -> list[str]:
    """The text of a TranslatedString in one language (none if it has no such text)."""
    if isinstance(value, dict):
        text_value = value.get(lang)
        return [text_value] if isinstance(text_value, str) else []
    return []


def business_texts(business_data: Any, lang: str) -> list[str]:
    texts: list[str] = []
    for item in business_data if isinstance(business_data, list) else []:
        if not isinstance(item, dict):
            continue
        texts += in_language(item.get("name"), lang) + in_language(item.get("description"), lang)
        for value in item.get("values") or []:
            texts += in_language(value, lang)
    return texts


def search_document(
    subjects: Mapping[str, str],
    attachment_titles: Sequence[Any],
    business_data: Any,
    reference_names: Sequence[Mapping[str, str]],
    lang: str,
) -> str:
    """One language's search document of a letter: its words, folded, space-separated."""
    texts = in_language(dict(subjects), lang)
    for title in attachment_titles:
        texts += in_language(title, lang)
    texts += business_texts(business_data, lang)
    for names in reference_names:
        texts += in_language(dict(names), lang)
    # Words only, so both engines split the text as the query is split ("d-77" is
    # "d" and "77" to each, not "d" and the number -77 PostgreSQL would see).
    return " ".join(search_words(" ".join(texts)))


# --------------------------------------------------------------------------- SQL


def check_language(qlang: str | None) -> None:
    if qlang is not None and qlang not in SEARCH_LANGUAGES:
        raise InvalidQuery(f"qlang must be one of {', '.join(LANGUAGES)}")


def matching(dialect: str, mailbox: str, q: str, qlang: str | None) -> ColumnElement[bool]:
    """The condition on `inbox_messages` of the letters of `mailbox` that match `q`."""
    if qlang is None:
        raise InvalidQuery("q needs qlang: the language whose texts to search")
    check_language(qlang)
    words = search_words(q)
    if not words:
        return false()
    if dialect == "postgresql":
        # The person's rows first (inbox_search_mailbox_idx), then their tsvectors
        # matched: OFFSET 0 keeps the match out of the index scan, so a word that
        # most letters of the table hold never costs its whole posting list
        # (prefix matches in a GIN index collect every matching row of the table).
        config = SEARCH_LANGUAGES[qlang]
        prefixes = " & ".join(f"{w}:*" for w in words)
        found = text(
            f"SELECT message_id FROM (SELECT message_id, tsv_{qlang} AS tsv "
            f"FROM {SEARCH_TABLE} WHERE mailbox_id = :search_mailbox OFFSET 0) AS mine "
            f"WHERE tsv @@ to_tsquery('{config}'::regconfig, :search_query)"
        ).bindparams(search_mailbox=mailbox, search_query=prefixes)
    else:
        # Every term carries the mailbox: the MATCH walks this person's terms only,
        # whatever the table holds.
        query = scoped_query(mailbox, qlang, words)
        if query is None:
            return false()
        found = text(
            f"SELECT message_id FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :search_query"
        ).bindparams(search_query=query)
    return inbox_messages.c.message_id.in_(
        found.columns(message_id=inbox_messages.c.message_id.type)
    )


def insert_statement(dialect: str) -> TextClause:
    """The INSERT of search rows: `message_id`, `mailbox_id` and one document per language."""
    columns = ", ".join(LANGUAGES)
    if dialect == "postgresql":
        values = ", ".join(
            f"to_tsvector('{config}'::regconfig, :{lang})"
            for lang, config in SEARCH_LANGUAGES.items()
        )
        return text(
            f"INSERT INTO {SEARCH_TABLE} (message_id, mailbox_id, "
            f"{', '.join(f'tsv_{lang}' for lang in LANGUAGES)}) "
            f"VALUES (:message_id, :mailbox_id, {values})"
        )
    values = ", ".join(f":{lang}" for lang in LANGUAGES)
    return text(
        f"INSERT INTO {SEARCH_TABLE} (message_id, {columns}) VALUES (:message_id, {values})"
    )


def insert_rows(dialect: str, rows: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    """The rows `insert_statement` takes: on SQLite every term carries its mailbox."""
    if dialect == "postgresql":
        return list(rows)
    return [
        {**row, **{lang: scoped_document(row["mailbox_id"], row[lang]) for lang in LANGUAGES}}
        for row in rows
    ]


def clear_statement() -> TextClause:
    return text(f"DELETE FROM {SEARCH_TABLE}")
