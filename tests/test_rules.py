"""The rule tables (classifier/data/*_rules.csv, arrangement_phrases.csv) on real titles and phrases.

Every trap of LABELS.md is here. Rows cite where the phrasing comes from: VA/USAJOBS questionnaire titles,
LinkedIn 2023 and zapplyjobs titles, NHS adverts, remote-board postings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from classifier import rules

ROLE = [
    # LABELS traps: front-desk and academic registrars, look-alike clinical jobs
    ("Patient Access Registrar", "", "other"),
    ("Admitting Registrar", "", "other"),
    ("Emergency Department Registrar-Patient Access", "", "other"),  # LinkedIn
    ("PT Access Svcs Registrar I / PAS ED Registration", "", "other"),  # LinkedIn
    ("Patient Registrar - Oncology - Queens Medical Group", "", "other"),  # zapplyjobs: oncology front desk
    ("University Registrar", "", "other"),
    ("Registrar in Gastroenterology", "", "other"),  # NHS: a doctor grade
    ("Registered Nurse RN PCU Oncology Registry Banner Boswell", "", "other"),  # zapplyjobs: nursing pool
    ("Pharmacy Technician", "", "other"),
    ("Medical Biller", "Post payments and work insurance denials.", "other"),
    ("Epic Analyst II-HIM", "", "other"),  # EHR software job
    ("Remote role -Java  Developer with strong azure & coding test mandatory", "", "other"),  # LinkedIn
    ("Intern-R&D coding & data analytics", "", "other"),  # zapplyjobs
    # the duties decide for billers
    ("Billing and Coding Specialist", "", "coder"),
    ("Medical Billing Specialist", "You will assign CPT and ICD-10 codes to office visits.", "coder"),
    # federal bracket titles (VA questionnaires)
    ("Medical Records Technician (Coder)", "", "coder"),
    ("Medical Records Technician - Coder Outpatient and Inpatient", "", "coder"),
    ("Medical Records Technician (Auditor-Outpatient and Inpatient)", "", "coder"),
    ("Medical Records Technician (Clinical Documentation Improvement Specialist (CDIS-Outpatient))", "", "coder"),
    ("Medical Records Technician (Cancer Registrar)", "", "registrar"),
    ("Lead Medical Records Technician (Cancer Registrar)", "", "registrar"),
    ("Medical Records Technician", "", "technician"),
    ("Medical Records Technician (Release of Information)", "", "technician"),
    ("Medical Records Administrator (Chief (CHIM))", "", "technician"),
    ("Supervisory Medical Records Technician (Coder)", "", "coder"),  # manager over coders is coder
    # US and UK titles
    ("Remote Inpatient Coder- Hospital", "", "coder"),  # LinkedIn
    ("Risk Adjustment Coder", "", "coder"),
    ("Clinical Documentation Integrity Specialist - Remote", "", "coder"),  # zapplyjobs (Guidehouse)
    ("Senior Clinical Coder", "", "coder"),  # NHS
    ("Clinical Coding Team Leader", "", "coder"),  # NHS
    ("Cancer Registrar", "", "registrar"),
    ("Oncology Data Specialist - Certified (Part-Time) (remote)", "", "registrar"),  # zapplyjobs
    ("Trauma Registrar, Emergency Services - .90 FTE, Days (08HR)", "", "registrar"),  # zapplyjobs
    ("HIM Registry Supervisor (Birth, Cancer, Death)", "", "registrar"),  # LinkedIn
    ("Health Records Clerk - Evenings", "", "technician"),  # NHS
    ("HIM Release of Info Tech", "", "technician"),  # LinkedIn
    ("Medical Transcriptionist", "", "technician"),
]


# Titles no rule may claim for an HIM role (LinkedIn 2023): "Ctr" is Center, not the CTR credential; records
# work outside health care.
NOT_HIM = [
    "Station Cook - Dallas Marriott Suites Market Ctr",
    "Transfer Registered Nurse, Bed Management Operations Control Ctr , Nights - VUH",
    "Aviation Logs and Records Clerk (AZ): NAMCE",
    "Quality Records Technician",
    "Administrator Quality - Batch Record Management (m/w/d)",
    "Internal Audit Manager",
]


@pytest.mark.parametrize("title", NOT_HIM)
def test_no_him_rule_claims_look_alike_titles(title: str) -> None:
    hit = rules.role_rule(title, "")
    assert hit is None or hit.label == "other", hit


@pytest.mark.parametrize(("title", "description", "expected"), ROLE)
def test_role_rules(title: str, description: str, expected: str) -> None:
    hit = rules.role_rule(title, description)
    assert hit is not None and hit.label == expected, hit


GS5_QUESTIONNAIRE = (
    "demonstrates your ability to perform the work of Medical Records Technician at the GS-05 grade level. "
    "I have one year of specialized experience equivalent to at least the GS-04 grade level in the Federal service"
)

SENIORITY = [
    # LABELS: an explicit entry marker outranks incidental senior words
    ("Coder I", "Join a senior team of coders.", "", {}, "entry"),
    ("Coder I — join a senior team", "", "", {}, "entry"),
    ("HIM Intern", "", "", {}, "entry"),
    ("Medical Coder Apprentice", "", "", {}, "entry"),
    ("Health Information Management Technician 1, Manhattan Psychiatric Center", "", "", {}, "entry"),  # LinkedIn
    # "Intern" as a word, not part of "internal"; "II"/"III" only as whole tokens
    ("Internal Medicine Coder", "", "", {}, None),
    ("Coder II", "", "", {}, "mid"),
    ("Coder III - Inpatient", "", "", {}, "senior"),
    ("Medical Coder", "Requires 3+ years of coding experience.", "", {}, "mid"),
    ("Medical Coder", "A minimum of five years of inpatient coding experience.", "", {}, "senior"),
    ("Medical Coder", "No experience required. CPC-A accepted.", "", {}, "entry"),
    ("Medical Coder", "New graduates welcome!", "", {}, "entry"),
    ("Medical Coder", "With over 25 years of experience serving hospitals, we are growing.", "", {}, None),
    # title and description disagree: the stated experience decides
    ("Senior Coder", "Minimum 2 years experience in outpatient coding.", "", {}, "mid"),
    ("Coding Manager", "Minimum 2 years experience.", "", {}, "manager"),
    ("Health Records Clerk", "", "", {}, "entry"),  # clerical, no experience stated
    ("Educator- Clinical Documentation Integrity", "", "", {}, "senior"),  # zapplyjobs
    # federal rule: Supervisory/Chief manager, Lead/Auditor senior, else the lowest grade
    ("Supervisory Medical Records Technician", "GS-0675-09", "usajobs", {}, "manager"),
    ("Medical Records Administrator (Chief (CHIM))", "GS-13", "usajobs", {}, "manager"),
    ("Lead Medical Records Technician (Coder)", "GS-0675-07", "usajobs", {}, "senior"),
    ("Medical Records Technician (Coder) Auditor", "GS-0675-09", "usajobs", {}, "senior"),
    ("Medical Records Technician", GS5_QUESTIONNAIRE, "usajobs", {}, "entry"),
    ("MEDICAL RECORDS TECH (HIT)", "Health Information Technician) GS-0675-4/5/6/7 position", "usajobs", {}, "entry"),
    ("Medical Records Technician (ROI)", "Minimum Requirement for GS-7 Level", "usajobs", {}, "mid"),
    ("Medical Records Technician (CDIS)", "CDIS GS-675-09 position. One year equivalent to the journey grade "
     "level (GS-8) of a MRT (Coder)", "usajobs", {}, "senior"),
    ("Medical Records Technician", "", "usajobs", {"low_grade": "5", "high_grade": "7"}, "entry"),
    ("Medical Records Technician", "", "usajobs", {"low_grade": "9"}, "senior"),
    # questionnaire boilerplate about "one year of experience" is not the requirement in federal postings
    ("Medical Records Technician (Coder)", "One year of creditable experience. GS-8 journey level", "usajobs", {},
     "mid"),
    # federal postings are judged by the grade alone: an entry phrase in the text does not outrank GS-7
    ("Medical Records Technician", "GS-0675-07. No experience required for the trainee track.", "usajobs", {},
     "mid"),
    # LinkedIn formatted_experience_level is a source-stated fact
    ("Inpatient Coding Specialist", "", "linkedin", {"experience_level": "Entry level"}, "entry"),
]


def test_internal_is_not_intern() -> None:
    for title in ("Internal Audit Analyst", "Internal Medicine Coder", "International Coding Specialist"):
        hit = rules.seniority_rule(title, "")
        assert hit is None or hit.label != "entry", (title, hit)


@pytest.mark.parametrize(("title", "description", "source", "structured", "expected"), SENIORITY)
def test_seniority_rules(title: str, description: str, source: str, structured: dict, expected: str | None) -> None:
    hit = rules.seniority_rule(title, description, source, structured)
    assert (hit.label if hit else None) == expected, hit


ARRANGEMENT = [
    ("Medical Coder", "This is a 100% remote position.", "", "remote"),
    ("Medical Coder", "You will work from home.", "", "remote"),
    ("Medical Records Technician", "Telework full time is available for this position.", "", "remote"),
    ("Medical Coder", "Remote within the US.", "", "remote"),
    ("Medical Coder", "Remote - must reside in TX.", "", "remote"),
    ("HIM Scanning Technician / Remote Must Reside In California", "", "remote_allowed=1", "remote"),  # LinkedIn
    ("Medical Coder", "Remote after the initial training period.", "", "remote"),
    # LABELS traps that are not remote work
    ("Medical Coder", "Supports our remote patient monitoring program.", "", "onsite"),
    ("Medical Coder", "You will have remote access to the EHR.", "", "onsite"),
    ("Medical Coder", "Work the remote coding queue from our on-site coding room.", "", "onsite"),
    ("Medical Coder", "Work from anywhere for up to four weeks a year.", "", "onsite"),
    ("Medical Coder", "This is not a remote position.", "", "onsite"),
    ("Medical Coder", "This is not a remote position.", "isRemote=true", "onsite"),
    # hybrid: remote after training with on-site work continuing, fixed mixes
    ("Medical Coder", "Remote after training period; on-site two days per week thereafter.", "", "hybrid"),
    ("Medical Coder", "Hybrid schedule: 2 days on-site, 3 days from home.", "", "hybrid"),
    ("Senior Clinical Coder", "opportunities to work from home. The roles are based across all hospital sites.", "",
     "hybrid"),  # NHS
    # a source flag is evidence, not truth (Ashby isRemote for a hybrid job)
    ("Backend Engineer", "This is a hybrid role with 3 days per week in the office.", "isRemote=true", "hybrid"),
    ("Medical Coder", "", "isRemote=true", "remote"),
    ("Medical Coder", "", "workplaceType=hybrid", "hybrid"),
    ("Medical Coder", "", "remote_allowed=", "onsite"),  # LinkedIn blank: nothing says remote
    # the candidate may choose fully remote; company-wide boilerplate does not decide
    ("Software Engineer", "Remote or hybrid work model with our hub in Warsaw.", "", "remote"),
    ("Software Engineer", "we support your flexibility to work from home or in the office", "", "remote"),
    ("Senior .NET Engineer", "Our Hybrid work environment provides options tailored to your role.", "board=remote",
     "remote"),
    ("Software Developer in Test", "They play a hybrid role that bridges developers and testers.", "board=remote",
     "remote"),
]

# LABELS.md: "Where the candidate may choose to work fully remote, the label is `remote`", even beside a hybrid
# phrase; and company-wide boilerplate does not outweigh what the posting says about this job. Real phrases from
# /work/shared/data/postings/remotewlb_remote_jobs/remote_jobs.jsonl (its "file" path cited per row; none of
# these postings is in the train, dev or test split).
REMOTE_CHOICE = [
    # jobs/C#/2024-05/net-software-engineer-kms-healthcare-106737/README.md
    ("Flexible working model: Flexible time & Hybrid working from Ho Chi Minh or Da Nang city or working remotely "
     "from any location in Vietnam", "remote"),
    # jobs/C#/2024-09/android-engineer-122081/README.md
    ("This is a hybrid role. Or you can work fully remotely from anywhere in the US", "remote"),
    # jobs/C#/2024-10/senior-backend-engineer-poster-experience/README.md
    ("This role can be 100% remote within Canada", "remote"),
    # jobs/Golang/2024-05/senior-ios-engineer-conversation-experiences-89389/README.md
    ("This role can be 100%, permanently remote within the United States or Canada, or can be a hybrid model if "
     "near a Reddit office", "remote"),
    # jobs/C#/2024-07/software-engineer-testing-94001/README.md
    ("This is a hybrid position. We also have fully remote options if you reside in one of the following states:",
     "remote"),
    # jobs/PHP/2024-08/developer-support-engineer-ii/README.md
    ("Hybrid work model in our Dublin office. We're also open to remote", "remote"),
    # jobs/Python/2024-05/software-engineer-mlops-106847/README.md
    ("Hiring will be into all Renesas EMEA and APAC offices, either for hybrid work or remotely", "remote"),
    # jobs/React/2024-06/senior-software-engineer-i-growth/README.md
    ("allow employees to choose what works best for them -- working in-person, fully remote, or a hybrid model that "
     "combines the two through our Choice Model", "remote"),
    # jobs/Python/2024-10/senior-frontend-engineer-react-120863/README.md
    ("We're open to candidates who prefer hybrid working at our Lisbon office, as well as those looking to work "
     "remotely", "remote"),
    # jobs/Others/2025-03/security-engineer-application-security-129569/README.md
    ("The role is preferred to be based in San Francisco, Seattle or New York City but may consider remote work",
     "remote"),
    # jobs/Others/2024-10/software-engineer-data-engineering-127281/README.md
    ("Remote Work – flexibility to work from home or from our offices + remote working allowance", "remote"),
    # jobs/Nodejs/2024-07/frontend-engineer-mid-level/README.md
    ("The ability to work in a hybrid model or remote in Poland", "remote"),
    # jobs/Others/2024-05/lead-engineer-106157/README.md: company-wide "embraced hybrid working" is boilerplate;
    # the option to work from home decides
    ("We have embraced hybrid working in all our locations; our employees have the option to work from home, an "
     "office or a blend between the two.", "remote"),
    # The opposite trap: company-wide boilerplate beside the job's own statement.
    # jobs/C#/2024-10/library-software-engineer-go-emea/README.md (Datadog boilerplate) + a job-level statement
    ("We operate as a hybrid workplace to ensure our Datadogs can create a work-life harmony that best fits them. "
     "This is a fully remote position.", "remote"),
    ("We operate as a hybrid workplace to ensure our Datadogs can create a work-life harmony that best fits them.",
     "onsite"),
    # jobs/Others/2024-07/senior-software-engineer-119735/README.md: a company-wide "whether ... or working
    # remotely" offers no choice for this job, which states its own hybrid schedule
    ("Whether you’re in one of our offices around the world or working remotely you have plenty of opportunities "
     "to grow. This is a hybrid role with 3 days per week in the office.", "hybrid"),
    # A fixed mix with no fully remote option stays hybrid
    # (jobs/C#/2024-06/senior-principal-frontend-web-developer-unit-42-remote/README.md)
    ("You will work from the office three days per week.", "hybrid"),
]


@pytest.mark.parametrize(("description", "expected"), REMOTE_CHOICE)
def test_a_fully_remote_choice_is_remote(description: str, expected: str) -> None:
    hit = rules.arrangement_rule("Software Engineer", description, "")
    assert (hit.label if hit else "onsite") == expected, hit


@pytest.mark.parametrize(("title", "description", "flag", "expected"), ARRANGEMENT)
def test_arrangement_phrases(title: str, description: str, flag: str, expected: str) -> None:
    hit = rules.arrangement_rule(title, description, flag)
    # No phrase and no flag: LABELS.md says on-site ("nothing says otherwise").
    assert (hit.label if hit else "onsite") == expected, hit


def test_trap_phrases_are_removed_in_long_texts() -> None:
    # A long text is scanned in windows, and the trap phrases are only removed in windows holding one of the
    # trap rows' keywords (arrangement_phrases.csv): a trap far from any other keyword must still be removed,
    # or "100% remote" in "100% remote patient monitoring" reads as remote work.
    filler = "You will review charts and assign codes accurately for the department. " * 6
    hit = rules.arrangement_rule("Medical Coder", filler + "We run a 100% remote patient monitoring program. " + filler)
    assert hit is None, hit


@pytest.mark.parametrize(("flag", "expected"), [
    ("isRemote=true", "remote"), ("isRemote=false", "onsite"), ("workplaceType=onsite", "onsite"),
    ("workplaceType=hybrid", "hybrid"), ("job_is_remote=True", "remote"), ("telecommuting=1", "remote"),
    ("remote_allowed=1.0", "remote"), ("true", "remote"), ("Hybrid", "hybrid"), ("On-site", "onsite"),
    ("remote_allowed=", None), ("", None), ("location=Boston", None),
])
def test_remote_flag_parsing(flag: str, expected: str | None) -> None:
    parsed = rules.parse_remote_flag(flag)
    assert (parsed[0] if parsed else None) == expected


def test_every_bundled_table_compiles() -> None:
    tables = rules.tables()
    assert {"role", "seniority", "arrangement"} <= set(tables)
    assert all(table.rules for table in tables.values())


@pytest.mark.parametrize(("pattern", "message"), [
    ("\\bcoder(", "bad.csv line 2: invalid rule"),
    ("\\bCoder\\b", "bad.csv line 2: .*lower case"),
    # Only ASCII letters are lower-cased in the text, so "É" in a posting would never meet this "é".
    ("\\bcodeur m\u00e9dical\\b", "bad.csv line 2: .*ASCII letters"),
])
def test_a_broken_rule_is_reported_with_its_line(tmp_path: Path, pattern: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f'priority,label,field,pattern,confidence,note\n10,coder,title,"{pattern}",0.9,x\n', encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        rules.load_table(path)


def test_keyword_windows_find_what_a_full_scan_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    # Long texts are only scanned around each row's keywords; a row whose keywords miss one of its matches
    # would silently lose it. Compare with a full scan over the real descriptions of the checked splits.
    from classifier.train import load_split

    texts = [row["description"] for split in ("dev", "test") for row in load_split(split) if row["description"]]
    tables = rules.tables()
    traps = tables["arrangement"].with_label("trap")

    def scan() -> list[list[tuple[str, str]]]:
        return [
            sorted((h.label, h.phrase) for name, table in tables.items()
                   for h in table.hits("description", text, drop=traps if name == "arrangement" else None))
            for text in texts
        ]

    windowed = scan()
    monkeypatch.setattr(rules, "WINDOW", 10**9)  # texts never exceed 4 windows: whole-text scan
    assert windowed == scan()


def test_rule_scans_find_what_the_plain_alternation_finds() -> None:
    # The rule tables are scanned as one alternation without a group per row, rewritten as a first-character
    # trie (classifier/dispatch.py), whose row is identified afterwards, all for speed; each match, and the
    # row named for it, must be what the per-row named-group alternation finds.
    import re

    from classifier.train import load_split

    rows = [row for split in ("dev", "test") for row in load_split(split)]
    texts = [row["title"].lower() for row in rows] + [row["description"].lower() for row in rows if row["description"]]
    for table in rules.tables().values():
        for field in ("title", "description"):
            picked = [(i, r) for i, r in enumerate(table.rules) if r.field in (field, "any")]
            compiled = table._compiled[field]
            assert compiled is not None
            plain = re.compile("|".join(f"(?P<r{i}>{r.pattern})" for i, r in picked))
            for text in texts:
                expected = [(m.span(), int(m.lastgroup[1:])) for m in plain.finditer(text)]  # type: ignore[index]
                found = [(m.span(), table._row_at(field, text, m)) for m in compiled.finditer(text)]
                assert found == expected


def test_repeated_titles_give_the_same_hits_and_a_callers_list_is_its_own() -> None:
    # Title hits are cached per table (titles repeat across postings); a caller appending to the list it got
    # (seniority_rule adds the grade and years hits) must not change what the next posting with that title gets.
    table = rules.tables()["seniority"]
    first = table.hits("title", "Senior Medical Coder II")
    first.append(rules.Hit("entry", 1.0, "title", "x", 0, 0))
    again = table.hits("title", "Senior Medical Coder II")
    assert [(h.label, h.phrase) for h in again] == [("senior", "Senior"), ("mid", "II")]
    assert rules.seniority_rule("Senior Medical Coder II", "").label == "senior"


def test_keywords_are_found_where_they_begin_a_word_even_glued_to_a_number() -> None:
    # Windows come from keyword starts that the document scan reports: "5years" must still count ("5years of
    # experience" matches the years rule), "on-site" is found as written or with a space, and a keyword inside
    # a longer word ("biweekly") opens no window. Offsets are characters, also after a multi-byte character.
    scan = rules.KeywordStarts()
    scan.add({"year", "on-site", "week"})
    text = "5years of on-site work, on site weekly; biweekly pay"
    assert scan.find(text) == {"year": [1], "on-site": [10, 24], "week": [32]}
    assert scan.find("’" + text) == {"year": [2], "on-site": [11, 25], "week": [33]}
