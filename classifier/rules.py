"""Precise rules for role, seniority and arrangement, read from the CSV tables in classifier/data/.

Each table row is ``priority,label,field,pattern,keywords,confidence,note``: a regular expression, written
in lower case and matched against the lower-cased ``title``, ``description``, ``any`` (both) or
``structured`` experience level. The matching hit with the lowest priority decides (ties: earlier row). Rules decide only
where they are precise; when none fires, the caller falls back to the statistical model.

Speed: a description is scanned only when the prefilter (classifier/prefilter.py: every table's description rows,
relaxed, in one Hyperscan pass) says one of the table's rows could match it; most descriptions match none. Then
the patterns of one table and field are compiled into one alternation, rewritten as a trie on the
characters a match can start with (classifier/dispatch.py; the row of a match is identified afterwards, not
by a named group per row). A long description is only scanned in windows around the rows' ``keywords``
(lower-case literals, ``|``-separated; every match of the row contains one of them where it begins a word),
which KeywordStarts takes from the document scan that extraction runs anyway.

Settings: WINDOW (characters each side of a keyword), MAX_REQUIRED_YEARS (larger year counts are read as the
employer's history, not a requirement), TITLE_CACHE_SIZE (distinct titles whose hits are kept per table;
emptied when full).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

from classifier.dispatch import dispatch
from classifier.prefilter import DESCRIPTIONS
from classifier.vocab import DOCUMENT_SCAN, Doc

DATA_DIR = Path(__file__).parent / "data"
WINDOW = 160
TITLE_CACHE_SIZE = 20_000
MAX_REQUIRED_YEARS = 15

# Number words in years-of-experience statements ("minimum of five years").
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15,
}
# A GS grade the announcement is open at. A grade shortly after "equivalent to", "comparable to" or "next
# lower grade" is the prerequisite below it ("one year equivalent to the GS-04"), so it is skipped.
# Matched against lower-cased text. The word boundary is a lookbehind after the literal "g" (not a leading
# \b), so the regex engine can jump between "g"s instead of trying every position: ~100x faster.
_GRADE = re.compile(r"g[sgm](?<!\w..)\s*-?\s*(?:0?\d{3}\s*-\s*)?0?(?P<grade>1[0-5]|[1-9])\b(?!-?\d)")
# For the prefilter, the look-behind as the \b it stands for (the prefilter keeps a \b, never a look-behind).
DESCRIPTIONS.add("grade", [r"\bg[sgm]\s*-?\s*(?:0?\d{3}\s*-\s*)?0?(?:1[0-5]|[1-9])"])
_PREREQUISITE = re.compile(r"(?:equivalent|comparable|next\s+lower|lower\s+grade)[^.;?]{0,80}$")
_FEDERAL_SOURCES = ("usajobs",)
# Every byte but a lower-case ASCII letter as a space (a keyword's letters, as the document scan reads them).
_LETTER_BYTES = bytes(c if 97 <= c <= 122 else 0x20 for c in range(256))


@dataclass(frozen=True)
class Rule:
    priority: int
    label: str
    field: str
    pattern: str
    keywords: tuple[str, ...]
    confidence: float
    note: str


@dataclass(frozen=True)
class Hit:
    """One rule that fired: its label, how sure the table is of it, and where the phrase was found."""

    label: str
    confidence: float
    field: str
    phrase: str
    priority: int
    order: int  # row number in the table; breaks priority ties

    def evidence(self) -> dict[str, str]:
        return {"field": self.field, "phrase": self.phrase}


class Drop(NamedTuple):
    """Phrases removed from a text before a table's rows are matched (the trap phrases), and their rows'
    keywords: a window without one of them has nothing to remove (none: remove everywhere)."""

    pattern: re.Pattern[str]
    keywords: tuple[str, ...]
    group: str  # its prefilter group (classifier/prefilter.py)


class RuleTable:
    """The rows of one CSV table, compiled per field into a single alternation. ``name`` names its prefilter groups
    (classifier/prefilter.py: a description is only scanned where a row could match it)."""

    def __init__(self, rules: list[Rule], name: str):
        self.rules = rules
        self.name = name
        self._compiled: dict[str, re.Pattern[str] | None] = {}
        self._rows: dict[str, list[tuple[int, re.Pattern[str]]]] = {}
        self._keywords: dict[str, tuple[str, ...]] = {}
        self._title_hits: dict[tuple[str, str | None], tuple[Hit, ...]] = {}
        for field in ("title", "description", "structured"):
            picked = [(i, r) for i, r in enumerate(rules) if r.field in (field, "any")]
            if picked:
                # One alternation of every row, without a named group per row: it finds the same matches (the
                # first row, in table order, that matches at the leftmost position); the row is identified
                # afterwards. Patterns are lower case and matched against lower-cased text: re.IGNORECASE is
                # ~2x slower.
                self._compiled[field] = dispatch("|".join(r.pattern for _, r in picked))
                self._rows[field] = [(i, re.compile(r.pattern)) for i, r in picked]
                if field == "description":
                    DESCRIPTIONS.add(f"{name} description", [r.pattern for _, r in picked])
            else:
                self._compiled[field] = None
            # Windows are only safe when every row of the field names its keywords.
            if picked and all(r.keywords for _, r in picked):
                self._keywords[field] = tuple(sorted({k for _, r in picked for k in r.keywords}))
                KEYWORDS.add(set(self._keywords[field]))

    def hits(self, field: str, text: str, drop: Drop | None = None) -> list[Hit]:
        """Every non-overlapping rule match in ``text``; ``field`` selects the rows (and names the evidence).
        ``drop`` is removed from the text first (trap phrases)."""
        pattern = self._compiled.get(field)
        if pattern is None or not text:
            return []
        if field == "title":
            # Titles repeat across postings ("Medical Coder") and the role title table is the slowest per
            # character: each distinct title is scanned once (hits are immutable; callers get a new list).
            # Keyed by the drop pattern's text: hashing a Pattern hashes its whole compiled code, every time.
            key = (text, drop.pattern.pattern if drop is not None else None)
            cached = self._title_hits.get(key)
            if cached is None:
                if len(self._title_hits) >= TITLE_CACHE_SIZE:
                    self._title_hits.clear()
                cached = self._title_hits[key] = tuple(self._scan(field, text, pattern, drop))
            return list(cached)
        return self._scan(field, text, pattern, drop)

    def _scan(self, field: str, text: str, pattern: re.Pattern[str], drop: Drop | None) -> list[Hit]:
        if field == "description":
            # No row (nor a phrase to drop, which could join the words around it) could match: nothing to scan.
            possible = DESCRIPTIONS.possible(Doc.of(text))
            if f"{self.name} description" not in possible and (drop is None or drop.group not in possible):
                return []
        lowered = _lower(text)
        keywords = self._keywords.get(field)
        windowed = bool(keywords) and len(text) > 4 * WINDOW
        spans = _windows(text, lowered, keywords) if windowed else [(0, len(text))]
        starts = KEYWORDS.find(text) if windowed and drop is not None and drop.keywords else None
        found = []
        for start, end in spans:
            part = lowered[start:end]
            original = text[start:end]
            if drop is not None and (starts is None or any(start <= at < end for keyword in drop.keywords
                                                           for at in starts.get(keyword, ()))):
                # Same-length blanking keeps positions aligned with the original text for the evidence.
                part = drop.pattern.sub(_blank, part)
            for match in pattern.finditer(part):
                index = self._row_at(field, part, match)
                rule = self.rules[index]
                phrase = original[match.start():match.end()].strip()
                found.append(Hit(rule.label, rule.confidence, field, phrase, rule.priority, index))
        return found

    def _row_at(self, field: str, part: str, match: re.Match[str]) -> int:
        """The row whose pattern made ``match``: the alternation takes the first row, in table order, that
        matches at the match's start (with the same span)."""
        for index, row in self._rows[field]:
            if row.match(part, match.start()) is not None:
                return index
        raise AssertionError(f"no rule row matches {match.group(0)!r}")  # cannot happen: the alternation is the rows

    def with_label(self, label: str) -> Drop:
        """The rows with ``label`` as one pattern, with their keywords (e.g. the trap phrases removed first)."""
        rows = [r for r in self.rules if r.label == label]
        keywords = tuple(sorted({k for r in rows for k in r.keywords})) if all(r.keywords for r in rows) else ()
        KEYWORDS.add(set(keywords))
        group = f"{self.name} {label}"
        DESCRIPTIONS.add(group, [r.pattern for r in rows])
        return Drop(dispatch("|".join(f"(?:{r.pattern})" for r in rows)), keywords, group)


def _blank(match: re.Match[str]) -> str:
    return " " * (match.end() - match.start())


@lru_cache(maxsize=8)
def _lower(text: str) -> str:
    """ASCII letters lower-cased, every other character as it is, so a match in the lowered text is the same
    span of the original (Unicode lower-casing changes the length of a few letters). The patterns are ASCII
    and lower case: they match nothing differently. Done on UTF-8 bytes, about twice as fast as str.lower on a
    text that is not ASCII. Cached: the three tables and the grade scan all read the same title and description."""
    if text.isascii():
        return text.lower()
    return text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")


class KeywordStarts:
    """Where the rule tables' keywords begin a word, taken from the document scan that extraction runs over every
    text anyway (vocab.DOCUMENT_SCAN, where the keywords are registered as bare-prefix gates), so the rules add
    no pass of their own over the whole text.

    A keyword begins a word where no ASCII letter precedes it: the document scan reports the places after a
    space or punctuation, and one cheap pass those right after a digit ("5years"). A keyword's own non-letters
    stand for any one separator ("on-site" is found as "on site" too). Offsets are
    characters of the text: the document scan's byte offsets are converted where the text is not ASCII. The
    last few texts' answers are kept, as the three tables read the same description.
    """

    def __init__(self) -> None:
        self._gates: dict[str, bytes] = {}
        self._after_digit: tuple[re.Pattern[bytes], dict[bytes, tuple[str, ...]]] | None = None
        self._found: dict[str, dict[str, list[int]]] = {}

    def add(self, keywords: set[str]) -> None:
        keywords = keywords - self._gates.keys()
        if not keywords:
            return  # nothing new: the document scan is not compiled again
        for keyword in keywords:
            gate = keyword.encode("ascii", "replace").translate(_LETTER_BYTES).strip()
            if not gate:
                raise ValueError(f"keyword {keyword!r} must contain a letter")
            self._gates[keyword] = gate
            DOCUMENT_SCAN.add(gate, follow=None)
        self._after_digit = None
        self._found.clear()

    def find(self, text: str) -> dict[str, list[int]]:
        found = self._found.get(text)
        if found is not None:
            return found
        doc = Doc.of(text)
        gates = DOCUMENT_SCAN.find(doc)
        found = {keyword: list(gates[gate]) for keyword, gate in self._gates.items() if gate in gates}
        if self._after_digit is None:
            longest_first = sorted(set(self._gates.values()), key=len, reverse=True)
            self._after_digit = (
                re.compile(b"0(?=(" + b"|".join(re.escape(g) for g in longest_first) + b"))"),
                {g: tuple(k for k, kg in self._gates.items() if g.startswith(kg)) for g in longest_first})
        after_digit, keywords = self._after_digit
        # Over a copy with every digit a "0": re then finds the places to try with its fast literal loop.
        for m in after_digit.finditer(doc.words.translate(_DIGITS_AS_ZERO)):
            for keyword in keywords[m.group(1)]:
                # Doc.words is the text one byte to the right: the digit's offset there is the keyword's in the text.
                found.setdefault(keyword, []).append(m.start())
        if len(doc.raw) != len(text):
            chars = _char_offsets(doc.raw, {at for offsets in found.values() for at in offsets})
            found = {keyword: [chars[at] for at in offsets] for keyword, offsets in found.items()}
        if len(self._found) >= 8:
            self._found.clear()
        self._found[text] = found
        return found


KEYWORDS = KeywordStarts()
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")


def _char_offsets(raw: bytes, offsets: set[int]) -> dict[int, int]:
    """UTF-8 byte offset -> character offset, for offsets of character starts in ``raw``."""
    chars: dict[int, int] = {}
    done_bytes = done_chars = 0
    for at in sorted(offsets):
        done_chars += len(raw[done_bytes:at].decode("utf-8", "surrogatepass"))
        done_bytes = at
        chars[at] = done_chars
    return chars


def _windows(text: str, lowered: str, keywords: tuple[str, ...]) -> list[tuple[int, int]]:
    """The spans of ``lowered`` within WINDOW characters of a keyword, overlapping ones merged, each widened
    to whole words so that no window starts or ends inside a word."""
    size = len(lowered)
    found = KEYWORDS.find(text)
    spans = [(max(0, at - WINDOW), min(size, at + len(keyword) + WINDOW))
             for keyword in keywords for at in found.get(keyword, ())]
    spans.sort()
    # Merge before widening (widening is monotone, so spans that touch still touch once widened): only the
    # few merged spans are then widened character by character.
    merged: list[tuple[int, int]] = []
    for span in _merge(spans):
        start, end = span
        while start > 0 and not lowered[start - 1].isspace():
            start -= 1
        while end < size and not lowered[end].isspace():
            end += 1
        merged.append((start, end))
    return _merge(merged)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans sorted by start, with touching or overlapping ones joined."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def load_table(path: Path) -> RuleTable:
    rules = []
    with path.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                re.compile(row["pattern"])
                keywords = tuple(k.strip().lower() for k in (row.get("keywords") or "").split("|") if k.strip())
                rule = Rule(int(row["priority"]), row["label"], row["field"], row["pattern"], keywords,
                            float(row["confidence"]), row["note"])
            except (re.error, ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path.name} line {line}: invalid rule: {exc}") from exc
            if re.sub(r"\\[a-zA-Z]|\(\?P<\w+>|\(\?P=\w+\)", "", rule.pattern) != re.sub(
                r"\\[a-zA-Z]|\(\?P<\w+>|\(\?P=\w+\)", "", rule.pattern).lower():
                raise ValueError(f"{path.name} line {line}: patterns are matched against lower-cased text; "
                                 "write them in lower case")
            if any(ord(c) > 127 and c.isalpha() for c in rule.pattern):
                raise ValueError(f"{path.name} line {line}: only ASCII letters are lower-cased in the text; "
                                 "a pattern may not contain other letters")
            if rule.field not in ("title", "description", "any", "structured"):
                raise ValueError(f"{path.name} line {line}: unknown field {rule.field!r}")
            rules.append(rule)
    return RuleTable(rules, path.stem)


@cache
def tables() -> dict[str, RuleTable]:
    return {
        "role": load_table(DATA_DIR / "role_rules.csv"),
        "seniority": load_table(DATA_DIR / "seniority_rules.csv"),
        "arrangement": load_table(DATA_DIR / "arrangement_phrases.csv"),
    }


@cache
def _traps() -> Drop:
    return tables()["arrangement"].with_label("trap")


def _best(hits: list[Hit]) -> Hit | None:
    return min(hits, key=lambda h: (h.priority, h.order)) if hits else None


@cache
def _first_priority(table: RuleTable, field: str) -> int:
    return min((r.priority for r in table.rules if r.field in (field, "any")), default=10**6)


def role_rule(title: str, description: str) -> Hit | None:
    table = tables()["role"]
    best = _best(table.hits("title", title))
    if best is not None and best.priority < _first_priority(table, "description"):
        return best  # no description rule could outrank it: skip scanning the text
    return _best(([best] if best else []) + table.hits("description", description))


def years_label(years: float) -> str:
    """LABELS.md: under 1 year entry, 1 to 4 years mid, 5 or more senior."""
    if years < 1:
        return "entry"
    return "mid" if years < 5 else "senior"


def _years_in(phrase: str) -> int | None:
    match = re.search(r"\b(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")\b", phrase, re.IGNORECASE)
    if not match:
        return None
    word = match.group(1).lower()
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def lowest_grade(title: str, description: str, structured: dict | None) -> tuple[int, str, str] | None:
    """The lowest GS grade the announcement is open at, with the field and phrase that state it."""
    low = (structured or {}).get("low_grade")
    if low not in (None, ""):
        match = re.search(r"\d+", str(low))
        if match:
            return int(match.group(0)), "structured", f"low_grade={low}"
    best: tuple[int, str, str] | None = None
    for field, text in (("title", title), ("description", description)):
        if field == "description" and "grade" not in DESCRIPTIONS.possible(Doc.of(text)):
            continue
        lowered = _lower(text)
        for match in _GRADE.finditer(lowered):
            if _PREREQUISITE.search(lowered, max(0, match.start() - 90), match.start()):
                continue
            grade = int(match.group("grade"))
            if best is None or grade < best[0]:
                best = (grade, field, text[match.start():match.end()].strip())
    return best


def grade_label(grade: int) -> str:
    """LABELS.md federal rule: lowest grade GS-5 or below entry, GS-6 to GS-8 mid, GS-9 and above senior."""
    if grade <= 5:
        return "entry"
    return "mid" if grade <= 8 else "senior"


def seniority_rule(title: str, description: str, source: str = "", structured: dict | None = None) -> Hit | None:
    """The seniority the rules decide, or None when nothing states it."""
    table = tables()["seniority"]
    title_hits = table.hits("title", title)
    first = _best(title_hits)
    if first is not None and first.priority < _first_priority(table, "description"):
        return first  # Supervisor, Trainee, Coder I ...: nothing in the text outranks them
    level = str((structured or {}).get("experience_level") or "")
    structured_hits = [
        Hit(h.label, h.confidence, "structured", f"experience_level={level}", h.priority, h.order)
        for h in table.hits("structured", level)
    ]
    grade = lowest_grade(title, description, structured)
    federal = grade is not None or any(s in (source or "").lower() for s in _FEDERAL_SOURCES)
    hits = title_hits + structured_hits
    if federal:
        # Questionnaire boilerplate ("one year of specialized experience") is not the requirement; the grade is.
        if grade is not None:
            number, field, phrase = grade
            hits.append(Hit(grade_label(number), 0.9, field, phrase, 41, -1))
    else:
        # Scanned only here: federal postings are judged by their grade, never by the text's phrases.
        description_hits = table.hits("description", description)
        # Requirements state 0-15 years; "over 25 years of experience" is the employer praising itself.
        stated = [(h, _years_in(h.phrase)) for h in description_hits if h.label == "years"]
        stated = [(h, n) for h, n in stated if n is not None and n <= MAX_REQUIRED_YEARS]
        if stated:
            hit, years = min(stated, key=lambda pair: pair[1])
            hits.append(Hit(years_label(years), hit.confidence, hit.field, hit.phrase, hit.priority, hit.order))
        hits += [h for h in description_hits if h.label != "years"]
    return _best(hits)


def parse_remote_flag(flag: str | None) -> tuple[str, float] | None:
    """A source's own remote/workplace field, e.g. ``isRemote=true``, ``workplaceType=hybrid``,
    ``remote_allowed=1``. Evidence, not truth: callers weigh it below what the text says."""
    text = (flag or "").strip().lower()
    if not text:
        return None
    key, _, value = text.partition("=") if "=" in text else ("remote", "", text)  # a bare value: the remote flag
    key, value = key.strip(), value.strip().strip("\"'").removesuffix(".0")
    if "hybrid" in value:
        return "hybrid", 0.75
    if value in ("remote", "fully_remote", "fully remote", "telework", "virtual"):
        return "remote", 0.8
    if value in ("onsite", "on-site", "on_site", "in_office", "in-office", "office", "in person"):
        return "onsite", 0.8
    if any(word in key for word in ("remote", "telecommut", "telework", "wfh")):
        if value in ("true", "1", "yes", "y"):
            return "remote", 0.8
        if value in ("false", "0", "no", "n"):
            return "onsite", 0.7
    return None


def arrangement_rule(title: str, description: str, remote_flag: str | None = None) -> Hit | None:
    """Where the work is done according to the phrases, then the source's flag; None when nothing says."""
    table = tables()["arrangement"]
    traps = _traps()
    hits = table.hits("title", title, drop=traps) + table.hits("description", description, drop=traps)
    flag = parse_remote_flag(remote_flag)
    if flag is not None:
        hits.append(Hit(flag[0], flag[1], "remote_flag", remote_flag or "", 40, -1))
    ongoing = next((h for h in hits if h.label == "ongoing_onsite"), None)
    for hit in sorted(hits, key=lambda h: (h.priority, h.order)):
        if hit.label in ("trap", "ongoing_onsite"):
            continue
        if hit.label == "training_then_remote":
            if ongoing is not None:
                return Hit("hybrid", hit.confidence, hit.field, f"{hit.phrase} … {ongoing.phrase}", hit.priority,
                           hit.order)
            return Hit("remote", hit.confidence, hit.field, hit.phrase, hit.priority, hit.order)
        return hit
    return None
