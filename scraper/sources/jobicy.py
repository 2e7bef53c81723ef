"""Jobicy Remote Jobs API v2: ``GET /api/v2/remote-jobs`` (``count``, ``geo``, ``industry``, ``tag``).

Quirks kept here: salaries come as ``salaryMin``/``salaryMax`` or, in older answers,
``annualSalaryMin``/``annualSalaryMax`` (0 = unknown); ``jobType``/``jobIndustry`` are arrays or
strings; ``jobGeo`` is a comma list with stray double spaces; ``pubDate`` is kept as given. No paging:
the latest ``count`` jobs. Terms: listings are delayed 6 h, poll at most hourly, credit Jobicy.
"""

from __future__ import annotations

from typing import Any

from scraper.config import SourceConfig
from scraper.fetcher import Fetcher
from scraper.posting import Posting
from scraper.sources import employment_type, expect, flag, period, plain_text, require, salary

KIND = "jobicy"
REQUIRED = ()
OPTIONAL = ("count", "geo", "industry", "tag")
DEFAULT_BASE_URL = "https://jobicy.com"


async def fetch_postings(fetcher: Fetcher, source: SourceConfig) -> list[Posting]:
    url = f"{source.base_url or DEFAULT_BASE_URL}/api/v2/remote-jobs"
    params = {k: source.option(k) for k in OPTIONAL if source.option(k)}
    jobs = require(await fetcher.get_json(url, params=params), "jobs", list, url)
    return [_posting(source, expect(job, dict, url)) for job in jobs]


def _words(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value] if value else []
    return [str(v).strip() for v in values if str(v).strip()]


def _posting(source: SourceConfig, job: dict[str, Any]) -> Posting:
    html = job.get("jobDescription") or ""
    geo = ", ".join(part.strip() for part in str(job.get("jobGeo") or "").split(",") if part.strip())
    low = job.get("salaryMin") if job.get("salaryMin") is not None else job.get("annualSalaryMin")
    high = job.get("salaryMax") if job.get("salaryMax") is not None else job.get("annualSalaryMax")
    pay_period = period(job.get("salaryPeriod")) or (
        "year" if job.get("salaryMin") is None and job.get("annualSalaryMin") is not None else None
    )
    structured: dict[str, Any] = salary(low, high, pay_period, job.get("salaryCurrency"))
    types = _words(job.get("jobType"))
    if types:
        structured["employment_type"] = employment_type(types[0]) or types[0]
    if job.get("jobLevel"):
        structured["experience_level"] = job["jobLevel"]
    industries = _words(job.get("jobIndustry"))
    if industries:
        structured["industry"] = ", ".join(industries)
    return Posting(
        source=source.name,
        external_id=str(job["id"]),
        url=job.get("url") or "",
        title=(job.get("jobTitle") or "").strip(),
        company=(job.get("companyName") or "").strip(),
        location=geo,
        description=plain_text(html),
        description_html=html,
        posted_at=job.get("pubDate"),
        remote_flag="remote-only board; " + flag("jobGeo", geo),
        structured=structured,
    )
