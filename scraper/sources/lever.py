"""Lever Postings API: ``GET /v0/postings/{site}?mode=json&skip=N&limit=L``.

Quirks kept here: the answer is a bare JSON array with no total, so pages are read until one is
shorter than the limit; ``workplaceType`` is "onsite" in real payloads but "on-site" in the docs
(both are accepted; the raw value stays in remote_flag); ``createdAt`` is epoch milliseconds;
``lists[]`` (headed ``<li>`` fragments without their ``<ul>``) and ``additional`` are appended to the
description; ``salaryRange`` becomes the structured salary.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from scraper.config import SourceConfig
from scraper.errors import SourceFormatError
from scraper.fetcher import Fetcher
from scraper.posting import Posting
from scraper.sources import employment_type, epoch_to_iso, expect, flag, join_location, period, plain_text, salary

KIND = "lever"
REQUIRED = ("site",)
OPTIONAL = ("company",)
DEFAULT_BASE_URL = "https://api.lever.co"
PAGE_SIZE = 100
_WORKPLACE = {"onsite": "onsite", "on-site": "onsite", "remote": "remote", "hybrid": "hybrid"}


async def fetch_postings(fetcher: Fetcher, source: SourceConfig) -> list[Posting]:
    site = source.option("site")
    url = f"{source.base_url or DEFAULT_BASE_URL}/v0/postings/{quote(site, safe='')}"
    by_id: dict[str, Posting] = {}
    skip = 0
    while True:
        page = expect(
            await fetcher.get_json(url, params={"mode": "json", "skip": skip, "limit": PAGE_SIZE}), list, url
        )
        for item in page:
            posting = _posting(source, expect(item, dict, url))
            by_id[posting.external_id] = posting  # a board edited mid-crawl can repeat an item
        if len(page) < PAGE_SIZE:
            return list(by_id.values())
        skip += PAGE_SIZE
        if skip > 100_000:
            raise SourceFormatError(f"{url}: still full pages after {skip} postings; paging is not advancing")


def _posting(source: SourceConfig, item: dict[str, Any]) -> Posting:
    categories = item.get("categories") or {}
    html = item.get("description") or ""
    for block in item.get("lists") or []:
        html += f"<h3>{block.get('text') or ''}</h3><ul>{block.get('content') or ''}</ul>"
    html += item.get("additional") or ""
    structured: dict[str, Any] = {}
    pay = item.get("salaryRange") or {}
    structured.update(salary(pay.get("min"), pay.get("max"), period(pay.get("interval")), pay.get("currency")))
    if pay.get("interval"):
        structured["salary_interval"] = pay["interval"]
    if item.get("salaryDescriptionPlain"):
        structured["salary_text"] = item["salaryDescriptionPlain"].strip()
    if categories.get("commitment"):
        structured["employment_type"] = employment_type(categories["commitment"]) or categories["commitment"]
    workplace = item.get("workplaceType")
    if workplace in _WORKPLACE:
        structured["workplace_type"] = _WORKPLACE[workplace]
    if categories.get("department"):
        structured["department"] = categories["department"]
    locations = categories.get("allLocations") or [categories.get("location")]
    return Posting(
        source=source.name,
        external_id=str(item["id"]),
        url=item.get("hostedUrl") or "",
        title=(item.get("text") or "").strip(),
        company=source.option("company") or source.option("site"),
        location=join_location(*locations, item.get("country"), sep="; "),
        description=plain_text(html),
        description_html=html,
        posted_at=epoch_to_iso(item.get("createdAt")),
        remote_flag=flag("workplaceType", workplace) if workplace is not None else None,
        structured=structured,
    )
