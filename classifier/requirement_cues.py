"""Whether a phrase in a posting is asked for as required or preferred.

Cue words live in classifier/data/requirement_cues.csv (strength: required, preferred, or ignore
for benefit text such as "tuition reimbursement" that names a credential or degree without asking
for it). The nearest cue in the same clause decides; without one, the section header above does
("Preferred Qualifications:", "REQUIREMENTS"), and a preferred section outranks a "must" inside it.
"""

from __future__ import annotations

import re
from typing import Literal

from classifier.vocab import Doc, Hit, PhraseMatcher, load_csv, normalize

Strength = Literal["required", "preferred", "ignore"]

_ROWS = load_csv("requirement_cues.csv")
_CUES: dict[str, Strength] = {normalize(row["cue"]): row["strength"] for row in _ROWS}  # type: ignore[misc]
_MATCHER = PhraseMatcher(row["cue"] for row in _ROWS)
# A clause ends at a line break, bullet, semicolon, or a full stop followed by a space
# (so "$22.50" and "B.S." inside a sentence do not split it).
_CLAUSE_END_SRC = "\n|;|!|\\?|\u2022|\\.(?=\\s)"
_CLAUSE_END = re.compile(_CLAUSE_END_SRC.encode())
# The last clause end before a place, in one match: ".*" runs to the place and backs off.
_LAST_CLAUSE_END = re.compile(f"(?s:.*)(?:{_CLAUSE_END_SRC})".encode())
_CLAUSE_WINDOW = 300
_MAX_HEADER = 80
# The start of the last line that may be a header (checked exactly by _is_header): ".*" runs to
# the end and backs off from line break to line break, trying the lookahead at each. A line
# qualifies if it starts with "#", "**" or "__", ends in ":" (then only "*", "_" and spaces), or
# holds four capitals and no small letter (spelt out: a repeated group would cost re an
# allocation per line).
_NO_LETTER = rb"[^a-zA-Z\n]*"
_HEADER_LIKE_LINE_ABOVE = re.compile(
    rb"(?s:.*)\n(?=[ \t\r\x0b\x0c]*(?:#|\*\*|__)|[^\n]*:[*_ \t\r\x0b\x0c]*$|" + (_NO_LETTER + rb"[A-Z]") * 4 + rb"[^a-z\n]*$)",
    re.MULTILINE,
)
_BULLETS = (b"-", b"*", "\u2022".encode(), "\u00b7".encode())
_NOT_LETTERS = bytes(c for c in range(256) if not (65 <= c <= 90 or 97 <= c <= 122))  # deleted to count letters


def _is_header(line: bytes) -> bool:
    """A short line that ends with a colon, is in capitals, or is Markdown-styled, and is no bullet."""
    if line.startswith(_BULLETS) and not line.startswith(b"**"):
        return False  # a bullet ending in ":" ("Strong knowledge of:") opens a sub-list, not a section
    if line.startswith((b"#", b"**", b"__")) or line.rstrip(b"*_ ").endswith(b":"):
        return True
    return line.upper() == line and len(line.translate(None, _NOT_LETTERS)) >= 4


def _strength_of(doc: Doc, start: int, end: int) -> Strength | None:
    found = {_CUES[hit.key] for hit in _MATCHER.find_all(doc, start, end)}
    for strength in ("preferred", "required"):
        if strength in found:
            return strength  # type: ignore[return-value]
    return None


Header = tuple[Strength | None, str]


class CueReader:
    """Reads requirement cues around spans of one document. Cues are matched in the document
    itself, within the clause's bounds; section headers are looked up lazily, walking back from a
    clause over the lines that may be headers, and remembered per line (most postings name few
    credentials)."""

    __slots__ = ("_clauses", "_header_above", "doc")

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        # Line start -> the nearest header at or above that line (None: no header above).
        self._header_above: dict[int, Header | None] = {}
        # Clause bounds -> its cues and text (a list such as "CPC, CCS or RHIT" asks about one
        # clause thrice).
        self._clauses: dict[tuple[int, int], tuple[list[Hit], str]] = {}

    def clause(self, start: int, end: int) -> tuple[int, int]:
        """Byte bounds of the clause holding raw[start:end]."""
        raw = self.doc.raw
        lo = max(0, start - _CLAUSE_WINDOW)
        before = _LAST_CLAUSE_END.match(raw, lo, start)
        c_start = before.end() if before else lo
        after = _CLAUSE_END.search(raw, end, min(len(raw), end + _CLAUSE_WINDOW))
        c_end = after.start() if after else min(len(raw), end + _CLAUSE_WINDOW)
        return c_start, c_end

    def strength_at(self, start: int, end: int) -> tuple[Strength | None, str]:
        """The strength for the phrase at raw[start:end], and the text that decided it."""
        bounds = self.clause(start, end)
        clause = self._clauses.get(bounds)
        if clause is None:
            clause = self._clauses[bounds] = (_MATCHER.find_all(self.doc, *bounds), self.doc.phrase(*bounds))
        cues, text = clause
        best: tuple[int, Strength] | None = None
        for hit in cues:
            strength = _CUES[hit.key]
            if strength == "ignore":
                return "ignore", text
            distance = hit.start - end if hit.start >= end else start - hit.end
            if best is None or distance < best[0]:
                best = (distance, strength)
        if best is not None and best[1] == "preferred":
            return best[1], text  # no header can change a stated wish
        header = self._header_before(bounds[0])
        if best is not None and not (header is not None and header[0] == "preferred"):
            # Under "Preferred Qualifications", "CIC holders must also possess a CPC" is still a wish.
            return best[1], text
        if header is not None and header[0] is not None:
            return header
        return None, text

    def _header_before(self, pos: int) -> Header | None:
        """The nearest header line starting at or before ``pos``, and its strength."""
        raw = self.doc.raw
        walked: list[int] = []
        line_start = raw.rfind(b"\n", 0, pos) + 1
        found: Header | None = None
        while True:
            if line_start in self._header_above:
                found = self._header_above[line_start]
                break
            walked.append(line_start)
            line_end = raw.find(b"\n", line_start)
            line_end = len(raw) if line_end < 0 else line_end
            stripped = raw[line_start:line_end].strip()
            if 2 <= len(stripped) <= _MAX_HEADER and _is_header(stripped):
                found = (_strength_of(self.doc, line_start, line_end), self.doc.phrase(line_start, line_end))
                break
            if line_start == 0:
                break
            # Lines that cannot be headers are skipped in one regex call, not one Python step each.
            above = _HEADER_LIKE_LINE_ABOVE.match(raw, 0, line_start - 1)
            line_start = above.end() if above else 0
        for line in walked:
            self._header_above[line] = found
        return found
