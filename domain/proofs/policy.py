"""C2SP tlog-policy (https://c2sp.org/tlog-policy): which logs and which witnesses to believe.

One file says it for everybody: the log reads its witnesses' submission URLs
from it (``EBOX_WITNESS_POLICY``), and ``ebox verify --policy``, ``ebox audit
--policy`` and ``ebox monitor --policy`` refuse a checkpoint whose cosignatures
do not meet its quorum. The syntax is the spec's, strictly::

    log <vkey> [<url>]
    witness <name> <vkey> [<url>]
    group <name> all|any|<k> <name>...
    quorum <name>|none

Names are opaque byte strings (compared exactly), defined before use, each a
group member at most once; exactly one quorum line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ebox.domain.proofs.cosignature import CosignatureVerifier
from ebox.domain.proofs.errors import NoteError, ProofError
from ebox.domain.proofs.note import NoteVerifier

NONE = "none"
MAX_ENTRIES = 256
"""Far above the 32 logs, witnesses and groups the spec asks implementations to support."""


class PolicyFormatError(ProofError):
    """The policy file breaks the tlog-policy syntax; the message names the line."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"policy line {line}: {reason}")
        self.line = line


class QuorumNotMet(ProofError):
    """A checkpoint lacks the cosignatures the policy's quorum requires."""


@dataclass(frozen=True)
class LogEntry:
    verifier: NoteVerifier
    url: str | None = None

    @property
    def origin(self) -> str:
        """The log's origin: its vkey's key name, as the spec requires."""
        return self.verifier.name


@dataclass(frozen=True)
class WitnessEntry:
    name: str
    verifier: CosignatureVerifier
    url: str | None = None


@dataclass(frozen=True)
class Group:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    logs: tuple[LogEntry, ...]
    witnesses: dict[str, WitnessEntry]
    groups: dict[str, Group]
    quorum: str
    cosigners: tuple[str, ...] = field(default=())
    """Witness names in file order (the order the log contacts them)."""

    @classmethod
    def parse(cls, text: str | bytes) -> Policy:
        raw = text.encode("utf-8") if isinstance(text, str) else text
        return _Parser().parse(raw)

    def satisfied_by(self, cosigned: set[str]) -> bool:
        """Whether witnesses ``cosigned`` (by policy name) meet the quorum."""
        return self.quorum == NONE or self._witnessed(self.quorum, cosigned)

    def _witnessed(self, name: str, cosigned: set[str]) -> bool:
        if name in self.witnesses:
            return name in cosigned
        group = self.groups[name]
        return sum(self._witnessed(m, cosigned) for m in group.members) >= group.threshold

    def cosigned_by(self, note: str) -> dict[str, int]:
        """Policy names of the witnesses whose cosignature on ``note`` verifies, with its time.

        A line that claims to be a listed witness and fails to verify is an
        error: a note carrying a forged cosignature is not merely under quorum.
        """
        found: dict[str, int] = {}
        for name, witness in self.witnesses.items():
            timestamp = witness.verifier.timestamp(note)
            if timestamp is not None:
                found[name] = timestamp
        return found

    def check(self, note: str) -> dict[str, int]:
        """Raise :class:`QuorumNotMet` unless the note's cosignatures meet the quorum.

        Returns the verified cosignatures (name to POSIX time) for the report.
        The log's own signature is the caller's to check (it knows the vkey it
        trusts); :meth:`log_for` finds the policy's entry for an origin.
        """
        found = self.cosigned_by(note)
        if not self.satisfied_by(set(found)):
            have = ", ".join(sorted(found)) or "none"
            raise QuorumNotMet(
                f"checkpoint lacks the witness quorum {self.quorum!r} "
                f"({self.describe(self.quorum)}); valid cosignatures from: {have}"
            )
        return found

    def describe(self, name: str) -> str:
        """The rule behind a name, in words: ``2 of (X1, X2, X3)``."""
        if name == NONE:
            return "no cosignature required"
        if name in self.witnesses:
            return f"witness {name}"
        group = self.groups[name]
        inner = ", ".join(
            m if m in self.witnesses else f"{m}: {self.describe(m)}" for m in group.members
        )
        return f"{group.threshold} of ({inner})"

    def log_for(self, origin: str) -> LogEntry | None:
        return next((log for log in self.logs if log.origin == origin), None)


class _Parser:
    def __init__(self) -> None:
        self.logs: list[LogEntry] = []
        self.witnesses: dict[str, WitnessEntry] = {}
        self.groups: dict[str, Group] = {}
        self.keys: set[bytes] = set()
        self.members: set[str] = set()
        self.quorum: str | None = None

    def parse(self, raw: bytes) -> Policy:
        for number, line in enumerate(raw.split(b"\n"), start=1):
            bad = next((b for b in line if (b < 0x20 and b != 0x09) or b == 0x7F), None)
            if bad is not None:
                raise PolicyFormatError(number, f"control character 0x{bad:02x}")
            words = line.replace(b"\t", b" ").decode("utf-8", "surrogateescape").split(" ")
            words = [w for w in words if w]
            if not words or words[0].startswith("#"):
                continue
            if len(self.logs) + len(self.witnesses) + len(self.groups) >= MAX_ENTRIES:
                raise PolicyFormatError(number, f"more than {MAX_ENTRIES} definitions")
            keyword, args = words[0], words[1:]
            handlers = {
                "log": self._log,
                "witness": self._witness,
                "group": self._group,
                "quorum": self._quorum,
            }
            handler = handlers.get(keyword)
            if handler is None:
                raise PolicyFormatError(number, f"unknown keyword {keyword!r}")
            try:
                handler(args)
            except (NoteError, ValueError) as error:
                raise PolicyFormatError(number, str(error)) from None
        if self.quorum is None:
            raise PolicyFormatError(0, "no quorum line (exactly one is required)")
        return Policy(
            logs=tuple(self.logs),
            witnesses=self.witnesses,
            groups=self.groups,
            quorum=self.quorum,
            cosigners=tuple(self.witnesses),
        )

    def _new_key(self, public_key: bytes, what: str) -> None:
        if public_key in self.keys:
            raise ValueError(f"duplicate {what}: the same public key is listed twice")
        self.keys.add(public_key)

    def _new_name(self, name: str) -> None:
        if name == NONE or name in self.witnesses or name in self.groups:
            raise ValueError(f"name {name!r} is already defined (or reserved)")

    def _log(self, args: list[str]) -> None:
        if len(args) not in (1, 2):
            raise ValueError("expected: log <vkey> [<url>]")
        verifier = NoteVerifier(args[0])
        self._new_key(verifier.public_key, "log")
        self.logs.append(LogEntry(verifier, args[1] if len(args) == 2 else None))

    def _witness(self, args: list[str]) -> None:
        if len(args) not in (2, 3):
            raise ValueError("expected: witness <name> <vkey> [<url>]")
        self._new_name(args[0])
        verifier = CosignatureVerifier(args[1])
        self._new_key(verifier.public_key, "witness")
        url = args[2] if len(args) == 3 else None
        self.witnesses[args[0]] = WitnessEntry(args[0], verifier, url)

    def _group(self, args: list[str]) -> None:
        if len(args) < 3:
            raise ValueError("expected: group <name> all|any|<k> <name>...")
        name, rule, members = args[0], args[1], tuple(args[2:])
        self._new_name(name)
        for member in members:
            if member not in self.witnesses and member not in self.groups:
                raise ValueError(f"group member {member!r} is not defined on an earlier line")
        if len(set(members)) != len(members) or self.members & set(members):
            raise ValueError("a name is listed as a group member more than once")
        self.members |= set(members)
        threshold = {"all": len(members), "any": 1}.get(rule)
        if threshold is None:
            if not rule.isdigit() or not rule.isascii() or (rule != "0" and rule[0] == "0"):
                raise ValueError(f"threshold {rule!r} is not all, any or a decimal")
            threshold = int(rule)
            if not 1 <= threshold <= len(members):
                raise ValueError(f"threshold {threshold} is not between 1 and {len(members)}")
        self.groups[name] = Group(name, threshold, members)

    def _quorum(self, args: list[str]) -> None:
        if len(args) != 1:
            raise ValueError("expected: quorum <name>")
        if self.quorum is not None:
            raise ValueError("a second quorum line (exactly one is allowed)")
        name = args[0]
        if name != NONE and name not in self.witnesses and name not in self.groups:
            raise ValueError(f"quorum {name!r} is not defined on an earlier line")
        self.quorum = name
