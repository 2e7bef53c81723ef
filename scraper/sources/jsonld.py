"""Career pages that embed schema.org ``JobPosting`` JSON-LD, found through their sitemaps.

Config: ``sitemap`` (a sitemap.xml or sitemap index URL) or ``urls`` (job page URLs), optional
``url_pattern`` (a regular expression a sitemap URL must match to be fetched as a job page) and
``company`` (when the pages don't name the hiring organization). This covers iCIMS job pages
(``…/jobs/{id}/{slug}/job``), Workday/Phenom career microsites and WordPress career sites.

Quirks kept here: a page may hold several ld+json blocks, each an object, a list or an ``@graph``;
``@type`` is a string or a list; invalid JSON blocks are skipped; ``baseSalary`` comes as a bare
string/number, a MonetaryAmount with a number or a QuantitativeValue, or a list of those;
``employmentType`` is a string or a list; ``jobLocationType: TELECOMMUTE`` and
``applicantLocationRequirements`` are the remote evidence. Sites that stamp ``datePosted`` with the
time of the request make it worthless: a datePosted within a minute of our fetch is dropped
(posted_at None) and noted in structured["date_posted_distrusted"].
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from scraper.config import SourceConfig
from scraper.errors import ConfigError, SourceFormatError
from scraper.fetcher import Fetcher
from scraper.posting import Posting
from scraper.sources import (
    employment_type,
    flags,
    gather_all,
    join_location,
    period,
    plain_text,
    rebase,
    salary,
    unescape_html,
)

KIND = "jsonld"
REQUIRED = ()
ONE_OF = (("sitemap", "urls"),)  # checked when the config is read
OPTIONAL = ("sitemap", "urls", "url_pattern", "company")
DEFAULT_BASE_URL = ""  # URLs come from the config; base_url replaces their scheme and host
MAX_SITEMAP_DEPTH = 3
DISTRUST_WITHIN_SECONDS = 60


async def fetch_postings(fetcher: Fetcher, source: SourceConfig) -> list[Posting]:
    sitemap, urls = source.option("sitemap"), source.option("urls")
    if not sitemap and not urls:
        raise ConfigError(f"source {source.name!r}: kind 'jsonld' needs 'sitemap' or 'urls'")
    pattern_text = source.option("url_pattern")
    try:
        pattern = re.compile(pattern_text) if pattern_text else None
    except re.error as exc:
        raise ConfigError(f"source {source.name!r}: field 'url_pattern' is not a regular expression: {exc}") from None
    pages = [rebase(u, source.base_url) for u in urls or []]
    if sitemap:
        found = await _sitemap_urls(fetcher, rebase(sitemap, source.base_url), source, 0)
        pages += [u for u in found if pattern is None or pattern.search(u)]
    pages = list(dict.fromkeys(pages))
    results = await gather_all(_page_postings(fetcher, source, url) for url in pages)
    by_id: dict[str, Posting] = {}
    for postings in results:
        for posting in postings:
            by_id[posting.external_id] = posting
    return list(by_id.values())


async def _sitemap_urls(fetcher: Fetcher, url: str, source: SourceConfig, depth: int) -> list[str]:
    """Page URLs of a sitemap, following sitemap indexes a few levels deep."""
    response = await fetcher.get(url)
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError as exc:
        raise SourceFormatError(f"{url}: sitemap is not well-formed XML ({exc})") from None
    locs = [(el.text or "").strip() for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "loc" and el.text]
    if root.tag.rsplit("}", 1)[-1] != "sitemapindex":
        return [rebase(u, source.base_url) for u in locs]
    if depth >= MAX_SITEMAP_DEPTH:
        raise SourceFormatError(f"{url}: sitemap indexes nest deeper than {MAX_SITEMAP_DEPTH} levels")
    nested = await gather_all(_sitemap_urls(fetcher, rebase(u, source.base_url), source, depth + 1) for u in locs)
    return [u for urls in nested for u in urls]


async def _page_postings(fetcher: Fetcher, source: SourceConfig, url: str) -> list[Posting]:
    response = await fetcher.get(url)
    fetched_at = datetime.now(timezone.utc)
    return [_posting(source, url, obj, fetched_at) for obj in job_postings(response.text)]


def job_postings(page_html: str) -> list[dict[str, Any]]:
    """Every JobPosting object in a page's ld+json blocks (lists and @graph walked, bad JSON skipped)."""
    tree = LexborHTMLParser(page_html)
    found: list[dict[str, Any]] = []
    for script in tree.css("script"):
        if (script.attributes.get("type") or "").split(";")[0].strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text(deep=True, strip=False))
        except ValueError:
            continue
        _collect(data, found)
    return found


def _collect(data: Any, found: list[dict[str, Any]]) -> None:
    if isinstance(data, list):
        for item in data:
            _collect(item, found)
    elif isinstance(data, dict):
        types = data.get("@type")
        types = types if isinstance(types, list) else [types]
        if "JobPosting" in types:
            found.append(data)
        if "@graph" in data:
            _collect(data["@graph"], found)


def _name(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or "")
    if isinstance(value, list):
        return ", ".join(n for n in (_name(v) for v in value) if n)
    return str(value or "")


def _address(place: Any) -> str:
    if not isinstance(place, dict):
        return str(place or "")
    address = place.get("address")
    if not isinstance(address, dict):
        return str(address or place.get("name") or "")
    return join_location(
        address.get("addressLocality"), address.get("addressRegion"), _name(address.get("addressCountry"))
    )


def _salary(base: Any, currency_hint: Any) -> dict[str, Any]:
    if isinstance(base, list):
        return _salary(base[0], currency_hint) if base else {}
    if isinstance(base, (str, int, float)):
        return salary(base, base, None, currency_hint)
    if not isinstance(base, dict):
        return {}
    currency = base.get("currency") or currency_hint
    value = base.get("value")
    if isinstance(value, dict):
        low = value.get("minValue", value.get("value"))
        high = value.get("maxValue", value.get("value"))
        return salary(low, high, period(value.get("unitText")), currency)
    return salary(value, value, period(base.get("unitText")), currency)


def _distrusted(date_posted: str, fetched_at: datetime) -> bool:
    """True when datePosted has a time of day and lies within a minute of our fetch."""
    if "T" not in date_posted:
        return False
    try:
        when = datetime.fromisoformat(date_posted.replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return abs((when - fetched_at).total_seconds()) <= DISTRUST_WITHIN_SECONDS


def _posting(source: SourceConfig, page_url: str, job: dict[str, Any], fetched_at: datetime) -> Posting:
    html = unescape_html(str(job.get("description") or ""))
    structured: dict[str, Any] = _salary(job.get("baseSalary"), job.get("salaryCurrency"))
    if isinstance(job.get("baseSalary"), (str, int, float)):
        structured["salary_text"] = str(job["baseSalary"])
    kinds = job.get("employmentType")
    kinds = [str(k) for k in (kinds if isinstance(kinds, list) else [kinds]) if k]
    if kinds:
        mapped = [employment_type(k) or k for k in kinds]
        structured["employment_type"] = mapped[0] if len(mapped) == 1 else mapped
    for key, out in (("validThrough", "valid_through"), ("occupationalCategory", "occupational_category"),
                     ("educationRequirements", "education"), ("experienceRequirements", "experience")):
        value = job.get(key)
        if isinstance(value, str) and value.strip():
            structured[out] = value.strip()
    posted_at = job.get("datePosted") if isinstance(job.get("datePosted"), str) else None
    if posted_at and _distrusted(posted_at, fetched_at):
        structured["date_posted_distrusted"] = posted_at
        posted_at = None
    identifier = job.get("identifier")
    external_id = str(identifier.get("value") or "") if isinstance(identifier, dict) else str(identifier or "")
    places = job.get("jobLocation")
    places = places if isinstance(places, list) else [places] if places else []
    url = job.get("url") if isinstance(job.get("url"), str) else page_url
    return Posting(
        source=source.name,
        external_id=external_id or url,
        url=url,
        title=str(job.get("title") or job.get("name") or "").strip(),
        company=_name(job.get("hiringOrganization")) or source.option("company") or urlsplit(page_url).hostname or "",
        location=join_location(*(_address(p) for p in places), sep="; "),
        description=plain_text(html),
        description_html=html,
        posted_at=posted_at,
        remote_flag=flags(
            ("jobLocationType", job.get("jobLocationType")),
            ("applicantLocationRequirements", _name(job.get("applicantLocationRequirements"))),
        ),
        structured=structured,
    )
