"""``himjobs schedule`` run as a real process against boards replayed on 127.0.0.1, and its jobs.

The scheduler persists its jobs in an SQLite job store, so these tests check what an operator relies
on across process lifetimes: runs recorded in crawl_runs and job_runs, a clean exit on SIGTERM with
a consistent database, a schedule that survives a restart, and one catch-up run (not one per missed
interval) after downtime.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner
from conftest import free_port

from schedules import jobs
from schedules.cli import main
from schedules.scheduler import JobSpec, job_defaults, job_specs, make_scheduler, reconcile
from schedules.status import read_next_run_times
from scraper.config import load_config
from scraper.replay import ReplayServer, Route
from store.database import open_db, utc_now
from store.runs import record_run

RECORDED = Path(__file__).resolve().parent.parent / "scraper" / "recorded"
# A real recorded Ashby board (12 jobs, a board name with a space); small, so each crawl is quick.
BOARD = "Iodine Software"
PAYLOAD = RECORDED / "ashby" / "job-board_Iodine_Software.includeCompensation.json"
HIMJOBS = Path(sys.executable).with_name("himjobs")  # the venv's console script


def listed_jobs() -> int:
    """How many postings the recorded board lists (Ashby hides jobs with isListed false)."""
    jobs_ = json.loads(PAYLOAD.read_bytes())["jobs"]
    return sum(1 for job in jobs_ if job.get("isListed", True) is not False)


def ashby_routes() -> list[Route]:
    return [Route("GET", "/posting-api/job-board/Iodine%20Software", PAYLOAD.read_bytes())]


def write_config(path: Path, base_url: str, sources: dict[str, str | None], crawl_interval: str = "2s",
                 digest_check: str = "1h", bases: dict[str, str] | None = None) -> Path:
    """A config with fast fetch settings; ``sources`` maps name -> own interval (or None)."""
    lines = [
        "[fetch]", 'per_host_delay = "0s"', 'backoff_base = "0s"', "max_retries = 0", 'timeout = "5s"', "",
        "[schedule]", f'crawl_interval = "{crawl_interval}"', 'jitter = "0s"', 'misfire_grace = "1h"',
        f'digest_check = "{digest_check}"', 'stale_after = "1d"', "",
    ]
    for name, interval in sources.items():
        lines += ["[[source]]", f'name = "{name}"', 'kind = "ashby"', f'board = "{BOARD}"',
                  f'base_url = "{(bases or {}).get(name, base_url)}"']
        if interval:
            lines.append(f'interval = "{interval}"')
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


class SchedulerProcess:
    """``himjobs schedule`` as a child process, its output in files (a full pipe would block it)."""

    def __init__(self, config: Path, db: Path, out_dir: Path, label: str):
        self.stdout_path = out_dir / f"{label}.out"
        self.stderr_path = out_dir / f"{label}.err"
        self.proc = subprocess.Popen(
            [str(HIMJOBS), "schedule", "--config", str(config), "--db", str(db)],
            stdout=self.stdout_path.open("w"), stderr=self.stderr_path.open("w"), cwd=out_dir,
        )

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"scheduler exited ({self.proc.returncode}) before {what}:\n{self.stdout}\n{self.stderr}")
            if condition():
                return
            time.sleep(0.1)
        pytest.fail(f"timed out waiting for {what}:\n{self.stdout}\n{self.stderr}")

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


@contextmanager
def scheduler_process(config: Path, db: Path, out_dir: Path, label: str = "scheduler") -> Iterator[SchedulerProcess]:
    process = SchedulerProcess(config, db, out_dir, label)
    try:
        yield process
    finally:
        if process.proc.poll() is None:  # never leave a scheduler running after a test
            process.proc.kill()
            process.proc.wait()


def count(db: Path, sql: str, *params: object) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchone()[0]
    except sqlite3.OperationalError:  # the scheduler has not created the tables yet
        return 0
    finally:
        conn.close()


def crawl_runs(db: Path, source: str, status: str = "ok") -> int:
    return count(db, "select count(*) from crawl_runs where source = ? and status = ?", source, status)


def job_runs(db: Path, job: str) -> int:
    return count(db, "select count(*) from job_runs where job = ?", job)


def test_schedule_crawls_on_its_interval_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    with ReplayServer(ashby_routes()) as server:
        config = write_config(tmp_path / "sources.toml", server.url, {"iodine": None})
        with scheduler_process(config, db, tmp_path) as scheduler:
            scheduler.wait_for(lambda: crawl_runs(db, "iodine") >= 2 and job_runs(db, "crawl:iodine") >= 2,
                               "two crawls of iodine")
            assert scheduler.terminate() == 0, scheduler.stderr
    assert "scheduler stopped" in scheduler.stdout
    # APScheduler's shutdown race and job tracebacks stay out of the operator's face.
    assert "Traceback" not in scheduler.stderr and "ERROR" not in scheduler.stderr, scheduler.stderr

    conn = sqlite3.connect(db)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    # Every recorded run is complete: a run is written in one insert when it ends.
    assert conn.execute("select count(*) from job_runs where finished_at is null or outcome is null").fetchone()[0] == 0
    assert conn.execute("select count(*) from crawl_runs where finished_at is null or status != 'ok'").fetchone()[0] == 0
    runs = conn.execute("select outcome, counts from job_runs where job = 'crawl:iodine'").fetchall()
    assert all(outcome == "ok" and json.loads(c)["fetched"] == listed_jobs() for outcome, c in runs)
    # Crawling the same board again and again stores each posting once, and closes none of them.
    assert conn.execute("select count(*) from postings where source = 'iodine' and closed_at is null").fetchone()[0] \
        == listed_jobs()
    assert conn.execute("select count(*) from postings").fetchone()[0] == listed_jobs()
    # The other jobs ran too, each recorded.
    for job in ("relabel", "canary", "digest"):
        assert conn.execute("select outcome from job_runs where job = ? order by id limit 1", [job]).fetchone() == ("ok",)
    conn.close()

    status = CliRunner().invoke(main, ["status", "--config", str(config), "--db", str(db)])
    assert status.exit_code == 0, status.output
    assert "all healthy" in status.output
    assert status.output.splitlines()[2].split()[:3] == ["iodine", "ashby", "ok"]


def test_restart_keeps_the_schedule_and_coalesces_missed_runs(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    store = tmp_path / "jobs-scheduler.db"
    with ReplayServer(ashby_routes()) as server:
        config = write_config(tmp_path / "sources.toml", server.url, {"iodine": None, "hourly": "1h"})
        with scheduler_process(config, db, tmp_path, "first") as first:
            first.wait_for(lambda: crawl_runs(db, "iodine") >= 1 and crawl_runs(db, "hourly") >= 1, "first crawls")
            assert first.terminate() == 0, first.stderr
        before = read_next_run_times(store)
        crawls_before = crawl_runs(db, "hourly")
        # Stay down for two of iodine's 2 s intervals.
        time.sleep(max(0.0, (before["crawl:iodine"] - datetime.now(timezone.utc)).total_seconds()) + 2.5)
        with scheduler_process(config, db, tmp_path, "second") as second:
            second.wait_for(lambda: "crawl:iodine: ok" in second.stdout, "the catch-up crawl")
            after = read_next_run_times(store)
            assert second.terminate() == 0, second.stderr
    # The unchanged hourly job kept its stored next run time; it did not run again on restart.
    assert after["crawl:hourly"] == before["crawl:hourly"]
    assert crawl_runs(db, "hourly") == crawls_before
    assert "0 added" in second.stdout and "0 rescheduled" in second.stdout
    # coalesce=True: the two or more runs missed while down became exactly one catch-up run.
    catch_ups = [line for line in second.stdout.splitlines() if "crawl:iodine: catching up" in line]
    assert len(catch_ups) == 1, second.stdout


def test_status_reports_a_failing_source_with_its_error_and_exits_nonzero(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    with ReplayServer(ashby_routes()) as server:
        refused = f"http://127.0.0.1:{free_port()}"
        config = write_config(tmp_path / "sources.toml", server.url, {"iodine": None, "broken": None},
                              bases={"broken": refused})
        with scheduler_process(config, db, tmp_path) as scheduler:
            scheduler.wait_for(lambda: crawl_runs(db, "broken", "failed") >= 1 and crawl_runs(db, "iodine") >= 1,
                               "a failed and a good crawl")
            assert scheduler.terminate() == 0, scheduler.stderr
    result = CliRunner().invoke(main, ["status", "--config", str(config), "--db", str(db), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    by_name = {s["name"]: s for s in report["sources"]}
    assert by_name["iodine"]["state"] == "ok" and by_name["iodine"]["problems"] == []
    assert by_name["broken"]["state"] == "FAILING"
    assert "127.0.0.1" in by_name["broken"]["failing"], by_name["broken"]["failing"]
    assert report["problems"] == [f"broken: failing: {by_name['broken']['failing']}"]
    table = CliRunner().invoke(main, ["status", "--config", str(config), "--db", str(db)])
    assert table.exit_code == 1 and "FAILING" in table.output and by_name["broken"]["failing"] in table.output


# --- reconciling the job store with the config (in-process, real SQLite job store) -------------------

@pytest.fixture
def paused_scheduler(tmp_path: Path) -> Iterator[Callable[..., BackgroundScheduler]]:
    started: list[BackgroundScheduler] = []

    def start(config_text: str) -> tuple[BackgroundScheduler, list[JobSpec], dict]:
        path = tmp_path / "sources.toml"
        path.write_text(config_text)
        config = load_config(path)
        scheduler = make_scheduler(tmp_path / "store.db", config, BackgroundScheduler)
        scheduler.start(paused=True)
        started.append(scheduler)
        return scheduler, job_specs(config, str(path), str(tmp_path / "jobs.db"), str(tmp_path / "p.db")), job_defaults(config)

    yield start
    for scheduler in started:
        if scheduler.running:
            # Detach the store first: a stopping BackgroundScheduler makes one last pass over due jobs.
            scheduler.remove_jobstore("default")
            scheduler.shutdown(wait=False)


def sources_toml(*entries: str, interval: str = "6h") -> str:
    body = "\n".join(f'[[source]]\nname = "{e.split(":")[0]}"\nkind = "greenhouse"\nboard = "b"\n'
                     + (f'interval = "{e.split(":")[1]}"\n' if ":" in e else "") for e in entries)
    return f'[schedule]\ncrawl_interval = "{interval}"\njitter = "1m"\n\n{body}'


def test_reconcile_adds_removes_and_reschedules_but_keeps_unchanged_next_run_times(paused_scheduler) -> None:
    scheduler, specs, defaults = paused_scheduler(sources_toml("a", "b", "c:1h"))
    first = reconcile(scheduler, specs, defaults, now=datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert sorted(first.added) == ["canary", "crawl:a", "crawl:b", "crawl:c", "digest", "relabel"]
    # New jobs run soon (within the jitter), not a whole interval later.
    assert all(j.next_run_time <= datetime(2030, 1, 1, 0, 1, tzinfo=timezone.utc) for j in scheduler.get_jobs())
    kept_time = scheduler.get_job("crawl:a").next_run_time
    scheduler.remove_jobstore("default")
    scheduler.shutdown(wait=False)

    # Restart with b removed, c's interval changed, d added.
    scheduler, specs, defaults = paused_scheduler(sources_toml("a", "c:2h", "d"))
    second = reconcile(scheduler, specs, defaults, now=datetime(2030, 1, 1, 3, tzinfo=timezone.utc))
    assert second.added == ["crawl:d"] and second.removed == ["crawl:b"] and second.rescheduled == ["crawl:c"]
    assert sorted(second.kept) == ["canary", "crawl:a", "digest", "relabel"]
    assert scheduler.get_job("crawl:a").next_run_time == kept_time
    assert scheduler.get_job("crawl:c").trigger.interval_length == 7200
    assert scheduler.get_job("crawl:b") is None


def test_reconcile_updates_arguments_in_place_without_moving_the_next_run(paused_scheduler, tmp_path: Path) -> None:
    scheduler, specs, defaults = paused_scheduler(sources_toml("a"))
    reconcile(scheduler, specs, defaults)
    kept_time = scheduler.get_job("crawl:a").next_run_time
    moved = [JobSpec(s.id, s.func, tuple(str(tmp_path / "other.db") if a == str(tmp_path / "jobs.db") else a
                                         for a in s.args), s.interval, s.jitter) for s in specs]
    result = reconcile(scheduler, moved, defaults)
    assert "crawl:a" in result.updated
    job = scheduler.get_job("crawl:a")
    assert job.args[1] == str(tmp_path / "other.db") and job.next_run_time == kept_time


# --- job functions -------------------------------------------------------------------------------------

def last_job_run(db_path: Path, job: str) -> dict:
    db = open_db(db_path)
    row = next(db.query("select * from job_runs where job = ? order by id desc limit 1", [job]))
    db.conn.close()
    return row


def test_a_crawl_job_skips_while_another_crawl_of_the_source_holds_its_lock(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    config = write_config(tmp_path / "sources.toml", "http://127.0.0.1:9", {"iodine": None})
    with jobs.source_lock(db, "iodine") as acquired:
        assert acquired
        jobs.crawl_source_job(str(config), str(db), "iodine")
    run = last_job_run(db, "crawl:iodine")
    assert run["outcome"] == "skipped" and "another crawl of 'iodine'" in run["error"]
    assert crawl_runs(db, "iodine", "failed") == 0  # nothing was fetched


def test_runs_still_queued_when_the_scheduler_stops_are_skipped_and_recorded(tmp_path: Path) -> None:
    # Stopping waits for the job in flight only; a queue of crawls behind it would delay the exit.
    db = tmp_path / "jobs.db"
    config = write_config(tmp_path / "sources.toml", "http://127.0.0.1:9", {"iodine": None})
    jobs.STOPPING.set()
    try:
        jobs.crawl_source_job(str(config), str(db), "iodine")
    finally:
        jobs.STOPPING.clear()
    run = last_job_run(db, "crawl:iodine")
    assert run["outcome"] == "skipped" and run["error"] == "not started: the scheduler was stopping"
    assert count(db, "select count(*) from crawl_runs") == 0


def test_a_crawl_job_for_a_source_no_longer_configured_is_recorded_as_failed(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    config = write_config(tmp_path / "sources.toml", "http://127.0.0.1:9", {"iodine": None})
    summary = jobs.crawl_source_job(str(config), str(db), "gone")  # must not raise into the scheduler
    run = last_job_run(db, "crawl:gone")
    assert run["outcome"] == "failed" and "no source named 'gone'" in run["error"] and run["finished_at"]
    assert "failed" in summary


def test_the_canary_job_flags_a_source_with_no_recent_successful_crawl(tmp_path: Path) -> None:
    db_path = tmp_path / "jobs.db"
    config = write_config(tmp_path / "sources.toml", "http://127.0.0.1:9", {"iodine": None, "hourly": None})
    db = open_db(db_path)
    old = (datetime.now(timezone.utc) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    record_run(db, {"source": "iodine", "kind": "ashby", "started_at": old, "finished_at": old, "status": "ok",
                    "fetched": 103, "errors": []})
    record_run(db, {"source": "hourly", "kind": "ashby", "started_at": utc_now(), "finished_at": utc_now(),
                    "status": "ok", "fetched": 12, "errors": []})
    jobs.canary_job(str(config), str(db_path))
    run = last_job_run(db_path, "canary")
    assert run["outcome"] == "flagged"
    assert list(json.loads(run["findings"])) == ["iodine"]
    assert f"no successful crawl since {old}" in json.loads(run["findings"])["iodine"]


def test_the_digest_job_records_missing_smtp_settings_as_a_failed_run(tmp_path: Path, monkeypatch) -> None:
    for name in ("HIMJOBS_SMTP_HOST", "HIMJOBS_SMTP_FROM"):
        monkeypatch.delenv(name, raising=False)
    private = tmp_path / "jobs-private.db"
    conn = sqlite3.connect(private)
    conn.execute("create table subscribers (email text, filters text, timezone text, hour integer, token text, "
                 "created_at text, active integer)")
    conn.execute("insert into subscribers values ('coder@example.org', '{}', 'America/Chicago', 7, 't', ?, 1)", [utc_now()])
    conn.commit()
    conn.close()
    jobs.digest_job(str(tmp_path / "jobs.db"), str(private))
    run = last_job_run(tmp_path / "jobs.db", "digest")
    assert run["outcome"] == "failed"
    assert run["error"].startswith("cannot send digests: HIMJOBS_SMTP_HOST is not set")


def test_the_digest_job_needs_no_smtp_settings_while_nobody_subscribes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("HIMJOBS_SMTP_HOST", raising=False)
    jobs.digest_job(str(tmp_path / "jobs.db"), str(tmp_path / "missing-private.db"))
    run = last_job_run(tmp_path / "jobs.db", "digest")
    assert run["outcome"] == "ok" and json.loads(run["counts"]) == {"subscribers": 0}


def test_the_digest_job_sends_due_digests_over_smtp_once_a_day(tmp_path: Path, monkeypatch) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    from store.filters import FeedFilter
    from store.subscribers import open_private_db, subscribe

    class Inbox(Sink):
        def __init__(self) -> None:
            self.recipients: list[list[str]] = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
            self.recipients.append(envelope.rcpt_tos)
            return "250 OK"

    db = tmp_path / "jobs.db"
    private = tmp_path / "jobs-private.db"
    with ReplayServer(ashby_routes()) as server:
        config = write_config(tmp_path / "sources.toml", server.url, {"iodine": None})
        jobs.crawl_source_job(str(config), str(db), "iodine")
    # Hour 0 in UTC: the subscriber's hour has always come today, and nothing was sent yet.
    subscribe(open_private_db(private), "coder@example.org", FeedFilter(), timezone="UTC", hour=0)
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        for name, value in {"HIMJOBS_SMTP_HOST": "127.0.0.1", "HIMJOBS_SMTP_PORT": str(smtp.port),
                            "HIMJOBS_SMTP_TLS": "none", "HIMJOBS_SMTP_FROM": "himjobs <jobs@example.org>"}.items():
            monkeypatch.setenv(name, value)
        jobs.digest_job(str(db), str(private))
        first = last_job_run(db, "digest")
        jobs.digest_job(str(db), str(private))  # the next check the same day: not due again
        second = last_job_run(db, "digest")
    finally:
        smtp.stop()
    assert first["outcome"] == "ok", first["error"]
    assert json.loads(first["counts"]) == {"subscribers": 1, "sent": 1, "failed": 0, "skipped": 0}
    assert inbox.recipients == [["coder@example.org"]]
    assert second["outcome"] == "ok" and json.loads(second["counts"])["sent"] == 0
