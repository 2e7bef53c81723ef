"""Rendering a filtered set of postings as Atom 1.0, RSS 2.0 or JSON Feed 1.1.

Settings: ``HIMJOBS_PUBLIC_URL`` (default http://127.0.0.1:8001), the address ``himjobs serve`` is
reached at; feeds link to themselves under ``{base}/-/feeds/jobs.{atom,rss,json}``.

Entry ids are tag: URIs made from the posting id only, so a feed reader never sees one job as new
twice. XML is built with ElementTree (which escapes every text node); HTML content comes from
``feeds.present`` and is sanitised there.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from html import escape
from pathlib import Path
from urllib.parse import quote, urlencode

import sqlite_utils

from feeds.present import Shown, show
from scraper.timestamps import iso_utc
from store.filters import FeedFilter
from store.queries import matching_postings

FORMATS = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8001"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Fixed forever: changing it would make every entry look new to every reader.
TAG_PREFIX = "tag:himjobs,2026:"
ATOM_NS = "http://www.w3.org/2005/Atom"


def public_url() -> str:
    return (os.environ.get("HIMJOBS_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/")


def entry_id(posting_id: str) -> str:
    return TAG_PREFIX + "posting:" + quote(posting_id, safe=":@!$&'()*+,;=-._~")


@dataclass(frozen=True)
class FeedPage:
    title: str
    id: str
    self_url: str
    home_url: str
    updated: datetime
    entries: list[Shown]


def feed_page(db: sqlite_utils.Database, filters: FeedFilter, fmt: str, *, now: datetime | None = None,
              limit: int = DEFAULT_LIMIT) -> FeedPage:
    now = now or datetime.now(timezone.utc)
    entries = [show(row, now) for row in matching_postings(db, filters, limit=limit)]
    query = urlencode(filters.to_params())
    base = public_url()
    return FeedPage(
        title=f"himjobs: {filters.describe()}",
        id=TAG_PREFIX + "feed" + (f"?{query}" if query else ""),
        self_url=f"{base}/-/feeds/jobs.{fmt}" + (f"?{query}" if query else ""),
        home_url=base + "/",
        # The newest entry's date, not the clock: an unchanged feed keeps its timestamp.
        updated=max((e.published for e in entries), default=now),
        entries=entries,
    )


def render_feed(page: FeedPage, fmt: str) -> tuple[str, str]:
    """(content type, body) of ``page`` in ``fmt`` (atom, rss or json)."""
    renderers = {"atom": _atom, "rss": _rss, "json": _json_feed}
    if fmt not in renderers:
        raise ValueError(f"unknown feed format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return FORMATS[fmt], renderers[fmt](page)


def write_feed(db: sqlite_utils.Database, filters: FeedFilter, fmt: str, path: str | Path, *,
               now: datetime | None = None, limit: int = DEFAULT_LIMIT) -> int:
    """Write one feed to ``path``; returns the number of entries."""
    page = feed_page(db, filters, fmt, now=now, limit=limit)
    _, body = render_feed(page, fmt)
    Path(path).write_text(body, encoding="utf-8")
    return len(page.entries)


def _iso(moment: datetime) -> str:
    return iso_utc(moment)


def _content_html(entry: Shown) -> str:
    facts = " · ".join(escape(f) for f in entry.facts)
    where = " — ".join(escape(x) for x in (entry.company, entry.location) if x)
    apply = f'<p><a href="{escape(entry.url)}">Apply</a></p>' if entry.url else ""
    return f"<p><strong>{facts}</strong></p>" + (f"<p>{where}</p>" if where else "") + entry.description_html + apply


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _xml(root: ET.Element) -> str:
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _atom(page: FeedPage) -> str:
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "title", page.title)
    _sub(feed, "id", page.id)
    _sub(feed, "updated", _iso(page.updated))
    _sub(feed, "link", rel="self", href=page.self_url, type=FORMATS["atom"].split(";")[0])
    _sub(feed, "link", rel="alternate", href=page.home_url)
    _sub(_sub(feed, "author"), "name", "himjobs")
    _sub(feed, "generator", "himjobs")
    for entry in page.entries:
        item = _sub(feed, "entry")
        _sub(item, "title", entry.title, type="text")
        _sub(item, "id", entry_id(entry.id))
        _sub(item, "published", _iso(entry.published))
        _sub(item, "updated", _iso(entry.published))
        if entry.url:
            _sub(item, "link", rel="alternate", href=entry.url)
        if entry.company:
            _sub(_sub(item, "author"), "name", entry.company)
        _sub(item, "category", term=entry.role, label=entry.role_label)
        _sub(item, "summary", " · ".join(entry.facts), type="text")
        _sub(item, "content", _content_html(entry), type="html")
    return _xml(feed)


def _rss(page: FeedPage) -> str:
    rss = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS})
    channel = _sub(rss, "channel")
    _sub(channel, "title", page.title)
    _sub(channel, "link", page.home_url)
    _sub(channel, "description", f"Health-information jobs: {page.title.removeprefix('himjobs: ')}")
    _sub(channel, "atom:link", rel="self", href=page.self_url, type=FORMATS["rss"].split(";")[0])
    _sub(channel, "lastBuildDate", format_datetime(page.updated.astimezone(timezone.utc), usegmt=True))
    _sub(channel, "generator", "himjobs")
    for entry in page.entries:
        item = _sub(channel, "item")
        _sub(item, "title", entry.title)
        if entry.url:
            _sub(item, "link", entry.url)
        _sub(item, "guid", entry_id(entry.id), isPermaLink="false")
        _sub(item, "pubDate", format_datetime(entry.published.astimezone(timezone.utc), usegmt=True))
        _sub(item, "category", entry.role)
        _sub(item, "description", _content_html(entry))
    return _xml(rss)


def _json_feed(page: FeedPage) -> str:
    items = []
    for entry in page.entries:
        item = {
            "id": entry_id(entry.id),
            "title": entry.title,
            "content_html": _content_html(entry),
            "summary": " · ".join(entry.facts),
            "date_published": _iso(entry.published),
            "tags": [entry.role, *(t for t in (entry.arrangement, entry.seniority) if t), *entry.credentials],
        }
        if entry.url:
            item["url"] = entry.url
        if entry.company:
            item["authors"] = [{"name": entry.company}]
        item["_himjobs"] = {"posting_id": entry.id, "salary": entry.salary, "age": entry.age,
                            "location": entry.location or None}
        items.append(item)
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": page.title,
        "home_page_url": page.home_url,
        "feed_url": page.self_url,
        "authors": [{"name": "himjobs"}],
        "language": "en-US",
        "items": items,
    }
    return json.dumps(feed, ensure_ascii=False, indent=2) + "\n"
