"""The long-running scheduler behind ``himjobs schedule`` (APScheduler 3, BlockingScheduler).

Settings come from the ``[schedule]`` table of the config file (scraper.config):

    crawl_interval  how often each source is crawled (a source's own ``interval`` overrides it);
                    the relabel and canary jobs run at this interval too
    jitter          each crawl fires up to this much later than its interval says, so sources that
                    share an interval (and often a host) do not all fire at once
    misfire_grace   a run found late by up to this much still runs (after a restart, a busy pool)
    digest_check    how often the digest job looks for subscribers whose local hour has come
    stale_after     used by the canary job (schedules.status)

Jobs (schedules.jobs): ``crawl:<source>`` per enabled source, ``relabel``, ``canary``, ``digest``.
They live in a SQLAlchemyJobStore in their own SQLite file (default: beside the database,
``himjobs.db`` → ``himjobs-scheduler.db``), so the schedule survives restarts. At start the store is
reconciled with the config: new jobs are added (first run now, spread over ``jitter``), jobs no
longer configured are removed, jobs whose interval or jitter changed are rescheduled, and every
other job keeps its stored next run time. APScheduler allows one scheduler per job store: do not
run two ``himjobs schedule`` on the same one.

SIGTERM and SIGINT stop the scheduler once the job in flight has finished and committed; runs still
waiting for a worker are recorded as skipped and run at their next interval.
"""

from __future__ import annotations

import random
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    EVENT_SCHEDULER_STARTED,
    JobExecutionEvent,
    JobSubmissionEvent,
    SchedulerEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from schedules import jobs
from schedules.status import JOBSTORE_TABLE, format_time
from scraper.config import Config, load_config
from store.database import open_db
from store.private import private_db_path

# Executors: crawls, relabel and canary write to the public database one at a time (SQLite has one
# writer, and concurrent write transactions from one process end in "database is locked"); running
# crawls one after another also keeps the fetcher's per-host politeness whole, since each crawl has
# its own Fetcher. Digests get their own worker so a long crawl never delays a subscriber's hour.
WRITER = "default"
DIGEST = "digest"


def default_jobstore_path(db_path: str | Path) -> Path:
    db = Path(db_path)
    return db.with_name(f"{db.stem}-scheduler.db")


@dataclass(frozen=True)
class JobSpec:
    """One job as the config wants it."""

    id: str
    func: Callable[..., Any]
    args: tuple[Any, ...]
    interval: float
    jitter: float = 0.0
    executor: str = WRITER


def job_specs(config: Config, config_path: str | None, db_path: str, private_path: str) -> list[JobSpec]:
    schedule = config.schedule
    jitter = schedule["jitter"]
    specs = [
        JobSpec(f"crawl:{s.name}", jobs.crawl_source_job, (config_path, db_path, s.name), config.interval_for(s), jitter)
        for s in config.sources
        if s.enabled
    ]
    specs += [
        JobSpec("relabel", jobs.relabel_job, (db_path,), schedule["crawl_interval"], jitter),
        JobSpec("canary", jobs.canary_job, (config_path, db_path), schedule["crawl_interval"], jitter),
        # No jitter: a digest should go out as close to the subscriber's hour as the check allows.
        JobSpec("digest", jobs.digest_job, (db_path, private_path), schedule["digest_check"], executor=DIGEST),
    ]
    return specs


def job_defaults(config: Config) -> dict[str, Any]:
    return {
        # After downtime, run a missed job once, not once per missed interval: every crawl reads
        # the whole board, so a second catch-up run would only repeat the first.
        "coalesce": True,
        # One run of a job at a time: two crawls of one source would fetch the same board twice
        # and race on its rows; a long crawl makes the next tick skip, not pile up.
        "max_instances": 1,
        # A run found late within this grace still runs (a restart, a busy pool); later than
        # that it is skipped and the next interval takes over.
        "misfire_grace_time": max(1, int(config.schedule["misfire_grace"])),  # APScheduler wants a positive int
    }


def make_scheduler(jobstore_path: str | Path, config: Config, scheduler_class: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    store = SQLAlchemyJobStore(url=f"sqlite:///{Path(jobstore_path).resolve()}", tablename=JOBSTORE_TABLE)
    return scheduler_class(
        jobstores={"default": store},
        executors={WRITER: ThreadPoolExecutor(1), DIGEST: ThreadPoolExecutor(1)},
        job_defaults=job_defaults(config),
        timezone=timezone.utc,
    )


@dataclass
class Reconciled:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rescheduled: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{len(v)} {k}" + (f" ({', '.join(v)})" if v and k != "kept" else "")
                 for k, v in vars(self).items()]
        return "jobs: " + ", ".join(parts)


def reconcile(
    scheduler: BaseScheduler, specs: list[JobSpec], defaults: dict[str, Any], now: datetime | None = None
) -> Reconciled:
    """Make a started (usually paused) scheduler's stored jobs match ``specs``, keeping next run times.

    Only a changed trigger (interval or jitter) resets a job's next run time; other changes
    (arguments such as the database path, ``defaults`` from job_defaults) are applied in place.
    """
    now = now or datetime.now(timezone.utc)
    wanted = {spec.id: spec for spec in specs}
    result = Reconciled()
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
            result.removed.append(job.id)
    stored = {job.id: job for job in scheduler.get_jobs()}
    for spec in specs:
        job = stored.get(spec.id)
        if job is None:
            scheduler.add_job(
                spec.func, IntervalTrigger(seconds=spec.interval, jitter=spec.jitter or None, timezone=timezone.utc),
                id=spec.id, name=spec.id, args=spec.args, executor=spec.executor, replace_existing=True,
                # A new job runs soon rather than a whole interval from now, spread over the jitter.
                next_run_time=now + timedelta(seconds=random.uniform(0, spec.jitter)),
            )
            result.added.append(spec.id)
            continue
        trigger = job.trigger
        if (not isinstance(trigger, IntervalTrigger) or trigger.interval_length != spec.interval
                or (trigger.jitter or 0) != spec.jitter):
            scheduler.reschedule_job(spec.id, trigger=IntervalTrigger(
                seconds=spec.interval, jitter=spec.jitter or None, timezone=timezone.utc))
            result.rescheduled.append(spec.id)
        changes = {key: value for key, value in {
            "func": spec.func, "args": spec.args, "executor": spec.executor, "coalesce": defaults["coalesce"],
            "max_instances": defaults["max_instances"], "misfire_grace_time": defaults["misfire_grace_time"],
        }.items() if getattr(job, key) != value}
        if changes:
            scheduler.modify_job(spec.id, **changes)
            if spec.id not in result.rescheduled:
                result.updated.append(spec.id)
        elif spec.id not in result.rescheduled:
            result.kept.append(spec.id)
    return result


def run_scheduler(
    config_path: str | None,
    db_path: str,
    jobstore_path: str | Path | None = None,
    private_path: str | None = None,
    echo: Callable[[str], None] = print,
) -> None:
    """Run every job on its schedule until SIGTERM or SIGINT; returns once running jobs have finished."""
    config = load_config(config_path)
    db_path = str(Path(db_path).resolve())  # jobs keep their arguments across restarts and working directories
    config_file = str(Path(config_path).resolve()) if config_path else None
    private = str(private_db_path(db_path, private_path).resolve())
    store_path = Path(jobstore_path) if jobstore_path else default_jobstore_path(db_path)
    specs = job_specs(config, config_file, db_path, private)
    open_db(db_path).conn.close()  # a bad database file stops here; the schema exists before jobs start
    scheduler = make_scheduler(store_path, config)
    started = datetime.now(timezone.utc)
    stopper: list[threading.Thread] = []
    failure: list[BaseException] = []

    def stamp(line: str) -> None:
        echo(f"{format_time(datetime.now(timezone.utc))} {line}")

    def on_started(event: SchedulerEvent) -> None:
        try:
            stamp(reconcile(scheduler, specs, job_defaults(config)).summary())
            for job in sorted(scheduler.get_jobs(), key=lambda j: j.id):
                stamp(f"{job.id}: every {job.trigger.interval_length:g}s, next run {format_time(job.next_run_time)}")
            scheduler.resume()
        except Exception as exc:  # reported by run_scheduler once start() returns
            failure.append(exc)
            scheduler.shutdown(wait=False)

    def on_submitted(event: JobSubmissionEvent) -> None:
        due = event.scheduled_run_times[-1]
        if due < started:
            stamp(f"{event.job_id}: catching up on the run due {format_time(due)}, missed while the scheduler "
                  "was down (missed runs are coalesced into one)")

    def on_finished(event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            stamp(f"{event.job_id}: skipped the run due {format_time(event.scheduled_run_time)}: later than misfire_grace")
        elif event.exception is not None:
            stamp(f"{event.job_id}: could not record its run: {event.exception!r}")
        else:
            stamp(str(event.retval))

    def stop() -> None:
        # Runs in its own thread, not in the signal handler: the scheduler's locks make it wait for
        # the main loop to finish its current pass. The job store is detached first because
        # APScheduler makes one more pass after shutdown wakes the main loop; with the store still
        # attached that pass would advance a due job's next run time without running it, and log
        # the known "cannot schedule new futures after shutdown" error.
        scheduler.remove_jobstore("default")
        scheduler.shutdown(wait=True)  # returns once running jobs have finished and committed

    def on_signal(signum: int, frame: Any) -> None:
        if stopper:  # already stopping; a second Ctrl-C does not cut a running job short
            return
        jobs.STOPPING.set()
        stamp(f"{signal.Signals(signum).name}: stopping once the running job has finished")
        thread = threading.Thread(target=stop, name="himjobs-stop")
        stopper.append(thread)
        thread.start()

    scheduler.add_listener(on_started, EVENT_SCHEDULER_STARTED)
    scheduler.add_listener(on_submitted, EVENT_JOB_SUBMITTED)
    scheduler.add_listener(on_finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    stamp(f"scheduler starting: {len(specs)} jobs, job store {store_path}, database {db_path}")
    try:
        scheduler.start(paused=True)  # blocks; on_started reconciles the store, then resumes
        for thread in stopper:
            thread.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failure:
        raise failure[0]
    stamp("scheduler stopped")
