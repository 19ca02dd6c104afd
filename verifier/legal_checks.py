"""What a bundle states beside its events: the legal moment and the ETSI labels, recomputed.

Neither is covered by an event hash: `legal_moment` is derived from the Delivered
and Read events by the operator's rule, and each `etsi_event` label from the
event's type. So the verifier trusts neither: it recomputes the moment with the
stated rule (the `holidays` calendar included) and each label from the table,
and refuses the bundle at the first difference, naming both values. The rule
itself is the operator's statement: a bundle may be re-stated under another
rule, and then says so; the events decide the moment under any rule.
"""

from __future__ import annotations

from ebox.domain.proofs.checkpoint import Checkpoint
from ebox.domain.proofs.etsi_events import etsi_event_uri
from ebox.domain.proofs.evidence import EvidenceBundle, LegalMomentClaim
from ebox.domain.proofs.legal_timing import LegalRule, LegalRuleError, legal_moment_of_events
from ebox.verifier.errors import EtsiLabelMismatch, LegalMomentMismatch, MalformedEvidence
from ebox.verifier.events import ref_of


def check_etsi_labels(bundle: EvidenceBundle) -> None:
    """Each stated label is the one the event's type calls for; an absent label is no claim."""
    for group, events in (
        ("events", bundle.events),
        ("sender_events", bundle.sender_events),
        ("mailbox_events", bundle.mailbox_events),
    ):
        for position, event in enumerate(events):
            if event.etsi_event is None:
                continue
            expected = etsi_event_uri(event.type, event.data) if group == "events" else None
            if event.etsi_event != expected:
                raise EtsiLabelMismatch(
                    f"the event is labelled {event.etsi_event}, which its type does not mean",
                    event=ref_of(event.canonical, event.leaf_index, f"{group}[{position}]"),
                    expected=expected,
                    actual=event.etsi_event,
                )


def check_legal_moment(
    bundle: EvidenceBundle, checkpoint: Checkpoint, registered: bool
) -> LegalMomentClaim | None:
    """The stated legal moment, once recomputed and found equal; None when none is stated."""
    stated = bundle.legal_moment
    if stated is None:
        return None
    if not registered:
        raise LegalMomentMismatch(
            "a legal moment is stated for a letter that is not registered",
            expected=None,
            actual=stated.as_json(),
        )
    try:
        rule = LegalRule.parse(stated.rule, stated.working_days)
    except LegalRuleError as error:
        raise MalformedEvidence(f"legal_moment: {error}") from error
    moment = legal_moment_of_events(rule, (e.canonical for e in bundle.events), checkpoint.time)
    actual = None if moment is None else LegalMomentClaim.of(moment)
    if actual != stated:
        raise LegalMomentMismatch(
            f"the stated legal moment is not what rule {stated.rule} "
            f"({stated.working_days} working days) gives from the letter's events",
            expected=None if actual is None else actual.as_json(),
            actual=stated.as_json(),
        )
    return stated
