"""Cross-source duplicates (issue: "the same job reached through its ATS, a remote board and USAJOBS is one
job"; "two real different jobs with the same title at one employer stay two"; "re-running must be
idempotent"; "a posting whose canonical copy closes may need a new canonical")."""

from __future__ import annotations

import pytest
import sqlite_utils

from store.database import ensure_schema
from store.duplicates import mark_duplicates, refresh_derived
from store.postings import to_row, upsert_postings
from store.runs import record_run

CODER_TEXT = (
    "Acme Health is hiring a Medical Coder II to join our remote coding team. You will review inpatient and "
    "outpatient documentation and assign ICD-10-CM, ICD-10-PCS and CPT codes accurately and on time, query "
    "providers when documentation is unclear, and meet productivity and 95% accuracy standards. Requires a "
    "CCS or CPC credential and two years of hospital coding experience. Epic and 3M encoder experience preferred."
)
REGISTRAR_TEXT = (
    "The tumor registry at Acme Health abstracts cancer cases into the registry database following NAACCR and "
    "CoC standards, performs annual patient follow-up, and prepares data requests for the cancer committee. "
    "ODS (formerly CTR) credential required; remote after a 90-day on-site orientation at our main campus."
)


@pytest.fixture
def db() -> sqlite_utils.Database:
    db = sqlite_utils.Database(memory=True)
    ensure_schema(db)
    return db


def add(db: sqlite_utils.Database, source: str, kind: str, external_id: str, *, url: str, title: str, company: str,
        location: str, description: str = CODER_TEXT, now: str = "2026-11-20T10:00:00Z") -> str:
    posting = {"id": f"{source}:{external_id}", "source": source, "external_id": external_id, "url": url,
               "title": title, "company": company, "location": location, "description": description,
               "posted_at": None, "remote_flag": None, "structured": {}}
    labels = {"role": "coder", "seniority": "mid", "arrangement": "remote", "confidence": {}, "credentials": ["CCS"]}
    upsert_postings(db, source, [to_row(posting, labels)], now=now, complete=False)
    record_run(db, {"source": source, "kind": kind, "started_at": now, "finished_at": now, "status": "ok"})
    return posting["id"]


def duplicates(db: sqlite_utils.Database) -> dict[str, tuple[str | None, str | None]]:
    return {r["id"]: (r["duplicate_of"], r["duplicate_layer"])
            for r in db.query("select id, duplicate_of, duplicate_layer from postings")}


def test_workday_job_and_remote_board_copy_with_tracking_params_are_one_job(db):
    # The board copy was seen first and links the locale-prefixed Workday page with its own tracking params;
    # the canonical URLs differ (/en-US/), the Workday R-number does not.
    board = add(db, "himalayas", "himalayas", "acme-medical-coder-ii",
                url="https://acmehealth.wd5.myworkdayjobs.com/en-US/External/job/Remote-USA/"
                    "Medical-Coder-II_R12345?utm_source=himalayas&source=himalayas",
                title="Medical Coder II (Remote)", company="Acme Health", location="United States",
                now="2026-11-18T08:00:00Z")
    ats = add(db, "acme", "workday", "Medical-Coder-II_R12345",
              url="https://acmehealth.wd5.myworkdayjobs.com/External/job/Remote-USA/Medical-Coder-II_R12345",
              title="Medical Coder II", company="Acme Health, Inc.", location="Remote - USA")
    refresh_derived(db)
    assert duplicates(db) == {ats: (None, None), board: (ats, "requisition")}
    reason = db.table("postings").get(board)["duplicate_reason"]
    assert "workday/acmehealth:R12345" in reason and ats in reason
    job = next(db.query("select * from jobs"))
    # Counted once, seen since the board had it, and the board copy is listed.
    assert (job["id"], job["copies"], job["first_seen"]) == (ats, 1, "2026-11-18T08:00:00Z")


def test_greenhouse_job_and_board_link_with_gh_src_match_on_canonical_url(db):
    ats = add(db, "valley", "greenhouse", "4012345", url="https://boards.greenhouse.io/valleyregional/jobs/4012345",
              title="Inpatient Coder", company="Valley Regional", location="Fresno, CA")
    board = add(db, "remotive", "remotive", "1900321",
                url="http://Boards.Greenhouse.io/valleyregional/jobs/4012345/?gh_src=remotive",
                title="Inpatient Coder", company="Valley Regional Health", location="USA")
    refresh_derived(db)
    assert duplicates(db)[board] == (ats, "url")


def test_usajobs_announcement_is_canonical_over_a_board_copy_by_employer_title_location(db):
    fed = add(db, "usajobs-him", "usajobs", "812345600",
              url="https://www.usajobs.gov:443/GetJob/ViewDetails/812345600",
              title="Medical Records Technician (Coder)", company="Veterans Health Administration",
              location="Fresno, California")
    board = add(db, "jobicy", "jobicy", "77001", url="https://jobicy.com/jobs/77001-medical-records-technician-coder",
                title="Medical Records Technician (Coder) - Full Time", company="The Veterans Health Administration",
                location="Fresno, California", description="Short listing.")
    refresh_derived(db)
    assert duplicates(db)[board] == (fed, "employer_title_location")


def test_same_description_under_a_longer_employer_name_matches_on_similarity(db):
    ats = add(db, "acme", "lever", "5a0f8c1e-2b7d-4c11-9a3e-0d6f1b2c3d4e",
              url="https://jobs.lever.co/acmehealth/5a0f8c1e-2b7d-4c11-9a3e-0d6f1b2c3d4e",
              title="Medical Coder II", company="Acme Health", location="Sacramento, CA")
    board = add(db, "remoteok", "remoteok", "remoteok-1", url="https://remoteok.com/remote-jobs/remote-medical-coder-1",
                title="Medical Coder II", company="Acme Health Partners", location="Remote",
                description=CODER_TEXT + " Apply on our careers site.")
    refresh_derived(db)
    assert duplicates(db)[board][0] == ats and duplicates(db)[board][1] == "description"
    assert "cosine" in db.table("postings").get(board)["duplicate_reason"]


@pytest.mark.parametrize(
    "other",
    [
        # Different Workday requisitions: two openings with one title and one text are two jobs.
        dict(source="acme-board", kind="jsonld", external_id="R12399",
             url="https://acmehealth.wd5.myworkdayjobs.com/External/job/Remote-USA/Medical-Coder-II_R12399",
             location="Remote - USA"),
        # Same title, same employer, another city.
        dict(source="remotive", kind="remotive", external_id="55", url="https://remotive.com/remote-jobs/55",
             location="Modesto, CA"),
        # Same title, same employer, location unspecified, but clearly another job's description.
        dict(source="remotive", kind="remotive", external_id="56", url="https://remotive.com/remote-jobs/56",
             location="Remote", description=REGISTRAR_TEXT),
    ],
    ids=["different-requisition", "different-location", "different-description"],
)
def test_different_jobs_with_one_title_at_one_employer_stay_two(db, other):
    add(db, "acme", "workday", "Medical-Coder-II_R12345",
        url="https://acmehealth.wd5.myworkdayjobs.com/External/job/Remote-USA/Medical-Coder-II_R12345",
        title="Medical Coder II", company="Acme Health", location="Sacramento, CA")
    add(db, title="Medical Coder II", company="Acme Health", **other)
    refresh_derived(db)
    assert all(target is None for target, _ in duplicates(db).values())
    assert db.execute("select count(*) from jobs").fetchone()[0] == 2


def test_two_postings_of_one_board_are_never_merged_by_title(db):
    # A board listing the same title twice under two ids lists two openings.
    add(db, "valley", "greenhouse", "1", url="https://valley.example/jobs/1", title="Coder", company="Valley",
        location="Fresno, CA")
    add(db, "valley", "greenhouse", "2", url="https://valley.example/jobs/2", title="Coder", company="Valley",
        location="Fresno, CA")
    refresh_derived(db)
    assert all(target is None for target, _ in duplicates(db).values())


def test_a_board_copy_closed_months_before_a_repost_is_not_the_same_job(db):
    old = add(db, "remotive", "remotive", "9", url="https://remotive.com/remote-jobs/9", title="Medical Coder II",
              company="Acme Health", location="Remote", now="2026-03-01T00:00:00Z")
    upsert_postings(db, "remotive", [], now="2026-03-20T00:00:00Z", complete=True)
    add(db, "acme", "lever", "5a0f8c1e-2b7d-4c11-9a3e-0d6f1b2c3d4e", title="Medical Coder II",
        url="https://jobs.lever.co/acmehealth/5a0f8c1e-2b7d-4c11-9a3e-0d6f1b2c3d4e", company="Acme Health",
        location="Remote", now="2026-11-20T00:00:00Z")
    refresh_derived(db)
    assert duplicates(db)[old] == (None, None)


def test_rerun_is_idempotent_and_canonical_moves_when_it_closes(db):
    ats = add(db, "valley", "greenhouse", "4012345", url="https://boards.greenhouse.io/valleyregional/jobs/4012345",
              title="Inpatient Coder", company="Valley Regional", location="Fresno, CA")
    board = add(db, "remotive", "remotive", "1900321",
                url="https://boards.greenhouse.io/valleyregional/jobs/4012345?utm_medium=feed",
                title="Inpatient Coder", company="Valley Regional", location="Fresno, CA")
    refresh_derived(db)
    history = db.table("posting_history").count
    before = list(db.query("select * from postings order by id"))
    assert mark_duplicates(db) == 0
    assert list(db.query("select * from postings order by id")) == before
    assert db.table("posting_history").count == history

    # The ATS closed the job but the board still lists it: the open board copy now stands for the job.
    upsert_postings(db, "valley", [], now="2026-11-25T10:00:00Z", complete=True)
    refresh_derived(db)
    assert duplicates(db) == {board: (None, None), ats: (board, "url")}
    moves = {(h["id"] > history, h["posting_id"], h["old_value"], h["new_value"])
             for h in db.query("select * from posting_history where field = 'duplicate_of'")}
    assert moves == {(False, board, None, ats), (True, ats, None, board), (True, board, ats, None)}
    job = next(db.query("select * from jobs"))
    assert (job["id"], job["status"], job["copies"]) == (board, "open", 1)
