"""A bundle's legal moment and ETSI labels: stated by the ledger, recomputed by the verifier.

Neither is covered by an event hash, so the verifier trusts neither: it
recomputes the moment of receipt from the Delivered and Read events under the
stated rule, and each label from the event's type, and refuses a bundle whose
statement differs, with both values. Bundles without either still verify.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from ebox.domain.proofs.canonical import parse_rfc3339
from ebox.domain.proofs.etsi_events import etsi_event_uri
from ebox.domain.proofs.evidence import (
    EvidenceBundle,
    LedgerReference,
    LegalMomentClaim,
    ProvenEvent,
)
from ebox.verifier.bundle import verify_bundle
from ebox.verifier.errors import EtsiLabelMismatch, LegalMomentMismatch, MalformedEvidence
from ebox.verifier.report import render_bundle_report
from tests.unit.test_evidence_bundle import ORIGIN, Letter, registered_letter


@pytest.fixture(scope="module")
def letter() -> Letter:
    return registered_letter()


def labelled(bundle: EvidenceBundle) -> EvidenceBundle:
    return replace(
        bundle,
        events=tuple(replace(e, etsi_event=etsi_event_uri(e.type, e.data)) for e in bundle.events),
    )


def read_time(bundle: EvidenceBundle) -> str:
    return str(next(e for e in bundle.events if e.type == "Read").canonical["timestamp"])


def test_a_read_registered_letter_states_its_first_opening_and_the_rule(letter: Letter) -> None:
    claim = LegalMomentClaim(read_time(letter.bundle), "earliest-of", 3, "first-opening")
    bundle = EvidenceBundle.parse(replace(labelled(letter.bundle), legal_moment=claim).to_json())
    assert bundle.legal_moment == claim

    report = verify_bundle(bundle, letter.vkey)
    assert report.legal_moment == claim
    text = render_bundle_report(report)
    assert f"LEGAL MOMENT: RECEIVED AT {claim.at} (first-opening, rule earliest-of)" in text
    (section,) = [s for s in report.sections if s.title == "Legal moment"]
    assert (
        "on the 3rd working day after it was made available, whichever comes first"
        in (section.lines[0])
    )


def test_a_tampered_legal_moment_is_refused_with_both_values(letter: Letter) -> None:
    true = LegalMomentClaim(read_time(letter.bundle), "earliest-of", 3, "first-opening")
    later = parse_rfc3339(true.at) + timedelta(days=2)
    forged = replace(true, at=later.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    with pytest.raises(LegalMomentMismatch) as refused:
        verify_bundle(replace(letter.bundle, legal_moment=forged), letter.vkey)
    assert refused.value.expected == true.as_json()
    assert refused.value.actual == forged.as_json()

    with pytest.raises(LegalMomentMismatch):  # the opening came first: not deemed
        verify_bundle(
            replace(letter.bundle, legal_moment=replace(true, reason="deemed")), letter.vkey
        )
    with pytest.raises(MalformedEvidence, match="unknown receipt rule"):
        verify_bundle(replace(letter.bundle, legal_moment=replace(true, rule="never")), letter.vkey)


def never_read(letter: Letter, days_later: int) -> EvidenceBundle:
    """The same letter as if never opened, sealed `days_later` days after its delivery."""
    log = letter.log
    clock = log.clock
    log.clock = clock + timedelta(days=days_later)
    try:
        note = log.checkpoint()
    finally:
        log.clock = clock
    events = tuple(
        e for e in log.proven(letter.message_id, note) if e.type in ("Sent", "Delivered")
    )
    return replace(
        letter.bundle,
        ledger=LedgerReference(ORIGIN, log.signer.vkey, note),
        events=events,
        sender_events=log.proven(letter.bundle.sender_events[0].aggregate_id, note),
        mailbox_events=log.proven(letter.bundle.mailbox_events[0].aggregate_id, note),
    )


def test_a_never_read_letter_is_deemed_received_on_the_third_working_day(letter: Letter) -> None:
    # Delivered on Monday 2 March 2026: deemed received on Thursday 5 March, 00:00 Brussels.
    bundle = never_read(letter, days_later=10)
    deemed = LegalMomentClaim("2026-03-04T23:00:00.000000Z", "earliest-of", 3, "deemed")
    report = verify_bundle(replace(bundle, legal_moment=deemed), letter.vkey)
    assert report.legal_moment == deemed
    assert "LEGAL MOMENT: RECEIVED AT 2026-03-04T23:00:00.000000Z (deemed" in (
        render_bundle_report(report)
    )
    with pytest.raises(LegalMomentMismatch):  # five working days is another moment
        verify_bundle(replace(bundle, legal_moment=replace(deemed, working_days=5)), letter.vkey)


def test_a_deemed_moment_not_reached_at_the_checkpoint_is_refused(letter: Letter) -> None:
    bundle = never_read(letter, days_later=1)
    deemed = LegalMomentClaim("2026-03-04T23:00:00.000000Z", "earliest-of", 3, "deemed")
    with pytest.raises(LegalMomentMismatch) as refused:
        verify_bundle(replace(bundle, legal_moment=deemed), letter.vkey)
    assert refused.value.expected is None
    report = render_bundle_report(verify_bundle(bundle, letter.vkey))
    assert "LEGAL MOMENT: NOT STATED" in report


def test_each_message_event_carries_its_etsi_identifier(letter: Letter) -> None:
    bundle = labelled(letter.bundle)
    on_disk = json.loads(bundle.to_json())
    labels = {e["canonical"]["type"]: e.get("etsi_event") for e in on_disk["events"]}
    assert labels == {
        "Sent": "http://uri.etsi.org/19522/Event/SubmissionAcceptance",
        "Delivered": "http://uri.etsi.org/19522/Event/ContentConsignment",
        "Read": "http://uri.etsi.org/19522/Event/ContentHandover",
        "Archived": None,
    }
    verify_bundle(EvidenceBundle.parse(bundle.to_json()), letter.vkey)


def test_a_wrong_etsi_label_is_refused(letter: Letter) -> None:
    bundle = labelled(letter.bundle)
    events = list(bundle.events)
    read = next(i for i, e in enumerate(events) if e.type == "Read")
    wrong = "http://uri.etsi.org/19522/Event/ContentConsignment"
    events[read] = replace(events[read], etsi_event=wrong)
    with pytest.raises(EtsiLabelMismatch) as refused:
        verify_bundle(replace(bundle, events=tuple(events)), letter.vkey)
    assert refused.value.expected == "http://uri.etsi.org/19522/Event/ContentHandover"
    assert refused.value.actual == wrong


def test_the_etsi_table_names_the_life_of_a_letter() -> None:
    base = "http://uri.etsi.org/19522/Event/"
    assert etsi_event_uri("Notified") == base + "ConsignmentNotification"
    assert etsi_event_uri("NotificationFailed") == base + "ConsignmentNotificationFailure"
    assert etsi_event_uri("ContentAccessed") == base + "ContentAccessTracking"
    assert etsi_event_uri("Expired", {"content_handover_failure": True}) == (
        base + "ContentHandoverFailure"
    )
    assert etsi_event_uri("Expired", {"content_handover_failure": False}) is None
    assert etsi_event_uri("Archived") is None


def test_golden_json_of_the_new_keys() -> None:
    """The exact spelling of `legal_moment` and `etsi_event` in `ebox-evidence/v1`."""
    claim = LegalMomentClaim("2026-03-04T23:00:00.000000Z", "earliest-of", 3, "deemed")
    assert json.dumps(claim.as_json(), sort_keys=True) == (
        '{"at": "2026-03-04T23:00:00.000000Z", "reason": "deemed", "rule": "earliest-of", '
        '"working_days": 3}'
    )
    event = ProvenEvent({"type": "Read"}, "0" * 64, 7, "proof", etsi_event=etsi_event_uri("Read"))
    assert event.as_json()["etsi_event"] == "http://uri.etsi.org/19522/Event/ContentHandover"
    assert "etsi_event" not in replace(event, etsi_event=None).as_json()


def test_a_notified_reminded_never_read_expired_letter_says_so() -> None:
    notice = {"channel": "email", "address_sha256": "ab" * 32, "mail_sha256": "cd" * 32}
    letter = registered_letter(
        life=[
            ("Notified", {**notice, "kind": "newDocument"}),
            ("NotificationFailed", {"kind": "newDocumentReminder", "reason": "550 refused"}),
            ("Notified", {**notice, "kind": "newDocumentReminder"}),
            ("Notified", {**notice, "kind": "documentExpirationAlert"}),
            (
                "Expired",
                {
                    "reason": "validity period ended",
                    "due_at": None,
                    "content_handover_failure": True,
                },
            ),
        ]
    )
    bundle = labelled(letter.bundle)
    labels = [e.etsi_event for e in bundle.events]
    assert labels[2:] == [
        "http://uri.etsi.org/19522/Event/ConsignmentNotification",
        "http://uri.etsi.org/19522/Event/ConsignmentNotificationFailure",
        "http://uri.etsi.org/19522/Event/ConsignmentNotification",
        "http://uri.etsi.org/19522/Event/ConsignmentNotification",
        "http://uri.etsi.org/19522/Event/ContentHandoverFailure",
    ]
    # Delivered on Monday 2 March 2026, expired unread: deemed received on Thursday 5 March.
    deemed = LegalMomentClaim("2026-03-04T23:00:00.000000Z", "earliest-of", 3, "deemed")
    report = verify_bundle(replace(bundle, legal_moment=deemed), letter.vkey)
    (life,) = [s for s in report.sections if s.title == "Life"]
    assert life.verdict == "NOTIFIED 1, REMINDED 1, ALERTED 1; NEVER READ"
    destroyed = bundle.events[-1].canonical["timestamp"]
    assert life.lines[-1].startswith(f"It was never read; its content was destroyed at {destroyed}")
    assert "could not be reminded that the letter is still unread: 550 refused" in life.lines[1]
    text = render_bundle_report(report)
    assert "LIFE: NOTIFIED 1, REMINDED 1, ALERTED 1; NEVER READ" in text
    assert "Notified: the owner was told by email (newDocumentReminder;" in text
