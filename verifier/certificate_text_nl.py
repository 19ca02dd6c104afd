"""The certificate's texts in Dutch: one catalogue, keyed like the English one."""

from __future__ import annotations

from collections.abc import Mapping

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
    "sender.signed": "ondertekend met sleutel {key_id}",
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
    "brussels": "Brusselse tijd",
    "utc": "UTC",
    "etsi": "Gebeurtenis ETSI EN 319 522",
    "legal_moment": "Juridisch tijdstip van ontvangst",
    "legal_moment.at": "Geldt als ontvangen op",
    "legal_moment.rule": "Toegepaste regel",
    "legal_moment.rule_value": "{rule} ({days} werkdagen)",
    "legal_moment.reason": "Waarom",
    "annex.proofs": "Hoe elke eigenschap bewezen is",
    "annex.etsi_uri": "ETSI EN 319 522-identificatoren van de gebeurtenissen",
    "annex.seal": "Zegel van deze PDF",
    "event.Notified": "Ontvanger verwittigd (e-mail)",
    "event.NotificationFailed": "Verwittiging mislukt",
    "event.Replied": "Beantwoord",
    "language_name": "Nederlands",
    "rule.first-opening": "ontvangen bij de eerste opening van de hoofdinhoud",
    "rule.deemed-working-day": "geacht ontvangen {days} werkdagen na de terbeschikkingstelling "
    "(Belgische feestdagen niet meegerekend)",
    "rule.earliest-of": "de eerste opening van de hoofdinhoud, of geacht ontvangen {days} "
    "werkdagen na de terbeschikkingstelling (Belgische feestdagen niet meegerekend), wat het "
    "eerst komt",
    "reason.first-opening": "de hoofdinhoud werd geopend",
    "reason.deemed": "de {days} werkdagen verstreken eerst",
    "verdict.PROVEN": "BEWEZEN",
    "verdict.PROVEN (digests)": "BEWEZEN (vingerafdrukken)",
    "verdict.PROVEN (content disclosed and checked)": "BEWEZEN (inhoud vrijgegeven en "
    "gecontroleerd)",
    "verdict.ATTESTED (not signed)": "BEVESTIGD (niet ondertekend)",
    "verdict.NOT DELIVERED": "NIET BESCHIKBAAR GESTELD",
    "section.Expiry": "Verval (inhoud vernietigd)",
    "section.Legal moment": "Juridisch tijdstip van ontvangst",
    "section.Life": "Levensloop van de zending (verwittigingen, herinneringen, verval)",
    "verdict.NOT STATED": "NIET VERMELD",
}
