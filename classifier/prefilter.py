"""Which rule patterns could match a text, answered by Hyperscan in one pass, so Python's ``re`` only scans the few
texts where one could.

Python's ``re`` tries its patterns at every place of a text; Hyperscan runs one compiled automaton of all of them
over the bytes once, but knows neither look-arounds nor back references. So it is asked a weaker question: each
pattern is *relaxed* (``relax``) into one that matches wherever the original could. Assertions (``^``,
look-arounds, ``\\B``) are dropped; ``\\b`` is kept only next to a character that can only be an ASCII letter, digit
or underscore (there Hyperscan's ASCII ``\\b`` holds wherever Python's Unicode one does); every character class
matches exactly its ASCII members plus every non-ASCII character (Python's ``\\w`` and ``\\s`` are Unicode, and no
rule pattern names a non-ASCII letter). When no relaxed pattern of a group matches, no original does, and the
group's scan is skipped; when one does, the caller scans as before. The answer is never wrong, only sometimes too
cautious.

Groups are registered by name (``Prefilter.add``); ``possible(doc)`` names the groups that could match
``doc.low`` (the text, ASCII lower-cased, as UTF-8: what the rule patterns are matched against). A group with a
pattern that cannot be relaxed (a back reference, inline flags) is always possible, as is every group for a text
that is not valid UTF-8 (a lone surrogate), which Hyperscan cannot read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser as P  # type: ignore[attr-defined]
from typing import Any

import hyperscan

from classifier.dispatch import CannotRewrite, write
from classifier.vocab import Automaton, Doc

_MAX_COUNT = 1000  # larger repeat counts are relaxed to any count: cheaper to compile and to scan
_NON_ASCII = r"\x{80}-\x{10FFFF}"
_ASCII_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
# UTF-8 of a lone surrogate (Doc encodes them with surrogatepass): not UTF-8, which Hyperscan's UTF-8 mode assumes.
_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]")


class CannotRelax(Exception):
    """The pattern uses something with no relaxation written here; its group is always possible."""


def relax(pattern: str) -> str:
    """A Hyperscan pattern (UTF-8 mode) matching every string in which ``pattern`` (a Python ``re`` str pattern) finds
    a match."""
    try:
        tree = P.parse(pattern)
    except re.error as exc:
        raise CannotRelax(str(exc)) from exc
    if tree.state.flags & ~re.UNICODE:
        raise CannotRelax("flags")
    return _write(tree.data)


def _write(items: Any) -> str:
    written = []
    for k, (op, arg) in enumerate(items):
        # Hyperscan's \b is ASCII's: next to a character that can only be an ASCII word character, it holds wherever
        # Python's does (a non-ASCII neighbour is a non-word character to Hyperscan). Otherwise it is dropped.
        if op is C.AT and arg is C.AT_BOUNDARY and (k > 0 and _ascii_word(items[k - 1])
                                                  or k + 1 < len(items) and _ascii_word(items[k + 1])):
            written.append(r"\b")
        else:
            written.append(_write_item(op, arg))
    return "".join(written)


def _ascii_word(item: Any) -> bool:
    """Whether the item matches one character, always an ASCII letter, digit or underscore."""
    op, arg = item
    if op is C.LITERAL:
        return arg in _ASCII_WORD
    if op is C.IN:
        return all(kind is C.LITERAL and value in _ASCII_WORD
                   or kind is C.RANGE and all(c in _ASCII_WORD for c in range(value[0], value[1] + 1))
                   for kind, value in arg)
    return False


def _write_item(op: Any, arg: Any) -> str:
    if op is C.LITERAL:
        return chr(arg) if chr(arg).isascii() and chr(arg).isalnum() else f"\\x{{{arg:x}}}"
    if op is C.NOT_LITERAL:
        return _ascii_class(c for c in range(128) if c != arg)
    if op is C.ANY:
        return _ascii_class(c for c in range(128) if c != ord("\n"))
    if op is C.IN:
        member = re.compile(_class_source(arg)).match
        return _ascii_class(c for c in range(128) if member(chr(c)))
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return ""  # dropping a condition only widens what matches
    if op is C.BRANCH:
        return "(?:" + "|".join(_write(alternative) for alternative in arg[1]) + ")"
    if op is C.SUBPATTERN:
        _group, add_flags, del_flags, inner = arg
        if add_flags or del_flags:
            raise CannotRelax("inline flags")
        return "(?:" + _write(inner) + ")"
    if op is C.ATOMIC_GROUP:
        return "(?:" + _write(arg) + ")"
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        low, high, inner = arg
        if low > _MAX_COUNT or (high != C.MAXREPEAT and high > _MAX_COUNT):
            return f"(?:{_write(inner)})*"
        return f"(?:{_write(inner)}){{{low},{'' if high == C.MAXREPEAT else high}}}"
    raise CannotRelax(str(op))


def _ascii_class(members: Iterable[int]) -> str:
    """A class of the given ASCII characters and every non-ASCII one."""
    runs: list[list[int]] = []
    for c in members:
        if runs and runs[-1][1] == c - 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return "[" + "".join(f"\\x{a:02x}" if a == b else f"\\x{a:02x}-\\x{b:02x}" for a, b in runs) + _NON_ASCII + "]"


def _class_source(items: Any) -> str:
    """A parsed character class written back for Python's ``re``, to test ASCII characters against."""
    try:
        return write([(C.IN, items)])
    except CannotRewrite as exc:
        raise CannotRelax(str(exc)) from exc


class Prefilter:
    """Named groups of Python patterns, and which of them could match a text (see the module docstring)."""

    def __init__(self) -> None:
        self._groups: dict[str, list[str] | None] = {}  # name -> relaxed patterns; None: always possible
        self._compiled: _Compiled | None = None

    def add(self, name: str, patterns: Iterable[str]) -> None:
        """Register a group, or add patterns to it (patterns it has already change nothing)."""
        relaxed = self._groups.setdefault(name, [])
        for pattern in patterns:
            if relaxed is None:
                return
            try:
                written = relax(pattern)
            except CannotRelax:
                written = None
            if written is None:
                relaxed = self._groups[name] = None
            elif written in relaxed:
                continue
            else:
                relaxed.append(written)
            self._compiled = None  # compiled anew on the next scan

    def _compile(self) -> _Compiled:
        names = [name for name, relaxed in self._groups.items() if relaxed]
        patterns = [(number, pattern.encode())
                    for number, name in enumerate(names) for pattern in self._groups[name] or ()]
        flags = hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY
        return _Compiled(Automaton([pattern for _, pattern in patterns], [number for number, _ in patterns], flags),
                         names, frozenset(name for name, relaxed in self._groups.items() if relaxed is None),
                         frozenset(self._groups))

    def possible(self, doc: Doc) -> frozenset[str]:
        """The groups with a pattern that could match ``doc.low`` (kept on the Doc)."""
        compiled = self._compiled or self._compile()
        self._compiled = compiled
        found = doc.kept.get(compiled)
        if found is None:
            low = doc.low
            if b"\xed" in low and _SURROGATE.search(low):
                found = compiled.every  # not UTF-8, which the automaton assumes
            else:
                found = compiled.always.union(compiled.names[number] for number, _ in compiled.automaton.scan(low))
            doc.kept[compiled] = found
        return found


@dataclass(frozen=True, eq=False)  # eq=False: hashed by identity, as a key of Doc.kept
class _Compiled:
    automaton: Automaton
    names: list[str]  # group names by pattern id
    always: frozenset[str]  # the groups with a pattern that could not be relaxed
    every: frozenset[str]


# The groups of the rule tables' description rows and the federal grade, over whole descriptions.
DESCRIPTIONS = Prefilter()
