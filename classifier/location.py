"""City and US state of a posting, and the states a remote job is limited to.

Vocabulary: classifier/data/us_states.csv (code, name; the 50 states, DC and Puerto Rico).
Location strings come as "Dallas, TX", "Tampa, Florida, United States", "US-CA-Monrovia" and
"USA - WI - Sheboygan" (iCIMS/Workday), "US - MD, Bethesda", "Remote - Colorado", "Warren,
Michigan". Two-letter codes count only in capitals as a whole token, so "Gurugram, India" is not
Indiana and "or" is not Oregon. Remote eligibility ("must reside in TX, FL, GA", "open to
residents of the following states: ...") is read from the location, the title and the description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from classifier.vocab import DOCUMENT_SCAN, Doc, load_csv

_ROWS = load_csv("us_states.csv")
STATE_CODES: frozenset[str] = frozenset(r["code"] for r in _ROWS)
_BY_NAME = {r["name"].lower(): r["code"] for r in _ROWS}

_CODE_SRC = "|".join(sorted(STATE_CODES))
_NAME_SRC = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in sorted(_BY_NAME, key=len, reverse=True))
_STATE_RE = re.compile(rf"(?<![A-Za-z])(?:(?P<code>{_CODE_SRC})|(?i:(?P<name>{_NAME_SRC})))(?![A-Za-z])".encode())
_ICIMS_RE = re.compile(rf"^\s*(?:US|USA)\s*-\s*(?P<state>{_CODE_SRC})\s*[-,]\s*(?P<city>[^,;|]+)")
_PART_SPLIT = re.compile(r"\s[-\u2013\u2014]\s|[,;|()]|\s/\s")
_ALTERNATIVES = re.compile(r"[;|\n]|\s+or\s+", re.IGNORECASE)
_PARENS = re.compile(r"\([^)]*\)")
_ZIP_TAIL = re.compile(r"\s+\d{5}(?:-\d{4})?$")
_NOT_A_CITY = re.compile(
    r"^(?:remote|hybrid|on[\s-]?site|in[\s-]?office|work\s+from\s+home|wfh|anywhere|multiple\s+locations|"
    r"\d+\s+locations|united\s+states(?:\s+of\s+america)?|usa?|u\.s\.a?\.?|us\s+remote|nationwide|virtual|telework)$",
    re.IGNORECASE,
)
_RESIDE = r"\s+(?:currently\s+)?(?:reside|live|be\s+located|be\s+based|be\s+a\s+resident)\s+(?:in|within|of)"
_LOCATED_IN = r"\s+(?:located|residing|living|based)\s+in"
_IN_OR_FROM = r"\s+(?:in|from)"
_STATES_ARE = r"\s+states\s*(?:include|are)?:?"
# Alternatives are grouped by their first letter, each group behind that literal letter: re then
# tries a window only at the bytes that can start a trigger, and at each one only the group of
# its letter (with the alternation behind a group, it would try all of it at every byte).
_REMOTE_TRIGGER_SRC = (
    rf"m(?:ust{_RESIDE})|s(?:hould{_RESIDE})|w(?:ill\s+need\s+to{_RESIDE})|n(?:eed\s+to{_RESIDE})"
    r"|o(?:pen\s+(?:only\s+)?to\s+(?:candidates\s+|applicants\s+)?(?:residing\s+in|residents\s+of|located\s+in|living\s+in|based\s+in)"
    rf"|nly\s+(?:hiring|accepting\s+applicants|accepting\s+applications){_IN_OR_FROM})"
    rf"|c(?:andidates{_LOCATED_IN})"
    rf"|a(?:pplicants{_LOCATED_IN}|ccepting\s+applicants{_IN_OR_FROM}|ccepting\s+applications{_IN_OR_FROM}|pproved{_STATES_ARE})"
    rf"|r(?:esidents{_LOCATED_IN}|esidents\s+of)|h(?:iring{_IN_OR_FROM})|e(?:ligible{_STATES_ARE})"
    rf"|p(?:ermitted{_STATES_ARE})|t(?:he\s+following\s+states:?)"
)
_REMOTE_TRIGGER = re.compile(_REMOTE_TRIGGER_SRC, re.IGNORECASE)
_REMOTE_TRIGGER_LOW = re.compile(_REMOTE_TRIGGER_SRC.encode())
# Words every trigger contains, at a word start; the trigger regex runs only around them. The
# first three are prefixes ("reside" for "residents", "accepting appl" for "applicants"), the
# others whole words (so "based in" does not fire on "based innovation").
_REMOTE_PREFIXES = (b"reside", b"hiring", b"accepting appl")
_REMOTE_WORDS = (b"located in", b"live in", b"living in", b"based in", b"following states", b"eligible states",
                 b"approved states", b"permitted states")
_REMOTE_GATES = _REMOTE_PREFIXES + _REMOTE_WORDS
for _gate in _REMOTE_GATES:
    DOCUMENT_SCAN.add(_gate, follow=None if _gate in _REMOTE_PREFIXES else ())
# What may stand between the trigger and the first state, and between two states. Its tokens are
# whole words or single separators, so the longest run of them is unique, and the next state must
# start within that run (a state may also be a filler word: "OR" is Oregon).
_FILLER_RUN = re.compile(
    rb"(?:[\s,;:/&.()*-]|\xe2\x80\x93|\xe2\x80\x94|\xe2\x80\xa2|\band\b|\bor\b|\bthe\b|\bone\b|\bof\b|\bfollowing\b"
    rb"|\bstates?\b|\bonly\b|\bcurrently\b|\bin\b)*",
    re.IGNORECASE,
)
_LETTER_AFTER_NON_LETTER = re.compile(rb"(?<![A-Za-z])[A-Za-z]")
_REMOTE_WINDOW = 600
_TRIGGER_REACH = 40
# "hire throughout the U.S except in the following states: ..." lists exclusions, not eligibility.
_EXCEPT_BEFORE = re.compile(rb"\b(?:except|excluding|exclusion|not\s+(?:able\s+to\s+)?(?:hire|hiring|available)|with\s+the\s+exception)\b")


@dataclass(frozen=True)
class Place:
    city: str | None
    state: str | None
    phrase: str


def _state_of(part: str) -> str | None:
    part = _ZIP_TAIL.sub("", part.strip())
    if part in STATE_CODES:
        return part
    return _BY_NAME.get(re.sub(r"\s+", " ", part.lower()))


@lru_cache(maxsize=4096)  # a crawl sees the same few hundred location strings over and over
def parse_location(location: str) -> Place | None:
    """City and state of a location string (the first place when several are listed); None
    when it names no US state."""
    if not location or not location.strip():
        return None
    m = _ICIMS_RE.match(location)
    if m:
        city = m.group("city").split(" - ")[0].strip()
        return Place(city or None, m.group("state"), m.group(0).strip())
    # "Remote (must reside in TX, FL)" lists eligibility, not where the job is.
    cleaned = _PARENS.sub(lambda p: "" if _REMOTE_TRIGGER.search(p.group(0)) else p.group(0), location)
    for alternative in _ALTERNATIVES.split(cleaned):
        parts = [p.strip() for p in _PART_SPLIT.split(alternative)]
        found = [i for i, part in enumerate(parts) if part and _state_of(part)]
        if not found:
            continue
        i = found[-1]
        state = _state_of(parts[i])
        city = parts[i - 1] if i > 0 else None
        if city and (_NOT_A_CITY.match(city) or city in STATE_CODES or len(city) > 40 or any(c.isdigit() for c in city)):
            city = None
        first = parts[i - 1] if city else parts[i]
        start = alternative.find(first)
        end = alternative.find(parts[i], start + (len(first) if city else 0)) + len(parts[i])
        return Place(city or None, state, alternative[start:end].strip())
    return None


def find_remote_states(doc: Doc) -> tuple[list[str], str] | None:
    """States a remote job is limited to, from "must reside in TX, FL, GA"-style phrases."""
    found = DOCUMENT_SCAN.find(doc)
    if not found or found.keys().isdisjoint(_REMOTE_GATES):
        return None
    triggers: list[tuple[int, int]] = []
    for gate in _REMOTE_GATES:
        for at in found.get(gate, ()):
            # Triggers are short: look for one only around each place a gate word occurs (in that
            # window lower-cased, which spares lower-casing the whole text).
            lo = max(0, at - _TRIGGER_REACH)
            m = _REMOTE_TRIGGER_LOW.search(doc.raw[lo : at + len(gate) + _TRIGGER_REACH].lower())
            if m and not _EXCEPT_BEFORE.search(doc.low, max(0, lo + m.start() - _TRIGGER_REACH), lo + m.start()):
                triggers.append((lo + m.start(), lo + m.end()))
    for trigger_start, trigger_end in sorted(triggers, key=lambda t: t[0]):
        states: list[str] = []
        last = trigger_end
        window_end = min(len(doc.raw), trigger_end + _REMOTE_WINDOW)
        while (m := _next_state(doc.raw, last, window_end)) is not None:
            name = m.group("name")
            code = m.group("code").decode() if name is None else _BY_NAME[re.sub(r"\s+", " ", name.decode().lower())]
            states.append(code)
            last = m.end()
        if states:
            return sorted(set(states)), doc.phrase(trigger_start, last)
    return None


def remote_states_in_location(location: str) -> tuple[list[str], str] | None:
    """find_remote_states for a location string ("Remote (must reside in TX, FL)")."""
    found = _remote_states_in_location(location)
    return (list(found[0]), found[1]) if found else None


@lru_cache(maxsize=4096)  # location strings repeat across a crawl
def _remote_states_in_location(location: str) -> tuple[tuple[str, ...], str] | None:
    found = find_remote_states(Doc(location))
    return (tuple(found[0]), found[1]) if found else None


def _next_state(raw: bytes, start: int, end: int) -> re.Match[bytes] | None:
    """The first state named in raw[start:end] after nothing but filler, tried only at word
    starts within the filler run (a search to the window's end would cost ten times more)."""
    run_end = _FILLER_RUN.match(raw, start, end).end()  # type: ignore[union-attr]  # "*" always matches
    word = _LETTER_AFTER_NON_LETTER.search(raw, start, min(end, run_end + 1))
    while word is not None:
        m = _STATE_RE.match(raw, word.start(), end)
        if m is not None:
            return m
        word = _LETTER_AFTER_NON_LETTER.search(raw, word.start() + 1, min(end, run_end + 1))
    return None
