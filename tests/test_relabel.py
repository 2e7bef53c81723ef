"""Stored labels record the model version; a new model re-labels them (issue: "when the model changes,
stored postings are re-labeled"), without touching the lifecycle."""

import json
import subprocess
import sys
from pathlib import Path

from classifier.predict import model_version
from schedules.pipeline import relabel_stale
from store.database import open_db
from store.postings import to_row, upsert_postings

HIMJOBS = Path(sys.executable).with_name("himjobs")


def stored_by_an_old_model(path: Path):
    db = open_db(path)
    posting = {"id": "va:1", "source": "va", "external_id": "1", "url": "https://www.usajobs.gov/job/1",
               "title": "Medical Records Technician (Cancer Registrar)", "company": "VHA", "location": "Houston, TX",
               "description": "Abstracts cancer cases for the VA Cancer Registry. ODS (formerly CTR) required.",
               "posted_at": None, "remote_flag": None, "structured": {"low_grade": "8", "high_grade": "9"}}
    old = {"role": "technician", "seniority": "mid", "arrangement": "onsite", "confidence": {}, "model_version": "old"}
    upsert_postings(db, "va", [to_row(posting, old)], now="2026-11-01T00:00:00Z", complete=True)
    return db


def test_relabel_stale_updates_labels_and_version_but_not_last_seen(tmp_path):
    db = stored_by_an_old_model(tmp_path / "jobs.db")
    assert relabel_stale(db) == 1
    row = db.table("postings").get("va:1")
    assert (row["role"], row["model_version"], row["last_seen"]) == ("registrar", model_version(), "2026-11-01T00:00:00Z")
    assert json.loads(row["evidence"])["role"]["phrase"]
    history = {h["field"]: (h["old_value"], h["new_value"]) for h in db.query("select * from posting_history")}
    assert history["role"] == ("technician", "registrar")
    assert relabel_stale(db) == 0  # nothing left from an older model


def test_train_with_db_relabels_it(tmp_path):
    stored_by_an_old_model(tmp_path / "jobs.db").close()
    result = subprocess.run([str(HIMJOBS), "train", "--db", str(tmp_path / "jobs.db")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "1 posting(s) re-labelled" in result.stdout
