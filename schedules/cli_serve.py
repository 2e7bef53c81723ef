"""``himjobs serve``: Datasette over the public database, with metadata, charts and feeds.

Runs ``python -m datasette serve`` in place of this process (so stopping one stops the other) with the
metadata of store/metadata.py, the routes in store/datasette/plugins and ``suggest_facets`` off. Only the
public database is ever passed: Datasette serves every table of every file it is given, hidden or not.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

import click

from schedules.cli import main
from scraper.errors import HimjobsError
from store.private import private_db_path

PRIVATE_TABLES = ("subscribers",)
PRIVATE_DB_ENV = "HIMJOBS_PRIVATE_DB"  # a file holding these is the private database


def datasette_command(db_path: Path, metadata_path: Path, host: str, port: int) -> list[str]:
    from store.metadata import DATASETTE_DIR

    return [
        sys.executable, "-m", "datasette", "serve", str(db_path),
        "--host", host, "--port", str(port),
        "--metadata", str(metadata_path),
        "--plugins-dir", str(DATASETTE_DIR / "plugins"),
        "--template-dir", str(DATASETTE_DIR / "templates"),
        "--setting", "suggest_facets", "off",
    ]


def prepare(db_path: Path) -> Path:
    """Check ``db_path`` is the public database, bring its derived tables up to date, and write the
    metadata Datasette reads. Returns the metadata file (one per database, rewritten each time)."""
    from store.database import open_db
    from store.duplicates import refresh_derived
    from store.metadata import build_metadata

    if not db_path.is_file():
        raise click.UsageError(f"no database at {db_path}; fill one with `himjobs crawl --db {db_path}` "
                               "or `himjobs demo`")
    if db_path.stem.endswith("-private"):
        raise click.UsageError(f"{db_path} is the private database (subscribers); it is never served")
    db = open_db(db_path)
    private = [t for t in PRIVATE_TABLES if db[t].exists()]
    if private:
        raise click.UsageError(f"{db_path} holds private tables ({', '.join(private)}); it is never served")
    refresh_derived(db)
    db.close()
    digest = hashlib.sha1(str(db_path.resolve()).encode()).hexdigest()[:12]
    metadata_path = Path(tempfile.gettempdir()) / f"himjobs-serve-{digest}" / "metadata.json"
    metadata_path.parent.mkdir(parents=True, exist_ok=True)
    metadata_path.write_text(json.dumps(build_metadata(db_path.stem), indent=2), encoding="utf-8")
    return metadata_path


@main.command()
@click.option("--db", "db_path", default="himjobs.db", show_default=True, envvar="HIMJOBS_DB",
              type=click.Path(dir_okay=False, path_type=Path), help="Public database file.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--private-db", "private_db", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Subscribers' database, for the one-click unsubscribe link only (default: beside --db).")
def serve(db_path: Path, port: int, host: str, private_db: Path | None) -> None:
    """Datasette over the public database: facets, search, canned queries, charts at /-/charts, feeds
    at /-/feeds/jobs.atom|rss|json and the digests' one-click unsubscribe at /-/unsubscribe."""
    try:
        metadata_path = prepare(db_path)
    except HimjobsError as exc:
        raise click.ClickException(str(exc)) from None
    command = datasette_command(db_path, metadata_path, host, port)
    click.echo(f"Serving {db_path} on http://{host}:{port}/{db_path.stem} (charts: http://{host}:{port}/-/charts)",
               err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # Datasette never opens this file; only the unsubscribe route reaches it, through store.subscribers.
    os.environ[PRIVATE_DB_ENV] = str(private_db_path(db_path, private_db).resolve())
    os.execv(command[0], command)
