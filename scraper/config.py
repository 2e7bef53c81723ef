"""Reading and checking the configuration file (``sources.toml``).

One TOML file holds everything but secrets::

    [fetch]                 # the fetcher's network policy; see scraper.fetcher for every setting
    per_host_concurrency = 2

    [schedule]              # when the scheduler runs each job
    crawl_interval = "6h"   # durations: "10s", "30m", "6h", "1d"
    jitter = "5m"
    misfire_grace = "1h"
    digest_check = "15m"    # how often the digest job looks for subscribers whose local hour has come
    stale_after = "2d"      # a source with no successful crawl for this long is stale

    [[source]]
    name = "commure"        # unique; stored as postings.source
    kind = "ashby"          # a kind from scraper.registry
    board = "Commure-Athelas"   # the kind's own fields
    base_url = "http://127.0.0.1:8000"   # optional: another host speaking the same format
    interval = "1h"         # optional: overrides schedule.crawl_interval
    enabled = true          # optional

Secrets (USAJOBS key, SMTP password) never live here: they come from the environment.
Every error names the entry and the field.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from scraper.errors import ConfigError

DEFAULT_CONFIG = Path(__file__).with_name("sources.toml")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_COMMON_SOURCE_FIELDS = {"name", "kind", "base_url", "interval", "enabled"}
_SCHEDULE_DEFAULTS = {
    "crawl_interval": "6h",
    "jitter": "5m",
    "misfire_grace": "1h",
    "digest_check": "15m",
    "stale_after": "2d",
}


def parse_duration(value: Any, where: str = "duration") -> float:
    """Seconds in a duration such as ``"10s"``, ``"30m"``, ``"6h"`` or ``"1d"``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match:
        raise ConfigError(f'{where}: {value!r} is not a duration like "10s", "30m", "6h" or "1d"')
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


@dataclass
class SourceConfig:
    name: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    base_url: str | None = None
    interval: float | None = None
    enabled: bool = True

    def option(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)


@dataclass
class Config:
    sources: list[SourceConfig]
    fetch: dict[str, Any] = field(default_factory=dict)
    schedule: dict[str, float] = field(default_factory=dict)
    path: Path | None = None

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} in {self.path} (configured: {known})")

    def interval_for(self, source: SourceConfig) -> float:
        return source.interval if source.interval is not None else self.schedule["crawl_interval"]


def load_config(path: str | Path | None = None) -> Config:
    """Read and check a configuration file; the packaged default when ``path`` is None."""
    path = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(raw, path)


def parse_config(raw: dict[str, Any], path: Path | None = None) -> Config:
    from scraper.fetcher import FetchSettings  # the fetcher owns its settings' names and defaults
    from scraper.registry import get_kind

    where = str(path) if path else "config"
    unknown = set(raw) - {"fetch", "schedule", "source"}
    if unknown:
        raise ConfigError(f"{where}: unknown section(s) {', '.join(sorted(unknown))}")

    fetch = raw.get("fetch", {})
    if not isinstance(fetch, dict):
        raise ConfigError(f"{where}: [fetch] must be a table")
    FetchSettings.from_config(fetch, where=f"{where} [fetch]")

    schedule_raw = raw.get("schedule", {})
    if not isinstance(schedule_raw, dict):
        raise ConfigError(f"{where}: [schedule] must be a table")
    extra = set(schedule_raw) - set(_SCHEDULE_DEFAULTS)
    if extra:
        raise ConfigError(f"{where} [schedule]: unknown setting(s) {', '.join(sorted(extra))}")
    schedule = {
        key: parse_duration(schedule_raw.get(key, default), f"{where} [schedule] {key}")
        for key, default in _SCHEDULE_DEFAULTS.items()
    }
    if schedule["crawl_interval"] <= 0:
        raise ConfigError(f"{where} [schedule] crawl_interval: must be more than zero")

    entries = raw.get("source", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: sources are [[source]] entries")
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        label = f"{where} [[source]] #{index}"
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{label}: field 'name' is missing or empty")
        label = f"{where} source {name!r}"
        if name in seen:
            raise ConfigError(f"{label}: field 'name' repeats an earlier source")
        seen.add(name)
        kind_name = entry.get("kind")
        if not isinstance(kind_name, str):
            raise ConfigError(f"{label}: field 'kind' is missing")
        kind = get_kind(kind_name, where=f"{label}: field 'kind'")
        options = {k: v for k, v in entry.items() if k not in _COMMON_SOURCE_FIELDS}
        for required in kind.REQUIRED:
            value = options.get(required)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise ConfigError(f"{label}: field {required!r} is required for kind {kind_name!r}")
        for group in getattr(kind, "ONE_OF", ()):
            if not any(options.get(f) for f in group):
                raise ConfigError(f"{label}: one of the fields {', '.join(map(repr, group))} is required for kind {kind_name!r}")
        allowed = set(kind.REQUIRED) | set(getattr(kind, "OPTIONAL", ()))
        stray = set(options) - allowed
        if stray:
            raise ConfigError(
                f"{label}: unknown field(s) {', '.join(sorted(stray))} for kind {kind_name!r}"
                f" (allowed: {', '.join(sorted(allowed | _COMMON_SOURCE_FIELDS))})"
            )
        base_url = entry.get("base_url")
        if base_url is not None:
            parsed = urlparse(str(base_url))
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise ConfigError(f"{label}: field 'base_url' must be an http(s) URL, got {base_url!r}")
            base_url = str(base_url).rstrip("/")
        interval = entry.get("interval")
        if interval is not None:
            interval = parse_duration(interval, f"{label}: field 'interval'")
            if interval <= 0:
                raise ConfigError(f"{label}: field 'interval' must be more than zero")
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{label}: field 'enabled' must be true or false")
        sources.append(SourceConfig(name, kind_name, options, base_url, interval, enabled))
    return Config(sources=sources, fetch=fetch, schedule=schedule, path=path)
