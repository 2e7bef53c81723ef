"""Normalised keys and the tables analysts join on (issue: "normalise scheme/host case, strip tracking params
like utm_*, gh_src, source; trailing slashes"; "employers (normalised name, e.g. strip "Inc.", case)";
"lifecycle dates drive days open and new this week")."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlite_utils

from store.database import ensure_schema
from store.duplicates import refresh_derived
from store.normalize import canonical_url, employer_key, location_key, requisition, title_key
from store.postings import to_row, upsert_postings
from store.runs import record_run


@pytest.mark.parametrize("name, key", [
    ("Valley Regional Health, Inc.", "valley regional health"),
    ("The Valley Regional Health System", "valley regional health system"),
    ("ACME HEALTH LLC", "acme health"),
    ("Summit Revenue Cycle Partners, L.L.C.", "summit revenue cycle partners"),
    ("St. Luke's Health", "st lukes health"),
    ("Johnson & Johnson", "johnson and johnson"),
    ("Co", "co"),  # a name that is only a suffix keeps it
    ("Veterans Health Administration", "veterans health administration"),
])
def test_employer_key(name, key):
    assert employer_key(name) == key


@pytest.mark.parametrize("title, key", [
    ("Medical Coder II - Remote (Full-Time)", "medical coder ii"),
    ("Medical Records Technician (Coder)", "medical records technician coder"),
    ("Remote Inpatient Coder - US", "inpatient coder"),
    ("Work From Home Cancer Registrar", "cancer registrar"),
])
def test_title_key(title, key):
    assert title_key(title) == key


@pytest.mark.parametrize("location, key", [
    ("Remote - USA", ""),
    ("United States", ""),
    ("Fresno, CA", "fresno ca"),
    ("Remote - Fresno, CA", "fresno ca"),
    ("Anywhere in the US", ""),
])
def test_location_key(location, key):
    assert location_key(location) == key


@pytest.mark.parametrize("url, canonical", [
    ("HTTP://Boards.Greenhouse.io/valley/jobs/4012345/?gh_src=abc123&utm_source=remotive",
     "https://boards.greenhouse.io/valley/jobs/4012345"),
    ("https://www.usajobs.gov:443/job/812345600#apply", "https://usajobs.gov/job/812345600"),
    ("https://valley.org/careers?gh_jid=4012345&source=LinkedIn&utm_campaign=x",
     "https://valley.org/careers?gh_jid=4012345"),
    ("https://jobs.lever.co/summit/5a0f8c1e-2b7d-4c11-9a3e-0d6f1b2c3d4e?lever-source=himalayas&b=2&a=1",
     "https://jobs.lever.co/summit/5a0f8c1e-2b7d-4c11-9a3e-0d6f1b2c3d4e?a=1&b=2"),
    ("https://example.org:8443//jobs//7/", "https://example.org:8443/jobs/7"),
    ("mailto:jobs@example.org", None),
    ("", None),
])
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


@pytest.mark.parametrize("url, kind, external_id, key", [
    ("https://acmehealth.wd5.myworkdayjobs.com/en-US/External/job/Remote-USA/Medical-Coder-II_R12345-1?source=x",
     None, None, "workday/acmehealth:R12345"),
    ("https://acmehealth.wd1.myworkdayjobs.com/External/job/TX/Coder_JR-00987", None, None, "workday/acmehealth:JR-00987"),
    ("https://job-boards.greenhouse.io/valley/jobs/4012345", None, None, "greenhouse:4012345"),
    ("https://valley.org/careers/job?gh_jid=4012345", None, None, "greenhouse:4012345"),
    ("https://jobs.lever.co/summit/5A0F8C1E-2B7D-4C11-9A3E-0D6F1B2C3D4E/apply", None, None,
     "lever:5a0f8c1e-2b7d-4c11-9a3e-0d6f1b2c3d4e"),
    ("https://jobs.ashbyhq.com/Commure-Athelas/0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", None, None,
     "ashby:0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"),
    ("https://jobs.smartrecruiters.com/Gousto1/744000004395596-medical-coder", None, None,
     "smartrecruiters:744000004395596"),
    ("https://www.usajobs.gov/GetJob/ViewDetails/812345600", None, None, "usajobs:812345600"),
    # A posting from an ATS source whose URL is some other host: the source's own id is the requisition.
    ("http://127.0.0.1:8080/valley/jobs", "greenhouse", "4012345", "greenhouse:4012345"),
    # A remote board's own page carries no ATS id.
    ("https://remotive.com/remote-jobs/medical/coder-1900321", "remotive", "1900321", None),
])
def test_requisition(url, kind, external_id, key):
    assert requisition(url, kind, external_id) == key


def _stamp(days_ago: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def db() -> sqlite_utils.Database:
    db = sqlite_utils.Database(memory=True)
    ensure_schema(db)
    rows = [
        ("valley", "greenhouse", "1", "https://boards.greenhouse.io/valley/jobs/1", "Valley Regional Health, Inc.",
         ["CCS", "CPC"], 30),
        ("valley", "greenhouse", "2", "https://boards.greenhouse.io/valley/jobs/2", "Valley Regional Health",
         ["RHIT"], 3),
        ("remotive", "remotive", "9", "https://boards.greenhouse.io/valley/jobs/1?utm_source=remotive",
         "VALLEY REGIONAL HEALTH", ["CCS"], 32),
    ]
    for source, kind, external_id, url, company, credentials, days in rows:
        posting = {"id": f"{source}:{external_id}", "source": source, "external_id": external_id, "url": url,
                   "title": "Coder", "company": company, "location": "Fresno, CA", "description": "Code charts.",
                   "posted_at": None, "remote_flag": None, "structured": {}}
        upsert_postings(db, source, [to_row(posting, {"role": "coder", "credentials": credentials})],
                        now=_stamp(days), complete=False)
        record_run(db, {"source": source, "kind": kind, "started_at": _stamp(days), "finished_at": _stamp(days),
                        "status": "ok"})
    # valley:1 closed ten days ago; its board copy closed twelve days ago.
    db.execute("update postings set closed_at = ? where id = 'valley:1'", [_stamp(10)])
    db.execute("update postings set closed_at = ? where id = 'remotive:9'", [_stamp(12)])
    refresh_derived(db)
    return db


def test_jobs_view_lifecycle_days_open_and_new_this_week(db):
    jobs = {r["id"]: r for r in db.query("select * from jobs")}
    assert set(jobs) == {"valley:1", "valley:2"}
    old = jobs["valley:1"]
    # First seen when the board had it (32 days ago), closed when the ATS copy closed: 22 days open.
    assert (old["status"], old["days_open"], old["copies"], old["new_this_week"]) == ("closed", 22, 1, 0)
    assert json.loads(old["copy_sources"]) == ["remotive"]
    new = jobs["valley:2"]
    assert (new["status"], new["days_open"], new["new_this_week"]) == ("open", 3, 1)


def test_employers_merge_spellings_and_count_jobs_once(db):
    employers = list(db.query("select * from employers"))
    assert len(employers) == 1
    e = employers[0]
    assert e["id"] == "valley regional health"
    assert json.loads(e["spellings"]) == ["VALLEY REGIONAL HEALTH", "Valley Regional Health",
                                          "Valley Regional Health, Inc."]
    assert (e["postings"], e["jobs"], e["open_jobs"]) == (3, 2, 1)
    assert json.loads(e["sources"]) == ["remotive", "valley"]


def test_credentials_view_and_sources_view(db):
    canonical = sorted((r["posting_id"], r["credential"]) for r in db.query("select * from credentials where canonical"))
    assert canonical == [("valley:1", "CCS"), ("valley:1", "CPC"), ("valley:2", "RHIT")]
    assert db.execute("select count(*) from credentials").fetchone()[0] == 4
    sources = {r["name"]: r for r in db.query("select * from sources")}
    assert sources["remotive"]["kind"] == "remotive" and sources["remotive"]["copies"] == 1
    assert (sources["valley"]["postings"], sources["valley"]["open_postings"], sources["valley"]["runs"]) == (2, 1, 2)
