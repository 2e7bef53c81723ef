"""The filtered-postings query behind feeds and digests.

A seeker sees open postings only (``closed_at`` is null), each job once (the canonical copy:
``duplicate_of`` is null; the ids of its copies come along so a digest can tell a job it already
sent under another board's id), newest first. "Newest" is when the job was published: the source's
``posted_at`` when it is an ISO date no later than when we first saw the posting, else ``first_seen``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import sqlite_utils

from store.database import StoreError
from store.filters import ANNUALISE, FeedFilter

# A posted_at SQLite can read as a date; anything else (free text, an epoch number, which julianday()
# would misread as a Julian day) falls back to first_seen.
_PUBLISHED = (
    "coalesce(min(case when p.posted_at glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' "
    "then julianday(p.posted_at) end, julianday(p.first_seen)), julianday(p.first_seen))"
)
_ANNUAL_SALARY = (
    "coalesce(p.salary_max, p.salary_min) * case p.salary_period "
    + " ".join(f"when '{period}' then {factor:g}" for period, factor in ANNUALISE.items())
    + " end"
)


def open_public_read_only(path: str | Path) -> sqlite_utils.Database:
    """The public database for reading; never creates a file where none is (a typo in --db would
    otherwise serve an empty feed)."""
    if not Path(path).is_file():
        raise StoreError(f"no database at {path}: run `himjobs crawl --db {path}` (or `himjobs demo`) first")
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        db = sqlite_utils.Database(conn)
        if not db["postings"].exists():
            raise StoreError(f"{path} has no postings table: is it a himjobs database?")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot be read as a himjobs database ({exc})") from None
    return db


def fts_query(keyword: str) -> str:
    """A keyword as an FTS5 query in which every word must occur; user text never reaches FTS syntax."""
    return " ".join(f'"{word}"' for word in re.findall(r"\w+", keyword))


def matching_postings(
    db: sqlite_utils.Database,
    filters: FeedFilter,
    *,
    limit: int | None = 100,
    first_seen_since: str | None = None,
) -> list[dict[str, Any]]:
    """Open, canonical postings matching ``filters``, newest first. Each row has the posting's
    columns plus ``published`` (UTC ISO), ``annual_salary``, ``copies`` (ids of its duplicates) and
    ``credentials`` as a list."""
    where = ["p.closed_at is null", "p.duplicate_of is null"]
    args: list[Any] = []
    for column in ("role", "seniority", "arrangement", "state"):
        values = getattr(filters, column)
        if values:
            where.append(f"p.{column} in ({', '.join('?' * len(values))})")
            args.extend(values)
    if filters.credential:
        where.append(f"exists (select 1 from json_each(coalesce(p.credentials, '[]')) c "
                     f"where c.value in ({', '.join('?' * len(filters.credential))}))")
        args.extend(filters.credential)
    if filters.min_salary is not None:
        # Pay in another currency cannot be compared with a US-dollar threshold.
        where.append(f"coalesce(p.salary_currency, 'USD') = 'USD' and {_ANNUAL_SALARY} >= ?")
        args.append(filters.min_salary)
    if filters.keyword:
        where.append("p.rowid in (select rowid from postings_fts where postings_fts match ?)")
        args.append(fts_query(filters.keyword))
    if first_seen_since:
        where.append("p.first_seen >= ?")
        args.append(first_seen_since)
    sql = (
        f"select p.*, strftime('%Y-%m-%dT%H:%M:%SZ', {_PUBLISHED}) as published, "
        f"{_ANNUAL_SALARY} as annual_salary, "
        "(select json_group_array(d.id) from postings d where d.duplicate_of = p.id) as copies "
        f"from postings p where {' and '.join(where)} order by published desc, p.id"
    )
    if limit is not None:
        sql += " limit ?"
        args.append(limit)
    rows = []
    for row in db.query(sql, args):
        row["copies"] = json.loads(row["copies"] or "[]")
        row["credentials"] = _json_list(row.get("credentials"))
        rows.append(row)
    return rows


def _json_list(raw: str | None) -> list[str]:
    try:
        value = json.loads(raw or "[]")
    except json.JSONDecodeError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []
