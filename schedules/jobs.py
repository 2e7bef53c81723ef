"""The scheduler's jobs, and the ``job_runs`` table that records every run of them.

APScheduler's job store pickles each job as a reference to a module-level function plus its
arguments, so every job here is a plain function of plain values (paths and a source name) that
opens what it needs itself. Each run writes one ``job_runs`` row (job, started_at, finished_at,
outcome ok|failed|skipped|flagged, counts, error, findings) in a single insert when it ends, so a
run cut short leaves no half-written row. A job never raises into the scheduler: whatever goes wrong
becomes that run's ``failed`` outcome and error.

Job ids: ``crawl:<source>``, ``relabel``, ``canary``, ``digest``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from scraper.config import load_config
from scraper.errors import ConfigError, HimjobsError
from store.database import open_db, utc_now

log = logging.getLogger("himjobs.jobs")
# open_db switches to WAL and ensures the schema; jobs starting together in one process would race
# on that first write ("database is locked"), so they take turns opening.
_open_lock = threading.Lock()
# Set by the scheduler when it is asked to stop: runs still waiting for a worker then end at once
# (recorded as skipped) so stopping waits only for the run in flight, not for a queue of crawls.
STOPPING = threading.Event()


@dataclass
class JobRun:
    """One run of a job, filled in while it runs and stored when it ends."""

    job: str
    started_at: str
    outcome: str = "ok"
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    findings: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        counts = " ".join(f"{k} {v}" for k, v in self.counts.items())
        line = f"{self.job}: {self.outcome}" + (f"  {counts}" if counts else "")
        if self.error:
            line += f"  error: {self.error}"
        for source, reason in self.findings.items():
            line += f"\n  {source}: {reason}"
        return line


@contextmanager
def recorded_run(db_path: str, job: str) -> Iterator[tuple[sqlite_utils.Database, JobRun]]:
    """Open the public database, yield it with a JobRun to fill, and store the run when it ends.

    An exception inside the block is recorded as the run's error and not re-raised: one bad run
    must not stop the scheduler or the other jobs.
    """
    with _open_lock:
        db = open_db(db_path)
    run = JobRun(job=job, started_at=utc_now())
    try:
        yield db, run
    except Exception as exc:
        run.outcome = "failed"
        run.error = str(exc) if isinstance(exc, HimjobsError) else f"{type(exc).__name__}: {exc}"
        log.warning("%s failed: %s", job, run.error)
    finally:
        db.table("job_runs").insert(
            {
                "job": run.job,
                "started_at": run.started_at,
                "finished_at": utc_now(),
                "outcome": run.outcome,
                "counts": json.dumps(run.counts),
                "error": run.error,
                "findings": json.dumps(run.findings, ensure_ascii=False),
            }
        )
        db.conn.close()


def skipped_for_stop(db_path: str, job: str) -> str | None:
    """Record ``job`` as skipped and return its summary if the scheduler is stopping, else None."""
    if not STOPPING.is_set():
        return None
    with recorded_run(db_path, job) as (_, run):
        run.outcome = "skipped"
        run.error = "not started: the scheduler was stopping"
    return run.summary()


def lock_path(db_path: str | Path, source: str) -> Path:
    """The lock file that one crawl of ``source`` into ``db_path`` holds while it runs."""
    db = Path(db_path)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", source)[:60]
    digest = hashlib.sha1(source.encode()).hexdigest()[:8]  # names that sanitise alike stay apart
    return db.with_name(f"{db.stem}-locks") / f"crawl-{safe}-{digest}.lock"


@contextmanager
def source_lock(db_path: str | Path, source: str) -> Iterator[bool]:
    """Hold the per-source crawl lock if it is free; yields whether it was acquired.

    The scheduler never overlaps two runs of one job (max_instances=1), but a manual
    ``himjobs crawl`` is another process: both take this lock (an flock, released by the OS if a
    process dies), and whichever comes second skips rather than crawling the same board twice.
    """
    path = lock_path(db_path, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def crawl_source_job(config_path: str | None, db_path: str, source: str) -> str:
    """Crawl one source, label what it returned and store it (schedules.pipeline.crawl)."""
    from schedules.pipeline import crawl

    if skipped := skipped_for_stop(db_path, f"crawl:{source}"):
        return skipped
    with recorded_run(db_path, f"crawl:{source}") as (db, run):
        with source_lock(db_path, source) as acquired:
            if not acquired:
                run.outcome = "skipped"
                run.error = f"another crawl of {source!r} holds {lock_path(db_path, source)} (a manual `himjobs crawl`?)"
                return run.summary()
            # The config is read at every run so edited source options apply without a restart;
            # interval changes need a restart (the scheduler reconciles its jobs then).
            config = load_config(config_path)
            (report,) = crawl(db, config, [source])
            run.counts = report.totals()
            if report.status != "ok":
                run.outcome = "failed"
                run.error = report.error
            if report.canary:
                run.findings = {source: report.canary}
    return run.summary()


def relabel_job(db_path: str) -> str:
    """Re-label stored postings whose labels came from an older model version."""
    from schedules.pipeline import relabel_stale

    if skipped := skipped_for_stop(db_path, "relabel"):
        return skipped
    with recorded_run(db_path, "relabel") as (db, run):
        run.counts = {"relabelled": relabel_stale(db)}
    return run.summary()


def canary_job(config_path: str | None, db_path: str) -> str:
    """Check every enabled source for staleness and quiet breakage; record what it finds."""
    from schedules.status import canary_findings

    if skipped := skipped_for_stop(db_path, "canary"):
        return skipped
    with recorded_run(db_path, "canary") as (db, run):
        config = load_config(config_path)
        run.findings = canary_findings(db, config)
        checked = sum(1 for s in config.sources if s.enabled)
        run.counts = {"checked": checked, "flagged": len(run.findings)}
        if run.findings:
            run.outcome = "flagged"
    return run.summary()


def digest_job(db_path: str, private_db_path: str) -> str:
    """Send the digests that are due (each subscriber's local hour), over SMTP from the environment."""
    if skipped := skipped_for_stop(db_path, "digest"):
        return skipped
    with recorded_run(db_path, "digest") as (db, run):
        subscribers = active_subscribers(private_db_path)
        run.counts = {"subscribers": subscribers}
        if subscribers:
            from feeds.smtp import SmtpSender

            try:
                sender = SmtpSender.from_env()
            except ConfigError as exc:
                raise ConfigError(f"cannot send digests: {exc}") from None
            from feeds.digest import run_digest

            result = run_digest(db_path, private_db_path, sender=sender, due_only=True)
            run.counts.update(sent=result.sent, failed=result.failed, skipped=result.skipped)
            if result.failed:
                run.outcome = "failed"
                run.error = "; ".join(str(e) for e in result.errors) or f"{result.failed} digests failed"
    return run.summary()


def active_subscribers(private_db_path: str | Path) -> int:
    """How many active subscribers the private database holds (0 if it does not exist yet)."""
    path = Path(private_db_path)
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("select count(*) from subscribers where active").fetchone()[0]
    except sqlite3.OperationalError:  # no subscribers table yet: nobody has subscribed
        return 0
    finally:
        conn.close()
