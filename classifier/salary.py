"""Pay stated in a posting: a range or single value, its period and its currency.

Vocabulary: classifier/data/salary_periods.toml (period phrases, plausible value bounds per
period, the bounds that let a period be inferred from the numbers alone, and the codes sources
use in structured fields). Amounts are found only next to a currency symbol or code; an amount
in benefit or company text ("$1,000 sign-on bonus", "$5,000 tuition reimbursement", "$500 billion
spent annually", "+$3.00/hr differential") is never pay. Among the candidates, the one with a
stated period and a pay word before it ("Pay Range:", "salary of") wins; ties go to the first.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from typing import Any

from classifier.vocab import DATA_DIR, DOCUMENT_SCAN, Doc, normalize

with (DATA_DIR / "salary_periods.toml").open("rb") as _fh:
    _CONFIG = tomllib.load(_fh)

PERIODS: tuple[str, ...] = tuple(_CONFIG["periods"])
_BOUNDS = {p: (float(v["min"]), float(v["max"])) for p, v in _CONFIG["periods"].items()}
_INFER = {p: (float(v["infer_min"]), float(v["infer_max"])) for p, v in _CONFIG["periods"].items() if "infer_min" in v}
_STRUCTURED_PERIODS = {normalize(code): period for period, codes in _CONFIG["structured"].items() for code in codes}
_PHRASE_PERIOD = {normalize(ph): p for p, v in _CONFIG["periods"].items() for ph in v["phrases"]}


def _period_phrase_src() -> str:
    phrases = sorted(
        (ph for v in _CONFIG["periods"].values() for ph in v["phrases"]), key=len, reverse=True
    )
    parts = []
    for ph in phrases:
        words = ph.split()
        parts.append(r"\s*".join(re.escape(w) for w in words))
    return "|".join(parts)


_CURRENCY_SYMBOLS = {"$": "USD", "£": "GBP", "€": "EUR"}
# Codes may stand before the number without a symbol ("USD 60,000–75,000 annually").
_CURRENCY_CODES = {"USD": "USD", "US$": "USD", "CAD": "CAD", "CA$": "CAD", "C$": "CAD", "GBP": "GBP",
                   "EUR": "EUR", "AUD": "AUD", "A$": "AUD", "INR": "INR"}
_CODE_SRC = r"(?:US\$|CA\$|C\$|A\$|USD|CAD|GBP|EUR|AUD|INR)"
_SYMBOL_SRC = "(?:\\$|\u00a3|\u20ac)"
_CUR_SRC = rf"(?:{_CODE_SRC}\s?{_SYMBOL_SRC}?|{_SYMBOL_SRC})"
_NUM_SRC = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?"
_PERIOD_SRC = _period_phrase_src()
# Optional words between an amount and its period: "USD per month", "pa pro rata", "**USD per month**".
_GAP_SRC = rf"(?:\s*(?:{_CODE_SRC}|gross|base|pro\s*rata|,|\*+|_+))*"
_AFTER_PERIOD = (
    rf"(?:{_GAP_SRC}\s*(?i:(?:/\s*|per\s+|an?\s+|p\.?\s*)?(?P<{{name}}>(?:{_PERIOD_SRC})))(?![A-Za-z]))?"
)
_DASH_SRC = "(?:-|\u2013|\u2014|~|\\bto\\b|\\band\\b)"

_MONEY_RE = re.compile(
    (
        rf"(?P<cur1>{_CUR_SRC})\s?(?P<lo>{_NUM_SRC})(?P<lok>\s?[kK](?![A-Za-z]))?"
        + _AFTER_PERIOD.format(name="per1")
        + rf"(?:\s*(?P<code1>{_CODE_SRC})(?![A-Za-z]))?"
        + rf"(?:\s*(?P<sep>{_DASH_SRC})\s*(?P<cur2>{_CUR_SRC})?\s?(?P<hi>{_NUM_SRC})(?P<hik>\s?[kK](?![A-Za-z]))?)?"
        + rf"(?:\s*(?P<code>{_CODE_SRC})(?![A-Za-z]))?"
        + _AFTER_PERIOD.format(name="per2")
    ).encode("utf-8")
)
# Where a money expression may be: at a currency symbol, found by its last byte (a one-byte find
# is several times faster than a two- or three-byte one), or at a currency code that begins a word
# and is followed by a number (found by the document's word scan; codes count only in capitals).
# Each symbol as (its last byte, the symbol, the offset of that byte); each code gate -> the code.
_SYMBOL_ENDS = tuple((s.encode()[-1:], s.encode(), len(s.encode()) - 1) for s in _CURRENCY_SYMBOLS)
_CODE_GATES = {gate: gate.upper() for gate in (b"usd", b"cad", b"gbp", b"eur", b"aud", b"inr")}
for _gate in _CODE_GATES:
    DOCUMENT_SCAN.add(_gate, follow=b"0123456789")
# The first bytes a money expression can start with (a symbol's or a code's).
_START_BYTES = frozenset(b"$\xc2\xe2UCGEAI")
# The context patterns below are lower case and run on Doc.low: re's case-insensitive matching
# is about three times slower.
_MAGNITUDE_RE = re.compile(rb"\s*(?:million|billion|trillion|mil|mm|bn|[mb])(?![a-z])")
_TRAP_BEFORE = re.compile(
    rb"(?:\b(?:bonus|sign[\s-]*on|signing|incentive|reimburse|tuition|stipend|allowance|referral|relocation|"
    rb"differential|loan|repayment|funding|raised|revenue|valuation|assets|equipment|premium pay|"
    rb"award|budget|grant|fees?|worth|spent|costs?|donat|invest|maximum)|\+)[^$\n.;]{0,40}$",
)
_TRAP_AFTER = re.compile(
    rb"[^\n.;$]{0,25}?\b(?:bonus|sign[\s-]*on|signing|incentive|reimburse|tuition|stipend|allowance|referral|"
    rb"relocation|differential|loan|repayment|in funding|in revenue|renovation|grant|award|budget|"
    rb"for each|per referral|toward|towards|credit)",
)
_PAY_WORD_BEFORE = re.compile(
    rb"(?:salary|pay|compensation|wage|rate|range|earn|base|ote|remuneration|income|starting at|"
    rb"starts at|up to|from)[^$\n]{0,40}$",
)
_PERIOD_WORD_BEFORE = re.compile(
    rb"\b(?P<w>hourly|annual|annually|yearly|monthly|weekly|daily|per hour|per year|per annum)\b[^$\n]{0,40}$",
)
_PERIOD_WORDS = {"hourly": "hour", "perhour": "hour", "annual": "year", "annually": "year", "yearly": "year",
                 "peryear": "year", "perannum": "year", "monthly": "month", "weekly": "week", "daily": "day"}
_BEFORE_WINDOW = 60
_AFTER_WINDOW = 40
_MAX_SPREAD = 5.0  # a "range" whose top is more than five times its bottom is two unrelated numbers
_MAX_CODE_LEN = 4  # "USD " before a symbol


@dataclass(frozen=True)
class Salary:
    minimum: float
    maximum: float
    period: str | None
    currency: str | None
    phrase: str


def _number(digits: bytes, k: bytes | None) -> float:
    value = float(digits.replace(b",", b""))
    return value * 1000 if k else value


def _infer_period(lo: float, hi: float) -> str | None:
    for period, (low, high) in _INFER.items():
        if low <= lo and hi <= high:
            return period
    return None


def _plausible(lo: float, hi: float, period: str | None) -> bool:
    if not (0 < lo <= hi) or hi > lo * _MAX_SPREAD:
        return False
    if period is None:
        return True
    low, high = _BOUNDS[period]
    return low <= lo and hi <= high


def _currency(m: re.Match[bytes]) -> str | None:
    code = m.group("code") or m.group("code1")
    if code:
        return _CURRENCY_CODES.get(code.decode().upper())
    cur = m.group("cur1").decode("utf-8", "replace").replace(" ", "")
    for prefix, value in _CURRENCY_CODES.items():
        if cur.startswith(prefix):
            return value
    return _CURRENCY_SYMBOLS.get(cur[-1:])


def _candidate(doc: Doc, m: re.Match[bytes]) -> tuple[int, Salary] | None:
    """Score and value of one money match, or None when it is not pay."""
    low = doc.low
    if _MAGNITUDE_RE.match(low, m.end()):
        return None
    line_start = low.rfind(b"\n", max(0, m.start() - _BEFORE_WINDOW), m.start()) + 1
    head = low[max(line_start, m.start() - _BEFORE_WINDOW) : m.start()]
    if _TRAP_BEFORE.search(head) or _TRAP_AFTER.match(low[m.end() : m.end() + _AFTER_WINDOW]):
        return None
    lo = _number(m.group("lo"), m.group("lok"))
    if m.group("hi") is not None:
        if m.group("sep") == b"and" and not m.group("cur2"):
            return None  # "$40,000 and 5 years" is not a range
        hi = _number(m.group("hi"), m.group("hik"))
        if m.group("hik") and not m.group("lok") and lo < 1000:
            lo *= 1000  # "$80-100K"
    else:
        hi = lo
    stated = m.group("per2") or m.group("per1")
    period = _PHRASE_PERIOD.get(normalize(stated.decode())) if stated else None
    before = _PERIOD_WORD_BEFORE.search(head)
    if period is None and before:
        period = _PERIOD_WORDS.get(normalize(before.group("w").decode()))
    pay_word = bool(_PAY_WORD_BEFORE.search(head))
    if period is None:
        period = _infer_period(lo, hi)
        if period is None and (m.group("hi") is None or not pay_word):
            return None  # an amount of unknown period needs a range and a pay word to count
        if m.group("hi") is None and not pay_word:
            return None  # "$60" alone, with no pay word, is not a salary
    if not _plausible(lo, hi, period):
        return None
    score = (2 if stated or before else 0) + (2 if pay_word else 0) + (1 if m.group("hi") else 0)
    return score, Salary(lo, hi, period, _currency(m), doc.phrase(m.start(), m.end()))


def _anchor_positions(doc: Doc) -> list[int]:
    raw = doc.raw
    positions: list[int] = []
    for last_byte, symbol, last in _SYMBOL_ENDS:
        if last_byte not in raw:  # most texts name no currency ("in" is cheaper than find's arguments)
            continue
        at = raw.find(last_byte)
        while at >= 0:
            if at >= last and raw.startswith(symbol, at - last):
                positions.append(at - last)
            at = raw.find(last_byte, at + 1)
    found = DOCUMENT_SCAN.find(doc)
    if found and not found.keys().isdisjoint(_CODE_GATES):
        for gate, code in _CODE_GATES.items():
            for at in found.get(gate, ()):
                if raw.startswith(code, at):
                    positions.append(at)
    positions.sort()
    return positions


def _match_at(doc: Doc, at: int) -> re.Match[bytes] | None:
    """The money expression covering the anchor at ``at``, starting up to a code's length before it."""
    raw = doc.raw
    for start in range(max(0, at - _MAX_CODE_LEN), at + 1):
        if raw[start] in _START_BYTES:
            m = _MONEY_RE.match(raw, start)
            if m and m.start("lo") > at:
                return m
    return None


def find_salary(doc: Doc) -> Salary | None:
    """The pay a posting states, or None."""
    best: tuple[int, Salary] | None = None
    covered = -1
    for at in _anchor_positions(doc):
        if at < covered:
            continue
        m = _match_at(doc, at)
        if m is None:
            continue
        covered = m.end()
        found = _candidate(doc, m)
        if found and (best is None or found[0] > best[0]):
            best = found
    return best[1] if best else None


def _to_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(str(value).replace(",", "").replace("$", "").strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def structured_period(value: Any) -> str | None:
    """A source's period code ("PA", "PH", "1 YEAR", "per-hour-wage", "HOUR") as a period."""
    if not isinstance(value, str):
        return None
    key = normalize(re.sub(r"^\s*1\s+", "", value))
    return _STRUCTURED_PERIODS.get(key) or _STRUCTURED_PERIODS.get(re.sub(r"[^a-z]", "", key))


def salary_from_structured(structured: dict[str, Any]) -> Salary | None:
    """Pay a source states in fields; values a source got wrong (reversed, zero, absurd) are dropped."""
    lo = _to_float(structured.get("salary_min"))
    hi = _to_float(structured.get("salary_max"))
    if lo is None and hi is None:
        return None
    lo = lo if lo is not None else hi
    hi = hi if hi is not None else lo
    assert lo is not None and hi is not None
    period = structured_period(structured.get("salary_period")) or _infer_period(lo, hi)
    if not _plausible(lo, hi, period):
        return None
    currency = structured.get("salary_currency")
    currency = currency.strip().upper()[:3] if isinstance(currency, str) and currency.strip().isalpha() else None
    phrase = ", ".join(
        f"{key}={structured[key]}"
        for key in ("salary_min", "salary_max", "salary_period", "salary_currency")
        if structured.get(key) not in (None, "")
    )
    return Salary(lo, hi, period, currency, phrase)
