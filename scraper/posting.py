"""The one shape every source turns its payload into."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
_TEXT_FIELDS = ("source", "external_id", "url", "title", "company", "location", "description", "description_html",
                "remote_flag")


def valid_text(text: str) -> str:
    """``text`` with lone surrogates (a JSON payload's stray "\\ud800" escape) replaced by U+FFFD: SQLite, UTF-8
    feeds and e-mail cannot encode them."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


@dataclass
class Posting:
    """A job posting as a source gave it, before any labelling.

    ``remote_flag`` keeps the source's own remote/workplace field verbatim as evidence
    (e.g. ``"isRemote=true"``, ``"workplaceType=hybrid"``); it is never taken as truth.
    ``structured`` carries other fields a source states outright and the classifier may
    use as evidence: ``salary_min``/``salary_max``/``salary_period``/``salary_currency``,
    ``employment_type``, ``experience_level``, ``low_grade``/``high_grade`` (federal GS).
    """

    source: str
    external_id: str
    url: str
    title: str
    company: str = ""
    location: str = ""
    description: str = ""
    description_html: str = ""
    posted_at: str | None = None
    remote_flag: str | None = None
    structured: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str):
                setattr(self, name, valid_text(value))

    @property
    def id(self) -> str:
        return f"{self.source}:{self.external_id}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["id"] = self.id
        return d
