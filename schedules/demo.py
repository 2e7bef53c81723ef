"""``himjobs demo``: the whole pipeline on the bundled snapshot, served for real on 127.0.0.1."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path
from typing import Callable

import sqlite_utils

from classifier.predict import HIM_ROLES
from schedules.pipeline import RunReport, crawl
from scraper.config import parse_config
from scraper.replay import ReplayServer, routes_from_manifest
from store.database import open_db

SNAPSHOT = Path(__file__).resolve().parent.parent / "scraper" / "snapshot"


def run_demo(db_path: Path, out_dir: Path, echo: Callable[[str], None] = print) -> list[RunReport]:
    manifest = tomllib.loads((SNAPSHOT / "manifest.toml").read_text(encoding="utf-8"))
    routes = list(routes_from_manifest(manifest, SNAPSHOT))
    db = open_db(db_path)
    with ReplayServer(routes) as server:
        raw = {
            "fetch": manifest.get("fetch", {}),
            "source": [dict(s, base_url=server.url) for s in manifest["source"]],
        }
        config = parse_config(raw)
        echo(f"Serving the bundled snapshot ({len(config.sources)} sources, {len(routes)} payloads) on {server.url}")
        echo("Crawling it through the real fetcher, labelling, storing …\n")
        reports = crawl(db, config)
    print_summary(db, db_path, reports, echo)
    deliver(db_path, out_dir, echo)
    return reports


def print_summary(db: sqlite_utils.Database, db_path: Path, reports: list[RunReport], echo: Callable[[str], None]) -> None:
    echo(f"{'source':<18}{'kind':<12}{'status':<8}{'postings':>9}{'new':>6}{'updated':>9}{'unchanged':>11}{'requests':>10}")
    for r in reports:
        echo(f"{r.source:<18}{r.kind:<12}{r.status:<8}{r.fetched:>9}{r.counts.new:>6}{r.counts.updated:>9}"
             f"{r.counts.unchanged:>11}{r.requests:>10}")
        if r.error:
            echo(f"  error: {r.error}")
        if r.canary:
            echo(f"  canary: {r.canary}")
    open_rows = list(db.query("select role, seniority, arrangement from postings where closed_at is null and duplicate_of is null"))
    him = [r for r in open_rows if r["role"] in HIM_ROLES]
    echo(f"\n{len(open_rows)} open postings in {db_path} ({len(him)} of them health-information jobs)")
    echo("  by role:        " + _counts(r["role"] for r in open_rows))
    echo("  HIM seniority:  " + _counts(r["seniority"] for r in him))
    echo("  HIM arrangement:" + " " + _counts(r["arrangement"] for r in him))


def _counts(values) -> str:
    return " · ".join(f"{k or 'unknown'} {n}" for k, n in Counter(values).most_common())


def deliver(db_path: Path, out_dir: Path, echo: Callable[[str], None]) -> None:
    """Feeds and a sample digest, written where a newcomer can open them."""
    from feeds.demo import write_demo_outputs

    out_dir.mkdir(parents=True, exist_ok=True)
    lines = write_demo_outputs(db_path, out_dir)
    echo("")
    for line in lines:
        echo(line)
    echo(f"\nExplore the store in Datasette:  .venv/bin/himjobs serve --db {db_path}   (then open http://127.0.0.1:8001)")
