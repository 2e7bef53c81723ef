"""What the operator needs to know, read from the stores without starting a scheduler.

Per source: the last crawl and its counts; whether it is failing (its last run failed), stale (no
successful crawl within ``[schedule] stale_after``), flagged by the canary (its last successful run
returned nothing or far fewer postings than usual, store.runs), not scheduled, or overdue (its next
run time passed more than ``OVERDUE_AFTER`` ago, so no scheduler is running it); and its next run,
read straight from the job store's table. For digests: the last digest run and the next one.

``Status.problems`` lists everything that needs the operator; ``himjobs status`` exits 1 when it is
not empty, so the command works as a health check.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils

from scraper.config import Config

JOBSTORE_TABLE = "apscheduler_jobs"
# A live scheduler moves a job's next run time forward as soon as it submits the run, so a next run
# time this far in the past means nothing is running the schedule.
OVERDUE_AFTER = timedelta(seconds=60)
_TIME = "%Y-%m-%dT%H:%M:%SZ"


def parse_time(value: str) -> datetime:
    return datetime.strptime(value, _TIME).replace(tzinfo=timezone.utc)


def format_time(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).strftime(_TIME) if value else None


def format_duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass
class SourceStatus:
    name: str
    kind: str
    enabled: bool
    interval: str
    last_run: dict[str, Any] | None = None  # the latest crawl_runs row, errors decoded
    last_ok_at: str | None = None
    next_run: str | None = None
    failing: str | None = None  # the last run's error
    stale: str | None = None
    canary: str | None = None
    scheduling: str | None = None  # "not scheduled" / "overdue since …"

    @property
    def problems(self) -> list[str]:
        if not self.enabled:
            return []
        found = [("failing", self.failing), ("stale", self.stale), ("canary", self.canary), ("schedule", self.scheduling)]
        return [f"{what}: {detail}" for what, detail in found if detail]

    @property
    def state(self) -> str:
        if not self.enabled:
            return "disabled"
        if self.failing:
            return "FAILING"
        if self.stale:
            return "STALE"
        if self.canary:
            return "CANARY"
        if self.scheduling:
            return "UNSCHEDULED" if self.scheduling == "not scheduled" else "OVERDUE"
        return "ok" if self.last_run else "pending"


@dataclass
class DigestStatus:
    subscribers: int = 0
    last_run: dict[str, Any] | None = None  # the latest job_runs row for "digest"
    next_check: str | None = None
    next_due: str | None = None  # when the earliest subscriber's local hour next comes round
    problems: list[str] = field(default_factory=list)


@dataclass
class Status:
    sources: list[SourceStatus]
    digest: DigestStatus
    last_canary: dict[str, Any] | None
    general: list[str]  # problems not tied to one source

    @property
    def problems(self) -> list[str]:
        per_source = [f"{s.name}: {p}" for s in self.sources for p in s.problems]
        return self.general + per_source + [f"digest: {p}" for p in self.digest.problems]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.problems,
            "problems": self.problems,
            "sources": [asdict(s) | {"state": s.state, "problems": s.problems} for s in self.sources],
            "digest": asdict(self.digest),
            "last_canary": self.last_canary,
        }


def read_next_run_times(jobstore_path: str | Path) -> dict[str, datetime | None] | None:
    """Job id → next run time from APScheduler's SQLAlchemyJobStore table (None = paused).

    Read with plain sqlite3 in read-only mode: a second scheduler must never open a job store
    that a running one owns. Returns None when there is no job store yet.
    """
    path = Path(jobstore_path)
    if not path.exists():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(f"select id, next_run_time from {JOBSTORE_TABLE}").fetchall()
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()
    return {job_id: datetime.fromtimestamp(ts, timezone.utc) if ts is not None else None for job_id, ts in rows}


def open_readonly(db_path: str | Path) -> sqlite_utils.Database | None:
    path = Path(db_path)
    if not path.exists():
        return None
    return sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))


def _latest(db: sqlite_utils.Database, table: str, column: str, value: str, extra: str = "") -> dict[str, Any] | None:
    if not db[table].exists():
        return None
    rows = list(db.query(f"select * from {table} where {column} = ? {extra} order by started_at desc, id desc limit 1", [value]))
    return rows[0] if rows else None


def stale_reason(db: sqlite_utils.Database, source: str, stale_after: float, now: datetime) -> str | None:
    """Why ``source`` counts as stale: no successful crawl within ``stale_after`` seconds."""
    row = next(db.query(
        "select max(case when status = 'ok' then finished_at end) as last_ok, min(started_at) as first "
        "from crawl_runs where source = ?", [source]))
    limit = timedelta(seconds=stale_after)
    if row["last_ok"]:
        if now - parse_time(row["last_ok"]) > limit:
            return f"no successful crawl since {row['last_ok']} (stale_after {format_duration(stale_after)})"
        return None
    if row["first"] and now - parse_time(row["first"]) > limit:
        return f"no successful crawl since the first attempt at {row['first']} (stale_after {format_duration(stale_after)})"
    return None


def canary_reason(db: sqlite_utils.Database, source: str) -> str | None:
    """The canary's note on the latest successful crawl of ``source`` (store.runs.canary_reason)."""
    row = _latest(db, "crawl_runs", "source", source, "and status = 'ok'")
    return row["canary"] if row else None


def canary_findings(db: sqlite_utils.Database, config: Config, now: datetime | None = None) -> dict[str, str]:
    """Source → what is wrong, for every enabled source that is stale or whose last good run looked broken."""
    now = now or datetime.now(timezone.utc)
    findings: dict[str, str] = {}
    for source in config.sources:
        if not source.enabled:
            continue
        reasons = [r for r in (stale_reason(db, source.name, config.schedule["stale_after"], now),
                               canary_reason(db, source.name)) if r]
        if reasons:
            findings[source.name] = "; ".join(reasons)
    return findings


def source_status(
    db: sqlite_utils.Database | None,
    config: Config,
    name: str,
    next_runs: dict[str, datetime | None] | None,
    now: datetime,
) -> SourceStatus:
    source = config.source(name)
    status = SourceStatus(name=name, kind=source.kind, enabled=source.enabled,
                          interval=format_duration(config.interval_for(source)))
    if db is not None and db["crawl_runs"].exists():
        last = _latest(db, "crawl_runs", "source", name)
        if last:
            last["errors"] = json.loads(last["errors"] or "[]")
            status.last_run = last
            if last["status"] != "ok":
                status.failing = "; ".join(last["errors"]) or "failed without an error message"
        last_ok = _latest(db, "crawl_runs", "source", name, "and status = 'ok'")
        status.last_ok_at = last_ok["finished_at"] if last_ok else None
        # A run can also fail before it reaches crawl_runs (bad config, a crash while storing).
        job = _latest(db, "job_runs", "job", f"crawl:{name}")
        if job and job["outcome"] == "failed" and (not last or job["started_at"] >= last["started_at"]):
            status.failing = job["error"] or status.failing
        status.stale = stale_reason(db, name, config.schedule["stale_after"], now)
        status.canary = canary_reason(db, name)
    if next_runs is not None and source.enabled:
        job_id = f"crawl:{name}"
        if job_id not in next_runs:
            status.scheduling = "not scheduled"
        else:
            next_run = next_runs[job_id]
            status.next_run = format_time(next_run) if next_run else "paused"
            if next_run and now - next_run > OVERDUE_AFTER:
                status.scheduling = f"overdue since {format_time(next_run)}: is `himjobs schedule` running?"
    return status


def next_digest_due(now: datetime, zone: str, hour: int, last_digest_on: str | None) -> datetime | None:
    """When a subscriber's digest is next due (feeds.digest.is_due): ``now`` if their local hour has
    come today and today's digest has not gone out, else their hour on the next day it falls due.
    None if the zone is unknown."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    local = now.astimezone(tz)
    due = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if local >= due:
        if (last_digest_on or "") < local.date().isoformat():
            return now
        due += timedelta(days=1)  # wall-clock arithmetic: the same local hour tomorrow, across DST
    return due.astimezone(timezone.utc)


def digest_status(
    db: sqlite_utils.Database | None,
    private_db_path: str | Path,
    digest_check: float,
    next_runs: dict[str, datetime | None] | None,
    now: datetime,
) -> DigestStatus:
    result = DigestStatus()
    if db is not None:
        last = _latest(db, "job_runs", "job", "digest")
        if last:
            last["counts"] = json.loads(last["counts"] or "{}")
            result.last_run = last
            if last["outcome"] == "failed":
                result.problems.append(f"last run at {last['started_at']} failed: {last['error']}")
    subscribers: list[dict[str, Any]] = []
    private = open_readonly(private_db_path)
    if private is not None and private["subscribers"].exists():
        subscribers = list(private.query("select * from subscribers where active"))
        private.conn.close()
    result.subscribers = len(subscribers)
    next_check = next_runs.get("digest") if next_runs else None
    result.next_check = format_time(next_check)
    if next_runs is not None and "digest" not in next_runs:
        result.problems.append("the digest job is not scheduled")
    dues = [d for d in (next_digest_due(now, s["timezone"] or "UTC", int(s["hour"] or 0), s.get("last_digest_on"))
                        for s in subscribers) if d]
    if dues:
        due = min(dues)
        if next_check and due > next_check:  # it goes out at the first digest check after that hour
            checks = -(-(due - next_check).total_seconds() // digest_check)
            due = next_check + timedelta(seconds=checks * digest_check)
        result.next_due = format_time(max(due, next_check) if next_check else due)
    return result


def collect_status(
    config: Config,
    db_path: str | Path,
    jobstore_path: str | Path,
    private_db_path: str | Path,
    now: datetime | None = None,
) -> Status:
    now = now or datetime.now(timezone.utc)
    general: list[str] = []
    db = open_readonly(db_path)
    if db is None:
        general.append(f"no database at {db_path}: nothing has been crawled yet")
    next_runs = read_next_run_times(jobstore_path)
    if next_runs is None:
        general.append(f"no scheduler job store at {jobstore_path}: start `himjobs schedule`")
    sources = [source_status(db, config, s.name, next_runs, now) for s in config.sources]
    digest = digest_status(db, private_db_path, config.schedule["digest_check"], next_runs, now)
    last_canary = None
    if db is not None:
        last_canary = _latest(db, "job_runs", "job", "canary")
        if last_canary:
            last_canary["findings"] = json.loads(last_canary["findings"] or "{}")
    if db is not None:
        db.conn.close()
    return Status(sources=sources, digest=digest, last_canary=last_canary, general=general)


def render_table(status: Status) -> str:
    """The status as a plain-text table with each problem spelled out under it."""
    name_width = max([len("source"), *(len(s.name) for s in status.sources)])
    kind_width = max([len("kind"), *(len(s.kind) for s in status.sources)])
    header = (f"{'source':<{name_width}}  {'kind':<{kind_width}}  {'state':<11} {'last crawl':<20} "
              f"{'fetched':>7} {'new':>5} {'closed':>6}  next run")
    lines = [header, "-" * (len(header) + 12)]
    for s in status.sources:
        run = s.last_run or {}
        lines.append(
            f"{s.name:<{name_width}}  {s.kind:<{kind_width}}  {s.state:<11} {run.get('finished_at', '-'):<20} "
            f"{run.get('fetched', '-'):>7} {run.get('new', '-'):>5} {run.get('closed', '-'):>6}  {s.next_run or '-'}"
        )
        for problem in s.problems:
            lines.append(f"{'':<4}{problem}")
    d = status.digest
    lines.append("")
    last = d.last_run
    last_text = (f"{last['started_at']} {last['outcome']}"
                 + "".join(f" {k} {v}" for k, v in last["counts"].items())) if last else "never"
    lines.append(f"digest: {d.subscribers} active subscriber(s); last run {last_text}; "
                 f"next check {d.next_check or '-'}; next due {d.next_due or '-'}")
    if status.last_canary:
        c = status.last_canary
        lines.append(f"canary: last check {c['started_at']}, {len(c['findings'])} source(s) flagged")
    lines.append("")
    problems = status.problems
    if problems:
        lines.append(f"{len(problems)} problem(s) need the operator:")
        lines.extend(f"  - {p}" for p in problems)
    else:
        lines.append("all healthy")
    return "\n".join(lines)
