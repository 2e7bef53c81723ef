"""SmartRecruiters Posting API: ``GET /v1/companies/{company}/postings?offset=N&limit=100``.

Quirks kept here: pages carry ``offset``/``limit``/``totalFound``; we advance by the number of items a
page really held (a server may return fewer than asked) until ``offset >= totalFound``; the list holds
summaries only, so each posting's detail (``/postings/{id}``) supplies ``jobAd.sections`` (real HTML);
``location.remote`` (and ``hybrid`` when present) is the remote evidence; ``experienceLevel`` and
``typeOfEmployment`` are structured facts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from scraper.config import SourceConfig
from scraper.errors import SourceFormatError
from scraper.fetcher import Fetcher
from scraper.posting import Posting
from scraper.sources import employment_type, expect, flags, gather_all, join_location, plain_text, require

KIND = "smartrecruiters"
REQUIRED = ("company",)
OPTIONAL = ("company_name",)
DEFAULT_BASE_URL = "https://api.smartrecruiters.com"
PAGE_SIZE = 100
_SECTIONS = ("companyDescription", "jobDescription", "qualifications", "additionalInformation")


async def fetch_postings(fetcher: Fetcher, source: SourceConfig) -> list[Posting]:
    company = quote(source.option("company"), safe="")
    url = f"{source.base_url or DEFAULT_BASE_URL}/v1/companies/{company}/postings"
    summaries: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        page = await fetcher.get_json(url, params={"offset": offset, "limit": PAGE_SIZE})
        content = require(page, "content", list, url)
        total = require(page, "totalFound", int, url)
        for item in content:
            item = expect(item, dict, url)
            summaries[str(item["id"])] = item
        offset += len(content)
        if offset >= total:
            break
        if not content:
            raise SourceFormatError(f"{url}: empty page at offset {offset} of {total}; board changed mid-crawl")
    details = await gather_all((fetcher.get_json(f"{url}/{quote(pid, safe='')}") for pid in summaries))
    return [
        _posting(source, summary, expect(detail, dict, f"{url}/{pid}"))
        for (pid, summary), detail in zip(summaries.items(), details)
    ]


def _posting(source: SourceConfig, summary: dict[str, Any], detail: dict[str, Any]) -> Posting:
    item = {**summary, **detail}
    sections = ((item.get("jobAd") or {}).get("sections")) or {}
    html = ""
    for key in _SECTIONS:
        section = sections.get(key) or {}
        if (section.get("text") or "").strip():
            html += f"<h3>{section.get('title') or ''}</h3>{section['text']}"
    location = item.get("location") or {}
    structured: dict[str, Any] = {}
    for key, out in (("experienceLevel", "experience_level"), ("function", "function"), ("industry", "industry")):
        label = (item.get(key) or {}).get("label")
        if label:
            structured[out] = label
    employment = (item.get("typeOfEmployment") or {}).get("label")
    if employment:
        structured["employment_type"] = employment_type(employment) or employment
    company = item.get("company") or {}
    pid = str(item["id"])
    return Posting(
        source=source.name,
        external_id=pid,
        url=item.get("postingUrl") or f"https://jobs.smartrecruiters.com/{company.get('identifier', '')}/{pid}",
        title=(item.get("name") or "").strip(),
        company=source.option("company_name") or company.get("name") or source.option("company"),
        location=location.get("fullLocation")
        or join_location(location.get("city"), location.get("region"), (location.get("country") or "").upper()),
        description=plain_text(html),
        description_html=html,
        posted_at=item.get("releasedDate"),
        remote_flag=flags(
            ("location.remote", location.get("remote")),
            ("location.hybrid", location.get("hybrid")),
            keep_missing=("location.remote",),
        ),
        structured=structured,
    )
