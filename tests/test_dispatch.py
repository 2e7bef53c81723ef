"""classifier/dispatch.py: a long alternation rewritten as a first-character trie must find exactly what re
finds with the pattern as written."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.dispatch import dispatch

PATTERNS = [
    # A shared \b, tested once before a branch per first character.
    (r"\bremote\s+work|\bhybrid\b|\b(?:fully|100%)\s+remote", r"\b(?:remote\s+work|hybrid\b|fully\s+remote|100%\s+remote)"),
    # An optional first item is both ways, in the order re tries them (greedy: with it first).
    (r"(?:minimum\s+)?\b(?P<years>\d{1,2}|five)\s+years?", None),
    (r"(?:minimum\s+)??\b\d\s+years?", None),  # lazy: without it first
    (r"(?:ab)?a|(?:b)??bb", None),  # where both ways match, the order decides the match
    # \b before a hyphen means a word character precedes it.
    (r"\b(?:-based|office)\b", r"\b(?:\-based\b|office\b)"),
    # Alternatives that can start with the same character keep their order across the rewrite.
    (r"a\d|[a-c]x|ay|\wz", None),
    (r"ac|[ab]bb|ab", "(?:ac|[ab]bb|ab)"),  # "ab" must not join "ac": [ab]bb comes between
    (r"\bon[- ]?site|\bonsite\b|\bon\b", None),
    # \B and a \b before a character that may or may not be a word character.
    (r"\Bing\b|\b[a-z-]+ment", None),
    # Things that are not rewritten keep their place: ^, a look-ahead first, a back reference.
    (r"^\s*registrar\b|\bcoder|(?=co)co\w+", None),
    (r"(a)\1|ab", "(a)\\1|ab"),
    # One alternative that cannot be rewritten keeps its place; the others still are (a look-behind stands for
    # the \b, which cannot be tested first for all: the look-ahead alternative comes between).
    (r"\bremote\b|(?=x)xy|\bhybrid\b", r"(?:r(?<!\w[\s\S])emote\b|(?=x)xy|h(?<!\w[\s\S])ybrid\b)"),
    (r"^\s*registrar\b|\bcoder|\bcoding", r"(?:\bcod(?:er|ing)|(?:\s(?<![\s\S]{2})\s*registrar\b|r(?<![\s\S]{2})egistrar\b))"),
    (r"x*y|z", None),  # a repeat that can match nothing first
    (r"(?i)remote|hybrid", "(?i)remote|hybrid"),  # inline flags: as written
]
ALPHABET = "abcdexyz onsitremwkhybridflu-105%mgnRH\n"


@pytest.mark.parametrize("pattern, rewritten", [(p, r) for p, r in PATTERNS if r is not None])
def test_rewritten_patterns_read_as_expected(pattern: str, rewritten: str) -> None:
    assert dispatch(pattern).pattern == rewritten


@pytest.mark.parametrize("pattern", [p for p, _ in PATTERNS])
@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=ALPHABET, max_size=60))
def test_finds_exactly_what_re_finds(pattern: str, text: str) -> None:
    plain = re.compile(pattern)
    assert [m.span() for m in dispatch(pattern).finditer(text)] == [m.span() for m in plain.finditer(text)]


@pytest.mark.parametrize("text", [
    "remote work, fully remote or hybrid; 100% remote", "minimum 5 years, five years or 12 years",
    "office-based or on-site, onsite and on site", "a1 ax bx ay az _z abb bbb aba", "meeting management-ment",
])
def test_finds_exactly_what_re_finds_in_phrases(text: str) -> None:
    for pattern, _ in PATTERNS:
        assert [m.span() for m in dispatch(pattern).finditer(text)] == [m.span() for m in re.finditer(pattern, text)]


def test_deeper_tries_find_the_same() -> None:
    pattern = r"\bremote\s+(?:work|role)|\bremain\s+on|\bresident|\bre\w+ing"
    text = "remote work and remote roles, remain on site, residents reading; rereading"
    expected = [m.span() for m in re.finditer(pattern, text)]
    for depth in range(6):
        assert [m.span() for m in dispatch(pattern, depth).finditer(text)] == expected
