"""Every word of the notification mails, in the four languages of a mailbox, in one place.

A mail says which organisation sent something and links to the eBox; it never
carries the content, and the letter's subject only when its message type is
marked not sensitive (the default is sensitive: no subject).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


_T = dict[str, dict[str, Text]]

CATALOGUE: _T = {
    "newDocument": {
        "nl": Text(
            "Nieuw document in uw eBox",
            "{sender} heeft u een document gestuurd in uw eBox.{about}\n\n"
            "Lees het in uw eBox: {link}\n",
        ),
        "fr": Text(
            "Nouveau document dans votre eBox",
            "{sender} vous a envoyé un document dans votre eBox.{about}\n\n"
            "Consultez-le dans votre eBox : {link}\n",
        ),
        "de": Text(
            "Neues Dokument in Ihrer eBox",
            "{sender} hat Ihnen ein Dokument in Ihre eBox gesendet.{about}\n\n"
            "Lesen Sie es in Ihrer eBox: {link}\n",
        ),
        "en": Text(
            "New document in your eBox",
            "{sender} has sent you a document in your eBox.{about}\n\n"
            "Read it in your eBox: {link}\n",
        ),
    },
    "newDocumentReminder": {
        "nl": Text(
            "Herinnering: ongelezen document in uw eBox",
            "{sender} heeft u een document gestuurd dat u nog niet gelezen hebt.{about}\n\n"
            "Lees het in uw eBox: {link}\n",
        ),
        "fr": Text(
            "Rappel : document non lu dans votre eBox",
            "{sender} vous a envoyé un document que vous n'avez pas encore lu.{about}\n\n"
            "Consultez-le dans votre eBox : {link}\n",
        ),
        "de": Text(
            "Erinnerung: ungelesenes Dokument in Ihrer eBox",
            "{sender} hat Ihnen ein Dokument gesendet, das Sie noch nicht gelesen haben.{about}\n\n"
            "Lesen Sie es in Ihrer eBox: {link}\n",
        ),
        "en": Text(
            "Reminder: unread document in your eBox",
            "{sender} has sent you a document that you have not read yet.{about}\n\n"
            "Read it in your eBox: {link}\n",
        ),
    },
    "documentExpirationAlert": {
        "nl": Text(
            "Een document in uw eBox vervalt binnenkort",
            "Een ongelezen document van {sender} vervalt op {expires}; daarna is het"
            " niet meer leesbaar.{about}\n\nLees het in uw eBox: {link}\n",
        ),
        "fr": Text(
            "Un document de votre eBox expire bientôt",
            "Un document non lu de {sender} expire le {expires} ; il ne sera plus"
            " lisible ensuite.{about}\n\nConsultez-le dans votre eBox : {link}\n",
        ),
        "de": Text(
            "Ein Dokument in Ihrer eBox läuft bald ab",
            "Ein ungelesenes Dokument von {sender} läuft am {expires} ab; danach ist es"
            " nicht mehr lesbar.{about}\n\nLesen Sie es in Ihrer eBox: {link}\n",
        ),
        "en": Text(
            "A document in your eBox expires soon",
            "An unread document from {sender} expires on {expires}; after that it can no"
            " longer be read.{about}\n\nRead it in your eBox: {link}\n",
        ),
    },
}

DIGEST: dict[str, Text] = {
    "nl": Text(
        "Nieuwe documenten in uw eBox",
        "U hebt {count} nieuwe document(en) in uw eBox, van: {senders}.\n\n"
        "Lees ze in uw eBox: {link}\n",
    ),
    "fr": Text(
        "Nouveaux documents dans votre eBox",
        "Vous avez {count} nouveau(x) document(s) dans votre eBox, de : {senders}.\n\n"
        "Consultez-les dans votre eBox : {link}\n",
    ),
    "de": Text(
        "Neue Dokumente in Ihrer eBox",
        "Sie haben {count} neue(s) Dokument(e) in Ihrer eBox, von: {senders}.\n\n"
        "Lesen Sie sie in Ihrer eBox: {link}\n",
    ),
    "en": Text(
        "New documents in your eBox",
        "You have {count} new document(s) in your eBox, from: {senders}.\n\n"
        "Read them in your eBox: {link}\n",
    ),
}
"""The daily digest (a mailbox's choice): one mail for the day's new letters."""

ABOUT: dict[str, str] = {
    "nl": " Onderwerp: {subject}.",
    "fr": " Objet : {subject}.",
    "de": " Betreff: {subject}.",
    "en": " Subject: {subject}.",
}


def render(
    kind: str,
    language: str | None,
    *,
    sender: str,
    link: str,
    expires: str,
    subject: str | None,
) -> Text:
    """The mail's subject line and body; `subject` (the letter's) only when not sensitive."""
    lang = language if language in ABOUT else DEFAULT_LANGUAGE
    text = CATALOGUE[kind][lang]
    about = ABOUT[lang].format(subject=subject) if subject else ""
    body = text.body.format(sender=sender, link=link, expires=expires, about=about)
    return Text(text.subject, body)


def render_digest(language: str | None, *, senders: list[str], count: int, link: str) -> Text:
    """The daily digest's subject line and body: how many letters, from whom, and the link."""
    lang = language if language in DIGEST else DEFAULT_LANGUAGE
    text = DIGEST[lang]
    body = text.body.format(count=count, senders=", ".join(senders), link=link)
    return Text(text.subject, body)
