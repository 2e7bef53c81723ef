"""Where the private database (subscribers, digest log) lives.

It sits beside the public one (``jobs.db`` → ``jobs-private.db``) unless a path is given, and it is
never handed to Datasette: ``hidden`` tables are still served by URL and SQL, a file never opened is not.
"""

from __future__ import annotations

from pathlib import Path


def private_db_path(public_db: str | Path, override: str | Path | None = None) -> Path:
    if override:
        return Path(override)
    public = Path(public_db)
    return public.with_name(f"{public.stem}-private{public.suffix or '.db'}")
