"""Feeds over HTTP: the one function ``himjobs serve`` calls for ``/-/feeds/jobs.{atom,rss,json}``.

Query parameters are the filters of ``store.filters`` (comma lists for several values) plus
``limit``; parameters starting with ``_`` are left to the server. A bad filter is a 400 with a plain
message naming the allowed values, so a typo never silently widens a feed to every job.
"""

from __future__ import annotations

from collections.abc import Mapping

from feeds.render import DEFAULT_LIMIT, FORMATS, MAX_LIMIT, feed_page, render_feed
from store.database import StoreError
from store.filters import FilterError, parse_filters
from store.queries import open_public_read_only

PLAIN = "text/plain; charset=utf-8"


def feed_response(db_path: str, params: Mapping[str, str], fmt: str) -> tuple[int, str, str]:
    """(HTTP status, content type, body) of the feed of ``db_path`` for ``params`` in ``fmt``."""
    if fmt not in FORMATS:
        return 404, PLAIN, f"no feed format {fmt!r}; use jobs.atom, jobs.rss or jobs.json\n"
    filters_given = {k: v for k, v in params.items() if not k.startswith("_") and k != "limit"}
    try:
        limit = parse_limit(params.get("limit"))
        filters = parse_filters(filters_given)
    except FilterError as exc:
        return 400, PLAIN, f"{exc}\n"
    try:
        db = open_public_read_only(db_path)
    except StoreError as exc:
        return 503, PLAIN, f"{exc}\n"
    try:
        content_type, body = render_feed(feed_page(db, filters, fmt, limit=limit), fmt)
    finally:
        db.close()
    return 200, content_type, body


def parse_limit(raw: str | int | None) -> int:
    """The number of entries asked for: 1 to MAX_LIMIT, DEFAULT_LIMIT when not given."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise FilterError(f"limit {raw!r} is not a whole number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise FilterError(f"limit must be between 1 and {MAX_LIMIT}")
    return limit
