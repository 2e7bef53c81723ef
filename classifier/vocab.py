"""Reading the extraction vocabularies in classifier/data, and finding their phrases fast.

Speed matters here (the classifier labels thousands of postings a second), and Python's ``re``
scans about ten nanoseconds a character unless a pattern starts with a literal. So text is
searched as UTF-8 bytes (``Doc``: original case and ASCII-lower-cased, same offsets), phrases are
grouped by their first word, and a group's regex — which starts with that word as a literal —
runs only when the word occurs at all.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"

# Separators a posting may put between the words of a phrase: spaces, hyphens, en/em dashes.
SEP = "(?:\\s|-|\u2010|\u2011|\u2013|\u2014)*"
APOSTROPHE = "(?:'|\u2019)?"


def load_csv(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(newline="", encoding="utf-8") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def normalize(phrase: str) -> str:
    """The lookup key of a phrase: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", phrase.lower())


def _word_pattern(word: str) -> str:
    return "".join(APOSTROPHE if ch in "'\u2019" else re.escape(ch) for ch in word)


def _words(phrase: str) -> list[str]:
    return [w for w in re.split(r"[\s\-]+", phrase.strip()) if w]


def is_cased(phrase: str) -> bool:
    """An acronym-led phrase is matched case-sensitively."""
    words = _words(phrase)
    letters = [c for c in words[0] if c.isalpha()] if words else []
    return len(letters) >= 2 and all(c.isupper() for c in letters)


class Doc:
    """One text as UTF-8 bytes: ``raw`` in its own case and ``low`` with ASCII lower-cased, at the
    same offsets (so a match found case-insensitively in ``low`` is quoted from ``raw``)."""

    __slots__ = ("text", "raw", "low")

    def __init__(self, text: str) -> None:
        self.text = text
        self.raw = text.encode("utf-8", "surrogatepass")
        self.low = self.raw.lower()

    @classmethod
    def of(cls, text: str) -> Doc:
        return cls(text)

    def phrase(self, start: int, end: int) -> str:
        return self.raw[start:end].decode("utf-8", "replace").strip()


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    key: str  # normalize() of the vocabulary phrase that matched
    phrase: str  # the text as written


_WORD_BYTE = re.compile(rb"[A-Za-z0-9]")


class PhraseMatcher:
    """Finds the phrases of a vocabulary as whole words, longest phrase first at each place.

    Phrases whose first word is in capitals ("GED", "PRN", "CCS-P", "HS diploma") match only as
    written; others match in any case. ``tail`` is extra regex (str) a match must be followed by.
    """

    def __init__(self, phrases: Iterable[str], tail: str = "") -> None:
        groups: dict[tuple[bool, bytes], list[list[str]]] = defaultdict(list)
        for phrase in phrases:
            words = _words(phrase)
            if not words:
                continue
            cased = is_cased(phrase)
            if not cased:
                words = [w.lower() for w in words]
            # The gate is the first word up to any apostrophe: "associate's" is gated on "associate".
            first = re.split("['\u2019]", words[0])[0]
            if not first.isascii() or not first.isalnum():
                raise ValueError(f"phrase {phrase!r} must start with a plain word")
            groups[(cased, first.encode("utf-8"))].append(words)
        self._groups: list[tuple[bool, bytes, re.Pattern[bytes]]] = []
        for (cased, first), members in groups.items():
            # The pattern starts with the gate word as a literal, which lets re skip ahead fast.
            # Acronym parts must be separated ("CCS-P", not the cloud-security "CCSP").
            sep = SEP.replace(")*", ")+") if cased else SEP
            alternatives = [
                _word_pattern(words[0][len(first.decode("utf-8")) :]) + "".join(sep + _word_pattern(w) for w in words[1:])
                for words in sorted(members, key=lambda ws: -len(" ".join(ws)))
            ]
            src = re.escape(first.decode("utf-8")) + "(?:" + "|".join(alternatives) + ")(?![A-Za-z0-9])" + tail
            self._groups.append((cased, first, re.compile(src.encode("utf-8"))))

    def finditer(self, doc: Doc) -> Iterator[Hit]:
        """Hits in text order; overlapping hits keep the one that starts first, then the longest."""
        hits: list[Hit] = []
        for cased, first, pattern in self._groups:
            hay = doc.raw if cased else doc.low
            if first not in hay:
                continue
            for m in pattern.finditer(hay):
                start = m.start()
                if start and _WORD_BYTE.match(hay, start - 1):
                    continue
                phrase = doc.phrase(start, m.end())
                hits.append(Hit(start, m.end(), normalize(phrase), phrase))
        hits.sort(key=lambda h: (h.start, -h.end))
        last_end = -1
        for hit in hits:
            if hit.start >= last_end:
                last_end = hit.end
                yield hit
