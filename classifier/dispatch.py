"""Long regex alternations rewritten so that Python's re tries only the alternatives that can match here.

re tries every alternative of ``\\bremote...|\\b(?:fully|100%)\\s+remote|\\bhybrid...`` at every word start, and
skips one with a single comparison only when it begins with a literal character or a character class.
``dispatch(pattern)`` rewrites the pattern (its parse tree, written back as a pattern) so that every alternative
does, alternatives that begin with the same character sharing one branch (a trie ``DEPTH`` characters deep)::

    \\bremote\\s+x|\\bhybrid\\s+y|\\b(?:fully|100%)\\s+remote
    -> \\b(?:remote\\s+x|hybrid\\s+y|fully\\s+remote|100%\\s+remote)

Groups and optional items at the start are expanded (``X?Y`` is ``XY|Y``, in the order re tries them). The test
most alternatives make before their first character (usually ``\\b``) is made once, before them all; where
another alternative must be tried first, a ``\\b`` or ``^`` becomes a look-behind after the first character
instead. The rewrite finds exactly the same matches: order is kept between any two alternatives that could
begin with the same character (tests/test_dispatch.py compares it with re on random text). Capture groups are
dropped (callers identify a match's row themselves). An alternative that cannot be rewritten (a look-ahead
first, an item that can match nothing) is kept whole, in its place; a pattern with a back reference or inline
flags is compiled as written.

Settings: DEPTH (characters of the trie; deeper measured no faster on the rule tables).
"""

from __future__ import annotations

import re
from collections import Counter
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser as P  # type: ignore[attr-defined]
from typing import Any

DEPTH = 1

Item = tuple[Any, Any]
Sequence = list[Item]
Split = tuple[Any, Item | None, Sequence]  # (\b, \B or ^ tested before the first character, or None; it; the rest)
_REPEATS = {C.MAX_REPEAT: "", C.MIN_REPEAT: "?"}  # the suffix of a lazy repeat
_BOUNDS = {(0, C.MAXREPEAT): "*", (1, C.MAXREPEAT): "+", (0, 1): "?"}
_WORD = re.compile(r"\w")
_CATEGORIES = {
    C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_WORD: r"\w", C.CATEGORY_NOT_WORD: r"\W",
    C.CATEGORY_SPACE: r"\s", C.CATEGORY_NOT_SPACE: r"\S",
}
_AT = {C.AT_BOUNDARY: r"\b", C.AT_NON_BOUNDARY: r"\B", C.AT_BEGINNING: "^", C.AT_END: "$",
       C.AT_BEGINNING_STRING: r"\A", C.AT_END_STRING: r"\Z"}
# A \b (\B) before a character, tested after it: what precedes the character is (not) a word character.
_AFTER_WORD_START = P.parse(r"(?<!\w[\s\S])").data[0]
_AFTER_NON_WORD_START = P.parse(r"(?<=\w[\s\S])").data[0]
_AFTER_TEXT_START = P.parse(r"(?<![\s\S]{2})").data[0]  # ^ before the first character (no MULTILINE)
_BEFORE_FIRST = (C.AT_BOUNDARY, C.AT_NON_BOUNDARY, C.AT_BEGINNING, C.AT_BEGINNING_STRING)


class CannotRewrite(Exception):
    """The pattern uses something this module does not write back; it is compiled as it is."""


def dispatch(pattern: str, depth: int | None = None) -> re.Pattern[str]:
    """``pattern`` compiled as a first-character trie (same matches, fewer tries); unchanged when it cannot be."""
    try:
        tree = P.parse(pattern)
        if tree.state.flags != re.UNICODE:
            raise CannotRewrite("flags")  # (?i) and the like: kept with the pattern as written
        rewritten = write(_trie([_plain(tree.data)], DEPTH if depth is None else depth))
    except (CannotRewrite, re.error):
        return re.compile(pattern)
    return re.compile(rewritten)


def _plain(items: Sequence) -> Sequence:
    """``items`` with capture groups made non-capturing (the rewrite copies items; a group cannot repeat)."""
    out: Sequence = []
    for op, arg in items:
        if op is C.SUBPATTERN:
            _group, add_flags, del_flags, inner = arg
            if add_flags or del_flags:
                raise CannotRewrite("inline flags")
            arg = (None, 0, 0, _plain(inner))
        elif op is C.BRANCH:
            arg = (None, [_plain(alternative) for alternative in arg[1]])
        elif op in _REPEATS:
            low, high, inner = arg
            arg = (low, high, _plain(inner))
        elif op in (C.ASSERT, C.ASSERT_NOT):
            direction, inner = arg
            arg = (direction, _plain(inner))
        elif op not in _SIMPLE:
            raise CannotRewrite(str(op))  # a back reference, a conditional ...: not written back
        out.append((op, arg))
    return out


def _trie(alternatives: list[Sequence], depth: int) -> Sequence:
    """One sequence matching what the alternation of ``alternatives`` matches, first characters shared."""
    if len(alternatives) == 1 and depth == 0:
        return alternatives[0]
    splits = [split for alternative in alternatives
              for split in (_heads(alternative) if depth > 0 else [(None, None, alternative)])]
    kinds = Counter(boundary for boundary, _head, _rest in splits if boundary is not None)
    if kinds:
        # The most common test before the first character (\b), tested once before a branch of those
        # alternatives instead of as a look-behind in each, when the others can be tried after them.
        common = max(kinds, key=lambda kind: (kinds[kind], kind is C.AT_BOUNDARY))
        hoisted = [split for split in splits if split[0] is common]
        others = [split for split in splits if split[0] is not common]
        if _can_hoist(splits, common):
            first = [(C.AT, common), *_groups([(None, head, rest) for _b, head, rest in hoisted], depth)]
            return first if not others else [(C.BRANCH, (None, [first, _groups(others, depth)]))]
    return _groups(splits, depth)


def _can_hoist(splits: list[Split], boundary: Any) -> bool:
    """Whether the alternatives tested with ``boundary`` can be tried before all the others: none of the others
    that could begin with the same character comes before one of them."""
    for i, (kind, head, _rest) in enumerate(splits):
        if kind is not boundary and any(b is boundary and _overlap(head, h) for b, h, _r in splits[i + 1:]):
            return False
    return True


def _groups(splits: list[Split], depth: int) -> Sequence:
    """The splits as one branch per first character, in an order that keeps overlapping ones in theirs."""
    groups: list[tuple[Item | None, list[Sequence]]] = []  # (first character, or None: tried everywhere; rests)
    for boundary, head, rest in splits:
        if boundary is not None:
            head, rest = _boundary_after(boundary, head, rest)
        # Join the last group that could begin with the same character, if it has this very head;
        # otherwise start a new group after it, so that overlapping alternatives keep their order.
        last = next((g for g in reversed(groups) if _overlap(g[0], head)), None)
        if last is not None and head is not None and last[0] == head:
            last[1].append(rest)
        else:
            groups.append((head, [rest]))
    branches = [[head, *_factored(rests, depth - 1)] if head is not None else rests[0] for head, rests in groups]
    return branches[0] if len(branches) == 1 else [(C.BRANCH, (None, branches))]


def _boundary_after(boundary: Any, head: Item, rest: Sequence) -> tuple[Item | None, Sequence]:
    """A \\b, \\B or ^ before ``head`` as a look-behind after it; (None, the whole sequence) when it cannot be."""
    if boundary in (C.AT_BEGINNING, C.AT_BEGINNING_STRING):
        return head, [_AFTER_TEXT_START, *rest]
    word = _is_word(head)
    if word is None:
        return None, [(C.AT, boundary), head, *rest]
    starts_word = word == (boundary is C.AT_BOUNDARY)
    return head, [_AFTER_WORD_START if starts_word else _AFTER_NON_WORD_START, *rest]


def _factored(rests: list[Sequence], depth: int) -> Sequence:
    """The rests after a shared first character: their common leading items once, then their trie."""
    shared: Sequence = []
    while all(rests) and all(rest[0] == rests[0][0] for rest in rests):
        shared.append(rests[0][0])
        rests = [rest[1:] for rest in rests]
    if len(rests) == 1:
        return shared + rests[0]
    if not all(rests):  # one rest ended: it cannot be split further
        return shared + [(C.BRANCH, (None, rests))]
    return shared + _trie(rests, depth)


def _heads(items: Sequence) -> list[Split]:
    """The ways ``items`` can begin, in the order re tries them. An alternative whose first character is not
    known stays whole, as (None, None, alternative), in its place."""
    if len(items) == 1 and items[0][0] is C.BRANCH:
        return [split for alternative in items[0][1][1] for split in _heads(alternative)]
    try:
        return _split(items)
    except CannotRewrite:
        return [(None, None, items)]


def _split(items: Sequence) -> list[Split]:
    if not items:
        raise CannotRewrite("can match the empty string")
    (op, arg), rest = items[0], items[1:]
    if op in (C.LITERAL, C.IN, C.NOT_LITERAL, C.ANY):
        return [(None, items[0], rest)]
    if op is C.SUBPATTERN:
        return _split(arg[3] + rest)
    if op is C.BRANCH:
        return [split for alternative in arg[1] for split in _split(alternative + rest)]
    if op in _REPEATS:
        low, high, inner = arg
        if _min_width(inner) == 0:
            raise CannotRewrite("a repeat that can match nothing")
        once_more = inner + ([(op, (max(low - 1, 0), high if high == C.MAXREPEAT else high - 1, inner))]
                             if high != 1 else [])
        if low > 0:
            return _split(once_more + rest)
        # X{0,n}Y: greedy re tries X first, then Y alone; lazy the other way round.
        orders = [once_more + rest, rest] if op is C.MAX_REPEAT else [rest, once_more + rest]
        return [split for sequence in orders for split in _split(sequence)]
    if op is C.AT and arg in _BEFORE_FIRST:
        splits = _split(rest)
        if any(boundary is not None for boundary, _head, _after in splits):
            raise CannotRewrite("two boundaries before one character")
        return [(arg, head, after) for _boundary, head, after in splits]
    raise CannotRewrite(str(op))


def _min_width(items: Sequence) -> int:
    """The fewest characters ``items`` can match."""
    width = 0
    for op, arg in items:
        if op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
            width += 1
        elif op is C.SUBPATTERN:
            width += _min_width(arg[3])
        elif op is C.BRANCH:
            width += min(_min_width(alternative) for alternative in arg[1])
        elif op in _REPEATS:
            width += arg[0] * _min_width(arg[2])
    return width


def _is_word(head: Item) -> bool | None:
    """Whether the character ``head`` matches is a word character: True, False, or None (either)."""
    op, arg = head
    if op is C.LITERAL:
        return _WORD.match(chr(arg)) is not None
    if op is C.IN:
        kinds = set()
        for kind, value in arg:
            if kind is C.LITERAL:
                kinds.add(_WORD.match(chr(value)) is not None)
            elif kind is C.RANGE and value[1] - value[0] < 256:
                kinds.update(_WORD.match(chr(c)) is not None for c in range(value[0], value[1] + 1))
            elif kind is C.CATEGORY and value in (C.CATEGORY_DIGIT, C.CATEGORY_WORD):
                kinds.add(True)
            elif kind is C.CATEGORY and value in (C.CATEGORY_SPACE, C.CATEGORY_NOT_WORD):
                kinds.add(False)
            else:
                return None
        return kinds.pop() if len(kinds) == 1 else None
    return None


def _overlap(a: Item | None, b: Item | None) -> bool:
    """Whether two first characters could be the same character (when unsure: yes)."""
    if a is None or b is None:
        return True
    if a[0] is C.LITERAL and b[0] is C.LITERAL:
        return a[1] == b[1]
    if a[0] is C.LITERAL or b[0] is C.LITERAL:
        literal, other = (a, b) if a[0] is C.LITERAL else (b, a)
        return re.match(write([other]), chr(literal[1])) is not None
    return True


# Writing a parse tree back as a pattern.

_SIMPLE = {C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN, C.AT, C.BRANCH, C.SUBPATTERN, C.ASSERT, C.ASSERT_NOT}


def write(items: Sequence) -> str:
    """Parsed items (re._parser's) written back as a Python pattern; CannotRewrite for what is not written here."""
    return "".join(_write_item(op, arg) for op, arg in items)


def _write_item(op: Any, arg: Any) -> str:
    if op is C.LITERAL:
        return re.escape(chr(arg))
    if op is C.NOT_LITERAL:
        return f"[^{_class_char(arg)}]"
    if op is C.ANY:
        return "."
    if op is C.IN:
        if len(arg) == 1 and arg[0][0] is C.CATEGORY:
            return _write_class_item(*arg[0])  # \\s, not [\\s]
        return "[" + "".join(_write_class_item(kind, value) for kind, value in arg) + "]"
    if op is C.AT:
        return _AT[arg]
    if op is C.BRANCH:
        return "(?:" + "|".join(write(alternative) for alternative in arg[1]) + ")"
    if op is C.SUBPATTERN:
        inner = arg[3]
        return write(inner) if len(inner) == 1 and inner[0][0] is C.BRANCH else "(?:" + write(inner) + ")"
    if op in _REPEATS:
        low, high, inner = arg
        bounds = _BOUNDS.get((low, high)) or (f"{{{low}}}" if low == high else
                                              f"{{{low},{'' if high == C.MAXREPEAT else high}}}")
        single = len(inner) == 1 and inner[0][0] in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN, C.SUBPATTERN, C.BRANCH)
        return f"{write(inner) if single else '(?:' + write(inner) + ')'}{bounds}{_REPEATS[op]}"
    if op in (C.ASSERT, C.ASSERT_NOT):
        direction, inner = arg
        kind = ("=" if op is C.ASSERT else "!") if direction == 1 else ("<=" if op is C.ASSERT else "<!")
        return f"(?{kind}{write(inner)})"
    raise CannotRewrite(str(op))


def _write_class_item(kind: Any, value: Any) -> str:
    if kind is C.LITERAL:
        return _class_char(value)
    if kind is C.RANGE:
        return f"{_class_char(value[0])}-{_class_char(value[1])}"
    if kind is C.NEGATE:
        return "^"
    if kind is C.CATEGORY and value in _CATEGORIES:
        return _CATEGORIES[value]
    raise CannotRewrite(str(kind))


def _class_char(code: int) -> str:
    return "\\" + chr(code) if chr(code) in "\\]^-[" else re.escape(chr(code)) if chr(code).isspace() else chr(code)
