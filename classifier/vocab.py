"""Reading the extraction vocabularies in classifier/data, and finding their phrases fast.

Speed matters here (the classifier labels thousands of postings a second), and Python's ``re``
spends tens of nanoseconds at every place it tries a pattern, so a text must not be scanned once
per phrase. Text is searched as UTF-8 bytes (``Doc``: original case, and ASCII-lower-cased made
only on demand; same offsets). Phrases are grouped by their first word (the gate), and a
``WordScan`` finds where any gate of many vocabularies begins a word in ONE pass of Hyperscan (a
compiled multi-literal automaton) over a copy of the text in which every letter is lower case
and every byte that is no letter or digit is a space, so a word start is "a space, then the
word"; each group's own pattern is then tried only at those places, on the original bytes
(case-insensitively unless the phrase is an acronym). The places reported are the ones a regex
``" (gate|gate|...)"`` would find, longest gate first, one match after another (tests check it
against the obvious search); ``re`` itself cost about as much as the rest of an extraction here.
``DOCUMENT_SCAN`` is the pass shared by every vocabulary searched in whole titles and
descriptions (credentials, education, employment type, remote-eligibility triggers, currency
codes); a ``Doc`` keeps its result, and ``Doc.of`` hands the same Doc to every reader of a
recent text, so other modules that register gates in DOCUMENT_SCAN (the label rules) share the
pass. Requirement cues have their own scan, run only over the clauses and header lines around a
credential or degree.
"""

from __future__ import annotations

import csv
import re
import threading
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import hyperscan

DATA_DIR = Path(__file__).parent / "data"

# Separators a posting may put between the words of a phrase: spaces, hyphens, en/em dashes (SEP:
# any number, SEP_1: at least one). They are written so that re repeats a group, which costs an
# allocation, only where a Unicode dash occurs: an ASCII run, then, at a dash, any mix. Likewise
# the optional apostrophe is an alternation with an empty branch rather than "(...)?".
_DASH = "(?:\u2010|\u2011|\u2013|\u2014)"
_DASH_ON = f"{_DASH}(?:[\\s-]|{_DASH})*"
SEP = f"[\\s-]*(?:{_DASH_ON}|)"
SEP_1 = f"(?:[\\s-]+(?:{_DASH_ON}|)|{_DASH_ON})"
APOSTROPHE = "(?:'|\u2019|)"
_ALNUM = b"abcdefghijklmnopqrstuvwxyz0123456789"
_ALNUM_SET = frozenset(_ALNUM)
# Text to "words" text: letters lower-cased, digits kept, every other byte a space.
_TO_WORDS = bytes(c if c in _ALNUM else c + 32 if 65 <= c <= 90 else 0x20 for c in range(256))


def load_csv(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(newline="", encoding="utf-8") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def normalize(phrase: str) -> str:
    """The lookup key of a phrase: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", phrase.lower())


_NOT_ALNUM = bytes(c for c in range(256) if c not in _ALNUM and not 65 <= c <= 90)


@lru_cache(maxsize=4096)
def _key(matched: bytes) -> str:
    """normalize() of a matched phrase, from its bytes (a matched phrase is ASCII words and
    separators; cached, as the same few phrases recur in posting after posting)."""
    return matched.translate(_TO_WORDS, _NOT_ALNUM).decode()


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
    same offsets (``low`` and ``words`` are made on first use; the vocabularies match ``raw``,
    case-insensitively where they ignore case, so most texts never need ``low``).

    ``Doc.of(text)`` returns the Doc it made for an equal text among its last few calls, so the
    label rules and extraction of one posting share one Doc and the scans kept on it: ``kept`` holds
    each whole-text scan's answer, keyed by the compiled scanner that gave it (a scanner compiled
    anew, with more patterns, never reads an older answer)."""

    __slots__ = ("_low", "_words", "kept", "raw", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.raw = text.encode("utf-8", "surrogatepass")
        self._low: bytes | None = None
        self._words: bytes | None = None
        self.kept: dict[object, Any] = {}

    @classmethod
    def of(cls, text: str) -> Doc:
        for doc in _RECENT:
            if doc.text is text or doc.text == text:
                return doc
        doc = cls(text)
        _RECENT.append(doc)
        return doc

    @property
    def low(self) -> bytes:
        if self._low is None:
            self._low = self.raw.lower()
        return self._low

    @property
    def words(self) -> bytes:
        """A space, then ``low`` with every byte but letters and digits as a space: the byte at
        ``i + 1`` is the byte at ``i`` of the text, and a word starts where a space precedes it."""
        if self._words is None:
            self._words = b" " + self.raw.translate(_TO_WORDS)
        return self._words

    def phrase(self, start: int, end: int) -> str:
        return self.raw[start:end].decode("utf-8", "replace").strip()

    def hit(self, start: int, end: int) -> Hit:
        """The vocabulary match at ``raw[start:end]``."""
        return Hit(start, end, _key(self.raw[start:end]), self.phrase(start, end))


# Doc.of's memory: the last four texts, so a posting's title and description, read by the rules
# and then by extraction, are made into Docs (and scanned) once.
_RECENT: deque[Doc] = deque(maxlen=4)


class WordScan:
    """Finds in one pass every place where one of many lower-case gate words begins a word.

    A gate is registered with the letters that may directly follow it in a match (a phrase with
    optional separators such as "full time" also matches "fulltime"), or with ``follow=None`` when
    it is a bare prefix ("reside" for "residents"); otherwise it must end at a non-alphanumeric
    byte, which keeps frequent short gates ("a", "per", "2") from firing inside longer words.
    """

    def __init__(self) -> None:
        self._follow: dict[bytes, frozenset[int] | None] = {}
        self._compiled: _CompiledScan | None = None

    def add(self, gate: bytes, follow: Iterable[int] | None) -> None:
        """Register a gate; adding one again widens what may follow it."""
        if not gate or gate.strip(_ALNUM + b" ") or gate != gate.lower():
            raise ValueError(f"gate {gate!r} must be lower-case letters, digits and spaces")
        old = self._follow.get(gate, frozenset())
        self._follow[gate] = None if follow is None or old is None else old | frozenset(follow)
        self._compiled = None

    def gates(self) -> frozenset[bytes]:
        return frozenset(self._follow)

    def _compile(self) -> _CompiledScan:
        gates = list(self._follow)
        return _CompiledScan(Automaton([b" " + gate for gate in gates], list(range(len(gates)))), [
            _Gate(len(gate), _ALNUM_SET - follow if follow is not None else frozenset(),
                  tuple(g for g in gates if gate.startswith(g)))
            for gate, follow in self._follow.items()])

    def find(self, doc: Doc, start: int = 0, end: int | None = None) -> dict[bytes, list[int]]:
        """Gate -> byte offsets where it begins a word in ``doc.raw[start:end]`` (the whole
        document's answer is kept on the Doc)."""
        if self._compiled is None:
            self._compiled = self._compile()
        compiled = self._compiled
        whole = start == 0 and end is None
        if whole:
            kept = doc.kept.get(compiled)
            if kept is not None:
                return kept
        words = doc.words
        stop = len(words) if end is None else min(len(words), end + 1)
        part = words if whole else words[start:stop]
        # What a regex " (gate|gate|...)" would find, longest gate first at each place, one match after another
        # (a gate of several words hides the word starts inside it): the longest gate at each space whose next byte
        # may follow it.
        longest: dict[int, _Gate] = {}
        size = len(part)
        for number, to in compiled.automaton.scan(part):  # every occurrence of " gate"
            gate = compiled.gates[number]
            at = to - gate.length - 1
            if to < size and part[to] in gate.not_after:
                continue
            if at not in longest or longest[at].length < gate.length:
                longest[at] = gate
        found: dict[bytes, list[int]] = {}
        covered = -1
        for at in sorted(longest):
            if at < covered:
                continue
            gate = longest[at]
            covered = at + gate.length + 1
            for prefix in gate.prefixes:
                if prefix in found:
                    found[prefix].append(at + start)
                else:
                    found[prefix] = [at + start]
        if whole:
            doc.kept[compiled] = found
        return found


class _Gate(NamedTuple):
    length: int
    not_after: frozenset[int]  # the letters and digits that may not follow it (none for a bare prefix)
    prefixes: tuple[bytes, ...]  # the gates it starts with, itself included: all are reported where it is


@dataclass(frozen=True, eq=False)  # eq=False: hashed by identity, as a key of Doc.kept
class _CompiledScan:
    """A WordScan's gates as compiled; a Doc keeps whole-document results per compilation, so a
    gate added later (which compiles anew) is never missing from a kept result."""

    automaton: Automaton
    gates: list[_Gate]  # by pattern number


class Automaton:
    """Byte patterns compiled into one Hyperscan database (block mode, ``flags`` for every pattern);
    ``scan`` lists (pattern id, end offset) of every match in a text. A database scans with a single
    scratch space, so scans take turns."""

    def __init__(self, patterns: list[bytes], ids: list[int], flags: int = 0) -> None:
        self._database: hyperscan.Database | None = None
        if patterns:
            self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._database.compile(expressions=patterns, ids=ids, elements=len(patterns), flags=[flags] * len(patterns))
        self._lock = threading.Lock()

    def scan(self, data: bytes) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []

        def report(number: int, _start: int, end: int, *_: object) -> None:
            found.append((number, end))

        if self._database is not None:
            with self._lock:
                self._database.scan(data, match_event_handler=report)
        return found


# The pass over whole titles and descriptions, shared by the credential, education, employment,
# remote-eligibility and currency-code vocabularies.
DOCUMENT_SCAN = WordScan()


class Hit(NamedTuple):
    start: int
    end: int
    key: str  # normalize() of the vocabulary phrase that matched
    phrase: str  # the text as written


class PhraseMatcher:
    """Finds the phrases of a vocabulary as whole words, longest phrase first at each place.

    Phrases whose first word is in capitals ("GED", "PRN", "CCS-P", "HS diploma") match only as
    written; others match in any case. ``tail`` is extra regex (str) a match must be followed by.
    ``scan`` is the WordScan that finds the gates (DOCUMENT_SCAN, or by default one of its own).
    """

    def __init__(self, phrases: Iterable[str], tail: str = "", scan: WordScan | None = None) -> None:
        self._scan = scan or WordScan()
        groups: dict[tuple[bool, str], list[list[str]]] = defaultdict(list)
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
            groups[(cased, first)].append(words)
        self._groups: dict[bytes, list[re.Pattern[bytes]]] = {}
        for (cased, first), members in groups.items():
            # Acronym parts must be separated ("CCS-P", not the cloud-security "CCSP").
            sep = SEP_1 if cased else SEP
            alternatives = [
                _word_pattern(words[0][len(first) :]) + "".join(sep + _word_pattern(w) for w in words[1:])
                for words in sorted(members, key=lambda ws: -len(" ".join(ws)))
            ]
            src = re.escape(first) + "(?:" + "|".join(alternatives) + ")(?![A-Za-z0-9])" + tail
            gate = first.lower().encode()
            flags = 0 if cased else re.IGNORECASE
            self._groups.setdefault(gate, []).append(re.compile(src.encode("utf-8"), flags))
            self._scan.add(gate, _follow_letters(first, members, cased))

    def spans(self, doc: Doc, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
        """(start, end) of each hit within ``doc.raw[start:end]`` in text order; overlapping hits
        keep the one that starts first, then the longest."""
        # The whole document's scan is usually kept on the Doc already.
        found = doc.kept.get(self._scan._compiled) if start == 0 and end is None else None
        if found is None:
            found = self._scan.find(doc, start, end)
        spans: list[tuple[int, int]] = []
        raw = doc.raw
        stop = len(raw) if end is None else end
        groups = self._groups
        for gate, positions in found.items():
            patterns = groups.get(gate)
            if patterns is None:
                continue
            for pattern in patterns:
                for at in positions:
                    m = pattern.match(raw, at, stop)
                    if m is not None:
                        spans.append((at, -m.end()))
        if not spans:
            return spans
        spans.sort()
        kept: list[tuple[int, int]] = []
        last_end = -1
        for at, neg_end in spans:
            if at >= last_end:
                last_end = -neg_end
                kept.append((at, last_end))
        return kept

    def find_all(self, doc: Doc, start: int = 0, end: int | None = None) -> list[Hit]:
        """The hits of ``spans``."""
        return [doc.hit(at, stop) for at, stop in self.spans(doc, start, end)]


def _follow_letters(first: str, members: list[list[str]], cased: bool) -> set[int]:
    """Letters and digits that may directly follow the gate ``first`` in a match of the group."""
    follow: set[int] = set()
    for words in members:
        rest = words[0][len(first) :].lstrip("'\u2019")  # the apostrophe is optional: "associates degree"
        if rest:
            follow.update(rest[:1].lower().encode())
        elif len(words) > 1 and not cased:  # so are separators between words: "fulltime"
            follow.update(words[1][:1].lower().encode())
    return {c for c in follow if c in _ALNUM}
