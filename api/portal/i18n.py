"""The portal's four languages: Babel catalogues read at start-up, and choosing one per request.

Every text a page shows is an English msgid translated through the catalogue of
the chosen language (``api/portal/locale/<lang>/LC_MESSAGES/messages.po``);
templates call ``_("...")`` and nothing in Python holds a sentence. The .po
files are read with Babel directly, so a fresh clone needs no compile step
(no .mo to build or commit). Extract new msgids with::

    pybabel extract -F api/portal/babel.cfg -o /tmp/messages.pot api/portal
    pybabel update -i /tmp/messages.pot -d api/portal/locale

Choice, first that applies: ``?lang=xx`` (remembered in the session), the
language of the person's eBox (their ContactSet), the browser's
``Accept-Language``, else Dutch (the majority language of the users).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGUAGES = ("nl", "fr", "de", "en")
# Each language named in itself (the language switch, the settings' choice): not translated.
LANGUAGE_NAMES = {"nl": "Nederlands", "fr": "Français", "de": "Deutsch", "en": "English"}
DEFAULT_LANGUAGE = "nl"
LOCALE_DIR = Path(__file__).parent / "locale"

Gettext = Callable[[str], str]


@cache
def catalogue(language: str) -> dict[str, str]:
    """msgid -> translation of one language (fuzzy and empty entries left out)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as po:
        entries = read_po(po, locale=language)
    return {
        str(entry.id): str(entry.string)
        for entry in entries
        if entry.id and entry.string and not entry.fuzzy and isinstance(entry.id, str)
    }


def gettext_for(language: str) -> Gettext:
    """The `_` of one language: the msgid itself when it has no translation (English)."""
    table = catalogue(language)

    def gettext(message: str) -> str:
        return table.get(message, message)

    return gettext


def from_accept_language(header: str | None) -> str | None:
    """The first of our languages the browser accepts, by its q-values (RFC 9110 §12.5.4)."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else None


def choose_language(
    asked: str | None, remembered: str | None, person: str | None, accept_language: str | None
) -> str:
    for candidate in (asked, remembered, person):
        if candidate in LANGUAGES:
            return str(candidate)
    return from_accept_language(accept_language) or DEFAULT_LANGUAGE
