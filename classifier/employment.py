"""Employment type: full-time, part-time, contract, temporary, per diem, internship.

Vocabulary: classifier/data/employment_types.csv (phrase, employment_type, where). ``where`` says
where a phrase is trusted: ``structured`` (a source's field such as Ashby "FullTime" or JSearch
"FULLTIME", compared letters only), ``title`` (short words like "Contract" or "FT" that in a
description too often mean something else — "payer contracts", "NO CONTRACT REQUIRED"), or
``text`` (title and description). Benefit boilerplate ("for full-time and part-time employees")
is skipped.
"""

from __future__ import annotations

import re
from typing import Any

from classifier.vocab import DOCUMENT_SCAN, Doc, PhraseMatcher, load_csv, normalize

_ROWS = load_csv("employment_types.csv")
EMPLOYMENT_TYPES: tuple[str, ...] = tuple(dict.fromkeys(r["employment_type"] for r in _ROWS))
_STRUCTURED = sorted(
    ((normalize(r["phrase"]), r["employment_type"]) for r in _ROWS if r["where"] == "structured"),
    key=lambda item: -len(item[0]),
)
_TYPE_OF = {normalize(r["phrase"]): r["employment_type"] for r in _ROWS if r["where"] != "structured"}
_TITLE = PhraseMatcher((r["phrase"] for r in _ROWS if r["where"] in ("title", "text")), scan=DOCUMENT_SCAN)
_TEXT = PhraseMatcher((r["phrase"] for r in _ROWS if r["where"] == "text"), scan=DOCUMENT_SCAN)
_BOILERPLATE_AFTER = re.compile(
    rb"[\s,/&]*(?:and\s+|or\s+)?(?:(?:full|part)[\s-]*time\s+)?"
    rb"(?:employees|staff|team\s*members|associates|workers|positions\s+available|status|benefits?|eligible)",
    re.IGNORECASE,
)


def employment_from_structured(value: Any) -> str | None:
    """A source's employment type field, or the first of a list of them."""
    if isinstance(value, (list, tuple)):
        for item in value:
            found = employment_from_structured(item)
            if found:
                return found
        return None
    if not isinstance(value, str):
        return None
    key = normalize(value)
    for prefix, employment_type in _STRUCTURED:
        if key.startswith(prefix):
            return employment_type
    return None


def employment_from_text(doc: Doc, *, title: bool) -> tuple[str, str] | None:
    """The first employment type the text states, with the matched phrase."""
    for start, end in (_TITLE if title else _TEXT).spans(doc):
        if _BOILERPLATE_AFTER.match(doc.raw, end):
            continue
        hit = doc.hit(start, end)  # only the first phrase that counts is quoted
        found = _TYPE_OF.get(hit.key)
        if found:
            return found, hit.phrase
    return None
