"""Ashby public job board: ``GET /posting-api/job-board/{board}?includeCompensation=true``.

Quirks kept here: board names may hold spaces ("Iodine Software" -> ``Iodine%20Software``);
``isRemote`` is true, false or null and is kept verbatim (null is evidence too), with the newer
``workplaceType`` when present; compensation ``summaryComponents`` of type Salary become the
structured salary ("1 YEAR" -> year, "1 HOUR" -> hour); unlisted jobs are skipped.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from scraper.config import SourceConfig
from scraper.fetcher import Fetcher
from scraper.posting import Posting
from scraper.sources import employment_type, expect, flags, join_location, period, plain_text, require, salary

KIND = "ashby"
REQUIRED = ("board",)
OPTIONAL = ("company",)
DEFAULT_BASE_URL = "https://api.ashbyhq.com"


async def fetch_postings(fetcher: Fetcher, source: SourceConfig) -> list[Posting]:
    board = source.option("board")
    url = f"{source.base_url or DEFAULT_BASE_URL}/posting-api/job-board/{quote(board, safe='')}"
    payload = await fetcher.get_json(url, params={"includeCompensation": "true"})
    jobs = require(payload, "jobs", list, url)
    return [_posting(source, expect(job, dict, url)) for job in jobs if job.get("isListed", True) is not False]


def _posting(source: SourceConfig, job: dict[str, Any]) -> Posting:
    structured: dict[str, Any] = {}
    for component in (job.get("compensation") or {}).get("summaryComponents") or []:
        if component.get("compensationType") == "Salary":
            structured.update(
                salary(
                    component.get("minValue"),
                    component.get("maxValue"),
                    period(component.get("interval")),
                    component.get("currencyCode"),
                )
            )
            break
    if job.get("employmentType"):
        structured["employment_type"] = employment_type(job["employmentType"]) or job["employmentType"]
    if job.get("department"):
        structured["department"] = job["department"]
    secondary = [s.get("location") for s in job.get("secondaryLocations") or []]
    html = job.get("descriptionHtml") or ""
    remote_pairs: list[tuple[str, Any]] = [("isRemote", job.get("isRemote"))]
    if "workplaceType" in job:
        remote_pairs.append(("workplaceType", job["workplaceType"]))
    return Posting(
        source=source.name,
        external_id=str(job["id"]),
        url=job.get("jobUrl") or "",
        title=(job.get("title") or "").strip(),
        company=source.option("company") or source.option("board"),
        location=join_location(job.get("location"), *secondary, sep="; "),
        description=plain_text(html) if html else (job.get("descriptionPlain") or ""),
        description_html=html,
        posted_at=job.get("publishedAt"),
        remote_flag=flags(*remote_pairs, keep_missing=("isRemote",)),
        structured=structured,
    )
