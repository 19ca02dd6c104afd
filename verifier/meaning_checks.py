"""What the audited events mean: sender key history and each Sent event's origin.

Split out of :mod:`ebox.verifier.audit`: :class:`_MeaningChecks` holds the
methods of :class:`~ebox.verifier.audit.LedgerAuditor` that replay key events
and check origins (key validity, envelope binding, signature); the auditor
inherits them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from ebox.domain.proofs.rotation import LEDGER_KEYS, ROTATED
from ebox.verifier.audit_result import AuditResult
from ebox.verifier.entries import (
    Entry,
    EnvelopeLookup,
)
from ebox.verifier.errors import (
    OriginNotProven,
)
from ebox.verifier.keys import SENDER, KeyHistory
from ebox.verifier.origin import (
    ATTESTED,
    SIGNED,
    check_binding,
    check_envelope_digest,
    check_key_and_signature,
    check_signature,
    parse_envelope,
)


class _MeaningChecks:
    """Key-history and origin checks of :class:`~ebox.verifier.audit.LedgerAuditor`."""

    result: AuditResult
    envelopes: EnvelopeLookup | None
    _keys: KeyHistory
    _verified: OrderedDict[tuple[str, str, str], None]
    _parsed: OrderedDict[str, bytes]

    def _rotated(self, data: dict[str, Any], ref: Any) -> None: ...  # see _CheckpointChecks

    # --- what the events mean: key history, origin ------------------------------------------------

    def _meaning(self, entry: Entry) -> None:
        result = self.result
        result.types[entry.type] += 1
        assert entry.data is not None
        if entry.aggregate_type == SENDER:
            self._keys.apply(
                {
                    "aggregate_id": entry.aggregate_id,
                    "aggregate_type": entry.aggregate_type,
                    "version": entry.version,
                    "type": entry.type,
                    "timestamp": entry.timestamp,
                    "data": entry.data,
                },
                entry.leaf_index,
            )
        elif entry.type == "Sent":
            self._origin(entry, entry.data)
        elif entry.aggregate_type == LEDGER_KEYS and entry.type == ROTATED:
            self._rotated(dict(entry.data), entry.ref)

    def _origin(self, entry: Entry, sent: Mapping[str, Any]) -> None:
        result = self.result
        ref = entry.ref
        kind = sent.get("origin")
        if self.envelopes is None:
            check_key_and_signature(
                sent, None, self._keys, ref, verify_signature=False, sent_at=entry.timestamp
            )
            if kind == SIGNED:
                result.keys_only += 1
            elif kind == ATTESTED:
                result.attested += 1
            return
        digest = str(sent.get("envelope_sha256"))
        raw = self._envelope(digest)
        if raw is None:
            raise OriginNotProven(
                f"the envelope the sender submitted (SHA-256 {digest}) is missing from the store",
                event=ref,
            )
        check_envelope_digest(raw, sent, ref)
        check_binding(sent, parse_envelope(raw, ref), ref)
        if kind != SIGNED:
            check_key_and_signature(
                sent, None, self._keys, ref, verify_signature=False, sent_at=entry.timestamp
            )
            result.attested += 1
            return
        key = check_key_and_signature(
            sent, None, self._keys, ref, verify_signature=False, sent_at=entry.timestamp
        ).key
        assert key is not None
        signature = str(sent.get("signature"))
        memo = (digest, signature, key.key_id)
        if memo not in self._verified:
            check_signature(raw, signature, key.public_key, ref)
            self._verified[memo] = None
            if len(self._verified) > 4096:
                self._verified.popitem(last=False)
        result.signatures_verified += 1

    def _envelope(self, digest: str) -> bytes | None:
        """One broadcast envelope serves many letters: keep the last few at hand."""
        cached = self._parsed.get(digest)
        if cached is not None:
            self._parsed.move_to_end(digest)
            return cached
        assert self.envelopes is not None
        raw = self.envelopes(digest)
        if raw is not None:
            self._parsed[digest] = raw
            if len(self._parsed) > 64:
                self._parsed.popitem(last=False)
        return raw
