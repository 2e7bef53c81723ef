"""USAJOBS Search API: ``GET /api/search?JobCategoryCode=0675;0669&Keyword=…&ResultsPerPage=…&Page=N``.

Settings from the environment (secrets never live in sources.toml):
    HIMJOBS_USAJOBS_EMAIL   sent as User-Agent (USAJOBS identifies API users by their e-mail)
    HIMJOBS_USAJOBS_KEY     sent as Authorization-Key
Both are required against the real host; a source with ``base_url`` (tests, the demo) may go without.

Quirks kept here: pages run to ``UserArea.NumberOfPages`` (a string); salary figures are strings
("134751.0") with ``RateIntervalCode`` PA (per annum) or PH (per hour); grades are in
``LowGrade``/``HighGrade`` (strings) while ``JobGrade[].Code`` is the pay plan; ``TeleworkEligible``
and ``RemoteIndicator`` are JSON booleans and are both kept as evidence.
"""

from __future__ import annotations

import html as htmllib
import os
from typing import Any

from scraper.config import SourceConfig
from scraper.errors import ConfigError, SourceFormatError
from scraper.fetcher import Fetcher
from scraper.posting import Posting
from scraper.sources import employment_type, expect, flags, period, require, salary

KIND = "usajobs"
REQUIRED = ()
ONE_OF = (("series", "keyword"),)  # checked when the config is read
OPTIONAL = ("series", "keyword", "results_per_page", "remote_only")
DEFAULT_BASE_URL = "https://data.usajobs.gov"
EMAIL_ENV = "HIMJOBS_USAJOBS_EMAIL"
KEY_ENV = "HIMJOBS_USAJOBS_KEY"
MAX_PAGES = 200


def _headers(source: SourceConfig) -> dict[str, str]:
    email, key = os.environ.get(EMAIL_ENV, "").strip(), os.environ.get(KEY_ENV, "").strip()
    if not source.base_url:
        missing = [name for name, value in ((EMAIL_ENV, email), (KEY_ENV, key)) if not value]
        if missing:
            raise ConfigError(
                f"source {source.name!r}: USAJOBS needs the environment variable(s) {', '.join(missing)}"
                " (the e-mail and API key from developer.usajobs.gov)"
            )
    headers = {}
    if email:
        headers["User-Agent"] = email
    if key:
        headers["Authorization-Key"] = key
    return headers


def _params(source: SourceConfig) -> dict[str, Any]:
    series = source.option("series") or []
    if isinstance(series, str):
        series = [series]
    keyword = source.option("keyword")
    if not series and not keyword:
        raise ConfigError(f"source {source.name!r}: kind 'usajobs' needs 'series' or 'keyword'")
    params: dict[str, Any] = {"ResultsPerPage": source.option("results_per_page", 500)}
    if series:
        params["JobCategoryCode"] = ";".join(str(s) for s in series)
    if keyword:
        params["Keyword"] = keyword
    if source.option("remote_only"):
        params["RemoteIndicator"] = "True"
    return params


async def fetch_postings(fetcher: Fetcher, source: SourceConfig) -> list[Posting]:
    url = f"{source.base_url or DEFAULT_BASE_URL}/api/search"
    headers, params = _headers(source), _params(source)
    by_id: dict[str, Posting] = {}
    page_number = 1
    while True:
        payload = await fetcher.get_json(url, params={**params, "Page": page_number}, headers=headers)
        result = require(payload, "SearchResult", dict, url)
        items = require(result, "SearchResultItems", list, url)
        pages_text = str((result.get("UserArea") or {}).get("NumberOfPages") or "1")
        if not pages_text.isdigit():
            raise SourceFormatError(f"{url}: NumberOfPages is {pages_text!r}, not a number")
        for item in items:
            posting = _posting(source, expect(item, dict, url))
            by_id[posting.external_id] = posting
        if not items or page_number >= int(pages_text):
            return list(by_id.values())
        page_number += 1
        if page_number > MAX_PAGES:
            raise SourceFormatError(f"{url}: more than {MAX_PAGES} pages; narrow the search")


def _posting(source: SourceConfig, item: dict[str, Any]) -> Posting:
    job = item.get("MatchedObjectDescriptor") or {}
    details = (job.get("UserArea") or {}).get("Details") or {}
    sections = [
        ("Summary", [details.get("JobSummary")]),
        ("Major duties", details.get("MajorDuties") or []),
        ("Qualifications", [job.get("QualificationSummary")]),
        ("Education", [details.get("Education")]),
    ]
    html_parts, text_parts = [], []
    for heading, paragraphs in sections:
        paragraphs = [p.strip() for p in paragraphs if isinstance(p, str) and p.strip()]
        if not paragraphs:
            continue
        tag = "li" if len(paragraphs) > 1 else "p"
        body = "".join(f"<{tag}>{htmllib.escape(p)}</{tag}>" for p in paragraphs)
        html_parts.append(f"<h3>{heading}</h3>" + (f"<ul>{body}</ul>" if tag == "li" else body))
        text_parts.append(heading + "\n" + "\n".join(paragraphs))
    structured: dict[str, Any] = {}
    for pay in job.get("PositionRemuneration") or []:
        code = pay.get("RateIntervalCode")
        structured.update(salary(pay.get("MinimumRange"), pay.get("MaximumRange"), period(code), "USD"))
        if code:
            structured["salary_interval"] = code
        break
    for key, out in (("LowGrade", "low_grade"), ("HighGrade", "high_grade")):
        if str(details.get(key) or "").strip():
            structured[out] = str(details[key]).strip()
    grades = [g.get("Code") for g in job.get("JobGrade") or [] if g.get("Code")]
    if grades:
        structured["pay_plan"] = grades[0]
    categories = [c.get("Code") for c in job.get("JobCategory") or [] if c.get("Code")]
    if categories:
        structured["series"] = categories
    schedule = next((s.get("Name") for s in job.get("PositionSchedule") or [] if s.get("Name")), None)
    if schedule:
        structured["employment_type"] = employment_type(schedule) or schedule
    if job.get("ApplicationCloseDate"):
        structured["valid_through"] = job["ApplicationCloseDate"]
    return Posting(
        source=source.name,
        external_id=str(item.get("MatchedObjectId") or job.get("PositionID")),
        url=job.get("PositionURI") or "",
        title=(job.get("PositionTitle") or "").strip(),
        company=job.get("OrganizationName") or job.get("DepartmentName") or "",
        location=job.get("PositionLocationDisplay") or "",
        description="\n\n".join(text_parts),
        description_html="".join(html_parts),
        posted_at=job.get("PublicationStartDate"),
        remote_flag=flags(
            ("TeleworkEligible", details.get("TeleworkEligible")),
            ("RemoteIndicator", details.get("RemoteIndicator")),
        ),
        structured=structured,
    )
