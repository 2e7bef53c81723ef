"""The ``crawl_runs`` table: one row per source per crawl, and the canary that reads it.

The canary flags a source whose crawl succeeded but returned nothing, or far fewer postings than
its recent successful runs: boards that break quietly (a moved board, a changed payload) look
exactly like that.
"""

from __future__ import annotations

import json
from statistics import median
from typing import Any

import sqlite_utils

CANARY_HISTORY = 5  # successful runs to compare against
CANARY_DROP = 0.5  # flag when a run fetches less than this share of the recent median


def canary_reason(db: sqlite_utils.Database, source: str, fetched: int) -> str | None:
    """Why a successful run of ``source`` that fetched ``fetched`` postings looks wrong, or None."""
    recent = [
        r["fetched"]
        for r in db.query(
            "select fetched from crawl_runs where source = ? and status = 'ok' order by started_at desc, id desc limit ?",
            [source, CANARY_HISTORY],
        )
    ]
    if fetched == 0:
        return "returned no postings" + (f" (recent median {median(recent):g})" if recent else "")
    if recent:
        typical = median(recent)
        if typical > 0 and fetched < CANARY_DROP * typical:
            return f"returned {fetched} postings, far fewer than its recent median of {typical:g}"
    return None


def record_run(db: sqlite_utils.Database, run: dict[str, Any]) -> int:
    """Insert one crawl run; ``errors`` may be a list. Returns the row id."""
    row = dict(run)
    if isinstance(row.get("errors"), list):
        row["errors"] = json.dumps(row["errors"], ensure_ascii=False)
    return db.table("crawl_runs").insert(row).last_pk
