"""Opening the public database and keeping its schema.

The schema is declared here once; ``open_db`` creates missing tables and adds missing columns, so
an older database file is brought forward in place and nothing stored is lost.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlite_utils

from scraper.errors import HimjobsError
from scraper.timestamps import iso_utc

POSTING_COLUMNS: dict[str, type] = {
    "id": str,  # "source:external_id"
    "source": str,  # the configured source name
    "external_id": str,
    "url": str,
    "title": str,
    "company": str,
    "location": str,
    "state": str,
    "description": str,
    "posted_at": str,  # as the source gave it
    "first_seen": str,
    "last_seen": str,
    "closed_at": str,
    "role": str,
    "seniority": str,
    "arrangement": str,
    "role_confidence": float,
    "seniority_confidence": float,
    "arrangement_confidence": float,
    "evidence": str,  # JSON: label -> {"field", "phrase"}
    "salary_min": float,
    "salary_max": float,
    "salary_period": str,
    "salary_currency": str,
    "credentials": str,  # JSON array
    "employment_type": str,
    "education": str,
    "remote_flag": str,  # the source's own remote/workplace field, verbatim
    "structured": str,  # JSON: other facts the source stated
    "model_version": str,
    "duplicate_of": str,
    # Derived by store.duplicates.refresh_derived after each crawl (store/normalize.py):
    "duplicate_layer": str,  # url | requisition | employer_title_location | description
    "duplicate_reason": str,  # the evidence that matched, for an analyst to check
    "source_kind": str,
    "employer_key": str,
    "canonical_url": str,
    "requisition": str,  # "ats:id", e.g. "workday/acme:R12345"
}

CRAWL_RUN_COLUMNS: dict[str, type] = {
    "id": int,
    "source": str,
    "kind": str,
    "started_at": str,
    "finished_at": str,
    "status": str,  # ok | failed
    "fetched": int,
    "new": int,
    "updated": int,
    "unchanged": int,
    "closed": int,
    "requests": int,
    "not_modified": int,
    "errors": str,  # JSON array of messages
    "canary": str,  # why the run looks wrong, or null
}

JOB_RUN_COLUMNS: dict[str, type] = {  # one row per scheduler job run (schedules/jobs.py)
    "id": int,
    "job": str,  # crawl:<source> | relabel | canary | digest
    "started_at": str,
    "finished_at": str,
    "outcome": str,  # ok | failed | skipped | flagged
    "counts": str,  # JSON object, e.g. {"fetched": 103, "new": 2}
    "error": str,
    "findings": str,  # JSON object: source -> why the canary flagged it
}

HISTORY_COLUMNS: dict[str, type] = {
    "id": int,
    "posting_id": str,
    "changed_at": str,
    "field": str,  # a column name, or "lifecycle" for closed / reopened
    "old_value": str,
    "new_value": str,
}


class StoreError(HimjobsError):
    """The database file cannot be used."""


def utc_now() -> str:
    return iso_utc()


def open_db(path: str | Path) -> sqlite_utils.Database:
    """The public database at ``path`` in WAL mode, its schema ensured."""
    try:
        db = sqlite_utils.Database(path)
        # Datasette, the scheduler and a manual crawl share the file: wait on a brief lock instead of
        # failing, and set that before the first statement that may need a lock (switching to WAL does).
        db.execute("PRAGMA busy_timeout = 10000")
        db.enable_wal()
        ensure_schema(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot be used as a himjobs database ({exc})") from None
    return db


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """A transaction that takes the write lock up front (BEGIN IMMEDIATE).

    A deferred transaction that reads first and writes later cannot wait for another writer: SQLite
    fails it at once with "database is locked". Taking the lock at BEGIN lets busy_timeout do its work.
    """
    conn = db.conn
    if conn.in_transaction:  # already inside one: it holds (or will take) the lock
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def ensure_schema(db: sqlite_utils.Database) -> None:
    _ensure_table(db, "postings", POSTING_COLUMNS, pk="id")
    postings = db["postings"]
    if not db["postings_fts"].exists():
        postings.enable_fts(["title", "description"], create_triggers=True)
    for columns in (["source", "closed_at"], ["role", "seniority", "arrangement"], ["first_seen"], ["duplicate_of"]):
        postings.create_index(columns, if_not_exists=True)
    _ensure_table(db, "crawl_runs", CRAWL_RUN_COLUMNS, pk="id")
    db["crawl_runs"].create_index(["source", "started_at"], if_not_exists=True)
    _ensure_table(db, "posting_history", HISTORY_COLUMNS, pk="id")
    db["posting_history"].create_index(["posting_id", "changed_at"], if_not_exists=True)
    _ensure_table(db, "job_runs", JOB_RUN_COLUMNS, pk="id")
    db["job_runs"].create_index(["job", "started_at"], if_not_exists=True)


def _ensure_table(db: sqlite_utils.Database, name: str, columns: dict[str, type], pk: str) -> None:
    table = db.table(name)
    if not table.exists():
        table.create(columns, pk=pk)
        return
    for column, kind in columns.items():
        if column not in table.columns_dict:
            table.add_column(column, kind)
