"""Himalayas jobs API: ``GET /jobs/api?limit=20&offset=N`` (no auth).

Quirks kept here: pages are read by offset until ``totalCount`` (the API may return 20 a page
whatever ``limit`` says, so we advance by what a page held); ``pubDate`` is Unix milliseconds per the
data dictionary but seconds in some clients' fixtures, told apart by size; ``locationRestrictions``
holds plain country names or Location objects; ``minSalary``/``maxSalary`` are annual. Every job is
remote. Terms: attribute Himalayas; don't redistribute to Google Jobs, LinkedIn, Jooble, Neuvoo.
"""

from __future__ import annotations

from typing import Any

from scraper.config import SourceConfig
from scraper.errors import SourceFormatError
from scraper.fetcher import Fetcher
from scraper.posting import Posting
from scraper.sources import employment_type, epoch_to_iso, expect, flag, plain_text, require, salary

KIND = "himalayas"
REQUIRED = ()
OPTIONAL = ()
DEFAULT_BASE_URL = "https://himalayas.app"
PAGE_SIZE = 20


async def fetch_postings(fetcher: Fetcher, source: SourceConfig) -> list[Posting]:
    url = f"{source.base_url or DEFAULT_BASE_URL}/jobs/api"
    by_id: dict[str, Posting] = {}
    offset = 0
    while True:
        page = await fetcher.get_json(url, params={"limit": PAGE_SIZE, "offset": offset})
        jobs = require(page, "jobs", list, url)
        total = require(page, "totalCount", int, url)
        for job in jobs:
            posting = _posting(source, expect(job, dict, url))
            by_id[posting.external_id] = posting
        offset += len(jobs)
        if offset >= total:
            return list(by_id.values())
        if not jobs:
            raise SourceFormatError(f"{url}: empty page at offset {offset} of {total}; board changed mid-crawl")


def _place(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or value.get("country") or value.get("alpha2") or "")
    return str(value or "")


def _posting(source: SourceConfig, job: dict[str, Any]) -> Posting:
    html = job.get("description") or ""
    restrictions = ", ".join(p for p in (_place(v) for v in job.get("locationRestrictions") or []) if p)
    structured: dict[str, Any] = salary(job.get("minSalary"), job.get("maxSalary"), "year", job.get("currency"))
    if job.get("employmentType"):
        structured["employment_type"] = employment_type(job["employmentType"]) or job["employmentType"]
    if job.get("seniority"):
        structured["experience_level"] = ", ".join(job["seniority"])
    if job.get("expiryDate"):
        structured["valid_through"] = epoch_to_iso(job["expiryDate"])
    guid = job.get("guid") or job.get("applicationLink")
    if not guid:
        raise SourceFormatError(f"himalayas: job {job.get('title')!r} has neither guid nor applicationLink")
    return Posting(
        source=source.name,
        external_id=str(guid),
        url=job.get("applicationLink") or str(guid),
        title=(job.get("title") or "").strip(),
        company=(job.get("companyName") or "").strip(),
        location=restrictions,
        description=plain_text(html),
        description_html=html,
        posted_at=epoch_to_iso(job.get("pubDate")),
        remote_flag="remote-only board; " + flag("locationRestrictions", restrictions),
        structured=structured,
    )
