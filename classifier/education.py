"""The least formal schooling a posting requires: high_school < associate < bachelor < master.

Vocabulary: classifier/data/education.csv (phrase, education). A level named only as preferred
("Bachelor's preferred") is not required, and one named in benefit text ("tuition
reimbursement toward a bachelor's degree") is not asked for; "or equivalent experience" keeps
the stated level. "Associate" alone is a job word ("Sales Associate"), so only degree phrases match.
"""

from __future__ import annotations

from classifier.requirement_cues import CueReader
from classifier.vocab import DOCUMENT_SCAN, Doc, PhraseMatcher, load_csv, normalize

_ROWS = load_csv("education.csv")
LEVELS: tuple[str, ...] = tuple(dict.fromkeys(r["education"] for r in _ROWS))  # least formal first
_RANK = {level: i for i, level in enumerate(LEVELS)}
_LEVEL_OF = {normalize(r["phrase"]): r["education"] for r in _ROWS}
_MATCHER = PhraseMatcher((r["phrase"] for r in _ROWS), scan=DOCUMENT_SCAN)


def extract_education(doc: Doc, reader: CueReader | None = None) -> tuple[str, str] | None:
    """The least formal required level and the phrase that names it, or None."""
    best: tuple[str, str] | None = None
    for start, end in _MATCHER.spans(doc):
        hit = doc.hit(start, end)
        level = _LEVEL_OF.get(hit.key)
        if level is None:
            continue
        reader = reader or CueReader(doc)
        strength, _ = reader.strength_at(start, end)
        if strength in ("preferred", "ignore"):
            continue
        if best is None or _RANK[level] < _RANK[best[0]]:
            best = (level, hit.phrase)
    return best
