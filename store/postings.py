"""Upserting labelled postings and keeping their lifecycle.

One row per ``source:external_id``: a re-crawl updates the row in place (never a duplicate),
moves ``last_seen``, reopens a posting that had closed, and records every change of a tracked
field in ``posting_history``. Postings of a source that a *successful* crawl no longer returns
get ``closed_at``; a failed crawl closes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

import sqlite_utils

from store.database import POSTING_COLUMNS, write_transaction

# Changes to these are what an analyst asks about ("when did the pay change?").
TRACKED_FIELDS = (
    "title", "company", "location", "url", "salary_min", "salary_max", "salary_period",
    "role", "seniority", "arrangement", "employment_type", "credentials",
)
_JSON_COLUMNS = ("evidence", "credentials", "structured")
# Bookkeeping columns a re-crawl must not overwrite.
_KEEP_ON_UPDATE = ("first_seen", "closed_at", "duplicate_of")


@dataclass
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0


def to_row(posting: dict[str, Any], labels: dict[str, Any]) -> dict[str, Any]:
    """The ``postings`` row for a posting (``Posting.to_dict()``) and its labels (``label_postings``)."""
    confidence = labels.get("confidence") or {}
    row = {
        "id": posting["id"],
        "source": posting["source"],
        "external_id": str(posting["external_id"]),
        "url": posting.get("url") or "",
        "title": posting.get("title") or "",
        "company": posting.get("company") or "",
        "location": posting.get("location") or "",
        "description": posting.get("description") or "",
        "posted_at": posting.get("posted_at"),
        "remote_flag": posting.get("remote_flag"),
        "structured": posting.get("structured") or {},
        "role": labels.get("role"),
        "seniority": labels.get("seniority"),
        "arrangement": labels.get("arrangement"),
        "role_confidence": confidence.get("role"),
        "seniority_confidence": confidence.get("seniority"),
        "arrangement_confidence": confidence.get("arrangement"),
        "evidence": labels.get("evidence") or {},
        "credentials": labels.get("credentials") or [],
        "model_version": labels.get("model_version"),
    }
    for key in ("salary_min", "salary_max", "salary_period", "salary_currency", "employment_type", "education", "state"):
        row[key] = labels.get(key)
    return row


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k in POSTING_COLUMNS}
    for key in _JSON_COLUMNS:
        if key in out and not isinstance(out[key], str) and out[key] is not None:
            out[key] = json.dumps(out[key], sort_keys=True, ensure_ascii=False)
    return out


def upsert_postings(
    db: sqlite_utils.Database,
    source: str,
    rows: Iterable[dict[str, Any]],
    *,
    now: str,
    complete: bool,
    seen: bool = True,
) -> UpsertCounts:
    """Store one crawl's rows of ``source``. ``complete`` means the crawl read the whole board
    successfully, so postings it did not return have closed. ``seen=False`` updates stored rows
    (e.g. new labels) without counting them as seen again."""
    counts = UpsertCounts()
    returned: set[str] = set()
    table = db.table("postings")
    with write_transaction(db):
        for row in rows:
            new = _encode(row)
            returned.add(new["id"])
            old = next(iter(db.query("select * from postings where id = ?", [new["id"]])), None)
            if old is None:
                new.update(first_seen=now, last_seen=now, closed_at=None)
                table.insert(new)
                counts.new += 1
                continue
            changes = [(f, old.get(f), new.get(f)) for f in TRACKED_FIELDS if f in new and _differs(old.get(f), new.get(f))]
            for key in _KEEP_ON_UPDATE + ("last_seen",):
                new.pop(key, None)
            if seen:
                new["last_seen"] = now
                if old.get("closed_at"):
                    changes.append(("lifecycle", f"closed {old['closed_at']}", "reopened"))
                    new["closed_at"] = None
            table.update(new["id"], new)
            _record_history(db, new["id"], now, changes)
            if changes or any(_differs(old.get(k), v) for k, v in new.items() if k != "last_seen"):
                counts.updated += 1
            else:
                counts.unchanged += 1
        if complete:
            counts.closed = close_missing(db, source, returned, now=now)
    return counts


def close_missing(db: sqlite_utils.Database, source: str, seen: set[str], *, now: str) -> int:
    """Close the open postings of ``source`` that are not in ``seen``."""
    open_ids = [r["id"] for r in db.query("select id from postings where source = ? and closed_at is null", [source])]
    gone = [i for i in open_ids if i not in seen]
    for posting_id in gone:
        db.execute("update postings set closed_at = ? where id = ?", [now, posting_id])
        _record_history(db, posting_id, now, [("lifecycle", "open", "closed")])
    return len(gone)


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        return float(old) != float(new)
    return (old if old not in ("",) else None) != (new if new not in ("",) else None)


def _record_history(db: sqlite_utils.Database, posting_id: str, now: str, changes: list[tuple[str, Any, Any]]) -> None:
    if changes:
        db.table("posting_history").insert_all(
            {"posting_id": posting_id, "changed_at": now, "field": f, "old_value": _text(o), "new_value": _text(n)}
            for f, o, n in changes
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
