"""Crawling sources concurrently under one polite Fetcher.

``crawl_sources`` never lets one source stop another: each source's exception becomes that source's
``SourceResult.error`` ("Blocked: 403 from …"). A result with ``ok=True`` means the kind read the
whole board (every page, every detail it needs), so the store may close postings that vanished;
a kind that cannot read the whole board raises, and the source is reported failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field

from scraper.config import Config, SourceConfig
from scraper.fetcher import CachedBody, Fetcher, FetchSettings, Usage
from scraper.posting import Posting
from scraper.progress import CrawlListener
from scraper.registry import get_kind
from scraper.timestamps import iso_utc


@dataclass
class SourceResult:
    source: str
    kind: str
    postings: list[Posting] = field(default_factory=list)
    ok: bool = False
    error: str | None = None
    requests: int = 0
    not_modified: int = 0
    errors: int = 0  # failed request attempts, retried ones included
    started_at: str = ""
    finished_at: str = ""




async def crawl_sources(
    config: Config,
    sources: Iterable[SourceConfig] | None = None,
    *,
    progress: CrawlListener | None = None,
    cache: MutableMapping[str, CachedBody] | None = None,
) -> list[SourceResult]:
    """Crawl ``sources`` (default: the enabled ones in ``config``), results in the same order.

    ``cache`` keeps ETag/Last-Modified bodies between crawls (e.g. a SqliteResponseCache beside the
    store) so unchanged boards answer 304; without it ``[fetch] cache_path`` or memory is used.
    """
    chosen = list(sources) if sources is not None else [s for s in config.sources if s.enabled]
    settings = FetchSettings.from_config(config.fetch, where=f"{config.path or 'config'} [fetch]")
    names: dict[int, str] = {}

    def on_request(usage: Usage) -> None:
        if progress is not None and id(usage) in names:
            progress.requested(names[id(usage)], usage.requests, usage.errors)

    async with Fetcher(settings, cache=cache, on_request=on_request) as fetcher:
        return list(await asyncio.gather(*(_crawl_one(fetcher, s, names, progress) for s in chosen)))


async def _crawl_one(
    fetcher: Fetcher, source: SourceConfig, names: dict[int, str], progress: CrawlListener | None
) -> SourceResult:
    result = SourceResult(source=source.name, kind=source.kind, started_at=iso_utc())
    if progress is not None:
        progress.started(source.name, source.kind)
    with fetcher.usage(source.name) as usage:
        names[id(usage)] = source.name
        try:
            kind = get_kind(source.kind, where=f"source {source.name!r}")
            result.postings = await kind.fetch_postings(fetcher, source)
            result.ok = True
        except Exception as exc:  # one source's failure of any kind must not stop the others
            result.error = f"{type(exc).__name__}: {exc}"
            result.postings = []
        finally:
            names.pop(id(usage), None)
    result.requests, result.not_modified, result.errors = usage.requests, usage.not_modified, usage.errors
    if result.error and result.errors == 0:
        result.errors = 1  # a failure that was not a request (bad payload, config) still counts
    result.finished_at = iso_utc()
    if progress is not None:
        progress.finished(result)
    return result
