"""`himjobs demo` on a fresh database, twice (issue: "run twice on the same database leaves the same
number of postings"; "Running it twice changes nothing but last_seen")."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

HIMJOBS = Path(sys.executable).with_name("himjobs")


def run_demo(db: Path) -> str:
    env = {**os.environ, "COLUMNS": "120"}
    proc = subprocess.run([str(HIMJOBS), "demo", "--db", str(db)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc.stdout


@pytest.fixture(scope="module")
def demo_twice(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("demo") / "demo.db"
    first = run_demo(db_path)
    before = {r["id"]: r for r in sqlite_utils.Database(db_path).query("select * from postings")}
    second = run_demo(db_path)
    return db_path, first, second, before


def test_demo_twice_changes_nothing_but_last_seen(demo_twice):
    db_path, first, second, before = demo_twice
    db = sqlite_utils.Database(db_path)
    after = {r["id"]: r for r in db.query("select * from postings")}

    assert len(before) > 100 and before.keys() == after.keys()
    for key, row in after.items():
        changed = {c for c in row if row[c] != before[key][c]}
        assert changed <= {"last_seen"}, (key, changed)
    assert db.table("posting_history").count == 0

    # The summary a newcomer reads: where postings came from, what they are, where to look next.
    for text in ("commure", "valley-regional", "usajobs-him", "by role", "HIM seniority", "HIM arrangement",
                 "himjobs serve --db"):
        assert text in first, text
    assert "failed" not in first and "failed" not in second
    runs = list(db.query("select status, count(*) n from crawl_runs group by status"))
    assert runs == [{"status": "ok", "n": 12}]


def test_demo_labels_the_him_postings_a_seeker_cares_about(demo_twice):
    db = sqlite_utils.Database(demo_twice[0])
    label = {r["title"]: (r["role"], r["arrangement"]) for r in db.query("select title, role, arrangement from postings")}
    assert label["Inpatient Coder II"] == ("coder", "remote")
    assert label["Cancer Registrar"] == ("registrar", "hybrid")
    assert label["Patient Access Registrar - Emergency Department"][0] == "other"
    assert label["RN Care Coordinator - Remote Patient Monitoring"] == ("other", "onsite")
    assert label["Medical Records Technician (Coder)"][0] == "coder"
