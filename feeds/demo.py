"""What ``himjobs demo`` delivers: sample feeds and a sample digest written to a folder.

The demo subscriber (``DEMO_EMAIL``, remote coding and records jobs) lives in the demo database's own
private file; a second demo run finds nothing new for them and says so — the digest's exactly-once
rule at work.
"""

from __future__ import annotations

from pathlib import Path

from feeds.digest import run_digest
from feeds.render import write_feed
from feeds.smtp import OutboxSender
from store.filters import FeedFilter, parse_filters
from store.private import private_db_path
from store.queries import open_public_read_only
from store.subscribers import open_private_db, subscribe

DEMO_EMAIL = "seeker@example.org"
DEMO_FEEDS: dict[str, FeedFilter] = {
    "him-jobs": parse_filters({"role": "technician,coder,registrar"}),
    "remote-coder-or-records": parse_filters({"role": "coder,technician", "arrangement": "remote"}),
}


def write_demo_outputs(db_path: Path, out_dir: Path) -> list[str]:
    """Write each demo feed in every format and a sample digest to ``out_dir``; lines saying what was written."""
    lines = []
    db = open_public_read_only(db_path)
    try:
        for name, filters in DEMO_FEEDS.items():
            for fmt in ("atom", "rss", "json"):
                count = write_feed(db, filters, fmt, out_dir / f"{name}.{fmt}")
            lines.append(f"Feed ({filters.describe()}): {count} postings in {out_dir / name}.atom|.rss|.json")
    finally:
        db.close()
    private = private_db_path(db_path)
    subscribe(open_private_db(private), DEMO_EMAIL, DEMO_FEEDS["remote-coder-or-records"])
    outbox = out_dir / "outbox"
    result = run_digest(db_path, private, sender=OutboxSender(outbox))
    if result.sent:
        lines.append(f"Digest for {DEMO_EMAIL}: written to {outbox} (open the .eml file in a mail client)")
    else:
        lines.append(f"Digest for {DEMO_EMAIL}: nothing new since the last digest (each posting is sent once)")
    lines.extend(f"Digest error: {e}" for e in result.errors)
    return lines
