"""The network policy, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest
from conftest import FAST
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scraper.config import load_config
from scraper.errors import (
    BadStatus,
    Blocked,
    CircuitOpen,
    ConfigError,
    FetchTimeout,
    ResponseTooLarge,
    RobotsDisallowed,
)
from scraper.fetcher import NOT_MODIFIED, Fetcher, FetchSettings, SqliteResponseCache


def fetch(url: str, settings: FetchSettings = FAST, **kwargs):
    async def run():
        async with Fetcher(settings, **kwargs) as fetcher:
            with fetcher.usage("t") as usage:
                response = await fetcher.get(url)
            return response, usage, fetcher

    return asyncio.run(run())


def test_429_waits_for_retry_after_then_succeeds(site: HTTPServer) -> None:
    site.expect_oneshot_request("/jobs").respond_with_data("slow down", status=429, headers={"Retry-After": "1"})
    site.expect_oneshot_request("/jobs").respond_with_json({"ok": True})
    settings = replace(FAST, max_retry_after=1.0)
    started = time.monotonic()
    response, usage, _ = fetch(site.url_for("/jobs"), settings)
    assert response.json() == {"ok": True}
    assert time.monotonic() - started >= 0.95  # Retry-After: 1 was honoured, not the 0.01 s backoff
    assert usage.errors == 1


def test_retry_after_is_capped(site: HTTPServer) -> None:
    site.expect_oneshot_request("/jobs").respond_with_data("", status=503, headers={"Retry-After": "3600"})
    site.expect_oneshot_request("/jobs").respond_with_data("fine")
    started = time.monotonic()
    response, _, _ = fetch(site.url_for("/jobs"), replace(FAST, max_retry_after=0.2))
    assert response.text == "fine"
    assert time.monotonic() - started < 2


def test_5xx_is_retried_then_succeeds(site: HTTPServer) -> None:
    site.expect_oneshot_request("/jobs").respond_with_data("oops", status=502)
    site.expect_oneshot_request("/jobs").respond_with_data("oops", status=500)
    site.expect_oneshot_request("/jobs").respond_with_data("[]")
    response, usage, _ = fetch(site.url_for("/jobs"))
    assert response.text == "[]"
    assert usage.requests == 4  # robots.txt + three attempts


def test_5xx_gives_up_after_max_retries(site: HTTPServer) -> None:
    site.expect_request("/jobs").respond_with_data("down", status=503)
    with pytest.raises(BadStatus, match="503"):
        fetch(site.url_for("/jobs"), replace(FAST, max_retries=2))
    assert len([r for r, _ in site.log if r.path == "/jobs"]) == 3


def test_403_is_blocked_and_never_retried(site: HTTPServer) -> None:
    site.expect_request("/jobs").respond_with_data("go away", status=403)
    with pytest.raises(Blocked, match="403"):
        fetch(site.url_for("/jobs"))
    assert len([r for r, _ in site.log if r.path == "/jobs"]) == 1


def test_404_is_bad_status_at_once(site: HTTPServer) -> None:
    site.expect_request("/jobs").respond_with_data("no board", status=404)
    with pytest.raises(BadStatus) as caught:
        fetch(site.url_for("/jobs"))
    assert caught.value.status == 404
    assert len([r for r, _ in site.log if r.path == "/jobs"]) == 1


def test_timeout_is_retried_then_raised(site: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.5)
        return Response("late")

    site.expect_request("/slow").respond_with_handler(slow)

    async def run():
        async with Fetcher(replace(FAST, timeout=0.1, max_retries=1)) as fetcher:
            with fetcher.usage("t") as usage:
                with pytest.raises(FetchTimeout):
                    await fetcher.get(site.url_for("/slow"))
            return usage

    usage = asyncio.run(run())
    assert usage.requests == 3 and usage.errors == 2  # robots.txt, then the page twice


def test_robots_disallow_means_the_page_is_never_requested(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private\n")
    httpserver.expect_request("/private/jobs").respond_with_data("secret")
    httpserver.expect_request("/public").respond_with_data("hello")

    async def run():
        async with Fetcher(FAST) as fetcher:
            with pytest.raises(RobotsDisallowed):
                await fetcher.get(httpserver.url_for("/private/jobs"))
            return (await fetcher.get(httpserver.url_for("/public"))).text

    assert asyncio.run(run()) == "hello"
    paths = [r.path for r, _ in httpserver.log]
    assert "/private/jobs" not in paths
    assert paths.count("/robots.txt") == 1  # fetched once per host


def test_robots_unreachable_means_stay_away(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=503)
    httpserver.expect_request("/jobs").respond_with_data("x")
    with pytest.raises(RobotsDisallowed, match="unreachable"):
        fetch(httpserver.url_for("/jobs"))


def test_304_returns_the_cached_body_and_is_counted(site: HTTPServer) -> None:
    site.expect_oneshot_request("/board").respond_with_data(
        '{"jobs": [1]}', headers={"ETag": 'W/"v1"', "Content-Type": "application/json"}
    )

    def not_modified(request: Request) -> Response:
        assert request.headers.get("If-None-Match") == 'W/"v1"'
        return Response(status=304)

    site.expect_oneshot_request("/board").respond_with_handler(not_modified)

    async def run():
        async with Fetcher(FAST) as fetcher:
            with fetcher.usage("t") as usage:
                first = await fetcher.get(fetcher_url)
                second = await fetcher.get(fetcher_url)
            return first, second, usage

    fetcher_url = site.url_for("/board")
    first, second, usage = asyncio.run(run())
    assert second.json() == first.json() == {"jobs": [1]}
    assert second.extensions.get(NOT_MODIFIED) is True and not first.extensions.get(NOT_MODIFIED)
    assert usage.not_modified == 1


def test_conditional_cache_persists_in_sqlite(site: HTTPServer, tmp_path) -> None:
    site.expect_oneshot_request("/board").respond_with_data("v1", headers={"Last-Modified": "Wed, 01 Jul 2026 00:00:00 GMT"})
    site.expect_oneshot_request("/board", headers={"If-Modified-Since": "Wed, 01 Jul 2026 00:00:00 GMT"}).respond_with_data(
        "", status=304
    )
    settings = replace(FAST, cache_path=str(tmp_path / "http.sqlite"))
    assert fetch(site.url_for("/board"), settings)[0].text == "v1"
    response, usage, _ = fetch(site.url_for("/board"), settings)  # a new Fetcher, as in the next crawl
    assert response.text == "v1" and usage.not_modified == 1
    assert len(SqliteResponseCache(tmp_path / "http.sqlite")) == 1


def test_oversized_body_raises(site: HTTPServer) -> None:
    site.expect_request("/huge").respond_with_data(b"x" * 5000)
    with pytest.raises(ResponseTooLarge):
        fetch(site.url_for("/huge"), replace(FAST, max_bytes=1000))


def test_oversized_streamed_body_without_length_raises(site: HTTPServer) -> None:
    def chunked(request: Request) -> Response:
        return Response((b"y" * 500 for _ in range(10)), direct_passthrough=True)  # no Content-Length

    site.expect_request("/stream").respond_with_handler(chunked)
    with pytest.raises(ResponseTooLarge):
        fetch(site.url_for("/stream"), replace(FAST, max_bytes=1000))


def test_circuit_opens_after_consecutive_failures(site: HTTPServer) -> None:
    site.expect_request("/down").respond_with_data("", status=500)
    site.expect_request("/other").respond_with_data("fine")
    settings = replace(FAST, max_retries=0, circuit_failures=3)

    async def run():
        async with Fetcher(settings) as fetcher:
            for _ in range(3):
                with pytest.raises(BadStatus):
                    await fetcher.get(site.url_for("/down"))
            with pytest.raises(CircuitOpen):
                await fetcher.get(site.url_for("/other"))  # the whole host rests, not just one URL

    asyncio.run(run())
    assert "/other" not in [r.path for r, _ in site.log]


def test_requests_are_counted_per_host_and_user_agent_is_sent(site: HTTPServer) -> None:
    site.expect_request("/a", headers={"User-Agent": FAST.user_agent}).respond_with_data("a")
    _, usage, fetcher = fetch(site.url_for("/a"))
    assert usage.requests == 2  # robots.txt + the page
    assert sum(fetcher.requests_by_host.values()) == 2


def test_per_host_delay_spaces_requests(site: HTTPServer) -> None:
    site.expect_request("/p").respond_with_data("p")

    async def run():
        async with Fetcher(replace(FAST, per_host_delay=0.2)) as fetcher:
            await asyncio.gather(*(fetcher.get(site.url_for("/p")) for _ in range(3)))

    started = time.monotonic()
    asyncio.run(run())
    assert time.monotonic() - started >= 0.6  # robots.txt + 3 pages, 0.2 s apart


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"per_host_delay": "soon"}, "per_host_delay"),
        ({"retries": 3}, "unknown setting 'retries'"),
        ({"respect_robots": "yes"}, "respect_robots"),
        ({"max_retries": -1}, "max_retries"),
        ({"per_host_concurrency": 0}, "per_host_concurrency"),
    ],
)
def test_bad_fetch_settings_name_the_key(table: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        FetchSettings.from_config(table, where="my.toml [fetch]")
    assert "my.toml [fetch]" in str(caught.value)


def test_durations_are_accepted_in_settings() -> None:
    settings = FetchSettings.from_config({"timeout": "1m", "per_host_delay": 2}, where="x")
    assert settings.timeout == 60 and settings.per_host_delay == 2


def test_default_config_loads_with_polite_fetch_settings() -> None:
    config = load_config()
    settings = FetchSettings.from_config(config.fetch, where="default")
    assert settings.per_host_delay >= 1 and settings.respect_robots and "+http" in settings.user_agent
    assert {s.kind for s in config.sources} >= {"ashby", "greenhouse", "lever", "workday", "usajobs", "rss"}
    assert config.schedule["crawl_interval"] == 6 * 3600
