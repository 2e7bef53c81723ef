"""The crawl job end to end against a real server on 127.0.0.1: fetch → label → store → record.

Pins: "closed_at set only after a crawl of that board that succeeded (a failed crawl never closes
anything)"; "an unchanged board costs almost nothing" (304 through the persistent HTTP cache)."""

import json
from pathlib import Path

import pytest

from schedules.pipeline import crawl
from scraper.config import parse_config
from scraper.replay import ReplayServer, Route
from store.database import open_db

BOARD = Path(__file__).resolve().parent.parent / "scraper" / "snapshot" / "authored" / "lever" / "summitrcm_postings.json"


def config_for(url: str):
    return parse_config({"fetch": {"per_host_delay": 0, "max_retries": 0},
                         "source": [{"name": "summit", "kind": "lever", "site": "summitrcm", "base_url": url}]})


@pytest.fixture
def board():
    route = Route("GET", "/v0/postings/summitrcm", BOARD.read_bytes())
    with ReplayServer([route]) as server:
        yield server, route


def test_second_crawl_of_an_unchanged_board_is_a_304_and_changes_nothing(tmp_path, board):
    server, _ = board
    db = open_db(tmp_path / "jobs.db")
    first, = crawl(db, config_for(server.url))
    second, = crawl(db, config_for(server.url))
    assert (first.status, first.counts.new) == ("ok", 5)
    assert (second.not_modified, second.counts.unchanged, second.counts.updated) == (1, 5, 0)
    stored = {r["title"]: r for r in db.query("select * from postings")}
    # Issue: every posting stored with its title, company, location, URL, description and the source's
    # own workplace field as evidence.
    for row in stored.values():
        assert all(row[c] for c in ("title", "company", "location", "url", "description")), row["id"]
        assert row["remote_flag"].startswith("workplaceType="), row["remote_flag"]
    assert stored["Coding Auditor"]["role"] == "coder"
    assert json.loads(stored["Coding Auditor"]["evidence"])["role"]


def test_failed_crawl_closes_nothing_and_records_its_error(tmp_path, board):
    server, route = board
    db = open_db(tmp_path / "jobs.db")
    crawl(db, config_for(server.url))
    route.status = 500  # the board breaks
    failed, = crawl(db, config_for(server.url))
    assert failed.status == "failed" and "500" in failed.error
    assert db.execute("select count(*) from postings where closed_at is null").fetchone()[0] == 5
    run = list(db.query("select status, errors from crawl_runs order by id desc limit 1"))[0]
    assert run["status"] == "failed" and "500" in json.loads(run["errors"])[0]

    # The board comes back with one posting gone: only a successful crawl closes it.
    route.status = 200
    route.body = json.dumps(json.loads(BOARD.read_bytes())[1:]).encode()
    ok, = crawl(db, config_for(server.url))
    assert (ok.status, ok.counts.closed) == ("ok", 1)
    closed = [r["title"] for r in db.query("select title from postings where closed_at is not null")]
    assert closed == ["Risk Adjustment Coder (CRC)"]
