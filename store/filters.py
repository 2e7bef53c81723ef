"""What a seeker asks for: a validated combination of filters, shared by feeds, subscriptions and digests.

Vocabulary: store/data/filters.toml (the label values of LABELS.md, credentials, US state codes, and the
factors that annualise a salary). Every multi-valued filter takes repeated values or a comma list;
values within one filter are alternatives ("coder or technician"), different filters must all hold.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from scraper.errors import HimjobsError

VOCABULARY: dict[str, Any] = tomllib.loads((Path(__file__).parent / "data" / "filters.toml").read_text("utf-8"))
ROLES: dict[str, str] = VOCABULARY["role"]
SENIORITIES: dict[str, str] = VOCABULARY["seniority"]
ARRANGEMENTS: dict[str, str] = VOCABULARY["arrangement"]
CREDENTIALS: tuple[str, ...] = tuple(VOCABULARY["credential"]["values"])
STATES: tuple[str, ...] = tuple(VOCABULARY["state"]["values"])
ANNUALISE: dict[str, float] = {k: float(v) for k, v in VOCABULARY["annualise"].items()}

# Parameter name -> (allowed values, how a value is spelled canonically).
_CHOICES: dict[str, tuple[tuple[str, ...], Any]] = {
    "role": (tuple(ROLES), str.lower),
    "seniority": (tuple(SENIORITIES), str.lower),
    "arrangement": (tuple(ARRANGEMENTS), str.lower),
    "state": (STATES, str.upper),
    "credential": (CREDENTIALS, str.upper),
}
PARAMETERS = (*_CHOICES, "min_salary", "keyword")
MAX_KEYWORD_LENGTH = 200


class FilterError(HimjobsError):
    """A filter value is not one of the allowed values."""


@dataclass(frozen=True)
class FeedFilter:
    """One combination of filters; empty means "any"."""

    role: tuple[str, ...] = ()
    seniority: tuple[str, ...] = ()
    arrangement: tuple[str, ...] = ()
    state: tuple[str, ...] = ()
    credential: tuple[str, ...] = ()
    min_salary: float | None = None  # annualised, in the posting's currency (USD for US postings)
    keyword: str | None = None  # full-text search over title and description

    def to_params(self) -> dict[str, str]:
        """The filters as query parameters (comma lists), in a fixed order: a stable feed URL."""
        params: dict[str, str] = {}
        for name in _CHOICES:
            values = getattr(self, name)
            if values:
                params[name] = ",".join(values)
        if self.min_salary is not None:
            params["min_salary"] = f"{self.min_salary:g}"
        if self.keyword:
            params["keyword"] = self.keyword
        return params

    def to_json(self) -> str:
        data = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}
        return json.dumps({k: v for k, v in data.items() if v not in ((), [], None, "")}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FeedFilter:
        return parse_filters(json.loads(text or "{}"))

    def describe(self) -> str:
        """A short human summary, e.g. "coder or technician · remote · entry · from $45,000 a year"."""
        parts = [" or ".join(values) for values in (self.role, self.arrangement, self.seniority, self.state,
                                                     self.credential) if values]
        if self.min_salary is not None:
            parts.append(f"from ${self.min_salary:,.0f} a year")
        if self.keyword:
            parts.append(f'"{self.keyword}"')
        return " · ".join(parts) or "all jobs"


def parse_filters(params: Mapping[str, str | Iterable[str] | float | None]) -> FeedFilter:
    """Validate filters given as strings, comma lists or lists of strings (CLI options, query
    parameters, stored JSON). Raises FilterError naming the bad value and the allowed ones."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise FilterError(f"unknown filter {', '.join(unknown)}; filters are: {', '.join(PARAMETERS)}")
    values: dict[str, Any] = {}
    for name, (allowed, canonical) in _CHOICES.items():
        chosen: list[str] = []
        for item in _split(params.get(name)):
            value = canonical(item)
            if value not in allowed:
                raise FilterError(f"{name} {item!r} is not one of: {', '.join(allowed)}")
            if value not in chosen:
                chosen.append(value)
        values[name] = tuple(chosen)
    values["min_salary"] = _parse_salary(params.get("min_salary"))
    values["keyword"] = _parse_keyword(params.get("keyword"))
    return FeedFilter(**values)


def _split(raw: str | Iterable[str] | float | None) -> list[str]:
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else list(raw)  # type: ignore[arg-type]
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def _parse_salary(raw: Any) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = str(raw).strip().replace(",", "").replace("$", "")
    multiplier = 1000.0 if text.lower().endswith("k") else 1.0
    try:
        amount = float(text[:-1] if multiplier > 1 else text) * multiplier
    except ValueError:
        raise FilterError(f"min_salary {raw!r} is not a number (a yearly amount such as 45000 or 45k)") from None
    if not 0 <= amount < 10_000_000:
        raise FilterError(f"min_salary {raw!r} must be a yearly amount between 0 and 10,000,000")
    return amount


def _parse_keyword(raw: Any) -> str | None:
    if raw is None:
        return None
    text = re.sub(r"\s+", " ", str(raw)).strip()
    if len(text) > MAX_KEYWORD_LENGTH:
        raise FilterError(f"keyword is longer than {MAX_KEYWORD_LENGTH} characters")
    if text and not re.search(r"\w", text):
        raise FilterError(f"keyword {raw!r} has no letters or digits to search for")
    return text or None
