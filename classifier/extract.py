"""Extraction of the facts job seekers filter on: pay, credentials, employment type, education,
city/state and the states a remote job is limited to.

``extract(title, description, location=..., structured=...)`` never raises: every input, however
malformed, gives a result with the keys below (None or [] where nothing is stated). Facts a source
states in fields (``structured``: salary_min, salary_max, salary_period, salary_currency,
employment_type) win over the text. ``evidence`` names, for each fact found, the field it came
from ("title", "description", "structured" or "location") and the exact text matched.

Speed: HTML descriptions are converted with scraper.html.html_to_text, which costs far more than
the extraction itself; callers that already hold plain text should pass it. Titles repeat across
postings, so what a title states is worked out once per distinct title (TITLE_CACHE_SIZE titles
are kept). The description is read through ``Doc.of`` (classifier/vocab.py), so a caller that
read the same text just before (the label rules) shares its Doc and word scan.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from classifier.credentials import CredentialFacts, extract_credentials
from classifier.education import extract_education
from classifier.employment import employment_from_structured, employment_from_text
from classifier.location import find_remote_states, parse_location, remote_states_in_location
from classifier.requirement_cues import CueReader
from classifier.salary import Salary, find_salary, salary_from_structured
from classifier.vocab import DOCUMENT_SCAN, Doc
from scraper.html import html_to_text, looks_like_html

Evidence = dict[str, dict[str, str]]
TITLE_CACHE_SIZE = 4096  # distinct titles whose facts are kept (least recently used go first)


def plain_text(description: str) -> str:
    """Plain text of a description given as text, HTML, or entity-escaped HTML (NHS, Greenhouse)."""
    if not description:
        return ""
    # The "<" and "&" tests are fast scans that spare most plain texts the tag regex and the
    # longer "&lt;" search.
    if ("<" in description and looks_like_html(description)) or ("&" in description and "&lt;" in description):
        description = html_to_text(description)
        if looks_like_html(description):
            description = html_to_text(description)
    return description


class _TitleFacts(NamedTuple):
    """What a title states (titles repeat across postings, so this is worked out once per title)."""

    salary: Salary | None
    credentials: CredentialFacts | None
    employment: tuple[str, str] | None  # (employment type, phrase)
    remote: tuple[tuple[str, ...], str] | None  # (states, phrase)


# The gates the extraction vocabularies registered when their modules were imported, above.
_EXTRACTION_GATES = DOCUMENT_SCAN.gates()


@lru_cache(maxsize=TITLE_CACHE_SIZE)
def _title_facts(title: str) -> _TitleFacts:
    doc = Doc.of(title)
    salary = find_salary(doc)
    # Credentials, employment types and remote-eligibility phrases all begin with a word of the
    # document scan: a title without one states none of them (the label rules' keywords, also gates
    # of that scan, do not count).
    if _EXTRACTION_GATES.isdisjoint(DOCUMENT_SCAN.find(doc)):
        return _TitleFacts(salary, None, None, None)
    remote = find_remote_states(doc)
    return _TitleFacts(
        salary,
        extract_credentials(doc),
        employment_from_text(doc, title=True),
        (tuple(remote[0]), remote[1]) if remote else None,
    )


def _salary(title: _TitleFacts, text: Doc, structured: dict[str, Any], evidence: Evidence) -> Salary | None:
    found = salary_from_structured(structured) if structured else None
    if found is not None:
        evidence["salary"] = {"field": "structured", "phrase": found.phrase}
        return found
    for field, found in (("description", find_salary(text)), ("title", title.salary)):
        if found is not None:
            evidence["salary"] = {"field": field, "phrase": found.phrase}
            return found
    return None


def _credentials(title: _TitleFacts, text: Doc, text_reader: CueReader, evidence: Evidence) -> dict[str, list[str]]:
    status: dict[str, str] = {}
    for field, facts in (("title", title.credentials), ("description", extract_credentials(text, text_reader))):
        if facts is None:
            continue
        for name in facts.credentials:
            status.setdefault(name, "")
        for name in facts.preferred:
            if status[name] != "required":
                status[name] = "preferred"
        for name in facts.required:
            status[name] = "required"
        for key, phrase in facts.evidence.items():
            evidence.setdefault(key, {"field": field, "phrase": phrase})
    return {
        "credentials": sorted(status),
        "credentials_required": sorted(n for n, s in status.items() if s == "required"),
        "credentials_preferred": sorted(n for n, s in status.items() if s == "preferred"),
    }


def _employment(title: _TitleFacts, text: Doc, structured: dict[str, Any], evidence: Evidence) -> str | None:
    raw = structured.get("employment_type")
    found = employment_from_structured(raw) if raw is not None else None
    if found is not None:
        evidence["employment_type"] = {"field": "structured", "phrase": str(raw)}
        return found
    field, hit = "title", title.employment
    if hit is None:
        field, hit = "description", employment_from_text(text, title=False)
    if hit is not None:
        evidence["employment_type"] = {"field": field, "phrase": hit[1]}
        return hit[0]
    return None


def _extract(title: str, description: str, location: str, structured: dict[str, Any]) -> dict[str, Any]:
    text = Doc.of(plain_text(description))
    title_facts = _title_facts(title)
    reader = CueReader(text)
    evidence: Evidence = {}
    result: dict[str, Any] = {}

    salary = _salary(title_facts, text, structured, evidence)
    result["salary_min"] = salary.minimum if salary else None
    result["salary_max"] = salary.maximum if salary else None
    result["salary_period"] = salary.period if salary else None
    result["salary_currency"] = salary.currency if salary else None

    result.update(_credentials(title_facts, text, reader, evidence))
    result["employment_type"] = _employment(title_facts, text, structured, evidence)

    education = extract_education(text, reader)
    result["education"] = education[0] if education else None
    if education:
        evidence["education"] = {"field": "description", "phrase": education[1]}

    place = parse_location(location)
    result["city"] = place.city if place else None
    result["state"] = place.state if place else None
    if place:
        for key in ("city", "state"):
            if result[key]:
                evidence[key] = {"field": "location", "phrase": place.phrase}

    field, remote = "location", remote_states_in_location(location)
    if remote is None and title_facts.remote is not None:
        field, remote = "title", (list(title_facts.remote[0]), title_facts.remote[1])
    if remote is None:
        field, remote = "description", find_remote_states(text)
    result["remote_states"] = remote[0] if remote else []
    if remote:
        evidence["remote_states"] = {"field": field, "phrase": remote[1]}

    result["evidence"] = evidence
    return result


def extract(title: str, description: str, *, location: str = "", structured: dict | None = None) -> dict[str, Any]:
    """Facts a seeker filters on, from one posting; see the module docstring for the keys."""
    return _extract(
        title if isinstance(title, str) else "",
        description if isinstance(description, str) else "",
        location if isinstance(location, str) else "",
        structured if isinstance(structured, dict) else {},
    )
