"""Showing an interactive crawl as it runs.

``crawl_sources`` reports through the small ``CrawlListener`` protocol. ``ProgressDisplay`` is the one
for people: on a terminal it redraws one line per source in place (requests, postings, errors); when
stdout is not a terminal (logs, cron, CI) it writes one plain line per finished source::

    source=commure status=ok postings=103 requests=2 errors=0
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from scraper.crawl import SourceResult

REDRAW_EVERY = 0.1  # seconds; at most ten terminal redraws a second


class CrawlListener(Protocol):
    def started(self, source: str, kind: str) -> None: ...

    def requested(self, source: str, requests: int, errors: int) -> None: ...

    def finished(self, result: SourceResult) -> None: ...


@dataclass
class _Row:
    kind: str
    status: str = "running"
    requests: int = 0
    postings: int = 0
    errors: int = 0
    detail: str = ""


class ProgressDisplay:
    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.rows: dict[str, _Row] = {}
        self._drawn_lines = 0
        self._last_draw = 0.0

    def started(self, source: str, kind: str) -> None:
        self.rows[source] = _Row(kind)
        self._redraw(force=True)

    def requested(self, source: str, requests: int, errors: int) -> None:
        row = self.rows.setdefault(source, _Row(""))
        row.requests, row.errors = requests, errors
        self._redraw()

    def finished(self, result: SourceResult) -> None:
        row = self.rows.setdefault(result.source, _Row(result.kind))
        row.status = "ok" if result.ok else "failed"
        row.requests, row.postings, row.errors = result.requests, len(result.postings), result.errors
        row.detail = result.error or ""
        if self.live:
            self._redraw(force=True)
        else:
            line = (
                f"source={result.source} status={row.status} postings={row.postings}"
                f" requests={row.requests} errors={row.errors}"
            )
            if result.not_modified:
                line += f" not_modified={result.not_modified}"
            if result.error:
                line += f" error={result.error!r}"
            print(line, file=self.stream, flush=True)

    def _redraw(self, force: bool = False) -> None:
        if not self.live:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < REDRAW_EVERY:
            return
        self._last_draw = now
        lines = [
            f"{name:<28} {row.kind:<15} {row.status:<8} requests={row.requests:<5} postings={row.postings:<6}"
            f" errors={row.errors}" + (f"  {row.detail[:60]}" if row.detail else "")
            for name, row in self.rows.items()
        ]
        # Move back over what we drew last time and overwrite it line by line.
        out = f"\x1b[{self._drawn_lines}F" if self._drawn_lines else ""
        out += "".join(f"\x1b[2K{line}\n" for line in lines)
        self.stream.write(out)
        self.stream.flush()
        self._drawn_lines = len(lines)
