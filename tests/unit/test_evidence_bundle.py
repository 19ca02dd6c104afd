"""An evidence bundle proves a letter's origin, destination, integrity and confidentiality
offline, and any single change to it is refused with its reason.

The bundles here come from a ledger kept in memory with the proof modules alone
(canonical events, RFC 6962 tree, C2SP checkpoint): the verifier cannot tell it
from the database's, and it can also seal what the application never would
(a bad signature, a revoked key), to show those are refused too. The bundle of
a real database is checked in tests/integration/test_evidence.py.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from ebox.domain.proofs.canonical import (
    ZERO_HASH,
    b64url,
    canonical_event,
    event_hash,
    rfc3339,
    unb64url,
)
from ebox.domain.proofs.checkpoint import Checkpoint, sign_checkpoint
from ebox.domain.proofs.encryption import encrypt_document, new_data_key, wrap_key
from ebox.domain.proofs.envelope import (
    DocumentDigest,
    SubmissionEnvelope,
    key_fingerprint,
    sign_envelope,
)
from ebox.domain.proofs.evidence import (
    DisclosedDocument,
    Disclosure,
    EvidenceBundle,
    EvidenceFormatError,
    LedgerReference,
    ProvenEvent,
    Submission,
)
from ebox.domain.proofs.merkle import DictNodeStore, Frontier, inclusion_proof, leaf_hash
from ebox.domain.proofs.note import NoteSigner
from ebox.domain.proofs.tlogproof import TlogProof
from ebox.verifier.bundle import verify_bundle
from ebox.verifier.errors import (
    CheckpointForged,
    ConfidentialityNotProven,
    DestinationNotProven,
    DisclosureInvalid,
    EnvelopeMismatch,
    EventMissing,
    EventModified,
    EventReordered,
    MalformedEvidence,
    NotIncluded,
    SignatureInvalid,
    SigningKeyNotValid,
    UntrustedLedgerKey,
    VerificationError,
)
from ebox.verifier.jcs import jcs, loads
from ebox.verifier.report import render_bundle_report

ORIGIN = "test.ebox.example/ledger"
KBO = "0308357159"
RECIPIENT = "citizen:58102882214"
LETTER = b"%PDF-1.4\nThe assessment amount is EUR 4,242.17."
ANNEX = b"<annex/>"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# --- a ledger in memory ------------------------------------------------------------------------


@dataclass
class MemoryLedger:
    """Appends canonical events, chains them, seals them in an RFC 6962 tree, signs checkpoints."""

    signer: NoteSigner = field(default_factory=lambda: NoteSigner(ORIGIN, b"\x07" * 32))
    events: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    frontier: Frontier = field(default_factory=Frontier.empty)
    nodes: DictNodeStore = field(default_factory=DictNodeStore)
    clock: datetime = T0

    def add(self, aggregate_id: str, aggregate_type: str, kind: str, data: dict[str, Any]) -> None:
        version, prev = self.heads.get(aggregate_id, (0, ZERO_HASH))
        self.clock += timedelta(seconds=1)
        canonical = canonical_event(
            aggregate_id=aggregate_id,
            aggregate_type=aggregate_type,
            version=version + 1,
            type=kind,
            timestamp=self.clock,
            prev_hash=prev,
            data=data,
        )
        digest = event_hash(canonical)
        self.events.append((canonical, digest))
        self.heads[aggregate_id] = (version + 1, digest)
        self.nodes.put(self.frontier.append(leaf_hash(bytes.fromhex(digest))))

    def export_rows(self) -> list[dict[str, Any]]:
        """The ledger as `ebox ledger export` writes it."""
        return [
            {"leaf_index": i, "event_hash": digest, "canonical": canonical}
            for i, (canonical, digest) in enumerate(self.events)
        ]

    def checkpoint(self) -> str:
        body = Checkpoint(ORIGIN, self.frontier.size, self.frontier.root(), self.clock)
        return sign_checkpoint(body, self.signer)

    def proven(self, aggregate_id: str, note: str) -> tuple[ProvenEvent, ...]:
        size = self.frontier.size
        return tuple(
            ProvenEvent(
                canonical=canonical,
                event_hash=digest,
                leaf_index=index,
                proof=TlogProof(index, inclusion_proof(index, size, self.nodes), note).encode(),
            )
            for index, (canonical, digest) in enumerate(self.events)
            if canonical["aggregate_id"] == aggregate_id
        )


@dataclass
class Letter:
    bundle: EvidenceBundle
    vkey: str
    message_id: str
    log: MemoryLedger


def registered_letter(
    *,
    signed: bool = True,
    revoke_before_sending: bool = False,
    revocation_stated_at: datetime | None = None,
    stated_submission_offset: timedelta = timedelta(seconds=30),
    bad_signature: bool = False,
    wrapped_for_stranger: bool = False,
    disclose: bool = True,
    tamper_sent: Callable[[dict[str, Any]], None] | None = None,
    holder: Mapping[str, str] | None = None,
    life: list[tuple[str, dict[str, Any]]] | None = None,
) -> Letter:
    """A registered letter sent, delivered, read and archived, among other traffic.

    `life`: the message events after Delivered instead of Read and Archived.
    """
    log = MemoryLedger()
    sender, mailbox, message = str(uuid4()), str(uuid4()), str(uuid4())
    key = SigningKey(b"\x01" * 32)
    key_id = key_fingerprint(bytes(key.verify_key))
    log.add(
        sender,
        "SenderOrganization",
        "Registered",
        {"kbo_number": KBO, "names": {"nl": "FOD Financiën"}},
    )
    log.add(
        sender,
        "SenderOrganization",
        "SigningKeyAdded",
        {
            "key_id": key_id,
            "public_key": b64url(bytes(key.verify_key)),
            "valid_from": rfc3339(T0),
            "valid_until": None,
        },
    )
    private = PrivateKey(b"\x02" * 32)
    fingerprint = key_fingerprint(bytes(private.public_key))
    log.add(
        mailbox,
        "Mailbox",
        "Opened",
        {"ebox_type": "citizen", "id_value": "58102882214", **(holder or {})},
    )
    log.add(
        mailbox,
        "Mailbox",
        "EncryptionKeyAdded",
        {"fingerprint": fingerprint, "public_key": b64url(bytes(private.public_key))},
    )
    for n in range(5):  # other people's traffic
        log.add(str(uuid4()), "Mailbox", "Opened", {"ebox_type": "citizen", "id_value": f"9{n}"})
    if revoke_before_sending:
        log.add(
            sender,
            "SenderOrganization",
            "SigningKeyRevoked",
            {
                "key_id": key_id,
                "revoked_at": rfc3339(revocation_stated_at or log.clock),
                "reason": "stolen",
            },
        )

    # What the sender states; the Sent event that follows is at log.clock + 1 s.
    submitted = log.clock + stated_submission_offset
    envelope = SubmissionEnvelope(
        sender=KBO,
        application="mybox-publisher",
        recipients=[RECIPIENT],
        message_type="TAX",
        subjects={"nl": "Aanslag"},
        documents=[
            DocumentDigest("letter.pdf", "application/pdf", hashlib.sha256(LETTER).hexdigest()),
            DocumentDigest("annex.xml", "application/xml", hashlib.sha256(ANNEX).hexdigest()),
        ],
        registered=True,
        submitted_at=rfc3339(submitted),
        idempotency_key="k-1",
    )
    data_key = new_data_key()
    ciphertexts = {
        "letter.pdf": encrypt_document(data_key, LETTER),
        "annex.xml": encrypt_document(data_key, ANNEX),
    }
    wrap_key(data_key, bytes(private.public_key))
    signature = sign_envelope(envelope, key)
    if bad_signature:
        signature = sign_envelope(replace(envelope, subjects={"nl": "Something else"}), key)
    sent = {
        "publication_id": str(uuid4()),
        "sender": KBO,
        "application": "mybox-publisher",
        "mailbox_id": mailbox,
        "recipient": RECIPIENT,
        "message_type": "TAX",
        "subjects": {"nl": "Aanslag"},
        "documents": [
            {
                "name": n,
                "media_type": m,
                "sha256": hashlib.sha256(c).hexdigest(),
                "size": len(c),
                "ciphertext_sha256": hashlib.sha256(ciphertexts[n]).hexdigest(),
                "main_content": n == "letter.pdf",
            }
            for n, m, c in (
                ("letter.pdf", "application/pdf", LETTER),
                ("annex.xml", "application/xml", ANNEX),
            )
        ],
        "registered": True,
        "submitted_at": rfc3339(submitted),
        "expires_at": rfc3339(submitted + timedelta(days=730)),
        "envelope_sha256": envelope.digest(),
        "origin": "signed" if signed else "attested",
        "signing_key_id": key_id if signed else None,
        "signature": signature if signed else None,
        "client_id": f"sender:{KBO}",
        "wrapped_for": [fingerprint if not wrapped_for_stranger else "ab" * 32],
        "details": {},
    }
    if tamper_sent:
        tamper_sent(sent)
    log.add(message, "Message", "Sent", sent)
    log.add(str(uuid4()), "Mailbox", "Opened", {"ebox_type": "citizen", "id_value": "77"})
    log.add(message, "Message", "Delivered", {"mailbox_id": mailbox})
    for kind, data in (
        [
            ("Read", {"reader": RECIPIENT, "channel": "portal", "document": "letter.pdf"}),
            ("Archived", {"by": "owner"}),
        ]
        if life is None
        else life
    ):
        log.add(message, "Message", kind, data)
    note = log.checkpoint()
    bundle = EvidenceBundle(
        message_id=message,
        created_at=rfc3339(log.clock),
        ledger=LedgerReference(ORIGIN, log.signer.vkey, note),
        events=log.proven(message, note),
        sender_events=log.proven(sender, note),
        mailbox_events=log.proven(mailbox, note),
        submission=Submission(dict(envelope.as_json()), sent["signature"], sent["signing_key_id"]),
        disclosure=Disclosure(
            data_key, tuple(DisclosedDocument(n, c) for n, c in ciphertexts.items())
        )
        if disclose
        else None,
    )
    return Letter(bundle, log.signer.vkey, message, log)


@pytest.fixture(scope="module")
def letter() -> Letter:
    return registered_letter()


def as_json(letter: Letter) -> dict[str, Any]:
    return copy.deepcopy(letter.bundle.as_json())


def refused(letter: Letter, document: dict[str, Any], vkey: str | None = None) -> VerificationError:
    with pytest.raises(VerificationError) as error:
        verify_bundle(json.dumps(document), vkey or letter.vkey)
    return error.value


# --- what a valid bundle proves ------------------------------------------------------------------


def test_a_read_and_archived_registered_letter_verifies_and_says_what_is_proven(
    letter: Letter,
) -> None:
    report = verify_bundle(letter.bundle.to_json(), letter.vkey)

    assert report.message_id == letter.message_id
    assert report.registered and report.recipient == RECIPIENT and report.sender_kbo == KBO
    assert report.sender_name == "FOD Financiën"
    assert report.origin.kind == "signed" and report.origin.key is not None
    assert [s.type for s in report.steps] == ["Sent", "Delivered", "Read", "Archived"]
    read = report.steps[2]
    assert (read.who, read.how) == (RECIPIENT, "channel portal")
    assert all(d.disclosed for d in report.documents)
    assert {s.title: s.verdict for s in report.sections} == {
        "Origin": "PROVEN",
        "Destination": "PROVEN",
        "Integrity": "PROVEN",
        "Confidentiality": "PROVEN (content disclosed and checked)",
        "Legal moment": "NOT STATED",  # a bundle made before the ledger stated one
    }
    text = render_bundle_report(report)
    assert text.startswith(f"EVIDENCE VERIFIED: message {letter.message_id}")
    assert "valid at the time of sending" in text and "channel portal" in text


def test_without_disclosure_the_content_is_proven_by_digest_only() -> None:
    undisclosed = registered_letter(disclose=False)
    report = verify_bundle(undisclosed.bundle.to_json(), undisclosed.vkey)
    confidentiality = next(s for s in report.sections if s.title == "Confidentiality")
    assert confidentiality.verdict == "PROVEN (digests)"
    assert not any(d.disclosed for d in report.documents)


def test_an_unsigned_letter_is_reported_as_attested_not_as_signed() -> None:
    attested = registered_letter(signed=False)
    report = verify_bundle(attested.bundle.to_json(), attested.vkey)
    origin = next(s for s in report.sections if s.title == "Origin")
    assert origin.verdict == "ATTESTED (not signed)"
    assert "authenticated client sender:0308357159" in " ".join(origin.lines)
    assert any("attested" in limit for limit in report.limits)


def test_the_bundle_survives_its_json_form_unchanged(letter: Letter) -> None:
    assert EvidenceBundle.parse(letter.bundle.to_json()) == letter.bundle


# --- every single change is refused, with its reason ----------------------------------------------


def _flip_hex(text: str) -> str:
    return ("0" if text[0] != "0" else "1") + text[1:]


def _byte_in_event(d: dict[str, Any]) -> None:
    d["events"][2]["canonical"]["data"]["channel"] = "portaL"


def _proof_hash(d: dict[str, Any]) -> None:
    lines = d["events"][1]["proof"].split("\n")
    assert lines[1].startswith("index ")
    raw = bytearray(base64.b64decode(lines[2]))
    raw[0] ^= 1
    lines[2] = base64.b64encode(bytes(raw)).decode()
    d["events"][1]["proof"] = "\n".join(lines)


def _checkpoint(d: dict[str, Any]) -> None:
    origin, size, rest = d["ledger"]["checkpoint"].split("\n", 2)
    d["ledger"]["checkpoint"] = f"{origin}\n{int(size) + 1}\n{rest}"


def _signature(d: dict[str, Any]) -> None:
    d["submission"]["signature"] = d["submission"]["signature"][:-2] + "AA"


def _envelope(d: dict[str, Any]) -> None:
    d["submission"]["envelope"]["subjects"]["nl"] = "Aanslag (herzien)"


def _swap(d: dict[str, Any]) -> None:
    d["events"][1], d["events"][2] = d["events"][2], d["events"][1]


def _drop_read(d: dict[str, Any]) -> None:
    del d["events"][2]


def _leaf_index(d: dict[str, Any]) -> None:
    d["events"][1]["leaf_index"] += 1


def _event_hash(d: dict[str, Any]) -> None:
    d["events"][0]["event_hash"] = _flip_hex(d["events"][0]["event_hash"])


def _ciphertext(d: dict[str, Any]) -> None:
    raw = bytearray(unb64url(d["disclosure"]["documents"][0]["ciphertext"]))
    raw[-1] ^= 1
    d["disclosure"]["documents"][0]["ciphertext"] = b64url(bytes(raw))


def _data_key(d: dict[str, Any]) -> None:
    d["disclosure"]["data_key"] = b64url(b"\x09" * 32)


def _sender_key_event(d: dict[str, Any]) -> None:
    d["sender_events"][1]["canonical"]["data"]["valid_from"] = "2030-01-01T00:00:00.000000Z"


def _message_id(d: dict[str, Any]) -> None:
    d["message_id"] = str(uuid4())


MUTATIONS = [
    pytest.param(
        _byte_in_event, EventModified, "does not hash to its event_hash", id="a byte in an event"
    ),
    pytest.param(_event_hash, EventModified, "does not hash to its event_hash", id="an event hash"),
    pytest.param(_proof_hash, NotIncluded, "does not lead to the signed root", id="a proof hash"),
    pytest.param(
        _checkpoint, CheckpointForged, "does not open with the trusted key", id="the checkpoint"
    ),
    pytest.param(
        _signature,
        EnvelopeMismatch,
        "signature is not the one the Sent event recorded",
        id="the signature",
    ),
    pytest.param(
        _envelope, EnvelopeMismatch, "does not hash to the envelope_sha256", id="the envelope"
    ),
    pytest.param(
        _swap, EventReordered, "version 2 stands later, out of order", id="a swapped event"
    ),
    pytest.param(_drop_read, EventMissing, "version 3 is missing", id="a removed event"),
    pytest.param(_leaf_index, NotIncluded, "tlog-proof is for another leaf", id="a leaf index"),
    pytest.param(
        _ciphertext,
        DisclosureInvalid,
        "is not the one the ledger recorded",
        id="a disclosed ciphertext",
    ),
    pytest.param(_data_key, DisclosureInvalid, "does not open", id="the disclosed data key"),
    pytest.param(
        _sender_key_event,
        EventModified,
        "does not hash to its event_hash",
        id="the sender's key history",
    ),
    pytest.param(
        _message_id,
        MalformedEvidence,
        "not those of the message the bundle names",
        id="the message id",
    ),
]


@pytest.mark.parametrize(("mutate", "error", "reason"), MUTATIONS)
def test_each_single_change_is_refused_with_its_reason(
    letter: Letter,
    mutate: Callable[[dict[str, Any]], None],
    error: type[VerificationError],
    reason: str,
) -> None:
    document = as_json(letter)
    verify_bundle(json.dumps(document), letter.vkey)  # the unchanged copy verifies
    mutate(document)
    failure = refused(letter, document)
    assert type(failure) is error, failure
    assert reason in str(failure)


def test_a_mutated_event_is_named_by_aggregate_version_and_leaf(letter: Letter) -> None:
    document = as_json(letter)
    _byte_in_event(document)
    failure = refused(letter, document)
    assert failure.event is not None
    assert (failure.event.aggregate_id, failure.event.version) == (letter.message_id, 3)
    assert failure.event.leaf_index == document["events"][2]["leaf_index"]
    assert (
        failure.expected == document["events"][2]["event_hash"]
        and failure.actual != failure.expected
    )


def test_a_bundle_made_for_another_ledger_key_is_refused(letter: Letter) -> None:
    other = NoteSigner(ORIGIN, b"\x08" * 32).vkey
    failure = refused(letter, as_json(letter), vkey=other)
    assert isinstance(failure, UntrustedLedgerKey)
    assert (failure.expected, failure.actual) == (other, letter.vkey)


def test_a_file_that_is_not_a_bundle_names_the_bad_member(letter: Letter) -> None:
    document = as_json(letter)
    document["events"][0]["leaf_index"] = "68"
    failure = refused(letter, document)
    assert isinstance(failure, MalformedEvidence) and "events[0].leaf_index" in str(failure)
    with pytest.raises(MalformedEvidence, match="not JSON"):
        verify_bundle(b"{not json", letter.vkey)
    with pytest.raises(EvidenceFormatError, match="format"):
        EvidenceBundle.parse(json.dumps({**as_json(letter), "format": "ebox-evidence/v0"}))


# --- what the ledger itself sealed is judged too ---------------------------------------------


def test_a_sealed_signature_that_does_not_verify_over_the_envelope_is_refused() -> None:
    forged = registered_letter(bad_signature=True)
    with pytest.raises(SignatureInvalid, match="does not verify over the envelope"):
        verify_bundle(forged.bundle.to_json(), forged.vkey)


def test_a_key_revoked_before_the_letter_was_sent_does_not_prove_origin() -> None:
    revoked = registered_letter(revoke_before_sending=True)
    with pytest.raises(SigningKeyNotValid, match=r"was revoked at .* before the letter was sent"):
        verify_bundle(revoked.bundle.to_json(), revoked.vkey)


def test_a_revoked_key_with_a_backdated_submission_time_does_not_prove_origin() -> None:
    """The sender's stated time decides nothing: the key is judged at the Sent event's time."""
    backdated = registered_letter(
        revoke_before_sending=True, stated_submission_offset=-timedelta(minutes=3)
    )
    sent = backdated.bundle.events[0].canonical
    assert sent["data"]["submitted_at"] < backdated.bundle.sender_events[-1].data["revoked_at"]
    with pytest.raises(SigningKeyNotValid, match=r"was revoked at .* before the letter was sent"):
        verify_bundle(backdated.bundle.to_json(), backdated.vkey)


def test_a_key_revoked_at_an_earlier_leaf_does_not_prove_origin_whatever_time_it_states() -> None:
    """Leaf order decides when times disagree: a revocation sealed before the Sent leaf counts."""
    later = T0 + timedelta(days=1)
    revoked = registered_letter(revoke_before_sending=True, revocation_stated_at=later)
    with pytest.raises(SigningKeyNotValid, match=r"revoked in the log \(leaf 9\) before") as error:
        verify_bundle(revoked.bundle.to_json(), revoked.vkey)
    assert error.value.event is not None and error.value.event.leaf_index == 10


def test_the_report_judges_the_key_at_the_ledgers_receipt(letter: Letter) -> None:
    origin = next(
        s
        for s in verify_bundle(letter.bundle.to_json(), letter.vkey).sections
        if s.title == "Origin"
    )
    sent_at = letter.bundle.events[0].canonical["timestamp"]
    assert any(f"the ledger's receipt of the letter ({sent_at}" in line for line in origin.lines)


def test_a_data_key_wrapped_for_a_key_that_is_not_the_mailboxs_is_refused() -> None:
    leaky = registered_letter(wrapped_for_stranger=True)
    with pytest.raises(ConfidentialityNotProven, match="not the mailbox's"):
        verify_bundle(leaky.bundle.to_json(), leaky.vkey)


def test_a_sent_event_that_says_otherwise_than_the_signed_envelope_is_refused() -> None:
    def other_recipient(sent: dict[str, Any]) -> None:
        sent["recipient"] = "citizen:11111111111"

    misaddressed = registered_letter(tamper_sent=other_recipient)
    with pytest.raises(EnvelopeMismatch, match="does not name the recipient"):
        verify_bundle(misaddressed.bundle.to_json(), misaddressed.vkey)


def test_a_letter_delivered_to_another_mailbox_is_refused() -> None:
    def elsewhere(sent: dict[str, Any]) -> None:
        sent["mailbox_id"] = str(uuid4())

    lost = registered_letter(tamper_sent=elsewhere)
    with pytest.raises(DestinationNotProven, match="delivered to another mailbox"):
        verify_bundle(lost.bundle.to_json(), lost.vkey)


# --- the canonical bytes ---------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(JSON)
def test_the_fast_canonical_form_is_rfc8785(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except Exception:  # lone surrogates have no JCS form: refused by both
        with pytest.raises(ValueError):
            jcs(value)
        return
    assert jcs(value) == expected
    assert jcs(loads(expected)) == expected


def test_the_canonical_parser_refuses_what_jcs_cannot_represent() -> None:
    for text in ('{"a": 1.5}', '{"a": NaN}', f'{{"a": {2**53}}}'):
        with pytest.raises(ValueError):
            loads(text)
