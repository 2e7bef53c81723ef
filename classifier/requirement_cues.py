"""Whether a phrase in a posting is asked for as required or preferred.

Cue words live in classifier/data/requirement_cues.csv (strength: required, preferred, or ignore
for benefit text such as "tuition reimbursement" that names a credential or degree without asking
for it). The nearest cue in the same clause decides; without one, the section header above does
("Preferred Qualifications:", "REQUIREMENTS"), and a preferred section outranks a "must" inside it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Literal

from classifier.vocab import Doc, PhraseMatcher, load_csv, normalize

Strength = Literal["required", "preferred", "ignore"]

_ROWS = load_csv("requirement_cues.csv")
_CUES: dict[str, Strength] = {normalize(row["cue"]): row["strength"] for row in _ROWS}  # type: ignore[misc]
_MATCHER = PhraseMatcher(row["cue"] for row in _ROWS)
# A clause ends at a line break, bullet, semicolon, or a full stop followed by a space
# (so "$22.50" and "B.S." inside a sentence do not split it).
_CLAUSE_END = re.compile("\n|;|!|\\?|\u2022|\\.(?=\\s)".encode("utf-8"))
_CLAUSE_WINDOW = 300
_MAX_HEADER = 80
_BULLETS = (b"-", b"*", "\u2022".encode(), "\u00b7".encode())


def _is_header(line: bytes) -> bool:
    """A short line that ends with a colon, is in capitals, or is Markdown-styled, and is no bullet."""
    if line.startswith(_BULLETS) and not line.startswith(b"**"):
        return False  # a bullet ending in ":" ("Strong knowledge of:") opens a sub-list, not a section
    if line.startswith((b"#", b"**", b"__")) or line.rstrip(b"*_ ").endswith(b":"):
        return True
    return line.upper() == line and sum(c.isalpha() for c in line.decode("ascii", "ignore")) >= 4


def _strength_of(doc: Doc) -> Strength | None:
    found = {_CUES[hit.key] for hit in _MATCHER.finditer(doc)}
    for strength in ("preferred", "required"):
        if strength in found:
            return strength  # type: ignore[return-value]
    return None


@dataclass
class CueReader:
    """Reads requirement cues around spans of one document; headers are indexed on first need."""

    doc: Doc
    _header_pos: list[int] | None = field(default=None, init=False)
    _header_strength: list[Strength | None] = field(default_factory=list, init=False)

    def clause(self, start: int, end: int) -> tuple[int, int]:
        """Byte bounds of the clause holding raw[start:end]."""
        raw = self.doc.raw
        lo = max(0, start - _CLAUSE_WINDOW)
        c_start = lo
        for m in _CLAUSE_END.finditer(raw, lo, start):
            c_start = m.end()
        after = _CLAUSE_END.search(raw, end, min(len(raw), end + _CLAUSE_WINDOW))
        c_end = after.start() if after else min(len(raw), end + _CLAUSE_WINDOW)
        return c_start, c_end

    def strength_at(self, start: int, end: int) -> tuple[Strength | None, str]:
        """The strength for the phrase at raw[start:end], and the text that decided it."""
        c_start, c_end = self.clause(start, end)
        clause = Doc.of(self.doc.phrase(c_start, c_end))
        offset = len(self.doc.raw[c_start:c_end]) - len(self.doc.raw[c_start:c_end].lstrip())
        rel_start, rel_end = start - c_start - offset, end - c_start - offset
        best: tuple[int, Strength] | None = None
        for hit in _MATCHER.finditer(clause):
            strength = _CUES[hit.key]
            if strength == "ignore":
                return "ignore", clause.text
            distance = hit.start - rel_end if hit.start >= rel_end else rel_start - hit.end
            if best is None or distance < best[0]:
                best = (distance, strength)
        header = self._header_before(c_start)
        if best is not None and not (best[1] == "required" and header is not None and header[0] == "preferred"):
            # Under "Preferred Qualifications", "CIC holders must also possess a CPC" is still a wish.
            return best[1], clause.text
        if header is not None and header[0] is not None:
            return header
        return None, clause.text

    def _header_before(self, pos: int) -> tuple[Strength | None, str] | None:
        if self._header_pos is None:
            self._index_headers()
        assert self._header_pos is not None
        i = bisect.bisect_right(self._header_pos, pos) - 1
        if i < 0:
            return None
        line_end = self.doc.raw.find(b"\n", self._header_pos[i])
        return self._header_strength[i], self.doc.phrase(self._header_pos[i], line_end if line_end >= 0 else len(self.doc.raw))

    def _index_headers(self) -> None:
        positions: list[int] = []
        strengths: list[Strength | None] = []
        offset = 0
        for line in self.doc.raw.split(b"\n"):
            start, offset = offset, offset + len(line) + 1
            stripped = line.strip()
            if 2 <= len(stripped) <= _MAX_HEADER and _is_header(stripped):
                positions.append(start)
                strengths.append(_strength_of(Doc.of(stripped.decode("utf-8", "replace"))))
        self._header_pos = positions
        self._header_strength = strengths
