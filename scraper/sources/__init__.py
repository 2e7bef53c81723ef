"""One module per source kind (registered in scraper.registry), plus the payload helpers they share.

Every kind module defines ``KIND``, ``REQUIRED`` and ``OPTIONAL`` (its own config fields),
``DEFAULT_BASE_URL`` and ``async def fetch_postings(fetcher, source) -> list[Posting]``, and
uses ``source.base_url or DEFAULT_BASE_URL`` so tests and the demo can point it at 127.0.0.1.
A kind returns postings only when it read the whole board; otherwise it raises.
"""

from __future__ import annotations

import asyncio
import html as htmllib
import json
import re
from collections.abc import Awaitable, Iterable
from datetime import datetime, timezone
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from scraper.errors import SourceFormatError
from scraper.html import html_to_text, looks_like_html
from scraper.timestamps import iso_utc

T = TypeVar("T")
_LEFTOVER_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,5}|#x[0-9a-fA-F]{2,4});")

# Pay intervals as sources spell them -> LABELS.md salary_period values.
PERIODS = {
    "year": "year", "yearly": "year", "annual": "year", "annually": "year", "1 year": "year", "pa": "year",
    "per-year-salary": "year", "hour": "hour", "hourly": "hour", "1 hour": "hour", "ph": "hour",
    "per-hour-wage": "hour", "month": "month", "monthly": "month", "1 month": "month", "pm": "month",
    "per-month-salary": "month", "week": "week", "weekly": "week", "1 week": "week", "pw": "week",
    "per-week-salary": "week", "day": "day", "daily": "day", "1 day": "day", "pd": "day",
    "per-day-wage": "day", "bw": "biweekly",
}

# Employment types as sources spell them -> LABELS.md employment_type values.
EMPLOYMENT_TYPES = {
    "fulltime": "full_time", "full_time": "full_time", "full-time": "full_time", "full time": "full_time",
    "permanent": "full_time", "parttime": "part_time", "part_time": "part_time", "part-time": "part_time",
    "part time": "part_time", "contract": "contract", "contractor": "contract", "freelance": "contract",
    "temporary": "temporary", "temp": "temporary", "intern": "internship", "internship": "internship",
    "per_diem": "per_diem", "per diem": "per_diem", "prn": "per_diem",
}


def period(value: Any) -> str | None:
    if value is None:
        return None
    return PERIODS.get(str(value).strip().lower())


def employment_type(value: Any) -> str | None:
    """The LABELS.md employment_type for a source's own word, or None when it has no clear match."""
    if value is None:
        return None
    return EMPLOYMENT_TYPES.get(str(value).strip().lower())


def number(value: Any) -> float | None:
    """A salary figure from a number or a numeric string ("134751.0", "95,000"); 0 and junk are None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = value.replace(",", "").replace("$", "").strip()
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or value <= 0:
        return None
    return float(value)


def salary(
    low: Any, high: Any, period_value: str | None = None, currency: str | None = None
) -> dict[str, Any]:
    """The structured salary fields, only those the source stated (0/None mean unknown)."""
    out: dict[str, Any] = {}
    low_n, high_n = number(low), number(high)
    if low_n is None and high_n is None:
        return out
    if low_n is not None:
        out["salary_min"] = low_n
    if high_n is not None:
        out["salary_max"] = high_n
    if period_value:
        out["salary_period"] = period_value
    if currency:
        out["salary_currency"] = str(currency).upper()
    return out


def epoch_to_iso(value: Any) -> str | None:
    """UTC "YYYY-MM-DDTHH:MM:SSZ" from epoch seconds or milliseconds (told apart by size)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    seconds = value / 1000 if value > 100_000_000_000 else value  # 1e11 s is the year 5138
    return iso_utc(datetime.fromtimestamp(seconds, tz=timezone.utc))


def join_location(*parts: Any, sep: str = ", ") -> str:
    """Non-empty, de-duplicated parts in order ("Remote", "", "USA" -> "Remote, USA")."""
    seen: list[str] = []
    for part in parts:
        text = str(part).strip() if part is not None else ""
        if text and text not in seen:
            seen.append(text)
    return sep.join(seen)


def flag(name: str, value: Any) -> str:
    """A source field kept verbatim as evidence: ``isRemote=true``, ``isRemote=null``, ``region=USA Only``."""
    if isinstance(value, (bool, type(None))):
        return f"{name}={json.dumps(value)}"
    return f"{name}={value}"


def flags(*pairs: tuple[str, Any], keep_missing: Iterable[str] = ()) -> str | None:
    """Several evidence fields joined by "; ", skipping absent ones except those named in keep_missing."""
    keep = set(keep_missing)
    parts = [flag(name, value) for name, value in pairs if (value not in (None, "") or name in keep)]
    return "; ".join(parts) or None


def unescape_html(markup: str | None) -> str:
    """HTML that arrived entity-escaped ("&lt;p&gt;…") made real; real HTML passes through unchanged."""
    markup = markup or ""
    if not looks_like_html(markup) and looks_like_html(htmllib.unescape(markup)):
        return htmllib.unescape(markup)
    return markup


def plain_text(markup: str | None) -> str:
    """Visible text of posting HTML, undoing one more level of escaping left inside text nodes."""
    text = html_to_text(markup)
    if _LEFTOVER_ENTITY.search(text):
        text = htmllib.unescape(text)
    return text


def require(payload: Any, key: str, kind_type: type, where: str) -> Any:
    """``payload[key]`` when it is a ``kind_type``, else SourceFormatError naming where it came from."""
    if not isinstance(payload, dict) or not isinstance(payload.get(key), kind_type):
        got = type(payload.get(key)).__name__ if isinstance(payload, dict) else type(payload).__name__
        raise SourceFormatError(f"{where}: expected {key!r} to be {kind_type.__name__}, got {got}")
    return payload[key]


def expect(payload: Any, kind_type: type, where: str) -> Any:
    if not isinstance(payload, kind_type):
        raise SourceFormatError(f"{where}: expected a JSON {kind_type.__name__}, got {type(payload).__name__}")
    return payload


async def gather_all(coroutines: Iterable[Awaitable[T]]) -> list[T]:
    """Run requests together (the fetcher paces them per host); on the first failure cancel the rest."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def rebase(url: str, base_url: str | None) -> str:
    """``url`` moved onto ``base_url``'s scheme and host (path kept), for kinds configured by full URLs."""
    if not base_url:
        return url
    parts, base = urlsplit(url), urlsplit(base_url)
    return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + parts.path, parts.query, ""))
