"""Certifications a posting names (the LABELS.md list), and whether each is required or preferred.

Vocabulary: classifier/data/credentials.csv (canonical, alias, kind). Acronyms match
case-sensitively as whole tokens, so "CCS-P" never also yields CCS, "CPC-A" never CPC, "COC-A"
(an apprentice credential not on the list) nothing, and "CCA" nothing inside another word; full
names match in any case, longest alias first ("Certified Professional Coder - Apprentice" is
CPC-A, not CPC).

"ODS (formerly CTR)": NCRA renamed Certified Tumor Registrar to Oncology Data Specialist (ODS-C)
in 2024. A posting that writes both names both, and both are kept, because seekers who hold the
older CTR filter on CTR and LABELS.md lists both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from classifier.requirement_cues import CueReader
from classifier.vocab import DOCUMENT_SCAN, Doc, PhraseMatcher, load_csv, normalize

_ROWS = load_csv("credentials.csv")
CANONICAL: tuple[str, ...] = tuple(dict.fromkeys(row["canonical"] for row in _ROWS))
_CANONICAL_OF = {normalize(row["alias"]): row["canonical"] for row in _ROWS}
# An acronym may be followed by "-eligible" / "-certified" ("CTR-eligible") but not by another
# suffix ("COC-A"; "CCS" inside "CCS-P").
_ACRONYMS = PhraseMatcher(
    (row["alias"] for row in _ROWS if row["kind"] == "acronym"),
    tail="(?!-(?!(?:eligible|certified|credentialed)(?![A-Za-z]))[A-Za-z0-9])",
    scan=DOCUMENT_SCAN,
)
_NAMES = PhraseMatcher((row["alias"] for row in _ROWS if row["kind"] == "name"), scan=DOCUMENT_SCAN)


class Mention(NamedTuple):  # a tuple: made for every credential named, several per posting
    canonical: str
    start: int
    end: int
    phrase: str


def find_mentions(doc: Doc) -> list[Mention]:
    """Every credential named in the document, in order."""
    out: list[Mention] = []
    for matcher in (_ACRONYMS, _NAMES):
        for start, end in matcher.spans(doc):
            hit = doc.hit(start, end)
            if hit.key in _CANONICAL_OF:
                out.append(Mention(_CANONICAL_OF[hit.key], start, end, hit.phrase))
    if len(out) > 1:
        out.sort(key=lambda m: m.start)
    return out


@dataclass
class CredentialFacts:
    credentials: list[str]
    required: list[str]
    preferred: list[str]
    evidence: dict[str, str]  # "credentials" / "credentials_required" / "credentials_preferred" -> phrase


def extract_credentials(doc: Doc, reader: CueReader | None = None) -> CredentialFacts:
    """Credentials named in ``doc``. One named as required anywhere counts as required; one only
    ever named as preferred counts as preferred; one named only in benefit text (tuition
    reimbursement for the CPC exam) is not asked for, so it is left out."""
    mentions = find_mentions(doc)
    if not mentions:
        return CredentialFacts([], [], [], {})
    reader = reader or CueReader(doc)
    status: dict[str, str | None] = {}
    first_phrase: dict[str, str] = {}
    clause_for: dict[tuple[str, str], str] = {}
    for mention in mentions:
        strength, clause = reader.strength_at(mention.start, mention.end)
        if strength == "ignore":
            continue
        first_phrase.setdefault(mention.canonical, mention.phrase)
        previous = status.get(mention.canonical)
        if "required" in (strength, previous):
            status[mention.canonical] = "required"
        elif "preferred" in (strength, previous):
            status[mention.canonical] = "preferred"
        else:
            status[mention.canonical] = None
        if strength is not None:
            clause_for.setdefault((mention.canonical, strength), clause)
    named = sorted(status, key=lambda c: _first_position(mentions, c))
    required = sorted(c for c, s in status.items() if s == "required")
    preferred = sorted(c for c, s in status.items() if s == "preferred")
    evidence: dict[str, str] = {}
    if named:
        evidence["credentials"] = first_phrase[named[0]]
    for key, names, strength in (("credentials_required", required, "required"), ("credentials_preferred", preferred, "preferred")):
        first = min(names, key=lambda c: _first_position(mentions, c), default=None)
        if first is not None:
            evidence[key] = clause_for[(first, strength)]
    return CredentialFacts(sorted(status), required, preferred, evidence)


def _first_position(mentions: list[Mention], canonical: str) -> int:
    """Position of the first mention of a credential (for choosing evidence)."""
    return next(m.start for m in mentions if m.canonical == canonical)
