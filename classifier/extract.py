"""Extraction of the facts job seekers filter on: pay, credentials, employment type, education,
city/state and the states a remote job is limited to.

``extract(title, description, location=..., structured=...)`` never raises: every input, however
malformed, gives a result with the keys below (None or [] where nothing is stated). Facts a source
states in fields (``structured``: salary_min, salary_max, salary_period, salary_currency,
employment_type) win over the text. ``evidence`` names, for each fact found, the field it came
from ("title", "description", "structured" or "location") and the exact text matched.

Speed: HTML descriptions are converted with scraper.html.html_to_text, which costs far more than
the extraction itself; callers that already hold plain text should pass it.
"""

from __future__ import annotations

from typing import Any

from classifier.credentials import extract_credentials
from classifier.education import extract_education
from classifier.employment import employment_from_structured, employment_from_text
from classifier.location import find_remote_states, parse_location, remote_states_in_location
from classifier.requirement_cues import CueReader
from classifier.salary import Salary, find_salary, salary_from_structured
from classifier.vocab import Doc
from scraper.html import html_to_text, looks_like_html

Evidence = dict[str, dict[str, str]]


def plain_text(description: str) -> str:
    """Plain text of a description given as text, HTML, or entity-escaped HTML (NHS, Greenhouse)."""
    if not description:
        return ""
    # The "<" test is a fast scan that spares most plain texts the tag regex.
    if ("<" in description and looks_like_html(description)) or "&lt;" in description:
        description = html_to_text(description)
        if looks_like_html(description):
            description = html_to_text(description)
    return description


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _salary(title: Doc, text: Doc, structured: dict[str, Any], evidence: Evidence) -> Salary | None:
    found = salary_from_structured(structured)
    if found is not None:
        evidence["salary"] = {"field": "structured", "phrase": found.phrase}
        return found
    for field, source in (("description", text), ("title", title)):
        found = find_salary(source)
        if found is not None:
            evidence["salary"] = {"field": field, "phrase": found.phrase}
            return found
    return None


def _credentials(title: Doc, text: Doc, text_reader: CueReader, evidence: Evidence) -> dict[str, list[str]]:
    status: dict[str, str] = {}
    for field, source, reader in (("title", title, None), ("description", text, text_reader)):
        facts = extract_credentials(source, reader)
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


def _employment(title: Doc, text: Doc, structured: dict[str, Any], evidence: Evidence) -> str | None:
    raw = structured.get("employment_type")
    found = employment_from_structured(raw)
    if found is not None:
        evidence["employment_type"] = {"field": "structured", "phrase": str(raw)}
        return found
    for field, source, is_title in (("title", title, True), ("description", text, False)):
        hit = employment_from_text(source, title=is_title)
        if hit is not None:
            evidence["employment_type"] = {"field": field, "phrase": hit[1]}
            return hit[0]
    return None


def _extract(title: str, description: str, location: str, structured: dict[str, Any]) -> dict[str, Any]:
    text = Doc.of(plain_text(description))
    title_doc = Doc.of(title)
    reader = CueReader(text)
    evidence: Evidence = {}
    result: dict[str, Any] = {}

    salary = _salary(title_doc, text, structured, evidence)
    result["salary_min"] = salary.minimum if salary else None
    result["salary_max"] = salary.maximum if salary else None
    result["salary_period"] = salary.period if salary else None
    result["salary_currency"] = salary.currency if salary else None

    result.update(_credentials(title_doc, text, reader, evidence))
    result["employment_type"] = _employment(title_doc, text, structured, evidence)

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
    if remote is None:
        field, remote = "title", find_remote_states(title_doc)
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
        _as_text(title),
        _as_text(description),
        _as_text(location),
        structured if isinstance(structured, dict) else {},
    )
