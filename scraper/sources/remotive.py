"""Remotive public API: ``GET /api/remote-jobs`` (optional ``category``, ``search``, ``company_name``).

Every job is remote; the geography restriction lives only in ``candidate_required_location``, which
is kept as evidence and as the location. ``salary`` is free text ("$90 - $150 /hour"), kept for the
classifier's salary extraction. No paging: the whole board in one answer. Terms: link back, credit
Remotive, at most a few requests a day.
"""

from __future__ import annotations

from typing import Any

from scraper.config import SourceConfig
from scraper.fetcher import Fetcher
from scraper.posting import Posting
from scraper.sources import employment_type, expect, flag, plain_text, require

KIND = "remotive"
REQUIRED = ()
OPTIONAL = ("category", "search", "company_name")
DEFAULT_BASE_URL = "https://remotive.com"


async def fetch_postings(fetcher: Fetcher, source: SourceConfig) -> list[Posting]:
    url = f"{source.base_url or DEFAULT_BASE_URL}/api/remote-jobs"
    params = {k: source.option(k) for k in OPTIONAL if source.option(k)}
    jobs = require(await fetcher.get_json(url, params=params), "jobs", list, url)
    return [_posting(source, expect(job, dict, url)) for job in jobs]


def _posting(source: SourceConfig, job: dict[str, Any]) -> Posting:
    html = job.get("description") or ""
    where = job.get("candidate_required_location") or ""
    structured: dict[str, Any] = {}
    if job.get("salary"):
        structured["salary_text"] = job["salary"]
    if job.get("job_type"):
        structured["employment_type"] = employment_type(job["job_type"]) or job["job_type"]
    if job.get("category"):
        structured["category"] = job["category"]
    return Posting(
        source=source.name,
        external_id=str(job["id"]),
        url=job.get("url") or "",
        title=(job.get("title") or "").strip(),
        company=(job.get("company_name") or "").strip(),
        location=where,
        description=plain_text(html),
        description_html=html,
        posted_at=job.get("publication_date"),
        remote_flag="remote-only board; " + flag("candidate_required_location", where),
        structured=structured,
    )
