"""RSS 2.0 and Atom job feeds (We Work Remotely's item shape included), read with the stdlib XML parser.

Config: ``url`` (the feed), optional ``company`` (when the feed is one employer's) and
``company_in_title`` (true for We Work Remotely, whose titles read "Company: Role" and are split on
the first ": "). Quirks kept here: the description is entity-escaped HTML inside the XML (parse XML,
then treat the text as HTML); WWR's ``region``/``country``/``state``/``type``/``skills``/``category``
elements become location, remote evidence and structured facts; RFC-822 dates become UTC ISO.
A feed is a fixed window (WWR: ~100 newest items), so reading it whole means reading the feed.
"""

from __future__ import annotations

import email.utils
import xml.etree.ElementTree as ET
from datetime import timezone
from typing import Any

from scraper.config import SourceConfig
from scraper.errors import ConfigError, SourceFormatError
from scraper.fetcher import Fetcher
from scraper.posting import Posting
from scraper.sources import (
    employment_type,
    flag,
    join_location,
    plain_text,
    rebase,
    unescape_html,
)
from scraper.timestamps import iso_utc

KIND = "rss"
REQUIRED = ("url",)
OPTIONAL = ("company", "company_in_title")
DEFAULT_BASE_URL = ""  # the feed URL is the config; base_url replaces its scheme and host

_ATOM = "{http://www.w3.org/2005/Atom}"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"


async def fetch_postings(fetcher: Fetcher, source: SourceConfig) -> list[Posting]:
    if not isinstance(source.option("company_in_title", False), bool):
        raise ConfigError(f"source {source.name!r}: field 'company_in_title' must be true or false")
    url = rebase(source.option("url"), source.base_url)
    response = await fetcher.get(url)
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError as exc:
        raise SourceFormatError(f"{url}: not well-formed XML ({exc})") from None
    if root.tag == f"{_ATOM}feed":
        return [_atom_posting(source, entry) for entry in root.iter(f"{_ATOM}entry")]
    if root.tag == "rss" or root.find("channel") is not None:
        return [_rss_posting(source, item) for item in root.iter("item")]
    raise SourceFormatError(f"{url}: neither RSS nor Atom (root element {root.tag!r})")


def _text(element: ET.Element, tag: str) -> str:
    found = element.find(tag)
    return (found.text or "").strip() if found is not None and found.text else ""


def _iso(rfc822: str) -> str | None:
    if not rfc822:
        return None
    try:
        when = email.utils.parsedate_to_datetime(rfc822)
    except (TypeError, ValueError):
        return rfc822  # keep what the feed said rather than lose it
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return iso_utc(when)


def _split_title(source: SourceConfig, title: str) -> tuple[str, str]:
    company = source.option("company") or ""
    if source.option("company_in_title") and ": " in title:
        company, title = title.split(": ", 1)
    return company.strip(), title.strip()


def _rss_posting(source: SourceConfig, item: ET.Element) -> Posting:
    company, title = _split_title(source, _text(item, "title"))
    html = unescape_html(_text(item, _CONTENT) or _text(item, "description"))
    link = _text(item, "link")
    region, country, state = _text(item, "region"), _text(item, "country"), _text(item, "state")
    structured: dict[str, Any] = {}
    job_type = _text(item, "type")
    if job_type:
        structured["employment_type"] = employment_type(job_type) or job_type
    for tag in ("category", "skills"):
        if _text(item, tag):
            structured[tag] = _text(item, tag)
    expires = _text(item, "expires_at")
    if expires:
        structured["valid_through"] = _iso(expires)
    evidence = [flag(name, value) for name, value in (("region", region), ("country", country)) if value]
    return Posting(
        source=source.name,
        external_id=_text(item, "guid") or link,
        url=link,
        title=title,
        company=company,
        location=join_location(state, country, region, sep="; "),
        description=plain_text(html),
        description_html=html,
        posted_at=_iso(_text(item, "pubDate")),
        remote_flag="; ".join(evidence) or None,
        structured=structured,
    )


def _atom_posting(source: SourceConfig, entry: ET.Element) -> Posting:
    company, title = _split_title(source, _text(entry, f"{_ATOM}title"))
    link_el = entry.find(f"{_ATOM}link[@rel='alternate']")
    if link_el is None:  # (an Element with no children is falsy, so no "or" here)
        link_el = entry.find(f"{_ATOM}link")
    link = link_el.get("href", "") if link_el is not None else ""
    html = unescape_html(_text(entry, f"{_ATOM}content") or _text(entry, f"{_ATOM}summary"))
    author = _text(entry, f"{_ATOM}author/{_ATOM}name")
    return Posting(
        source=source.name,
        external_id=_text(entry, f"{_ATOM}id") or link,
        url=link,
        title=title,
        company=company or author,
        location="",
        description=plain_text(html),
        description_html=html,
        posted_at=_text(entry, f"{_ATOM}published") or _text(entry, f"{_ATOM}updated") or None,
        remote_flag=None,
        structured={},
    )
