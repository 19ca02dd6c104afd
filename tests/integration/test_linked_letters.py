"""A linked letter (linkEboxMessage) verifies: in the whole-ledger audit and in its own evidence.

A linked letter carries the original publication's envelope, which names the
original recipients only; it is bound to that envelope in everything else, and
its origin is reported as attested by the ledger, never as signed.
"""

from __future__ import annotations

from ebox.adapters.evidence import build_evidence
from ebox.adapters.runtime import Ledger
from ebox.adapters.transparency import TransparencyLog
from ebox.projections.delivery import DeliveryWorker
from ebox.verifier.bundle import verify_bundle
from tests.builders import ENTERPRISE, SENDER_KBO, make_world
from tests.integration.test_audit import audit
from tests.integration.test_evidence import seal


def linked_letter(ledger: Ledger) -> tuple[str, str]:
    """A signed letter to the citizen, linked on to the enterprise; both delivered and sealed."""
    world = make_world(ledger)
    original = ledger.app.publish(world.letter())
    (outcome,) = ledger.app.link(original, SENDER_KBO, [ENTERPRISE], client_id="sender:test")
    assert outcome.message_id is not None
    DeliveryWorker(ledger).run_until_idle()
    seal(ledger)
    return original, outcome.message_id


def test_a_ledger_with_a_linked_letter_passes_its_audit(ledger: Ledger) -> None:
    linked_letter(ledger)

    result = audit(ledger)

    assert result.ok, result.failure
    assert result.signatures_verified == 1 and result.attested == 1


def test_the_evidence_of_a_linked_letter_says_it_is_linked_not_signed(ledger: Ledger) -> None:
    original, linked = linked_letter(ledger)

    report = verify_bundle(build_evidence(ledger, linked).to_json(), TransparencyLog(ledger).vkey())

    assert report.origin.kind == "linked" and report.origin.key is None
    assert report.origin.linked_from == original
    origin = next(s for s in report.sections if s.title == "Origin")
    assert origin.verdict == "ATTESTED (linked, not signed for this recipient)"
    assert report.recipient == ENTERPRISE.address
    assert any("attested" in limit for limit in report.limits)
