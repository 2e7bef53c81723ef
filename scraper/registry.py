"""Every source kind by name. A new source is one module in scraper/sources/ plus one line here."""

from __future__ import annotations

from types import ModuleType

from scraper.errors import ConfigError
from scraper.sources import (
    ashby,
    greenhouse,
    himalayas,
    jobicy,
    jsonld,
    lever,
    remoteok,
    remotive,
    rss,
    smartrecruiters,
    usajobs,
    workday,
)

KINDS: dict[str, ModuleType] = {
    module.KIND: module
    for module in (
        ashby,
        greenhouse,
        lever,
        smartrecruiters,
        workday,
        usajobs,
        jsonld,
        rss,
        remotive,
        remoteok,
        himalayas,
        jobicy,
    )
}


def get_kind(name: str, where: str = "") -> ModuleType:
    """The module for a source kind; ConfigError naming ``where`` and the known kinds otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        prefix = f"{where}: " if where else ""
        raise ConfigError(f"{prefix}unknown kind {name!r} (known: {', '.join(sorted(KINDS))})") from None
