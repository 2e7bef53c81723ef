"""The store keeps one row per posting and its lifecycle (issue: "Re-running a crawl updates rows in
place: never a duplicate"; "closed_at set only after a crawl that succeeded")."""

import json

import pytest
import sqlite_utils

from store.database import ensure_schema, open_db
from store.postings import to_row, upsert_postings
from store.runs import canary_reason, record_run


def posting(external_id: str, title: str = "Inpatient Coder II", **extra) -> dict:
    return {"id": f"valley:{external_id}", "source": "valley", "external_id": external_id,
            "url": f"https://example.org/jobs/{external_id}", "title": title, "company": "Valley Regional",
            "location": "Fresno, CA", "description": "Assign ICD-10-CM codes.", "posted_at": "2026-11-01",
            "remote_flag": None, "structured": {}, **extra}


def labels(**overrides) -> dict:
    base = {"role": "coder", "seniority": "mid", "arrangement": "onsite",
            "confidence": {"role": 0.97, "seniority": 0.8, "arrangement": 0.9},
            "evidence": {"role": {"field": "title", "phrase": "Coder"}}, "credentials": ["CCS"],
            "salary_min": 34.0, "salary_max": 42.5, "salary_period": "hour", "salary_currency": "USD",
            "employment_type": "full_time", "education": "associate", "state": "CA", "model_version": "m1"}
    return {**base, **overrides}


@pytest.fixture
def db():
    db = sqlite_utils.Database(memory=True)
    ensure_schema(db)
    return db


def test_recrawl_updates_in_place_and_moves_only_last_seen(db):
    rows = [to_row(posting("1"), labels()), to_row(posting("2", "Cancer Registrar"), labels(role="registrar"))]
    first = upsert_postings(db, "valley", rows, now="2026-11-20T10:00:00Z", complete=True)
    before = {r["id"]: r for r in db.query("select * from postings")}
    second = upsert_postings(db, "valley", rows, now="2026-11-21T10:00:00Z", complete=True)
    after = {r["id"]: r for r in db.query("select * from postings")}
    assert (first.new, second.new, second.unchanged, second.updated) == (2, 0, 2, 0)
    assert len(after) == 2
    for key in after:
        changed = {c for c in after[key] if after[key][c] != before[key][c]}
        assert changed == {"last_seen"}
    assert db.table("posting_history").count == 0


def test_complete_crawl_closes_missing_and_failed_crawl_closes_nothing(db):
    upsert_postings(db, "valley", [to_row(posting("1"), labels()), to_row(posting("2"), labels())],
                    now="2026-11-20T10:00:00Z", complete=True)
    # A crawl that failed half-way stores what it got but must not close the rest.
    upsert_postings(db, "valley", [to_row(posting("1"), labels())], now="2026-11-21T10:00:00Z", complete=False)
    assert db.execute("select count(*) from postings where closed_at is not null").fetchone()[0] == 0
    counts = upsert_postings(db, "valley", [to_row(posting("1"), labels())], now="2026-11-22T10:00:00Z", complete=True)
    assert counts.closed == 1
    assert db.execute("select closed_at from postings where id = 'valley:2'").fetchone()[0] == "2026-11-22T10:00:00Z"


def test_reopened_posting_clears_closed_at_and_history_keeps_both(db):
    upsert_postings(db, "valley", [to_row(posting("1"), labels())], now="2026-11-20T10:00:00Z", complete=True)
    upsert_postings(db, "valley", [], now="2026-11-21T10:00:00Z", complete=True)
    upsert_postings(db, "valley", [to_row(posting("1"), labels())], now="2026-11-22T10:00:00Z", complete=True)
    row = db.table("postings").get("valley:1")
    assert row["closed_at"] is None and row["first_seen"] == "2026-11-20T10:00:00Z"
    history = [(h["field"], h["new_value"]) for h in db.query("select * from posting_history order by id")]
    assert history == [("lifecycle", "closed"), ("lifecycle", "reopened")]


def test_changed_salary_and_label_are_recorded(db):
    upsert_postings(db, "valley", [to_row(posting("1"), labels())], now="2026-11-20T10:00:00Z", complete=True)
    upsert_postings(db, "valley", [to_row(posting("1"), labels(salary_max=45.0, seniority="senior"))],
                    now="2026-11-21T10:00:00Z", complete=True)
    changes = {h["field"]: (h["old_value"], h["new_value"]) for h in db.query("select * from posting_history")}
    assert changes == {"salary_max": ("42.5", "45.0"), "seniority": ("mid", "senior")}


def test_relabel_without_seen_keeps_last_seen(db):
    upsert_postings(db, "valley", [to_row(posting("1"), labels())], now="2026-11-20T10:00:00Z", complete=True)
    upsert_postings(db, "valley", [to_row(posting("1"), labels(model_version="m2"))], now="2026-11-25T10:00:00Z",
                    complete=False, seen=False)
    row = db.table("postings").get("valley:1")
    assert (row["last_seen"], row["model_version"]) == ("2026-11-20T10:00:00Z", "m2")


def test_json_columns_and_full_text_search(db):
    upsert_postings(db, "valley", [to_row(posting("1"), labels()), to_row(posting("2", "Patient Access Registrar"), labels(role="other"))],
                    now="2026-11-20T10:00:00Z", complete=True)
    row = db.table("postings").get("valley:1")
    assert json.loads(row["credentials"]) == ["CCS"]
    assert json.loads(row["evidence"])["role"]["phrase"] == "Coder"
    hits = [r["id"] for r in db.query(
        "select postings.id from postings join postings_fts on postings.rowid = postings_fts.rowid where postings_fts match ?",
        ["registrar"])]
    assert hits == ["valley:2"]


def test_canary_flags_empty_and_collapsed_runs(db):
    for fetched in (40, 42, 41):
        record_run(db, {"source": "valley", "kind": "greenhouse", "started_at": f"2026-11-2{fetched % 10}T00:00:00Z",
                        "status": "ok", "fetched": fetched, "errors": []})
    assert canary_reason(db, "valley", 39) is None
    assert "far fewer" in canary_reason(db, "valley", 5)
    assert canary_reason(db, "valley", 0).startswith("returned no postings")
    assert canary_reason(db, "brand-new", 0) == "returned no postings"


def test_open_db_uses_wal_and_rejects_a_non_database(tmp_path):
    db = open_db(tmp_path / "jobs.db")
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    bad = tmp_path / "notes.db"
    bad.write_text("not a database " * 100)
    from store.database import StoreError
    with pytest.raises(StoreError, match="cannot be used"):
        open_db(bad)
    assert bad.read_text().startswith("not a database")


def test_a_stray_surrogate_escape_in_a_payload_is_stored_as_a_replacement_character(db):
    # json.loads turns a stray "\ud800" escape into a lone surrogate, which SQLite cannot encode: one such posting
    # used to fail the whole source's write.
    from scraper.posting import Posting

    raw = json.loads('{"title": "Coder \\ud800 II", "content": "Assign ICD-10 codes \\udfff."}')
    item = Posting("valley", "9", "https://example.org/jobs/9", raw["title"], description=raw["content"])
    upsert_postings(db, "valley", [to_row(item.to_dict(), labels())], now="2026-11-20T10:00:00Z", complete=True)
    row = db["postings"].get("valley:9")
    assert (row["title"], row["description"]) == ("Coder \ufffd II", "Assign ICD-10 codes \ufffd.")
