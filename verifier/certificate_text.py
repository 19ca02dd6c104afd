"""Every sentence of the PDF certificate, in English and in the recipient's language.

A judge reads the certificate in the recipient's language (Dutch, French or
German) with the English beside it, so that a translation can always be checked
against the original wording. The texts live in one catalogue module per
language (`certificate_text_en`, `_nl`, `_fr`, `_de`) and nowhere else: the
layout (`ebox.verifier.certificate`) asks for keys. A key missing in a language
falls back to English (a test checks there are none).
"""

from __future__ import annotations

from collections.abc import Mapping

from ebox.verifier.certificate_text_de import DE
from ebox.verifier.certificate_text_en import EN
from ebox.verifier.certificate_text_fr import FR
from ebox.verifier.certificate_text_nl import NL

LANGUAGES = ("en", "nl", "fr", "de")
LANGUAGE_NAMES = {"en": "English", "nl": "Nederlands", "fr": "Français", "de": "Deutsch"}
CATALOGUES: Mapping[str, Mapping[str, str]] = {"en": EN, "nl": NL, "fr": FR, "de": DE}


class UnknownLanguage(ValueError):
    """A certificate language other than en, nl, fr, de."""


def checked_language(language: str | None) -> str:
    """`language` lower-cased if the certificate speaks it; None means English."""
    code = (language or "en").strip().lower()
    if code not in CATALOGUES:
        raise UnknownLanguage(
            f"unknown certificate language {language!r}: use one of {', '.join(LANGUAGES)}"
        )
    return code


class Texts:
    """The certificate's texts in one language, each with its English original at hand."""

    def __init__(self, language: str) -> None:
        self.language = checked_language(language)
        self._local = CATALOGUES[self.language]

    @property
    def bilingual(self) -> bool:
        return self.language != "en"

    def local(self, key: str, **values: object) -> str:
        return self._local.get(key, EN[key]).format(**values)

    def english(self, key: str, **values: object) -> str:
        return EN[key].format(**values)

    def label(self, key: str, **values: object) -> str:
        """A short label: "Afzender / Sender", or the English alone for an English certificate."""
        local, english = self.local(key, **values), self.english(key, **values)
        return local if local == english else f"{local} / {english}"

    def has(self, key: str) -> bool:
        return key in EN
