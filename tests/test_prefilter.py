"""classifier/prefilter.py: a group may be called possible when no pattern of it matches (the caller then scans for
nothing), but never the other way round, or a rule would silently stop firing."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from classifier import rules
from classifier.prefilter import CannotRelax, Prefilter, relax
from classifier.vocab import Doc

# Pieces whose meaning differs most between Python's re and an ASCII engine: Unicode \w, \s and \b, negated
# classes, look-arounds, lazy repeats.
_ATOMS = ["a", "b", "-", " ", "é", "\u2013", r"\s", r"\w", r"\d", r"\W", r"\S", "[a-c]", "[^a]", "[^\\s-]", ".",
          r"\b", r"\B", "(?=a)", "(?<!b)", "(?<=\\w)", "^", "$", "[0-9]", "[\u2013-]"]
_PATTERNS = st.recursive(
    st.sampled_from(_ATOMS),
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=4).map("".join),
        st.lists(inner, min_size=2, max_size=3).map(lambda parts: "(?:" + "|".join(parts) + ")"),
        st.tuples(inner, st.sampled_from(["?", "*", "+", "{0,3}", "{2}", "??", "*?", "{1,2}?"]))
        .map(lambda pair: f"(?:{pair[0]}){pair[1]}"),
    ),
    max_leaves=8,
)
# Lower case: the prefilter reads the text ASCII-lower-cased, as the rule patterns do.
_TEXT = st.text(alphabet="ab -\n\u00e9\u00c9\u2013\u00a0\x1c1_x.", max_size=30)


@settings(max_examples=400, deadline=None)
@given(pattern=_PATTERNS, text=_TEXT)
@example(pattern=r"\w\b", text="\u00e9 ")  # Python: a boundary after a non-ASCII letter; an ASCII \b sees none
@example(pattern=r"(?<!\w)-", text="\u00e9-")
def test_a_group_that_could_match_is_possible(pattern: str, text: str) -> None:
    prefilter = Prefilter()
    prefilter.add("group", [pattern])
    if re.search(pattern, text):
        assert "group" in prefilter.possible(Doc(text))


@pytest.mark.parametrize("pattern, text", [
    (r"\bremote\s+work\b", "Fully remote\u00a0work."),  # a no-break space is \s
    (r"\bcoder\b", "medical\u2013coder"),  # a dash next to a word
    (r"caf\w\b", "café coder"),  # a non-ASCII word character
    (r"\b\w+\s+monitoring", "remote  patient monitoring"),
    (r"g[sgm](?<!\w..)\s*-?\s*(?P<grade>1[0-5]|[1-9])\b", "gs-7 position"),
])
def test_real_phrases_are_possible(pattern: str, text: str) -> None:
    prefilter = Prefilter()
    prefilter.add("group", [pattern])
    assert re.search(pattern, text.lower())
    assert prefilter.possible(Doc(text)) == {"group"}


def test_a_text_without_the_phrase_is_skipped() -> None:
    prefilter = Prefilter()
    prefilter.add("remote", [r"\b(?:fully|100%)\s+remote\b"])
    prefilter.add("years", [r"\b\d{1,2}\+?\s+years?\b"])
    assert prefilter.possible(Doc("Remote access to the EHR. 3 years of coding.")) == {"years"}
    assert prefilter.possible(Doc("On site, Monday to Friday.")) == set()


def test_a_pattern_it_cannot_relax_makes_its_group_always_possible() -> None:
    with pytest.raises(CannotRelax):
        relax(r"(a)\1")
    prefilter = Prefilter()
    prefilter.add("backref", [r"\bx", r"(co)\1"])
    prefilter.add("plain", [r"\bcoder\b"])
    assert prefilter.possible(Doc("nothing here")) == {"backref"}


def test_text_that_is_not_utf8_is_never_skipped() -> None:
    # A lone surrogate (kept by Doc as surrogatepass) is no UTF-8: the scan could not be trusted on it.
    prefilter = Prefilter()
    prefilter.add("coder", [r"coder"])
    assert prefilter.possible(Doc("no match \ud800 here")) == {"coder"}


def test_every_bundled_rule_row_is_relaxed() -> None:
    # A row that could not be relaxed would make its table scan every description again (slow, still right).
    rules.tables()
    rules._traps()
    from classifier.prefilter import DESCRIPTIONS

    assert DESCRIPTIONS._groups and all(relaxed for relaxed in DESCRIPTIONS._groups.values())


def test_a_phrase_joined_by_removing_a_trap_is_still_found() -> None:
    # Trap phrases are blanked before the rows are matched, so a row can match words that a trap separated in the
    # original text. The prefilter reads the original text, where the row cannot match: the trap group being
    # possible must be enough for the scan to happen.
    table = rules.RuleTable([
        # A trap row of the title field: it is not among the description's rows, only removed from the text.
        rules.Rule(0, "trap", "title", r"\bremote\s+access\b", ("remote",), 1.0, "trap"),
        rules.Rule(10, "onsite", "description", r"\bwork\s+on\s+site\b", ("site",), 0.9, "on site"),
    ], "test_trap_join")
    traps = table.with_label("trap")
    hits = table.hits("description", "Work remote access on site.", drop=traps)
    assert [(h.label, h.phrase) for h in hits] == [("onsite", "Work remote access on site")]


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="gsm GS-0675 1234_x\u00e9\u00a0.", max_size=25))
def test_the_grade_group_is_possible_wherever_the_grade_pattern_matches(text: str) -> None:
    # The grade's prefilter pattern is written by hand (a \b for the look-behind that keeps _GRADE fast in re).
    from classifier.prefilter import DESCRIPTIONS

    if rules._GRADE.search(text.lower()):
        assert "grade" in DESCRIPTIONS.possible(Doc(text))
