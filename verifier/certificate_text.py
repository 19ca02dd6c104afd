"""Every sentence of the PDF certificate, in English and in the recipient's language.

A judge reads the certificate in the recipient's language (Dutch, French or
German) with the English beside it, so that a translation can always be checked
against the original wording. The texts live here, one catalogue per language,
and nowhere else: the layout (`ebox.verifier.certificate`) asks for keys. A key
missing in a language falls back to English (a test checks there are none).
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("en", "nl", "fr", "de")
LANGUAGE_NAMES = {"en": "English", "nl": "Nederlands", "fr": "Français", "de": "Deutsch"}

EN: Mapping[str, str] = {
    "title": "Evidence of notification",
    "intro": "Certificate for an eBox {kind}, issued from an independently verified evidence file.",
    "kind.registered": "registered letter",
    "kind.letter": "letter",
    "verdict": "VERIFIED: every check passed",
    "verified_on": "Verified on {utc} UTC ({local} Brussels time) with the ledger key {vkey}.",
    "key_warning": "A verdict is only as good as the key: obtain the ledger key from the "
    "operator's published source, not from this document.",
    "issuer": "Issued by",
    "issuer.name": "Operator",
    "issuer.address": "Address",
    "issuer.legal_basis": "Legal basis",
    "issuer.seal": "This PDF is sealed by the operator (electronic seal, PAdES) and carries the "
    "evidence file {bundle} as an attachment: one file holds the readable certificate and the "
    "machine proof.",
    "letter": "The letter",
    "message_id": "Message id",
    "subject": "Subject",
    "message_type": "Message type",
    "registered": "Registered letter",
    "yes": "yes",
    "no": "no",
    "parties": "Parties",
    "sender": "Sender",
    "sender.signed": "signed with key {key}",
    "sender.attested": "not signed (attested by the ledger)",
    "application": "application",
    "recipient": "Recipient",
    "recipient_name": "Recipient's name",
    "recipient.unknown": "(not recorded in the ledger)",
    "mailbox": "Recipient's mailbox",
    "language": "Language of this certificate",
    "timeline": "Timeline (ledger time: UTC and Brussels time)",
    "when": "When",
    "what": "What happened",
    "who": "By whom",
    "how": "How",
    "proven": "What was proven",
    "proven.annex": "How each property was proven is set out in the annex.",
    "section.Origin": "Origin (who sent it)",
    "section.Destination": "Destination (to whom it was made available)",
    "section.Integrity": "Integrity (nothing was changed)",
    "section.Confidentiality": "Confidentiality (who could read it)",
    "documents": "Documents",
    "document": "Document",
    "document.sha256": "SHA-256 of the content (signed by the sender)",
    "document.checked": "Content checked",
    "document.disclosed": "yes: disclosed, decrypted, digest matches",
    "document.digest_only": "no: digest only",
    "reverify": "How to re-verify",
    "reverify.1": "Keep the evidence file {bundle} unchanged{digest} and obtain the ledger's "
    "public key from the operator's published source. In this PDF it is the attachment "
    "{bundle}.",
    "reverify.digest": " (its SHA-256 is {sha256})",
    "reverify.2": "Run: ebox verify {bundle} --vkey '{vkey}' (or give it this PDF). The verifier "
    "works offline and needs no database; it prints what is proven and exits with status 0, or "
    "names the first check that fails.",
    "reverify.3": "Or write an independent verifier: the annex names every standard it rests "
    "on, and docs/EVIDENCE.md describes every format and every step.",
    "limits": "Limits",
    "annex": "Annex: technical details and standards",
    "annex.intro": "For experts: the proof of each property, the standards, and the log entries.",
    "annex.standards": "Standards: canonical events in RFC 8785 JSON, a SHA-256 hash chain, "
    "RFC 6962 Merkle inclusion proofs, C2SP signed checkpoints (Ed25519), Ed25519 sender "
    "signatures, NaCl encryption (XSalsa20-Poly1305, X25519 SealedBox), ETSI EN 319 522 event "
    "names, PAdES (ETSI EN 319 142) for the seal of this PDF.",
    "annex.log": "Log (origin)",
    "annex.checkpoint": "Checkpoint",
    "annex.checkpoint_value": "size {size}, root {root}",
    "annex.signed_at": "Signed at",
    "annex.not_stated": "(not stated)",
    "annex.vkey": "Ledger key (vkey)",
    "annex.bundle": "Evidence file",
    "annex.version": "Version",
    "annex.event": "Event",
    "annex.etsi": "ETSI EN 319 522 event",
    "annex.leaf": "Leaf",
    "annex.hash": "Event hash (SHA-256 of the canonical event)",
    "page": "page {n} of {m}",
    "event.Sent": "Sent: accepted by the ledger",
    "event.Delivered": "Made available in the mailbox",
    "event.Read": "Opened for the first time",
    "event.ContentAccessed": "Opened again",
    "event.Archived": "Archived",
    "event.Unarchived": "Taken out of the archive",
    "event.Hidden": "Hidden",
    "event.Shown": "Shown again",
    "event.Expired": "Expired: content destroyed",
    "event.Notified": "Notified by email",
    "event.NotificationFailed": "Notification failed",
}

NL: Mapping[str, str] = {
    "title": "Bewijs van kennisgeving",
    "intro": "Certificaat voor een eBox-{kind}, opgemaakt uit een onafhankelijk geverifieerd "
    "bewijsbestand.",
    "kind.registered": "aangetekende zending",
    "kind.letter": "zending",
    "verdict": "GEVERIFIEERD: elke controle is geslaagd",
    "verified_on": "Geverifieerd op {utc} UTC ({local} Brusselse tijd) met de grootboeksleutel "
    "{vkey}.",
    "key_warning": "Een oordeel is maar zo goed als de sleutel: haal de grootboeksleutel bij de "
    "door de operator gepubliceerde bron, niet uit dit document.",
    "issuer": "Uitgegeven door",
    "issuer.name": "Operator",
    "issuer.address": "Adres",
    "issuer.legal_basis": "Rechtsgrond",
    "issuer.seal": "Deze PDF is verzegeld door de operator (elektronisch zegel, PAdES) en bevat "
    "het bewijsbestand {bundle} als bijlage: één bestand bevat het leesbare certificaat en het "
    "machinebewijs.",
    "letter": "De zending",
    "message_id": "Berichtnummer",
    "subject": "Onderwerp",
    "message_type": "Berichttype",
    "registered": "Aangetekende zending",
    "yes": "ja",
    "no": "nee",
    "parties": "Partijen",
    "sender": "Afzender",
    "sender.signed": "ondertekend met sleutel {key}",
    "sender.attested": "niet ondertekend (bevestigd door het grootboek)",
    "application": "toepassing",
    "recipient": "Ontvanger",
    "recipient_name": "Naam van de ontvanger",
    "recipient.unknown": "(niet vastgelegd in het grootboek)",
    "mailbox": "Brievenbus van de ontvanger",
    "language": "Taal van dit certificaat",
    "timeline": "Tijdlijn (tijd van het grootboek: UTC en Brusselse tijd)",
    "when": "Wanneer",
    "what": "Wat er gebeurde",
    "who": "Door wie",
    "how": "Hoe",
    "proven": "Wat bewezen is",
    "proven.annex": "Hoe elke eigenschap bewezen is, staat in de bijlage.",
    "section.Origin": "Oorsprong (wie het verzond)",
    "section.Destination": "Bestemming (voor wie het beschikbaar werd gesteld)",
    "section.Integrity": "Integriteit (niets werd gewijzigd)",
    "section.Confidentiality": "Vertrouwelijkheid (wie het kon lezen)",
    "documents": "Documenten",
    "document": "Document",
    "document.sha256": "SHA-256 van de inhoud (ondertekend door de afzender)",
    "document.checked": "Inhoud gecontroleerd",
    "document.disclosed": "ja: vrijgegeven, ontsleuteld, vingerafdruk klopt",
    "document.digest_only": "nee: alleen de vingerafdruk",
    "reverify": "Opnieuw verifiëren",
    "reverify.1": "Bewaar het bewijsbestand {bundle} ongewijzigd{digest} en haal de publieke "
    "sleutel van het grootboek bij de door de operator gepubliceerde bron. In deze PDF is het de "
    "bijlage {bundle}.",
    "reverify.digest": " (de SHA-256 ervan is {sha256})",
    "reverify.2": "Voer uit: ebox verify {bundle} --vkey '{vkey}' (of geef deze PDF). De "
    "verificatie werkt offline en heeft geen databank nodig; ze toont wat bewezen is en eindigt "
    "met status 0, of noemt de eerste controle die faalt.",
    "reverify.3": "Of schrijf een onafhankelijke verificatie: de bijlage noemt elke norm waarop "
    "ze steunt, en docs/EVIDENCE.md beschrijft elk formaat en elke stap.",
    "limits": "Beperkingen",
    "annex": "Bijlage: technische gegevens en normen",
    "annex.intro": "Voor deskundigen: het bewijs van elke eigenschap, de normen en de "
    "logboekregels.",
    "annex.standards": "Normen: canonieke gebeurtenissen in RFC 8785-JSON, een SHA-256-hashketen, "
    "RFC 6962-Merkle-inclusiebewijzen, C2SP-ondertekende checkpoints (Ed25519), "
    "Ed25519-handtekeningen van de afzender, NaCl-versleuteling (XSalsa20-Poly1305, X25519 "
    "SealedBox), gebeurtenisnamen volgens ETSI EN 319 522, PAdES (ETSI EN 319 142) voor het "
    "zegel van deze PDF.",
    "annex.log": "Logboek (oorsprong)",
    "annex.checkpoint": "Checkpoint",
    "annex.checkpoint_value": "grootte {size}, wortel {root}",
    "annex.signed_at": "Ondertekend op",
    "annex.not_stated": "(niet vermeld)",
    "annex.vkey": "Grootboeksleutel (vkey)",
    "annex.bundle": "Bewijsbestand",
    "annex.version": "Versie",
    "annex.event": "Gebeurtenis",
    "annex.etsi": "Gebeurtenis ETSI EN 319 522",
    "annex.leaf": "Blad",
    "annex.hash": "Hash van de gebeurtenis (SHA-256 van de canonieke gebeurtenis)",
    "page": "pagina {n} van {m}",
    "event.Sent": "Verzonden: aanvaard door het grootboek",
    "event.Delivered": "Beschikbaar gesteld in de brievenbus",
    "event.Read": "Voor het eerst geopend",
    "event.ContentAccessed": "Opnieuw geopend",
    "event.Archived": "Gearchiveerd",
    "event.Unarchived": "Uit het archief gehaald",
    "event.Hidden": "Verborgen",
    "event.Shown": "Opnieuw getoond",
    "event.Expired": "Verlopen: inhoud vernietigd",
    "event.Notified": "Verwittigd per e-mail",
    "event.NotificationFailed": "Verwittiging mislukt",
}

FR: Mapping[str, str] = {
    "title": "Preuve de notification",
    "intro": "Certificat d'un {kind} eBox, établi à partir d'un fichier de preuve vérifié de "
    "manière indépendante.",
    "kind.registered": "envoi recommandé",
    "kind.letter": "envoi",
    "verdict": "VÉRIFIÉ : tous les contrôles ont réussi",
    "verified_on": "Vérifié le {utc} UTC ({local} heure de Bruxelles) avec la clé du registre "
    "{vkey}.",
    "key_warning": "Un verdict ne vaut que par sa clé : obtenez la clé du registre auprès de la "
    "source publiée par l'opérateur, pas dans ce document.",
    "issuer": "Délivré par",
    "issuer.name": "Opérateur",
    "issuer.address": "Adresse",
    "issuer.legal_basis": "Base légale",
    "issuer.seal": "Ce PDF est scellé par l'opérateur (cachet électronique, PAdES) et contient le "
    "fichier de preuve {bundle} en pièce jointe : un seul fichier porte le certificat lisible et "
    "la preuve machine.",
    "letter": "L'envoi",
    "message_id": "Identifiant du message",
    "subject": "Objet",
    "message_type": "Type de message",
    "registered": "Envoi recommandé",
    "yes": "oui",
    "no": "non",
    "parties": "Parties",
    "sender": "Expéditeur",
    "sender.signed": "signé avec la clé {key}",
    "sender.attested": "non signé (attesté par le registre)",
    "application": "application",
    "recipient": "Destinataire",
    "recipient_name": "Nom du destinataire",
    "recipient.unknown": "(non enregistré dans le registre)",
    "mailbox": "Boîte du destinataire",
    "language": "Langue de ce certificat",
    "timeline": "Chronologie (heure du registre : UTC et heure de Bruxelles)",
    "when": "Quand",
    "what": "Ce qui s'est passé",
    "who": "Par qui",
    "how": "Comment",
    "proven": "Ce qui est prouvé",
    "proven.annex": "La manière dont chaque propriété est prouvée figure en annexe.",
    "section.Origin": "Origine (qui l'a envoyé)",
    "section.Destination": "Destination (à qui il a été mis à disposition)",
    "section.Integrity": "Intégrité (rien n'a été modifié)",
    "section.Confidentiality": "Confidentialité (qui pouvait le lire)",
    "documents": "Documents",
    "document": "Document",
    "document.sha256": "SHA-256 du contenu (signé par l'expéditeur)",
    "document.checked": "Contenu contrôlé",
    "document.disclosed": "oui : divulgué, déchiffré, empreinte conforme",
    "document.digest_only": "non : empreinte seulement",
    "reverify": "Vérifier à nouveau",
    "reverify.1": "Conservez le fichier de preuve {bundle} sans le modifier{digest} et obtenez la "
    "clé publique du registre auprès de la source publiée par l'opérateur. Dans ce PDF, c'est la "
    "pièce jointe {bundle}.",
    "reverify.digest": " (son SHA-256 est {sha256})",
    "reverify.2": "Exécutez : ebox verify {bundle} --vkey '{vkey}' (ou donnez-lui ce PDF). Le "
    "vérificateur fonctionne hors ligne, sans base de données ; il affiche ce qui est prouvé et "
    "se termine avec le statut 0, ou nomme le premier contrôle qui échoue.",
    "reverify.3": "Ou écrivez un vérificateur indépendant : l'annexe cite chaque norme sur "
    "laquelle il repose, et docs/EVIDENCE.md décrit chaque format et chaque étape.",
    "limits": "Limites",
    "annex": "Annexe : détails techniques et normes",
    "annex.intro": "Pour les experts : la preuve de chaque propriété, les normes et les entrées "
    "du journal.",
    "annex.standards": "Normes : événements canoniques en JSON RFC 8785, chaîne de hachage "
    "SHA-256, preuves d'inclusion Merkle RFC 6962, points de contrôle signés C2SP (Ed25519), "
    "signatures Ed25519 de l'expéditeur, chiffrement NaCl (XSalsa20-Poly1305, X25519 SealedBox), "
    "noms d'événements ETSI EN 319 522, PAdES (ETSI EN 319 142) pour le cachet de ce PDF.",
    "annex.log": "Journal (origine)",
    "annex.checkpoint": "Point de contrôle",
    "annex.checkpoint_value": "taille {size}, racine {root}",
    "annex.signed_at": "Signé le",
    "annex.not_stated": "(non indiqué)",
    "annex.vkey": "Clé du registre (vkey)",
    "annex.bundle": "Fichier de preuve",
    "annex.version": "Version",
    "annex.event": "Événement",
    "annex.etsi": "Événement ETSI EN 319 522",
    "annex.leaf": "Feuille",
    "annex.hash": "Empreinte de l'événement (SHA-256 de l'événement canonique)",
    "page": "page {n} sur {m}",
    "event.Sent": "Envoyé : accepté par le registre",
    "event.Delivered": "Mis à disposition dans la boîte",
    "event.Read": "Ouvert pour la première fois",
    "event.ContentAccessed": "Ouvert à nouveau",
    "event.Archived": "Archivé",
    "event.Unarchived": "Sorti des archives",
    "event.Hidden": "Masqué",
    "event.Shown": "Affiché à nouveau",
    "event.Expired": "Expiré : contenu détruit",
    "event.Notified": "Notifié par e-mail",
    "event.NotificationFailed": "Échec de la notification",
}

DE: Mapping[str, str] = {
    "title": "Zustellungsnachweis",
    "intro": "Bescheinigung für eine eBox-{kind}, ausgestellt aus einer unabhängig geprüften "
    "Beweisdatei.",
    "kind.registered": "Einschreibsendung",
    "kind.letter": "Sendung",
    "verdict": "GEPRÜFT: alle Prüfungen bestanden",
    "verified_on": "Geprüft am {utc} UTC ({local} Brüsseler Zeit) mit dem Registerschlüssel "
    "{vkey}.",
    "key_warning": "Ein Ergebnis ist nur so gut wie der Schlüssel: Beziehen Sie den "
    "Registerschlüssel aus der vom Betreiber veröffentlichten Quelle, nicht aus diesem Dokument.",
    "issuer": "Ausgestellt von",
    "issuer.name": "Betreiber",
    "issuer.address": "Anschrift",
    "issuer.legal_basis": "Rechtsgrundlage",
    "issuer.seal": "Dieses PDF ist vom Betreiber versiegelt (elektronisches Siegel, PAdES) und "
    "enthält die Beweisdatei {bundle} als Anhang: eine Datei trägt die lesbare Bescheinigung und "
    "den maschinenlesbaren Beweis.",
    "letter": "Die Sendung",
    "message_id": "Nachrichtenkennung",
    "subject": "Betreff",
    "message_type": "Nachrichtentyp",
    "registered": "Einschreibsendung",
    "yes": "ja",
    "no": "nein",
    "parties": "Parteien",
    "sender": "Absender",
    "sender.signed": "signiert mit Schlüssel {key}",
    "sender.attested": "nicht signiert (vom Register bestätigt)",
    "application": "Anwendung",
    "recipient": "Empfänger",
    "recipient_name": "Name des Empfängers",
    "recipient.unknown": "(im Register nicht erfasst)",
    "mailbox": "Postfach des Empfängers",
    "language": "Sprache dieser Bescheinigung",
    "timeline": "Zeitablauf (Zeit des Registers: UTC und Brüsseler Zeit)",
    "when": "Wann",
    "what": "Was geschah",
    "who": "Durch wen",
    "how": "Wie",
    "proven": "Was bewiesen ist",
    "proven.annex": "Wie jede Eigenschaft bewiesen ist, steht im Anhang.",
    "section.Origin": "Herkunft (wer sie versandt hat)",
    "section.Destination": "Bestimmung (wem sie bereitgestellt wurde)",
    "section.Integrity": "Integrität (nichts wurde verändert)",
    "section.Confidentiality": "Vertraulichkeit (wer sie lesen konnte)",
    "documents": "Dokumente",
    "document": "Dokument",
    "document.sha256": "SHA-256 des Inhalts (vom Absender signiert)",
    "document.checked": "Inhalt geprüft",
    "document.disclosed": "ja: offengelegt, entschlüsselt, Prüfsumme stimmt",
    "document.digest_only": "nein: nur die Prüfsumme",
    "reverify": "Erneut prüfen",
    "reverify.1": "Bewahren Sie die Beweisdatei {bundle} unverändert auf{digest} und beziehen Sie "
    "den öffentlichen Schlüssel des Registers aus der vom Betreiber veröffentlichten Quelle. In "
    "diesem PDF ist sie der Anhang {bundle}.",
    "reverify.digest": " (ihr SHA-256 ist {sha256})",
    "reverify.2": "Führen Sie aus: ebox verify {bundle} --vkey '{vkey}' (oder übergeben Sie dieses "
    "PDF). Die Prüfung arbeitet offline und braucht keine Datenbank; sie zeigt, was bewiesen ist, "
    "und endet mit Status 0, oder nennt die erste fehlgeschlagene Prüfung.",
    "reverify.3": "Oder schreiben Sie eine unabhängige Prüfung: der Anhang nennt jede Norm, auf "
    "der sie beruht, und docs/EVIDENCE.md beschreibt jedes Format und jeden Schritt.",
    "limits": "Grenzen",
    "annex": "Anhang: technische Angaben und Normen",
    "annex.intro": "Für Sachverständige: der Beweis jeder Eigenschaft, die Normen und die "
    "Protokolleinträge.",
    "annex.standards": "Normen: kanonische Ereignisse in RFC-8785-JSON, eine SHA-256-Hashkette, "
    "RFC-6962-Merkle-Einschlussbeweise, signierte C2SP-Checkpoints (Ed25519), "
    "Ed25519-Signaturen des Absenders, NaCl-Verschlüsselung (XSalsa20-Poly1305, X25519 "
    "SealedBox), Ereignisnamen nach ETSI EN 319 522, PAdES (ETSI EN 319 142) für das Siegel "
    "dieses PDF.",
    "annex.log": "Protokoll (Herkunft)",
    "annex.checkpoint": "Checkpoint",
    "annex.checkpoint_value": "Größe {size}, Wurzel {root}",
    "annex.signed_at": "Signiert am",
    "annex.not_stated": "(nicht angegeben)",
    "annex.vkey": "Registerschlüssel (vkey)",
    "annex.bundle": "Beweisdatei",
    "annex.version": "Version",
    "annex.event": "Ereignis",
    "annex.etsi": "Ereignis ETSI EN 319 522",
    "annex.leaf": "Blatt",
    "annex.hash": "Hash des Ereignisses (SHA-256 des kanonischen Ereignisses)",
    "page": "Seite {n} von {m}",
    "event.Sent": "Versandt: vom Register angenommen",
    "event.Delivered": "Im Postfach bereitgestellt",
    "event.Read": "Zum ersten Mal geöffnet",
    "event.ContentAccessed": "Erneut geöffnet",
    "event.Archived": "Archiviert",
    "event.Unarchived": "Aus dem Archiv geholt",
    "event.Hidden": "Ausgeblendet",
    "event.Shown": "Wieder angezeigt",
    "event.Expired": "Abgelaufen: Inhalt vernichtet",
    "event.Notified": "Per E-Mail benachrichtigt",
    "event.NotificationFailed": "Benachrichtigung fehlgeschlagen",
}

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
