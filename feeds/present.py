"""How one posting is shown to a seeker, in a feed or a digest: safe text, age, pay, facts, link.

Posting text is untrusted. ``plain`` turns any field into text with every tag removed (nh3), so a
title cannot carry markup into a feed reader that renders titles as HTML; ``description_html``
escapes the text into paragraphs and passes the result through nh3 once more; ``safe_url`` lets
only http(s) links through (no ``javascript:``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import nh3

from store.filters import ARRANGEMENTS, ROLES, SENIORITIES

_PERIOD_WORDS = {"hour": "an hour", "day": "a day", "week": "a week", "month": "a month", "year": "a year"}
_HTML_TAGS = {"p", "br"}


def plain(text: str | None) -> str:
    """``text`` without markup, as plain text. Repeated until stable, so markup hidden behind one
    level of entity escaping (``&lt;script&gt;``) is removed too."""
    current = text or ""
    for _ in range(3):
        cleaned = html.unescape(nh3.clean(current, tags=set()))
        if cleaned == current:
            break
        current = cleaned
    return re.sub(r"[ \t]+", " ", current).strip()


def description_html(text: str | None) -> str:
    """A plain-text description as HTML paragraphs, sanitised."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", plain(text)) if p.strip()]
    markup = "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)
    return nh3.clean(markup, tags=_HTML_TAGS, attributes={})


def safe_url(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL, else None."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def parse_utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(timezone.utc)


def age_text(published: datetime, now: datetime) -> str:
    """"posted today", "posted yesterday", "posted 3 days ago" (calendar days in UTC)."""
    days = (now.astimezone(timezone.utc).date() - published.astimezone(timezone.utc).date()).days
    if days <= 0:
        return "posted today"
    if days == 1:
        return "posted yesterday"
    return f"posted {days} days ago"


def _money(amount: float, currency: str) -> str:
    text = f"{amount:,.2f}" if amount < 1000 and amount != int(amount) else f"{amount:,.0f}"
    return f"${text}" if currency == "USD" else f"{currency} {text}"


def salary_text(row: dict[str, Any]) -> str | None:
    """"$34–$42.50 an hour", "from $45,000 a year", or None when the posting names no pay."""
    low, high = row.get("salary_min"), row.get("salary_max")
    if low is None and high is None:
        return None
    currency = (row.get("salary_currency") or "USD").upper()
    period = _PERIOD_WORDS.get(row.get("salary_period") or "", "")
    if low is not None and high is not None and low != high:
        amount = f"{_money(low, currency)}–{_money(high, currency)}"
    elif low is not None:
        amount = _money(low, currency) if high is not None else f"from {_money(low, currency)}"
    else:
        amount = f"up to {_money(high, currency)}"
    return f"{amount} {period}".strip()


@dataclass(frozen=True)
class Shown:
    """A posting ready to render; every string is plain text except ``description_html``."""

    id: str
    title: str
    company: str
    location: str
    url: str | None
    published: datetime
    age: str
    salary: str | None
    role: str
    role_label: str
    seniority: str | None
    arrangement: str | None
    credentials: tuple[str, ...]
    summary: str
    description_html: str

    @property
    def facts(self) -> list[str]:
        """The facts line: pay, arrangement, seniority, credentials, age."""
        facts = [self.salary or "pay not stated"]
        if self.arrangement:
            facts.append(self.arrangement)
        if self.seniority:
            facts.append(self.seniority)
        if self.credentials:
            facts.append(", ".join(self.credentials))
        facts.append(self.age)
        return facts


def show(row: dict[str, Any], now: datetime) -> Shown:
    """A row of ``store.queries.matching_postings`` as shown to a seeker at ``now``."""
    published = parse_utc(row["published"])
    text = re.sub(r"\s+", " ", plain(row.get("description")))
    role = row.get("role") or "other"
    return Shown(
        id=row["id"],
        title=plain(row.get("title")) or "(untitled posting)",
        company=plain(row.get("company")),
        location=plain(row.get("location")),
        url=safe_url(row.get("url")),
        published=published,
        age=age_text(published, now),
        salary=salary_text(row),
        role=role,
        role_label=ROLES.get(role, ROLES["other"]),
        seniority=SENIORITIES.get(row.get("seniority") or ""),
        arrangement=ARRANGEMENTS.get(row.get("arrangement") or ""),
        credentials=tuple(plain(c) for c in row.get("credentials") or ()),
        summary=text[:280].rsplit(" ", 1)[0] + " …" if len(text) > 280 else text,
        description_html=description_html(row.get("description")),
    )
