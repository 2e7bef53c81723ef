"""Shared fixtures: recorded payloads served by a real HTTP server on 127.0.0.1, and a fast fetcher."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from scraper.config import SourceConfig
from scraper.fetcher import Fetcher, FetchSettings
from scraper.posting import Posting
from scraper.registry import get_kind

RECORDED = Path(__file__).resolve().parent.parent / "scraper" / "recorded"

# Polite defaults, but without the waiting: tests must stay fast.
FAST = FetchSettings(per_host_delay=0, backoff_base=0.01, max_retry_after=0.5, timeout=2.0, circuit_cooldown=60)


def recorded_bytes(relative: str) -> bytes:
    return (RECORDED / relative).read_bytes()


def recorded_json(relative: str) -> Any:
    return json.loads(recorded_bytes(relative))


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (yet): for servers started by a test, or refused connections."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def site(httpserver: HTTPServer) -> HTTPServer:
    """The test server with no robots.txt (404 = everything allowed), like most job APIs."""
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    return httpserver


def crawl_kind(
    kind: str, base_url: str, settings: FetchSettings = FAST, name: str = "test", **options: Any
) -> list[Posting]:
    """One source of ``kind`` read through the real Fetcher against ``base_url``."""
    source = SourceConfig(name=name, kind=kind, options=options, base_url=base_url.rstrip("/"))

    async def run() -> list[Posting]:
        async with Fetcher(settings) as fetcher:
            return await get_kind(kind).fetch_postings(fetcher, source)

    return asyncio.run(run())
