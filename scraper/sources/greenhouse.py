"""Greenhouse Job Board API: ``GET /v1/boards/{board}/jobs?content=true``.

Quirks kept here: ``content`` is entity-escaped HTML (JSON-decode, unescape once, then parse; text
nodes may hold a second level such as ``&amp;nbsp;``); a list without ``content`` falls back to one
detail call per job; ``pay_input_ranges`` are in cents; there is no structured remote flag, so the
location/office text that mentions remote is kept as evidence.
"""

from __future__ import annotations

import html as htmllib
import re
from typing import Any
from urllib.parse import quote

from scraper.config import SourceConfig
from scraper.fetcher import Fetcher
from scraper.posting import Posting
from scraper.sources import expect, join_location, plain_text, require, salary

KIND = "greenhouse"
REQUIRED = ("board",)
OPTIONAL = ("company",)
DEFAULT_BASE_URL = "https://boards-api.greenhouse.io"

_REMOTE = re.compile(r"\bremote\b", re.IGNORECASE)
_HOURLY = re.compile(r"\b(hour|hourly)\b", re.IGNORECASE)
_YEARLY = re.compile(r"\b(year|yearly|annual|annually|salary)\b", re.IGNORECASE)


async def fetch_postings(fetcher: Fetcher, source: SourceConfig) -> list[Posting]:
    board = source.option("board")
    jobs_url = f"{source.base_url or DEFAULT_BASE_URL}/v1/boards/{quote(board, safe='')}/jobs"
    payload = await fetcher.get_json(jobs_url, params={"content": "true"})
    jobs = require(payload, "jobs", list, jobs_url)
    postings = []
    for job in jobs:
        job = expect(job, dict, jobs_url)
        if job.get("content") is None:
            # The board answered without content: the detail has it (and the pay ranges).
            job = expect(
                await fetcher.get_json(f"{jobs_url}/{job['id']}", params={"pay_transparency": "true"}),
                dict,
                f"{jobs_url}/{job['id']}",
            )
        postings.append(_posting(source, job))
    return postings


def _posting(source: SourceConfig, job: dict[str, Any]) -> Posting:
    description_html = htmllib.unescape(job.get("content") or "")
    location = (job.get("location") or {}).get("name") or ""
    offices = job.get("offices") or []
    structured: dict[str, Any] = {}
    for pay in job.get("pay_input_ranges") or []:
        label = f"{pay.get('title') or ''} {pay.get('blurb') or ''}"
        period = "hour" if _HOURLY.search(label) else "year" if _YEARLY.search(label) else None
        structured.update(
            salary(
                (pay.get("min_cents") or 0) / 100,
                (pay.get("max_cents") or 0) / 100,
                period,
                pay.get("currency_type"),
            )
        )
        break  # the first range is the posting's own; later ones are other locations' tiers
    departments = [d.get("name") for d in job.get("departments") or [] if d.get("name")]
    if departments:
        structured["department"] = ", ".join(departments)
    return Posting(
        source=source.name,
        external_id=str(job["id"]),
        url=job.get("absolute_url") or "",
        title=(job.get("title") or "").strip(),
        company=source.option("company") or job.get("company_name") or source.option("board"),
        location=location.strip(),
        description=plain_text(description_html),
        description_html=description_html,
        posted_at=job.get("first_published") or job.get("updated_at"),
        remote_flag=_remote_evidence(location, offices),
        structured=structured,
    )


def _remote_evidence(location: str, offices: list[dict[str, Any]]) -> str | None:
    """Greenhouse has no remote field: keep the free text that says "remote", where it said it."""
    if _REMOTE.search(location):
        return f"location.name={location.strip()}"
    for office in offices:
        text = join_location(office.get("name"), office.get("location"), sep=" / ")
        if _REMOTE.search(text):
            return f"offices={text}"
    return None
