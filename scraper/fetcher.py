"""The one place the network policy lives: every request himjobs sends goes through ``Fetcher``.

Settings (the ``[fetch]`` table of sources.toml; every one has a polite default):

    user_agent            "himjobs/0.1 (+https://github.com/himjobs/himjobs)"  who we are, with a contact URL
    timeout               30      seconds (or a duration like "30s") for connect and each read
    per_host_concurrency  2       requests in flight to one host at a time
    per_host_delay        1.0     seconds between the starts of two requests to one host
    max_retries           3       extra attempts after a 408, 429, 5xx, timeout or connection error
    backoff_base          1.0     seconds; attempt n waits backoff_base * 2**n unless Retry-After says otherwise
    max_retry_after       120     seconds; a longer Retry-After is cut to this
    max_bytes             10000000  a body larger than this raises ResponseTooLarge (it is streamed, never buffered whole)
    respect_robots        true    fetch /robots.txt once per host and obey it (404 = everything allowed)
    circuit_failures      5       consecutive failures after which a host is not contacted ...
    circuit_cooldown      300     ... for this many seconds (CircuitOpen)
    conditional           true    send If-None-Match / If-Modified-Since for GETs we have seen; 304 = unchanged
    cache_path            ""      optional SQLite file that keeps ETag/Last-Modified and bodies between runs
                                  (relative paths are taken from the working directory); empty = memory only

Policy: 403 raises Blocked at once and is never retried; other 4xx raise BadStatus at once. A 304
answers with the remembered body, marked ``response.extensions["himjobs_not_modified"] = True`` and
counted in ``Usage.not_modified``, so an unchanged board costs one tiny round trip.

Requests are counted per host (``Fetcher.requests_by_host``) and per caller: wrap work in
``with fetcher.usage("name") as usage:`` and every request made inside it (including from tasks it
starts) is added to that ``Usage``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import email.utils
import json
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
from protego import Protego

from scraper.errors import (
    BadStatus,
    Blocked,
    CircuitOpen,
    ConfigError,
    FetchError,
    FetchTimeout,
    ResponseTooLarge,
    RobotsDisallowed,
    SourceFormatError,
)

NOT_MODIFIED = "himjobs_not_modified"  # response.extensions key: True when the body came from a 304
_DURATION_SETTINGS = {"timeout", "per_host_delay", "backoff_base", "max_retry_after", "circuit_cooldown"}


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str = "himjobs/0.1 (+https://github.com/himjobs/himjobs)"
    timeout: float = 30.0
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0
    max_retries: int = 3
    backoff_base: float = 1.0
    max_retry_after: float = 120.0
    max_bytes: int = 10_000_000
    respect_robots: bool = True
    circuit_failures: int = 5
    circuit_cooldown: float = 300.0
    conditional: bool = True
    cache_path: str = ""

    @classmethod
    def from_config(cls, table: dict[str, Any], where: str) -> FetchSettings:
        """Settings from a ``[fetch]`` table; ConfigError names ``where`` and the bad key."""
        from scraper.config import parse_duration

        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in table.items():
            if key not in known:
                raise ConfigError(f"{where}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
            default = known[key].default
            if key in _DURATION_SETTINGS:
                values[key] = parse_duration(raw, f"{where} {key}")
            elif isinstance(default, bool):
                if not isinstance(raw, bool):
                    raise ConfigError(f"{where} {key}: must be true or false, got {raw!r}")
                values[key] = raw
            elif isinstance(default, int):
                if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
                    raise ConfigError(f"{where} {key}: must be a whole number >= 0, got {raw!r}")
                values[key] = raw
            else:
                if not isinstance(raw, str):
                    raise ConfigError(f"{where} {key}: must be a string, got {raw!r}")
                values[key] = raw
        settings = cls(**values)
        if settings.per_host_concurrency < 1:
            raise ConfigError(f"{where} per_host_concurrency: must be at least 1")
        if settings.max_bytes < 1:
            raise ConfigError(f"{where} max_bytes: must be at least 1")
        if not settings.user_agent.strip():
            raise ConfigError(f"{where} user_agent: must not be empty")
        return settings


@dataclass
class Usage:
    """What one caller's requests cost."""

    requests: int = 0  # requests sent, retries and robots.txt included
    not_modified: int = 0  # of which answered 304 (served from the cache)
    errors: int = 0  # failed attempts (retried or not)


@dataclass
class CachedBody:
    etag: str | None
    last_modified: str | None
    content_type: str | None
    body: bytes


class SqliteResponseCache(MutableMapping[str, CachedBody]):
    """A ``url -> CachedBody`` mapping kept in one SQLite file, so conditional requests survive restarts."""

    def __init__(self, path: str | Path):
        self._db = sqlite3.connect(str(path))
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS http_cache (url TEXT PRIMARY KEY, etag TEXT,"
            " last_modified TEXT, content_type TEXT, body BLOB)"
        )
        self._db.commit()

    def __getitem__(self, url: str) -> CachedBody:
        row = self._db.execute(
            "SELECT etag, last_modified, content_type, body FROM http_cache WHERE url = ?", (url,)
        ).fetchone()
        if row is None:
            raise KeyError(url)
        return CachedBody(*row)

    def __setitem__(self, url: str, entry: CachedBody) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO http_cache VALUES (?, ?, ?, ?, ?)",
            (url, entry.etag, entry.last_modified, entry.content_type, entry.body),
        )
        self._db.commit()

    def __delitem__(self, url: str) -> None:
        self._db.execute("DELETE FROM http_cache WHERE url = ?", (url,))
        self._db.commit()

    def __iter__(self) -> Iterator[str]:
        return iter([row[0] for row in self._db.execute("SELECT url FROM http_cache")])

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM http_cache").fetchone()[0]

    def close(self) -> None:
        self._db.close()


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    pace: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0
    robots: Protego | None = None
    robots_error: str | None = None
    robots_checked: bool = False
    robots_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    failures: int = 0
    open_until: float = 0.0


_current_usage: contextvars.ContextVar[Usage | None] = contextvars.ContextVar("himjobs_usage", default=None)


class Fetcher:
    """One httpx.AsyncClient behind the network policy described in the module docstring.

    ``cache`` (optional) is any ``MutableMapping[str, CachedBody]``; without one, ``settings.cache_path``
    opens a SqliteResponseCache, else bodies are remembered in memory for this fetcher's life.
    ``on_request`` is called with the caller's Usage after every request (progress displays).
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        cache: MutableMapping[str, CachedBody] | None = None,
        on_request: Callable[[Usage], None] | None = None,
    ):
        self.settings = settings or FetchSettings()
        self._owned_cache: SqliteResponseCache | None = None
        if cache is None and self.settings.cache_path:
            cache = self._owned_cache = SqliteResponseCache(self.settings.cache_path)
        self.cache: MutableMapping[str, CachedBody] = cache if cache is not None else {}
        self.on_request = on_request
        self.requests_by_host: Counter[str] = Counter()
        self._hosts: dict[str, _Host] = {}
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Fetcher:
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.timeout),
            headers={"User-Agent": self.settings.user_agent},
            follow_redirects=True,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._owned_cache is not None:
            self._owned_cache.close()

    @contextlib.contextmanager
    def usage(self, name: str = "") -> Iterator[Usage]:
        """Count every request made inside this block (and tasks started from it) into a fresh Usage."""
        usage = Usage()
        token = _current_usage.set(usage)
        try:
            yield usage
        finally:
            _current_usage.reset(token)

    # -- public verbs -------------------------------------------------------------------------

    async def get(
        self, url: str, *, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self._request("GET", url, params=params, headers=headers)

    async def get_text(self, url: str, **kwargs: Any) -> str:
        return (await self.get(url, **kwargs)).text

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        return _json(await self.get(url, **kwargs))

    async def post_json(
        self,
        url: str,
        json: Any,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """POST a JSON body and decode the JSON answer (Workday's search is a POST that reads)."""
        return _json(await self._request("POST", url, params=params, headers=headers, json_body=json))

    # -- the policy ---------------------------------------------------------------------------

    def _host(self, origin: str) -> _Host:
        if origin not in self._hosts:
            self._hosts[origin] = _Host(asyncio.Semaphore(self.settings.per_host_concurrency))
        return self._hosts[origin]

    async def _request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        json_body: Any = None,
    ) -> httpx.Response:
        if self._client is None:
            raise RuntimeError("use Fetcher as 'async with Fetcher(...) as fetcher'")
        request = self._client.build_request(method, url, params=params, headers=headers, json=json_body)
        full_url = str(request.url)
        origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        host = self._host(origin)
        if self.settings.respect_robots:
            await self._check_robots(host, origin, full_url)
        cached = self.cache.get(full_url) if method == "GET" and self.settings.conditional else None
        if cached is not None:
            if cached.etag:
                request.headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                request.headers["If-Modified-Since"] = cached.last_modified

        attempt = 0
        while True:
            self._check_circuit(host, origin, full_url)
            try:
                response = await self._send(host, origin, request)
            except httpx.TimeoutException:
                self._failed(host)
                if attempt >= self.settings.max_retries:
                    raise FetchTimeout(f"timed out after {attempt + 1} attempts: {full_url}", full_url) from None
                await asyncio.sleep(self._backoff(attempt))
                attempt += 1
                continue
            except httpx.TransportError as exc:
                self._failed(host)
                if attempt >= self.settings.max_retries:
                    raise FetchError(
                        f"{type(exc).__name__} after {attempt + 1} attempts: {full_url}", full_url
                    ) from None
                await asyncio.sleep(self._backoff(attempt))
                attempt += 1
                continue

            status = response.status_code
            if status == 304 and cached is not None:
                host.failures = 0
                self._count_not_modified()
                return httpx.Response(
                    200,
                    headers={"Content-Type": cached.content_type or "application/octet-stream"},
                    content=cached.body,
                    request=request,
                    extensions={NOT_MODIFIED: True},
                )
            if 200 <= status < 300:
                host.failures = 0
                if method == "GET" and self.settings.conditional:
                    self._remember(full_url, response)
                return response
            if status == 403:
                self._failed(host)
                raise Blocked(f"403 from {full_url}", full_url, status)
            if status in (408, 429) or status >= 500:
                self._failed(host)
                if attempt >= self.settings.max_retries:
                    raise BadStatus(f"{status} from {full_url} after {attempt + 1} attempts", full_url, status)
                await asyncio.sleep(self._retry_wait(response, attempt))
                attempt += 1
                continue
            self._count_error()
            raise BadStatus(f"{status} from {full_url}", full_url, status)

    async def _send(self, host: _Host, origin: str, request: httpx.Request) -> httpx.Response:
        """One attempt: wait for a slot and our turn on the host, stream the body under the size cap."""
        assert self._client is not None
        async with host.semaphore:
            async with host.pace:
                wait = host.next_start - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                host.next_start = time.monotonic() + self.settings.per_host_delay
            self._count_request(origin)
            response = await self._client.send(request, stream=True)
            try:
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.settings.max_bytes:
                    raise ResponseTooLarge(
                        f"{request.url} declares {declared} bytes (cap {self.settings.max_bytes})",
                        str(request.url),
                        response.status_code,
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.settings.max_bytes:
                        raise ResponseTooLarge(
                            f"{request.url} sent more than {self.settings.max_bytes} bytes",
                            str(request.url),
                            response.status_code,
                        )
                    chunks.append(chunk)
            finally:
                await response.aclose()
        # The body is already decoded, so the encoding headers no longer describe it.
        headers = [
            (k, v) for k, v in response.headers.multi_items() if k.lower() not in ("content-encoding", "content-length")
        ]
        return httpx.Response(
            response.status_code, headers=headers, content=b"".join(chunks), request=request
        )

    async def _check_robots(self, host: _Host, origin: str, url: str) -> None:
        async with host.robots_lock:
            if not host.robots_checked:
                await self._load_robots(host, origin)
                host.robots_checked = True
        if host.robots_error:
            raise RobotsDisallowed(f"{host.robots_error}; not fetching {url}", url)
        if host.robots is not None and not host.robots.can_fetch(url, self.settings.user_agent):
            raise RobotsDisallowed(f"robots.txt of {origin} disallows {url}", url)

    async def _load_robots(self, host: _Host, origin: str) -> None:
        """RFC 9309: 4xx means no rules; an unreachable robots.txt (5xx, network) means stay away."""
        assert self._client is not None
        robots_url = f"{origin}/robots.txt"
        try:
            response = await self._send(host, origin, self._client.build_request("GET", robots_url))
        except ResponseTooLarge:
            return  # an absurd robots.txt is ignored rather than trusted
        except httpx.HTTPError as exc:
            host.robots_error = f"robots.txt of {origin} unreachable ({type(exc).__name__})"
            return
        if response.status_code >= 500:
            host.robots_error = f"robots.txt of {origin} unreachable ({response.status_code})"
        elif 200 <= response.status_code < 300:
            host.robots = Protego.parse(response.text)

    def _check_circuit(self, host: _Host, origin: str, url: str) -> None:
        if host.open_until and time.monotonic() < host.open_until:
            raise CircuitOpen(
                f"{origin} failed {self.settings.circuit_failures} times in a row; not sending {url}", url
            )
        if host.open_until:  # cooled down: let requests through again, one failure re-opens
            host.open_until = 0.0
            host.failures = max(0, self.settings.circuit_failures - 1)

    def _failed(self, host: _Host) -> None:
        self._count_error()
        host.failures += 1
        if self.settings.circuit_failures and host.failures >= self.settings.circuit_failures:
            host.open_until = time.monotonic() + self.settings.circuit_cooldown

    def _backoff(self, attempt: int) -> float:
        return self.settings.backoff_base * (2**attempt)

    def _retry_wait(self, response: httpx.Response, attempt: int) -> float:
        retry_after = _parse_retry_after(response.headers.get("Retry-After"))
        wait = retry_after if retry_after is not None else self._backoff(attempt)
        return min(wait, self.settings.max_retry_after)

    def _remember(self, url: str, response: httpx.Response) -> None:
        etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        if etag or last_modified:
            self.cache[url] = CachedBody(etag, last_modified, response.headers.get("Content-Type"), response.content)

    def _count_request(self, origin: str) -> None:
        self.requests_by_host[origin] += 1
        usage = _current_usage.get()
        if usage is not None:
            usage.requests += 1
            if self.on_request is not None:
                self.on_request(usage)

    def _count_not_modified(self) -> None:
        usage = _current_usage.get()
        if usage is not None:
            usage.not_modified += 1

    def _count_error(self) -> None:
        usage = _current_usage.get()
        if usage is not None:
            usage.errors += 1


def _parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise SourceFormatError(f"{response.request.url}: response is not JSON ({exc})") from None
