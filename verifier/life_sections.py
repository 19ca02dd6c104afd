"""The report's words for a registered letter's legal moment and its life after delivery.

Split from :mod:`ebox.verifier.bundle_sections`: the legal moment (recomputed
before this runs, see :mod:`ebox.verifier.legal_checks`) and the life summary,
who was told what and when (the `Notified` / `NotificationFailed` events, keyed
on the event API's kinds), whether it was ever opened and when its content was
destroyed. Presentation only: it runs after every check passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from ebox.domain.proofs.canonical import parse_rfc3339
from ebox.domain.proofs.etsi_events import etsi_event
from ebox.domain.proofs.evidence import EvidenceBundle, LegalMomentClaim
from ebox.verifier.findings import Section

BRUSSELS = ZoneInfo("Europe/Brussels")

RULES = {
    "first-opening": "the first opening of the main content",
    "deemed-working-day": "deemed receipt on the {n} working day after it was made available",
    "earliest-of": (
        "the first opening of the main content or deemed receipt on the {n} working day "
        "after it was made available, whichever comes first"
    ),
}

NOTICE_KINDS = {
    "newDocument": "notified of the new letter",
    "newDocumentReminder": "reminded that the letter is still unread",
    "documentExpirationAlert": "alerted that the unread letter will expire",
}


def brussels(at: str) -> str:
    """The same instant in Brussels local time, for the reader beside UTC."""
    return parse_rfc3339(at).astimezone(BRUSSELS).strftime("%Y-%m-%d %H:%M:%S %Z")


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th... 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def rule_words(rule: str, working_days: int) -> str:
    return RULES.get(rule, rule).format(n=ordinal(working_days))


def legal_moment_section(
    bundle: EvidenceBundle, registered: bool, claim: LegalMomentClaim | None
) -> tuple[Section, ...]:
    if not registered:
        return ()
    if claim is None:
        return (
            Section(
                "Legal moment",
                "NOT STATED",
                (
                    "The bundle states no legal moment of receipt: it was made before the ledger "
                    "stated one, or the moment was not settled at its checkpoint (not opened, "
                    "and the deemed day not reached).",
                ),
            ),
        )
    delivered = next((e for e in bundle.events if e.type == "Delivered"), None)
    if claim.reason == "first-opening":
        how = (
            f"The letter counts as received at {claim.at} ({brussels(claim.at)}): the first "
            "opening of its main content (the Read event, ETSI ContentHandover)."
        )
    else:
        available = delivered.canonical.get("timestamp") if delivered else "(not delivered)"
        how = (
            f"The letter is deemed received at {claim.at} ({brussels(claim.at)}), the start of "
            f"the {ordinal(claim.working_days)} working day after it was made available at "
            f"{available}; it had not been opened before then."
        )
    return (
        Section(
            "Legal moment",
            f"RECEIVED AT {claim.at} ({claim.reason}, rule {claim.rule})",
            (
                f"Rule {claim.rule}: {rule_words(claim.rule, claim.working_days)}, as the ledger "
                "operator configured it.",
                how,
                "The verifier recomputed this moment from the letter's events under that rule "
                "(working days: Monday to Friday except Belgian public holidays, on Brussels "
                "dates) and found the one the bundle states.",
            ),
        ),
    )


def life_section(bundle: EvidenceBundle) -> tuple[Section, ...]:
    """Who was told what and when, whether the letter was opened, when its content was destroyed."""
    lines: list[str] = []
    counts: dict[str, int] = {}
    read_at: Any = None
    expired: Mapping[str, Any] | None = None
    for event in bundle.events:
        at = event.canonical.get("timestamp")
        data = event.data
        if event.type in ("Notified", "NotificationFailed"):
            kind = str(data.get("kind") or data.get("notification") or "newDocument")
            what = NOTICE_KINDS.get(kind, f"told ({kind})")
            label = etsi_event(event.type, data)
            if event.type == "Notified":
                counts[kind] = counts.get(kind, 0) + 1
                lines.append(f"{at}: {what}, by {data.get('channel') or 'email'} (ETSI {label}).")
            else:
                lines.append(
                    f"{at}: could not be {what}: {data.get('reason') or 'no reason recorded'} "
                    f"(ETSI {label})."
                )
        elif event.type == "Read" and read_at is None:
            read_at = at
            lines.append(f"{at}: first opened (ETSI ContentHandover).")
        elif event.type == "Expired":
            expired = event.canonical
    if expired is not None:
        data = expired.get("data")
        never = isinstance(data, Mapping) and bool(data.get("content_handover_failure"))
        if never or read_at is None:
            lines.append(
                f"It was never read; its content was destroyed at {expired.get('timestamp')} "
                "(ETSI ContentHandoverFailure)."
            )
        else:
            lines.append(f"Its content was destroyed at {expired.get('timestamp')}.")
    if not counts and expired is None:
        return ()
    verdict = ", ".join(
        f"{NOTICE_KINDS[k].split(' ')[0].upper()} {n}"
        for k, n in counts.items()
        if k in NOTICE_KINDS
    )
    ending = "NEVER READ" if read_at is None else f"READ {read_at}"
    return (Section("Life", f"{verdict}; {ending}" if verdict else ending, tuple(lines)),)
