"""``himjobs status``: what needs the operator, read from the database and the job store.

The stores are real (SQLite public database, APScheduler's SQLAlchemyJobStore written by a real
scheduler); the crawl history is written with store.runs.record_run as the crawl job writes it.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner

from schedules.cli import main
from schedules.scheduler import job_defaults, job_specs, make_scheduler, reconcile
from schedules.status import digest_status, next_digest_due, read_next_run_times
from scraper.config import load_config
from store.database import open_db
from store.runs import record_run


def ago(**delta: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


class Deployment:
    """A config, a public database and a job store in one folder, as `himjobs schedule` leaves them."""

    def __init__(self, root: Path, *sources: str):
        self.root = root
        self.config = root / "sources.toml"
        self.db = root / "jobs.db"
        self.store = root / "jobs-scheduler.db"
        self.write_config(*sources)
        open_db(self.db).conn.close()

    def write_config(self, *sources: str) -> None:
        entries = "".join(
            f'[[source]]\nname = "{s.split(":")[0]}"\nkind = "greenhouse"\nboard = "b"\n'
            + ("enabled = false\n" if s.endswith(":off") else "") for s in sources)
        self.config.write_text('[schedule]\ncrawl_interval = "6h"\njitter = "0s"\nstale_after = "2d"\n'
                               f'digest_check = "15m"\n\n{entries}')

    def schedule(self, now: datetime | None = None) -> None:
        """Write the job store the way the scheduler does at start, then stop."""
        config = load_config(self.config)
        scheduler = make_scheduler(self.store, config, BackgroundScheduler)
        scheduler.start(paused=True)
        try:
            specs = job_specs(config, str(self.config), str(self.db), str(self.root / "jobs-private.db"))
            reconcile(scheduler, specs, job_defaults(config), now=now)
        finally:
            # Detach the store first: a stopping BackgroundScheduler makes one last pass over due jobs.
            scheduler.remove_jobstore("default")
            scheduler.shutdown(wait=False)

    def crawl(self, source: str, finished: str, status: str = "ok", fetched: int = 12, error: str | None = None,
              canary: str | None = None) -> None:
        db = open_db(self.db)
        record_run(db, {"source": source, "kind": "greenhouse", "started_at": finished, "finished_at": finished,
                        "status": status, "fetched": fetched, "new": 0, "updated": 0, "unchanged": fetched,
                        "closed": 0, "requests": 1, "errors": [error] if error else [], "canary": canary})
        db.conn.close()

    def job_run(self, job: str, started: str, outcome: str, error: str | None = None, counts: dict | None = None) -> None:
        db = open_db(self.db)
        db["job_runs"].insert({"job": job, "started_at": started, "finished_at": started, "outcome": outcome,
                               "counts": json.dumps(counts or {}), "error": error, "findings": "{}"})
        db.conn.close()

    def status(self, *extra: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["status", "--config", str(self.config), "--db", str(self.db), *extra])
        return result.exit_code, result.output

    def report(self) -> dict:
        code, output = self.status("--json")
        report = json.loads(output)
        assert code == (0 if report["ok"] else 1)
        return report


def by_name(report: dict) -> dict[str, dict]:
    return {s["name"]: s for s in report["sources"]}


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    d = Deployment(tmp_path, "coders", "registrars")
    d.schedule()
    return d


def test_healthy_sources_exit_zero_with_their_last_crawl_and_next_run(deployment: Deployment) -> None:
    deployment.crawl("coders", ago(hours=1), fetched=40)
    deployment.crawl("registrars", ago(minutes=5), fetched=7)
    code, output = deployment.status()
    assert code == 0, output
    assert "all healthy" in output
    report = deployment.report()
    coders = by_name(report)["coders"]
    assert coders["state"] == "ok" and coders["last_run"]["fetched"] == 40
    assert coders["next_run"] == read_next_run_times(deployment.store)["crawl:coders"].strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_source_without_a_successful_crawl_within_stale_after_is_stale(deployment: Deployment) -> None:
    last_ok = ago(days=3)
    deployment.crawl("coders", last_ok)
    deployment.crawl("registrars", ago(hours=1))
    code, output = deployment.status()
    assert code == 1
    assert f"coders: stale: no successful crawl since {last_ok} (stale_after 2d)" in output
    assert by_name(deployment.report())["coders"]["state"] == "STALE"


def test_a_source_that_never_succeeded_is_failing_and_becomes_stale(deployment: Deployment) -> None:
    first = ago(days=3)
    deployment.crawl("coders", first, status="failed", fetched=0, error="BadStatus: 404 from http://127.0.0.1/x")
    deployment.crawl("coders", ago(hours=1), status="failed", fetched=0, error="BadStatus: 404 from http://127.0.0.1/x")
    deployment.crawl("registrars", ago(hours=1))
    coders = by_name(deployment.report())["coders"]
    assert coders["state"] == "FAILING"
    assert coders["problems"] == [
        "failing: BadStatus: 404 from http://127.0.0.1/x",
        f"stale: no successful crawl since the first attempt at {first} (stale_after 2d)",
    ]


def test_a_recovered_source_is_no_longer_failing(deployment: Deployment) -> None:
    deployment.crawl("coders", ago(hours=2), status="failed", fetched=0, error="FetchError: timed out")
    deployment.crawl("coders", ago(hours=1))
    deployment.crawl("registrars", ago(hours=1))
    assert deployment.report()["ok"] is True


def test_a_successful_crawl_the_canary_flagged_needs_the_operator(deployment: Deployment) -> None:
    deployment.crawl("coders", ago(hours=1), fetched=0, canary="returned no postings (recent median 40)")
    deployment.crawl("registrars", ago(hours=1))
    report = deployment.report()
    assert by_name(report)["coders"]["state"] == "CANARY"
    assert report["problems"] == ["coders: canary: returned no postings (recent median 40)"]


def test_a_job_that_failed_before_recording_a_crawl_shows_as_failing(deployment: Deployment) -> None:
    # The crawl job can fail before the crawl is stored (a crash while labelling, a config error).
    deployment.crawl("coders", ago(hours=2))
    deployment.job_run("crawl:coders", ago(hours=1), "failed", error="ValueError: model file is damaged")
    deployment.crawl("registrars", ago(hours=1))
    assert by_name(deployment.report())["coders"]["failing"] == "ValueError: model file is damaged"


def test_a_source_added_to_the_config_but_not_yet_scheduled_is_reported(deployment: Deployment) -> None:
    deployment.write_config("coders", "registrars", "cancer-registry")
    report = deployment.report()
    assert "cancer-registry: schedule: not scheduled" in report["problems"]
    assert by_name(report)["cancer-registry"]["state"] == "UNSCHEDULED"


def test_a_next_run_long_past_means_no_scheduler_is_running(tmp_path: Path) -> None:
    d = Deployment(tmp_path, "coders")
    d.schedule(now=datetime.now(timezone.utc) - timedelta(hours=1))  # next runs were due an hour ago
    d.crawl("coders", ago(hours=2))
    report = d.report()
    assert by_name(report)["coders"]["state"] == "OVERDUE"
    assert any(p.startswith("coders: schedule: overdue since") and "is `himjobs schedule` running?" in p
               for p in report["problems"])


def test_no_job_store_and_no_database_are_problems_not_crashes(tmp_path: Path) -> None:
    config = tmp_path / "sources.toml"
    config.write_text('[[source]]\nname = "coders"\nkind = "greenhouse"\nboard = "b"\n')
    result = CliRunner().invoke(main, ["status", "--config", str(config), "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert f"no database at {tmp_path / 'none.db'}" in result.output
    assert f"no scheduler job store at {tmp_path / 'none-scheduler.db'}" in result.output
    assert not (tmp_path / "none.db").exists()  # status only reads


def test_a_disabled_source_is_listed_but_needs_nothing(tmp_path: Path) -> None:
    d = Deployment(tmp_path, "coders", "old-board:off")
    d.schedule()
    d.crawl("coders", ago(hours=1))
    report = d.report()
    assert report["ok"] is True and by_name(report)["old-board"]["state"] == "disabled"


def test_a_failed_digest_run_needs_the_operator(deployment: Deployment) -> None:
    deployment.crawl("coders", ago(hours=1))
    deployment.crawl("registrars", ago(hours=1))
    deployment.job_run("digest", ago(minutes=3), "failed", error="cannot send digests: HIMJOBS_SMTP_HOST is not set")
    code, output = deployment.status()
    assert code == 1
    assert "digest: last run at" in output and "HIMJOBS_SMTP_HOST is not set" in output


def test_next_digest_follows_the_subscriber_local_hour_across_a_dst_change(tmp_path: Path) -> None:
    private = tmp_path / "p.db"
    conn = sqlite3.connect(private)
    conn.execute("create table subscribers (email text, filters text, timezone text, hour integer, token text, "
                 "created_at text, active integer)")
    conn.executemany("insert into subscribers values (?, '{}', ?, ?, 't', '2026-01-01T00:00:00Z', ?)", [
        ("a@example.org", "America/Chicago", 7, 1),
        ("b@example.org", "Europe/Berlin", 7, 0),  # inactive: not counted
    ])
    conn.commit()
    conn.close()
    # 2026-03-08 is when US clocks spring forward: 07:00 in Chicago is 12:00 UTC that day, not 13:00.
    now = datetime(2026, 3, 8, 6, 0, tzinfo=timezone.utc)
    assert next_digest_due(now, "America/Chicago", 7, None) == datetime(2026, 3, 8, 12, 0, tzinfo=timezone.utc)
    next_check = datetime(2026, 3, 8, 6, 10, tzinfo=timezone.utc)
    digest = digest_status(None, private, 900, {"digest": next_check}, now)
    assert digest.subscribers == 1
    assert digest.next_check == "2026-03-08T06:10:00Z"
    assert digest.next_due == "2026-03-08T12:10:00Z"  # the first 15-minute check after 12:00 UTC
    assert digest.problems == []


UTC = timezone.utc


@pytest.mark.parametrize("now, zone, hour, last_digest_on, due", [
    # Before the hour: due at the hour today.
    (datetime(2026, 6, 1, 10, 0, tzinfo=UTC), "America/New_York", 7, "2026-05-31", datetime(2026, 6, 1, 11, 0, tzinfo=UTC)),
    # The hour has come and today's digest has not gone out (e.g. subscribed at 09:00 for 07:00): due now.
    (datetime(2026, 6, 1, 13, 0, tzinfo=UTC), "America/New_York", 7, "2026-05-31", datetime(2026, 6, 1, 13, 0, tzinfo=UTC)),
    # Today's went out: tomorrow at the hour.
    (datetime(2026, 6, 1, 13, 0, tzinfo=UTC), "America/New_York", 7, "2026-06-01", datetime(2026, 6, 2, 11, 0, tzinfo=UTC)),
    # Local date, not UTC date: 02:00 UTC on 2 June is still 1 June in Los Angeles, where it already went out.
    (datetime(2026, 6, 2, 2, 0, tzinfo=UTC), "America/Los_Angeles", 7, "2026-06-01", datetime(2026, 6, 2, 14, 0, tzinfo=UTC)),
    # Autumn DST end: 07:00 on 1 Nov 2026 in New York is EST (12:00 UTC), the day before it was EDT.
    (datetime(2026, 10, 31, 12, 0, tzinfo=UTC), "America/New_York", 7, "2026-10-31", datetime(2026, 11, 1, 12, 0, tzinfo=UTC)),
    (datetime(2026, 6, 1, 10, 0, tzinfo=UTC), "Mars/Olympus_Mons", 7, None, None),
])
def test_when_a_subscriber_digest_is_next_due(now, zone, hour, last_digest_on, due) -> None:
    assert next_digest_due(now, zone, hour, last_digest_on) == due
