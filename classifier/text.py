"""Posting text as the classifier sees it: HTML to text, known boilerplate removed, length capped.

Boilerplate patterns live in classifier/data/boilerplate.csv (multi-line, case-insensitive regular expressions
removed before any rule or model reads the text: e.g. the veterans'-preference block of USA Staffing
questionnaires, which would otherwise read as "one year of experience" in every federal posting).

Settings: RULE_TEXT_CHARS (how much text the rules scan: grade statements in federal questionnaires sit far
down) and MODEL_TEXT_CHARS (how much the model reads: the vectorizer dominates the cost per posting).
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

from scraper.html import html_to_text, looks_like_html
from scraper.posting import valid_text

RULE_TEXT_CHARS = 20_000
MODEL_TEXT_CHARS = 3_000
_BLANK_LINES = re.compile(r"\n\s*\n+")


@cache
def _boilerplate() -> re.Pattern[str]:
    path = Path(__file__).parent / "data" / "boilerplate.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        patterns = [row["pattern"] for row in csv.DictReader(handle)]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE | re.MULTILINE | re.DOTALL)


def clean_description(description: str | None) -> str:
    """Plain text of a description (HTML or text), boilerplate removed, capped at RULE_TEXT_CHARS."""
    if not description:
        return ""
    description = valid_text(description)
    # Plain text without entities or carriage returns is used as given: html_to_text would only re-space it.
    plain = not looks_like_html(description) and "&" not in description and "\r" not in description
    text = description if plain else html_to_text(description)
    if "USA Staffing" in text or "Eligibilities" in text:
        text = _BLANK_LINES.sub("\n", _boilerplate().sub("", text)).strip()
    return text[:RULE_TEXT_CHARS]
