"""``himjobs schedule``, ``himjobs status`` and ``himjobs config check``."""

from __future__ import annotations

import json
import logging
import sys
from collections import defaultdict
from collections.abc import Callable

import click

from schedules.cli import main
from scraper.config import Config, load_config
from scraper.errors import HimjobsError

config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                             help="Config file (default: the bundled scraper/sources.toml).")
db_option = click.option("--db", "db_path", default="himjobs.db", show_default=True, envvar="HIMJOBS_DB",
                         help="Public database file.")
jobstore_option = click.option("--jobstore", "jobstore_path", default=None, type=click.Path(dir_okay=False),
                               help="Scheduler job store (default: beside the database, NAME-scheduler.db).")
private_option = click.option("--private-db", "private_path", default=None, type=click.Path(dir_okay=False),
                              help="Private database with subscribers (default: beside the database, NAME-private.db).")


def scheduler_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options `schedule` and `status` share: the same files, found the same way."""
    for option in (private_option, jobstore_option, db_option, config_option):
        command = option(command)
    return command


def _load(config_path: str | None) -> Config:
    try:
        return load_config(config_path)
    except HimjobsError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@scheduler_options
def schedule(config_path: str | None, db_path: str, jobstore_path: str | None, private_path: str | None) -> None:
    """Run forever: crawl each source at its interval, re-label, check for stale sources, send digests.

    The schedule persists in the job store across restarts. Stop with SIGTERM or Ctrl-C: running
    jobs finish and commit first. Every run is recorded in the database's job_runs table.
    """
    from schedules.scheduler import run_scheduler

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _load(config_path)  # a bad config stops here with its message, before any job store is touched
    try:
        run_scheduler(config_path, db_path, jobstore_path, private_path, echo=lambda line: click.echo(line))
    except HimjobsError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@scheduler_options
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(config_path: str | None, db_path: str, jobstore_path: str | None, private_path: str | None, as_json: bool) -> None:
    """Which sources are failing, stale or flagged, when each runs next, and the digests.

    Exits 1 when something needs the operator, so it can serve as a health check.
    """
    from schedules.scheduler import default_jobstore_path
    from schedules.status import collect_status, render_table
    from store.private import private_db_path

    config = _load(config_path)
    try:
        result = collect_status(config, db_path, jobstore_path or default_jobstore_path(db_path),
                                private_db_path(db_path, private_path))
    except HimjobsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else render_table(result))
    if result.problems:
        sys.exit(1)


@main.group("config")
def config_group() -> None:
    """Check the configuration file."""


@config_group.command("check")
@config_option
def config_check(config_path: str | None) -> None:
    """Validate a config file; print its sources by kind and its schedule, or the error (exit 1)."""
    from schedules.status import format_duration

    config = _load(config_path)
    by_kind: dict[str, list[str]] = defaultdict(list)
    for source in config.sources:
        by_kind[source.kind].append(source.name + ("" if source.enabled else " (disabled)"))
    enabled = sum(1 for s in config.sources if s.enabled)
    click.echo(f"{config.path}: OK")
    click.echo(f"sources: {len(config.sources)} ({enabled} enabled) of {len(by_kind)} kinds")
    for kind in sorted(by_kind):
        click.echo(f"  {kind:<16} {len(by_kind[kind]):>3}  {', '.join(by_kind[kind])}")
    click.echo("schedule: " + ", ".join(f"{k} {format_duration(v)}" for k, v in config.schedule.items()))
    overrides = [f"{s.name} every {format_duration(s.interval)}" for s in config.sources if s.interval is not None]
    if overrides:
        click.echo("  own intervals: " + ", ".join(overrides))
