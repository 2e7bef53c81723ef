"""Remote OK public API: ``GET /api`` (optional ``?tag=``).

Quirks kept here: element 0 is the legal notice (no ``id``) and is skipped; text arrives as
double-encoded UTF-8 ("ZÃ³calo Health" for "Zócalo Health"), repaired by a guarded latin-1 -> UTF-8
round trip that leaves already-correct text alone; ``salary_min``/``salary_max`` of 0 mean unknown.
Every job is remote; ``location`` (often empty) is the only restriction. Terms: link back and credit
Remote OK.
"""

from __future__ import annotations

from typing import Any

from scraper.config import SourceConfig
from scraper.fetcher import Fetcher
from scraper.posting import Posting
from scraper.sources import epoch_to_iso, expect, flag, plain_text, salary

KIND = "remoteok"
REQUIRED = ()
OPTIONAL = ("tag",)
DEFAULT_BASE_URL = "https://remoteok.com"


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was decoded as latin-1 once; text that is not such mojibake comes back unchanged."""
    if not any("\u0080" <= ch <= "\u00ff" for ch in text):
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _repaired(value: Any) -> Any:
    if isinstance(value, str):
        return repair_mojibake(value)
    if isinstance(value, list):
        return [_repaired(v) for v in value]
    return value


async def fetch_postings(fetcher: Fetcher, source: SourceConfig) -> list[Posting]:
    url = f"{source.base_url or DEFAULT_BASE_URL}/api"
    params = {"tag": source.option("tag")} if source.option("tag") else None
    payload = expect(await fetcher.get_json(url, params=params), list, url)
    return [
        _posting(source, {k: _repaired(v) for k, v in job.items()})
        for job in payload
        if isinstance(job, dict) and job.get("id")  # element 0 is {"last_updated", "legal"}
    ]


def _posting(source: SourceConfig, job: dict[str, Any]) -> Posting:
    html = job.get("description") or ""
    location = (job.get("location") or "").strip()
    # Remote OK shows salaries as yearly USD ranges; salary() drops the pair when both are 0.
    structured: dict[str, Any] = salary(job.get("salary_min"), job.get("salary_max"), "year", "USD")
    if job.get("tags"):
        structured["tags"] = job["tags"]
    return Posting(
        source=source.name,
        external_id=str(job["id"]),
        url=job.get("url") or "",
        title=(job.get("position") or "").strip(),
        company=(job.get("company") or "").strip(),
        location=location,
        description=plain_text(html),
        description_html=html,
        posted_at=job.get("date") or epoch_to_iso(job.get("epoch")),
        remote_flag="remote-only board; " + flag("location", location),
        structured=structured,
    )
