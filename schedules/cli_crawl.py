"""``himjobs crawl`` and ``himjobs demo``."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import click

from schedules.cli import main
from scraper.config import load_config
from scraper.errors import HimjobsError


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Sources file (default: the bundled scraper/sources.toml).")
@click.option("--db", "db_path", default="himjobs.db", show_default=True, envvar="HIMJOBS_DB",
              help="Public database file.")
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Crawl only this source (repeatable).")
def crawl(config_path: str | None, db_path: str, sources: tuple[str, ...]) -> None:
    """One crawl of every configured source (or the ones named), labelled and stored.

    Exits 1 when a source failed; the others are still crawled and stored.
    """
    from schedules.jobs import source_lock
    from schedules.pipeline import crawl as run_crawl
    from schedules.pipeline import select_sources
    from scraper.progress import ProgressDisplay
    from store.database import open_db

    try:
        config = load_config(config_path)
        chosen = [s.name for s in select_sources(config, list(sources) or None)]
        with ExitStack() as locks:
            # The scheduler holds the same per-source locks: never crawl one board twice at once.
            free = [name for name in chosen if locks.enter_context(source_lock(db_path, name))]
            for name in chosen:
                if name not in free:
                    click.echo(f"{name:<24} skipped: a crawl of this source is already running", err=True)
            db = open_db(db_path)
            reports = run_crawl(db, config, free, progress=ProgressDisplay(sys.stderr)) if free else []
    except HimjobsError as exc:
        raise click.ClickException(str(exc)) from None
    for r in reports:
        line = (f"{r.source:<24} {r.status:<6} fetched {r.fetched:>4}  new {r.counts.new:>4}  "
                f"updated {r.counts.updated:>4}  unchanged {r.counts.unchanged:>4}  closed {r.counts.closed:>4}  "
                f"requests {r.requests} ({r.not_modified} not modified)")
        if r.error:
            line += f"\n{'':<24} error: {r.error}"
        if r.canary:
            line += f"\n{'':<24} canary: {r.canary}"
        click.echo(line)
    failed = [r.source for r in reports if r.status != "ok"]
    if failed:
        click.echo(f"{len(failed)} of {len(reports)} sources failed: {', '.join(failed)}", err=True)
        sys.exit(1)


@main.command()
@click.option("--db", "db_path", default="himjobs-demo.db", show_default=True, help="Database file to fill.")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Where feeds and the sample digest go (default: beside the database).")
def demo(db_path: str, out_dir: str | None) -> None:
    """The whole pipeline on a bundled snapshot served on 127.0.0.1: crawl, label, store, feed, digest."""
    from schedules.demo import run_demo

    db = Path(db_path)
    out = Path(out_dir) if out_dir else db.with_name(f"{db.stem}-out")
    try:
        run_demo(db, out, echo=click.echo)
    except HimjobsError as exc:
        raise click.ClickException(str(exc)) from None
