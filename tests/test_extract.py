"""Extraction of pay, credentials, employment type, education and location from real posting text.

The table in tests/fixtures/extract/cases.json holds short verbatim snippets of real postings
(sources in its PROVENANCE.md) with what a careful reader extracts; the edge cases below are the
traps named in the extraction rules (bonuses are not pay, CCS-P is not CCS, ...).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.extract import extract

CASES = json.loads((Path(__file__).parent / "fixtures" / "extract" / "cases.json").read_text(encoding="utf-8"))
KEYS = {
    "salary_min", "salary_max", "salary_period", "salary_currency", "credentials", "credentials_required",
    "credentials_preferred", "employment_type", "education", "city", "state", "remote_states", "evidence",
}


def run(case: dict[str, Any]) -> dict[str, Any]:
    return extract(
        case.get("title", ""), case.get("description", ""),
        location=case.get("location", ""), structured=case.get("structured"),
    )


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_real_snippets(case: dict[str, Any]) -> None:
    result = run(case)
    got = {key: result[key] for key in case["expected"]}
    assert got == case["expected"]
    for key, field in case.get("evidence", {}).items():
        assert result["evidence"][key]["field"] == field


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_evidence_quotes_the_input(case: dict[str, Any]) -> None:
    """Every non-empty fact names where it came from, and a text phrase really is in that text."""
    result = run(case)
    evidence = result["evidence"]
    for key in ("employment_type", "education", "state", "remote_states"):
        if result[key]:
            assert key in evidence
    if result["salary_min"] is not None:
        assert "salary" in evidence
    if result["credentials"]:
        assert "credentials" in evidence
    for item in evidence.values():
        assert item["field"] in {"title", "description", "structured", "location"}
        if item["field"] == "title":
            assert item["phrase"] in case["title"]
        if item["field"] == "location":
            assert item["phrase"] in case["location"]


SALARY_EDGES = [
    ("$22.50 - $30.10 per hour", (22.5, 30.1, "hour", "USD")),
    ("$22.50/hr", (22.5, 22.5, "hour", "USD")),
    ("$48,780 per year", (48780.0, 48780.0, "year", "USD")),
    ("USD 60,000–75,000 annually", (60000.0, 75000.0, "year", "USD")),
    ("£21,892 - £24,157 a year", (21892.0, 24157.0, "year", "GBP")),
    ("$4,000 - $5,000 monthly", (4000.0, 5000.0, "month", "USD")),
    ("Pay Range: $19.00 - $28.50 Hourly", (19.0, 28.5, "hour", "USD")),
    ("up to $25/hour", (25.0, 25.0, "hour", "USD")),
    ("starting at $20.00/hr", (20.0, 20.0, "hour", "USD")),
    ("$20 to $30 an hour", (20.0, 30.0, "hour", "USD")),
    ("$80-100K", (80000.0, 100000.0, "year", "USD")),
    # Pay is the stated salary even when a bonus follows it on the same line.
    ("Pay: $20/hr + $2,000 sign-on bonus", (20.0, 20.0, "hour", "USD")),
    # A bonus named first must not win over the pay named after it.
    ("$1,000 sign-on bonus. Salary: $52,000 - $60,000 per year", (52000.0, 60000.0, "year", "USD")),
]


@pytest.mark.parametrize("text,expected", SALARY_EDGES, ids=[t for t, _ in SALARY_EDGES])
def test_salary_forms(text: str, expected: tuple[float, float, str, str]) -> None:
    r = extract("Medical Coder", text)
    assert (r["salary_min"], r["salary_max"], r["salary_period"], r["salary_currency"]) == expected


NOT_SALARY = [
    "Salary: negotiable", "Competitive salary and benefits", "Pay DOE", "$0", "$0 - $0 per hour",
    "$30 - $20 per hour",  # reversed
    "$5 per year",  # absurd for the period
    "$90,000 per hour",
    "401(k) with 4% match", "$1,000 sign-on bonus", "$5,000 tuition reimbursement",
    "Up to $10,000 sign-on bonus", "a $400 monthly stipend towards your lunches",
    "We have raised $110 Million in Series D Funding",
    "$60",  # a lone amount with no period and no pay word
]


@pytest.mark.parametrize("text", NOT_SALARY)
def test_not_salary(text: str) -> None:
    r = extract("Medical Coder", text)
    assert (r["salary_min"], r["salary_max"], r["salary_period"], r["salary_currency"]) == (None, None, None, None)
    assert "salary" not in r["evidence"]


def test_structured_salary_wins_over_text() -> None:
    r = extract("Coder", "Pay: $20/hr", structured={"salary_min": 25, "salary_max": 30, "salary_period": "PH"})
    assert (r["salary_min"], r["salary_max"], r["salary_period"]) == (25.0, 30.0, "hour")
    assert r["evidence"]["salary"]["field"] == "structured"


def test_broken_structured_salary_falls_back_to_text() -> None:
    r = extract("Coder", "Pay: $20/hr", structured={"salary_min": "n/a", "salary_max": float("nan")})
    assert (r["salary_min"], r["salary_period"], r["evidence"]["salary"]["field"]) == (20.0, "hour", "description")


CREDENTIAL_EDGES = [
    # Whole tokens only: the suffixed credential does not also yield the plain one.
    ("CCS-P required", ["CCS-P"], ["CCS-P"], []),
    ("CPC-A accepted; CPC preferred", ["CPC", "CPC-A"], [], ["CPC"]),
    ("Certified Coding Specialist-Physician-based (CCS-P)", ["CCS-P"], [], []),
    ("COC-A holders welcome", [], [], []),
    ("CCSP or CISSP certification", [], [], []),  # the cloud-security CCSP is not CCS-P
    ("Seeking an ACCA-qualified accountant; CCAT scores", [], [], []),
    ("Registered Health Information Technician (RHIT) required", ["RHIT"], ["RHIT"], []),
    ("ODS (formerly CTR) required", ["CTR", "ODS"], ["CTR", "ODS"], []),
    ("Oncology Data Specialist or Certified Tumor Registrar preferred", ["CTR", "ODS"], [], ["CTR", "ODS"]),
    ("CTR or CTR-eligible", ["CTR"], [], ["CTR"]),
    ("Must have RHIA or RHIT. CDIP or CCDS is a plus.", ["CCDS", "CDIP", "RHIA", "RHIT"], ["RHIA", "RHIT"], ["CCDS", "CDIP"]),
    ("Preferred Qualifications:\n- CRC\n- CDEO\nBenefits:\n- CPCO study time", ["CDEO", "CPCO", "CRC"], [], ["CDEO", "CRC"]),
    ("We offer tuition reimbursement for the CPC exam.", [], [], []),
]


@pytest.mark.parametrize("text,names,required,preferred", CREDENTIAL_EDGES, ids=[c[0][:40] for c in CREDENTIAL_EDGES])
def test_credentials(text: str, names: list[str], required: list[str], preferred: list[str]) -> None:
    r = extract("Medical Coder", text)
    assert (r["credentials"], r["credentials_required"], r["credentials_preferred"]) == (names, required, preferred)


def test_credential_in_title() -> None:
    r = extract("Inpatient Coder (CCS)", "")
    assert r["credentials"] == ["CCS"]
    assert r["evidence"]["credentials"] == {"field": "title", "phrase": "CCS"}


EMPLOYMENT_EDGES = [
    ({"employment_type": "FullTime"}, "Medical Coder", "", "full_time"),  # Ashby
    ({"employment_type": "PART_TIME"}, "Medical Coder", "This is a full-time role", "part_time"),  # structured wins
    ({"employment_type": "Intern"}, "HR Intern", "", "internship"),
    ({"employment_type": ["CONTRACTOR", "FULLTIME"]}, "Coder", "", "contract"),  # JSearch list
    (None, "Medical Coder - Full Time", "", "full_time"),
    (None, "Coder", "This is a Part Time position.", "part_time"),
    (None, "Cancer Registrar PRN", "", "per_diem"),
    (None, "Medical Coder (Contract)", "", "contract"),
    (None, "Coder", "We negotiate payer contracts.", None),  # "contract" alone in text is not a type
    (None, "Coding Internship", "", "internship"),
    (None, "Internal Audit Coder", "", None),  # "Internal" is not "Intern"
    (None, "Temp Medical Records Clerk", "", "temporary"),
]


@pytest.mark.parametrize("structured,title,text,expected", EMPLOYMENT_EDGES, ids=[f"{e[1]}|{e[2]}|{e[0]}" for e in EMPLOYMENT_EDGES])
def test_employment_type(structured: dict | None, title: str, text: str, expected: str | None) -> None:
    assert extract(title, text, structured=structured)["employment_type"] == expected


EDUCATION_EDGES = [
    ("High school diploma or GED required.", "high_school"),
    ("Associate's degree in HIM required; Bachelor's degree preferred.", "associate"),
    ("Associate’s or Bachelor’s degree in Health Information Management", "associate"),
    ("Bachelor's degree or equivalent experience", "bachelor"),
    ("Master's degree in Health Informatics", "master"),
    ("Bachelor's degree preferred.", None),  # preferred only: nothing is required
    ("Join our team of Sales Associates.", None),
    ("Maintains the master patient index.", None),
    ("Tuition reimbursement toward a bachelor's degree", None),
]


@pytest.mark.parametrize("text,expected", EDUCATION_EDGES, ids=[e[0][:40] for e in EDUCATION_EDGES])
def test_education(text: str, expected: str | None) -> None:
    assert extract("Medical Records Technician", text)["education"] == expected


LOCATION_EDGES = [
    ("Dallas, TX", "Dallas", "TX"),
    ("Remote - US", None, None),
    ("Tampa, Florida, United States", "Tampa", "FL"),
    ("US-CA-Monrovia", "Monrovia", "CA"),
    ("Remote - Colorado", None, "CO"),
    ("Washington, DC", "Washington", "DC"),
    ("Gurugram, India", None, None),  # not Indiana
    ("Dallas, TX 75201", "Dallas", "TX"),
    ("Boston, MA; New York, NY", "Boston", "MA"),
]


@pytest.mark.parametrize("location,city,state", LOCATION_EDGES, ids=[e[0] for e in LOCATION_EDGES])
def test_location(location: str, city: str | None, state: str | None) -> None:
    r = extract("Coder", "", location=location)
    assert (r["city"], r["state"]) == (city, state)


REMOTE_EDGES = [
    ("Remote (must reside in TX, FL, GA)", "", ["FL", "GA", "TX"]),
    ("Remote", "This role is open to residents of Texas, Oklahoma and New Mexico.", ["NM", "OK", "TX"]),
    ("Remote", "Candidates located in AZ or NV only.", ["AZ", "NV"]),
    ("Remote", "You must reside in the United States.", []),
    ("Remote", "Excluding the following states: CA, NY", []),
]


@pytest.mark.parametrize("location,text,expected", REMOTE_EDGES, ids=[e[0] + "|" + e[1][:30] for e in REMOTE_EDGES])
def test_remote_states(location: str, text: str, expected: list[str]) -> None:
    r = extract("Remote Coder", text, location=location)
    assert r["remote_states"] == expected
    assert r["state"] is None


def test_html_description_is_read_as_text() -> None:
    html = "<ul><li>CPC <b>required</b></li><li>Pay: <span>$25.00</span> - <span>$30.00</span> per hour</li></ul>"
    r = extract("Coder", html)
    assert (r["credentials_required"], r["salary_min"], r["salary_max"], r["salary_period"]) == (["CPC"], 25.0, 30.0, "hour")


@settings(max_examples=300, deadline=None)
@given(
    title=st.text(max_size=80),
    description=st.text(max_size=600),
    location=st.text(max_size=60),
    structured=st.one_of(
        st.none(),
        st.dictionaries(
            st.sampled_from(["salary_min", "salary_max", "salary_period", "salary_currency", "employment_type"]),
            st.one_of(st.none(), st.text(max_size=12), st.floats(), st.integers(), st.booleans(), st.lists(st.text(max_size=5), max_size=3)),
        ),
    ),
)
def test_never_raises(title: str, description: str, location: str, structured: dict | None) -> None:
    result = extract(title, description, location=location, structured=structured)
    assert set(result) == KEYS


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["$", "£", "USD", "20", "1,000", ".50", "K", " - ", " to ", "/hr", " per year", "CCS", "-P",
                                 "CPC", " required", " preferred", "\n", ":", "Full-time", "must reside in ", "TX", ", ",
                                 "<p>", "&lt;", "’s degree", "Bachelor", "\ud800", "ﬁ", "İ"]), max_size=40).map("".join))
def test_never_raises_on_near_misses(text: str) -> None:
    """Text built from the pieces the patterns look for (and odd Unicode) must not break them."""
    result = extract(text, text, location=text, structured=None)
    assert set(result) == KEYS
    if result["salary_min"] is not None:
        assert 0 < result["salary_min"] <= result["salary_max"]


# Phrases are found by one word-start scan per document and then matched only where their first
# word begins (classifier.vocab); these pin the places where that shortcut could lose a match.
SCAN_EDGES = [
    ("This is a fulltime position.", "employment_type", "full_time"),  # separators are optional
    ("Associates degree required", "education", "associate"),  # so is the apostrophe
    ("CPC", "credentials", ["CPC"]),  # a phrase at offset 0 that is the whole text
    ("\u2022CPC required", "credentials_required", ["CPC"]),  # after a multi-byte bullet
    ("Must reside in WA or OR", "remote_states", ["OR", "WA"]),  # "OR" is Oregon, not filler
    ("Must reside in TX, FL. We also have offices in Georgia", "remote_states", ["FL", "TX"]),
    ("Open to residents of the following states: Texas, North  Carolina and IN", "remote_states", ["IN", "NC", "TX"]),
    ("Salary: USD60,000 - 75,000 per year", "salary_min", 60000.0),  # a code glued to the amount
]


@pytest.mark.parametrize("text,key,expected", SCAN_EDGES, ids=[e[0][:40] for e in SCAN_EDGES])
def test_scan_edges(text: str, key: str, expected: Any) -> None:
    assert extract("Coder", text)[key] == expected


_GATES = {b"a": frozenset(b"p"), b"per": frozenset(b"d"), b"per diem": frozenset(), b"cpc": frozenset(),
          b"reside": None, b"2": frozenset(b"y")}


def _naive_gate_positions(low: bytes) -> dict[bytes, list[int]]:
    """Where each gate begins a word and is followed by a non-alphanumeric byte, one of its
    follow letters, or anything (None) - found the slow, obvious way. Between the words of a
    gate, one byte that is no letter or digit stands for the space ("per-diem")."""
    alnum = b"abcdefghijklmnopqrstuvwxyz0123456789"
    words = bytes(c if c in alnum else 0x20 for c in low)
    found: dict[bytes, list[int]] = {}
    for gate, follow in _GATES.items():
        for at in range(len(words)):
            after = words[at + len(gate) : at + len(gate) + 1]
            if (
                words.startswith(gate, at)
                and (at == 0 or words[at - 1] == 0x20)
                and (follow is None or after in (b"", b" ") or after[0] in follow)
            ):
                found.setdefault(gate, []).append(at)
    return found


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "A", "per", "Per", " ", "diem", "d", "-", "CPC", "cpc", "x", "reside", "nts", "2", "y",
                                 "year", "\u2022", "\n", "\u00e9"]), max_size=30).map("".join))
def test_word_scan_finds_what_a_naive_search_finds(text: str) -> None:
    from classifier.vocab import Doc, WordScan

    scan = WordScan()
    for gate, follow in _GATES.items():
        scan.add(gate, follow)
    doc = Doc(text)
    assert scan.find(doc) == _naive_gate_positions(doc.low)
    # A range (a clause) is read as if cut out at its end, and a word begins where it does in the text.
    start, end = len(doc.low) // 3, 2 * len(doc.low) // 3
    inside = {g: [p for p in ps if p >= start] for g, ps in _naive_gate_positions(doc.low[:end]).items()}
    assert scan.find(doc, start, end) == {g: ps for g, ps in inside.items() if ps}


def test_doc_of_hands_out_one_doc_per_recent_text() -> None:
    """The label rules and extraction of a posting read its text through Doc.of and share one Doc."""
    from classifier.vocab import DOCUMENT_SCAN, Doc

    text = "Remote Coding Specialist: CPC required; must reside in TX."
    doc = Doc.of(text)
    assert Doc.of(text) is doc
    assert Doc.of("".join([text[:10], text[10:]])) is doc  # an equal string, not the same object
    assert DOCUMENT_SCAN.find(Doc.of(text)) is DOCUMENT_SCAN.find(doc)  # the scan is kept on it
    for other in ("a", "b", "c", "d"):
        Doc.of(other)
    assert Doc.of(text) is not doc  # only the last few texts are remembered


def test_word_scan_result_kept_on_a_doc_includes_gates_added_later() -> None:
    from classifier.vocab import Doc, WordScan

    scan = WordScan()
    scan.add(b"cpc", ())
    doc = Doc("CPC or CCS required")
    assert scan.find(doc) == {b"cpc": [0]}
    scan.add(b"ccs", ())
    assert scan.find(doc) == {b"cpc": [0], b"ccs": [7]}
