"""The crawl job: fetch sources, label what they returned, store it, record the run.

Each step hands the next plain data (DESIGN.md): scraper → classifier → store.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from classifier.predict import label_postings, model_version
from scraper.config import Config, SourceConfig
from scraper.crawl import crawl_sources
from scraper.fetcher import SqliteResponseCache
from store.database import utc_now
from store.duplicates import refresh_derived
from store.postings import UpsertCounts, to_row, upsert_postings
from store.runs import canary_reason, record_run


@dataclass
class RunReport:
    """What one source's crawl did, as stored in ``crawl_runs``."""

    source: str
    kind: str
    status: str
    fetched: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    requests: int = 0
    not_modified: int = 0
    error: str | None = None
    canary: str | None = None
    run_id: int | None = None

    def totals(self) -> dict[str, int]:
        """The run's counts, named as in ``crawl_runs``."""
        return {
            "fetched": self.fetched,
            "new": self.counts.new,
            "updated": self.counts.updated,
            "unchanged": self.counts.unchanged,
            "closed": self.counts.closed,
            "requests": self.requests,
            "not_modified": self.not_modified,
        }


def select_sources(config: Config, names: list[str] | None = None) -> list[SourceConfig]:
    if names:
        return [config.source(n) for n in names]
    return [s for s in config.sources if s.enabled]


def crawl(
    db: sqlite_utils.Database,
    config: Config,
    source_names: list[str] | None = None,
    *,
    progress: Any = None,
) -> list[RunReport]:
    """One crawl of the chosen sources (all enabled ones by default), stored in ``db``.

    ETags and bodies are kept in a file beside the database, so a board that has not changed since
    the last crawl answers 304 and costs almost nothing.
    """
    sources = select_sources(config, source_names)
    cache = SqliteResponseCache(http_cache_path(db))
    try:
        results = asyncio.run(crawl_sources(config, sources, progress=progress, cache=cache))
    finally:
        cache.close()
    reports = [store_result(db, result) for result in results]
    refresh_derived(db)  # normalised keys, cross-source duplicates, employers (store/duplicates.py)
    return reports


def http_cache_path(db: sqlite_utils.Database) -> str:
    """``jobs.db`` → ``jobs-http-cache.db``; an in-memory database gets an in-memory cache."""
    path = next((r[2] for r in db.execute("pragma database_list") if r[1] == "main"), "")
    if not path:
        return ":memory:"
    stem, dot, suffix = path.rpartition(".")
    return f"{stem}-http-cache.{suffix}" if dot else f"{path}-http-cache"


def store_result(db: sqlite_utils.Database, result: Any) -> RunReport:
    """Label and store one ``scraper.crawl.SourceResult`` and record its run."""
    report = RunReport(
        source=result.source,
        kind=result.kind,
        status="ok" if result.ok else "failed",
        fetched=len(result.postings),
        requests=result.requests,
        not_modified=result.not_modified,
        error=result.error,
    )
    if result.ok:
        postings = [p.to_dict() for p in result.postings]
        labels = label_postings(postings)
        rows = [to_row(p, l) for p, l in zip(postings, labels)]
        report.canary = canary_reason(db, result.source, len(rows))
        report.counts = upsert_postings(db, result.source, rows, now=result.finished_at, complete=True)
    report.run_id = record_run(
        db,
        {
            "source": result.source,
            "kind": result.kind,
            "started_at": result.started_at,
            "finished_at": result.finished_at,
            "status": report.status,
            **report.totals(),
            "errors": [result.error] if result.error else [],
            "canary": report.canary,
        },
    )
    return report


def relabel_stale(db: sqlite_utils.Database, batch_size: int = 2000) -> int:
    """Re-label stored postings whose labels came from another model version. Returns how many."""
    current = model_version()
    total = 0
    now = utc_now()
    while True:
        stale = list(
            db.query(
                "select * from postings where model_version is null or model_version != ? limit ?",
                [current, batch_size],
            )
        )
        if not stale:
            return total
        labels = label_postings(stale)
        by_source: dict[str, list[dict[str, Any]]] = {}
        for old, new in zip(stale, labels):
            by_source.setdefault(old["source"], []).append(to_row(old, new))
        for source, rows in by_source.items():
            upsert_postings(db, source, rows, now=now, complete=False, seen=False)
        total += len(stale)
