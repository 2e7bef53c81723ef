"""crawl_sources: concurrency, isolation of failures, accounting, progress output."""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import re
from dataclasses import asdict
from pathlib import Path

import pytest
from conftest import FAST, recorded_bytes
from pytest_httpserver import HTTPServer

from scraper.config import Config, SourceConfig, parse_config
from scraper.crawl import SourceResult, crawl_sources
from scraper.errors import ConfigError
from scraper.progress import ProgressDisplay
from scraper.registry import KINDS

FAST_FETCH = {k: v for k, v in asdict(FAST).items() if k in ("per_host_delay", "backoff_base", "max_retry_after", "timeout")}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def config_for(*sources: SourceConfig, **fetch) -> Config:
    return Config(sources=list(sources), fetch={**FAST_FETCH, "max_retries": 1, **fetch}, schedule={})


def serve_commure(site: HTTPServer) -> None:
    site.expect_request("/posting-api/job-board/Commure-Athelas").respond_with_data(
        recorded_bytes("ashby/job-board_Commure-Athelas.includeCompensation.json"),
        content_type="application/json",
        headers={"ETag": '"commure-v1"'},
    )


def test_a_failing_source_never_stops_the_others(site: HTTPServer) -> None:
    serve_commure(site)
    site.expect_request("/v1/boards/blocked/jobs").respond_with_data("forbidden", status=403)
    site.expect_request("/api").respond_with_data("[{\"oops\"", content_type="application/json")
    base = site.url_for("/").rstrip("/")
    config = config_for(
        SourceConfig("blocked-board", "greenhouse", {"board": "blocked"}, base),
        SourceConfig("commure", "ashby", {"board": "Commure-Athelas", "company": "Commure"}, base),
        SourceConfig("broken-json", "remoteok", {}, base),
    )
    out = io.StringIO()
    blocked, commure, broken = asyncio.run(crawl_sources(config, config.sources, progress=ProgressDisplay(out)))
    assert not blocked.ok and blocked.error.startswith("Blocked: 403 from ") and blocked.postings == []
    assert not broken.ok and broken.error.startswith("SourceFormatError:")
    assert commure.ok and commure.error is None and len(commure.postings) == 103
    # robots.txt is fetched once for the shared host, by whichever source came first.
    assert sum(r.requests for r in (blocked, commure, broken)) == len(site.log) == 4
    for result in (blocked, commure, broken):
        assert ISO.match(result.started_at) and ISO.match(result.finished_at)
    # Every posting carries what the store and classifier need, remote field as evidence.
    for p in commure.postings:
        assert p.title and p.company == "Commure" and p.location and p.url and p.description
        assert p.remote_flag and p.remote_flag.startswith("isRemote=")
    # Not a terminal: one plain line per source.
    lines = out.getvalue().splitlines()
    assert "source=commure status=ok postings=103 requests=" in out.getvalue()
    assert any(line.startswith("source=blocked-board status=failed postings=0") and "errors=1" in line for line in lines)


def test_unchanged_board_is_counted_as_not_modified(site: HTTPServer, tmp_path) -> None:
    serve_commure(site)
    base = site.url_for("/").rstrip("/")
    config = config_for(
        SourceConfig("commure", "ashby", {"board": "Commure-Athelas"}, base),
        cache_path=str(tmp_path / "http-cache.sqlite"),
    )
    (first,) = asyncio.run(crawl_sources(config))
    # The next crawl sends If-None-Match; the board has not changed.
    site.clear()
    site.expect_request("/robots.txt").respond_with_data("", status=404)
    site.expect_request("/posting-api/job-board/Commure-Athelas", headers={"If-None-Match": '"commure-v1"'}).respond_with_data(
        "", status=304
    )
    (second,) = asyncio.run(crawl_sources(config))
    assert first.not_modified == 0 and second.ok and second.not_modified == 1
    assert [p.id for p in second.postings] == [p.id for p in first.postings]


def test_paging_that_breaks_half_way_fails_the_source(site: HTTPServer) -> None:
    # Lever page 1 is full, page 2 errors: a partial board must not be reported as the whole board.
    board = recorded_bytes("lever/GoToGroup_postings.json")
    site.expect_request("/v0/postings/GoToGroup", query_string="mode=json&skip=0&limit=100").respond_with_data(
        _first_n(board, 100), content_type="application/json"
    )
    site.expect_request("/v0/postings/GoToGroup", query_string="mode=json&skip=100&limit=100").respond_with_data(
        "upstream error", status=502
    )
    config = config_for(SourceConfig("goto", "lever", {"site": "GoToGroup"}, site.url_for("/").rstrip("/")))
    (result,) = asyncio.run(crawl_sources(config))
    assert not result.ok and result.postings == [] and result.error.startswith("BadStatus: 502")
    assert result.errors == 2  # the first try and its one retry


def test_disabled_sources_are_skipped_by_default(site: HTTPServer) -> None:
    serve_commure(site)
    base = site.url_for("/").rstrip("/")
    config = config_for(
        SourceConfig("commure", "ashby", {"board": "Commure-Athelas"}, base),
        SourceConfig("off", "ashby", {"board": "Nope"}, base, enabled=False),
    )
    results = asyncio.run(crawl_sources(config))
    assert [r.source for r in results] == ["commure"] and isinstance(results[0], SourceResult)


def test_progress_redraws_in_place_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    display = ProgressDisplay(out)
    display.started("a", "ashby")
    display.started("b", "lever")
    display.finished(SourceResult("a", "ashby", ok=True, requests=2, started_at="", finished_at=""))
    text = out.getvalue()
    assert "\x1b[2F" in text  # moved back over the two drawn lines to rewrite them
    row_a = text.rstrip().splitlines()[-2]
    assert row_a.startswith("\x1b[2F\x1b[2Ka ") and " ok " in row_a and "requests=2" in row_a


def _first_n(board: bytes, n: int) -> bytes:
    return json.dumps(json.loads(board)[:n]).encode()


def test_unknown_kind_names_the_entry_and_lists_the_kinds() -> None:
    with pytest.raises(ConfigError, match=r"my.toml source 'x': field 'kind': unknown kind 'taleo' \(known: ashby, greenhouse"):
        parse_config({"source": [{"name": "x", "kind": "taleo"}]}, Path("my.toml"))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_declares_its_contract(kind: str) -> None:
    module = KINDS[kind]
    assert module.KIND == kind and isinstance(module.REQUIRED, tuple) and isinstance(module.OPTIONAL, tuple)
    assert isinstance(module.DEFAULT_BASE_URL, str) and inspect.iscoroutinefunction(module.fetch_postings)


def test_a_stray_field_for_a_kind_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"unknown field\(s\) borad for kind 'greenhouse'"):
        parse_config({"source": [{"name": "g", "kind": "greenhouse", "board": "b", "borad": "typo"}]})


def test_a_cache_passed_in_keeps_bodies_for_the_next_crawl(site: HTTPServer) -> None:
    serve_commure(site)
    cache: dict = {}
    config = config_for(SourceConfig("commure", "ashby", {"board": "Commure-Athelas"}, site.url_for("/").rstrip("/")))
    asyncio.run(crawl_sources(config, cache=cache))
    assert list(cache) == [site.url_for("/posting-api/job-board/Commure-Athelas") + "?includeCompensation=true"]
