"""Feeds for any filter combination (issue: "remote, entry-level, coder or ROI, any state ... delivered to
their feed reader ... how old each posting is, and what it pays — once, not three times from three boards").

Fixtures are tiny hand-labelled databases (store.postings.upsert_postings), never the classifier.
"""

from __future__ import annotations

import csv
import html
import json
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
import sqlite_utils
from click.testing import CliRunner

from feeds.present import age_text, salary_text
from feeds.render import entry_id, feed_page, render_feed, write_feed
from feeds.web import feed_response
from schedules.cli import main
from store.database import open_db
from store.filters import CREDENTIALS, STATES, FilterError, parse_filters
from store.postings import to_row, upsert_postings
from store.queries import matching_postings

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
CLASSIFIER_DATA = Path(__file__).resolve().parent.parent / "classifier" / "data"
XSS_TITLE = '<script>alert("t")</script>Coder I <img src=x onerror=alert(1)>'
XSS_DESCRIPTION = ("Assign ICD-10 codes.\n\n&lt;script&gt;alert(2)&lt;/script&gt; <a href=\"javascript:alert(3)\" "
                   "onclick=\"alert(4)\">click</a> <svg onload=alert(5)>")


def posting(external_id: str, title: str, description: str = "Assign ICD-10-CM codes.", source: str = "board",
            posted_at: str | None = "2026-11-10", url: str | None = None) -> dict:
    return {"id": f"{source}:{external_id}", "source": source, "external_id": external_id,
            "url": url or f"https://jobs.example.org/{source}/{external_id}", "title": title,
            "company": "Valley Regional", "location": "Fresno, CA", "description": description,
            "posted_at": posted_at, "remote_flag": None, "structured": {}}


def labels(role: str = "coder", **overrides) -> dict:
    base = {"role": role, "seniority": "entry", "arrangement": "remote", "credentials": ["CPC"],
            "salary_min": None, "salary_max": None, "salary_period": None, "salary_currency": None,
            "state": "CA", "confidence": {}, "evidence": {}}
    return {**base, **overrides}


def store(db: sqlite_utils.Database, source: str, items: list[tuple[dict, dict]], now: str,
          complete: bool = False) -> None:
    upsert_postings(db, source, [to_row(p, lab) for p, lab in items], now=now, complete=complete)


def build_jobs_db(path: Path) -> sqlite_utils.Database:
    """Ten postings exercising every filter, a closed one, a cross-board duplicate and an XSS payload."""
    db = open_db(path)
    store(db, "board", [
        (posting("1", "Remote Coder I", "Entry level; CPC-A welcome. Outpatient abstracting of charts.",
                 posted_at="2026-11-18T09:00:00Z"),
         labels(salary_min=22.0, salary_max=27.5, salary_period="hour", salary_currency="USD")),
        (posting("2", "Release of Information Specialist", "Process ROI requests.", posted_at="2026-11-17"),
         labels("technician", credentials=[], state="TX", salary_min=3500, salary_max=3500, salary_period="month",
                salary_currency="USD")),
        (posting("3", "Cancer Registrar", "Abstract cancer cases. ODS required.", posted_at="2026-11-16"),
         labels("registrar", seniority="mid", arrangement="hybrid", credentials=["ODS"], salary_min=60000,
                salary_period="year", salary_currency="USD")),
        (posting("4", "Inpatient Coder III", posted_at="2026-11-15"),
         labels(seniority="senior", arrangement="onsite", credentials=["CCS", "RHIT"], state="NY", salary_min=4000,
                salary_max=4500, salary_period="month", salary_currency="USD")),
        (posting("5", "Patient Access Registrar", "Front desk registration.", posted_at="2026-11-14"),
         labels("other", seniority=None, arrangement="onsite", credentials=[])),
        (posting("6", "Clinical Coder (UK)", posted_at="2026-11-13"),
         labels(salary_min=40000, salary_period="year", salary_currency="GBP", state=None)),
        (posting("7", XSS_TITLE, XSS_DESCRIPTION, posted_at="2026-11-12", url="javascript:alert(6)"),
         labels()),
        (posting("8", "Coder closing soon", posted_at="2026-11-11"), labels()),
        (posting("9", "Coding Specialist, posted date unreadable", posted_at="last Tuesday"), labels()),
    ], now="2026-11-19T06:00:00Z")
    # The same job as board:1, reached through the employer's ATS: one job, shown once.
    store(db, "ats", [(posting("1", "Remote Coder I", source="ats", posted_at="2026-11-18T09:00:00Z"), labels())],
          now="2026-11-19T06:00:00Z")
    db.execute("update postings set duplicate_of = 'board:1' where id = 'ats:1'")
    db.execute("update postings set closed_at = '2026-11-19T07:00:00Z' where id = 'board:8'")
    db.conn.commit()
    return db


@pytest.fixture
def jobs_db(tmp_path: Path) -> tuple[Path, sqlite_utils.Database]:
    path = tmp_path / "jobs.db"
    return path, build_jobs_db(path)


def ids(rows: list[dict]) -> list[str]:
    return [r["id"] for r in rows]


# --- filters ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("params, message", [
    ({"role": "coders"}, "role 'coders' is not one of: coder, technician, registrar, other"),
    ({"role": "coder,biller"}, "role 'biller' is not one of"),
    ({"seniority": "junior"}, "seniority 'junior' is not one of: entry, mid, senior, manager"),
    ({"arrangement": "wfh"}, "arrangement 'wfh' is not one of: remote, hybrid, onsite"),
    ({"state": "Texas"}, "state 'Texas' is not one of: AL, AK"),
    ({"state": "XX"}, "state 'XX' is not one of"),
    ({"credential": "CPA"}, "credential 'CPA' is not one of: RHIT, RHIA"),
    ({"min_salary": "lots"}, "min_salary 'lots' is not a number"),
    ({"min_salary": "-5"}, "must be a yearly amount"),
    ({"keyword": '"*"'}, "has no letters or digits"),
    ({"colour": "blue"}, "unknown filter colour"),
])
def test_bad_filter_values_are_refused_with_the_allowed_values(params, message):
    with pytest.raises(FilterError, match=re.escape(message)):
        parse_filters(params)


@pytest.mark.parametrize("params, expected", [
    ({"role": "Coder, technician"}, {"role": ("coder", "technician")}),
    ({"role": ["coder", "registrar,coder"]}, {"role": ("coder", "registrar")}),  # repeated and comma list
    ({"state": "tx", "credential": "cpc-a"}, {"state": ("TX",), "credential": ("CPC-A",)}),
    ({"min_salary": "45k"}, {"min_salary": 45000.0}),
    ({"min_salary": "$45,000"}, {"min_salary": 45000.0}),
    ({"keyword": "  cancer   registry "}, {"keyword": "cancer registry"}),
])
def test_filter_values_are_canonicalised(params, expected):
    flt = parse_filters(params)
    assert {k: getattr(flt, k) for k in expected} == expected
    # Stored subscriptions round-trip through JSON unchanged.
    assert type(flt).from_json(flt.to_json()) == flt


def test_filter_vocabulary_matches_what_the_classifier_emits():
    # Drift guard: a credential or state the classifier extracts must be filterable.
    with (CLASSIFIER_DATA / "credentials.csv").open(encoding="utf-8") as fh:
        credentials = {row["canonical"] for row in csv.DictReader(fh)}
    with (CLASSIFIER_DATA / "us_states.csv").open(encoding="utf-8") as fh:
        states = {row["code"] for row in csv.DictReader(fh)}
    assert credentials == set(CREDENTIALS)
    assert states <= set(STATES)


# --- the query -------------------------------------------------------------------------------------

def test_open_canonical_postings_newest_first(jobs_db):
    _, db = jobs_db
    rows = matching_postings(db, parse_filters({}))
    # Closed board:8 and the ATS copy ats:1 are left out; board:9's unreadable posted_at falls back to
    # first_seen (the 19th) and so sorts first.
    assert ids(rows) == ["board:9", "board:1", "board:2", "board:3", "board:4", "board:5", "board:6", "board:7"]
    assert rows[1]["copies"] == ["ats:1"]
    assert matching_postings(db, parse_filters({}), limit=2) == rows[:2]


@pytest.mark.parametrize("params, expected", [
    ({"role": "coder,technician", "arrangement": "remote", "seniority": "entry"},
     ["board:9", "board:1", "board:2", "board:6", "board:7"]),
    ({"role": "registrar"}, ["board:3"]),
    ({"state": "NY"}, ["board:4"]),
    ({"credential": "RHIT,ODS"}, ["board:3", "board:4"]),
    # Annualised: $27.50/h x 2080 = 57,200; $4,500/month x 12 = 54,000; $3,500/month = 42,000 (out);
    # GBP 40,000 is not comparable with a dollar threshold; no stated pay never matches a minimum.
    ({"min_salary": "45000"}, ["board:1", "board:3", "board:4"]),
    ({"min_salary": "55000"}, ["board:1", "board:3"]),
    ({"keyword": "abstracting"}, ["board:1"]),
    ({"keyword": "cancer abstract"}, ["board:3"]),
    ({"keyword": 'ROI*") ^'}, ["board:2"]),  # FTS syntax in user text is just words, never an error
])
def test_filters_select_the_right_postings(jobs_db, params, expected):
    _, db = jobs_db
    assert ids(matching_postings(db, parse_filters(params))) == expected


# --- presentation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("published, text", [
    ("2026-11-20T00:30:00Z", "posted today"),
    ("2026-11-19T23:59:00Z", "posted yesterday"),
    ("2026-11-17T12:00:00Z", "posted 3 days ago"),
    ("2026-12-01T00:00:00Z", "posted today"),  # a date in the future is not "-11 days ago"
])
def test_age_text(published, text):
    assert age_text(datetime.fromisoformat(published.replace("Z", "+00:00")), NOW) == text


@pytest.mark.parametrize("row, text", [
    ({"salary_min": 22.0, "salary_max": 27.5, "salary_period": "hour", "salary_currency": "USD"}, "$22–$27.50 an hour"),
    ({"salary_min": 60000, "salary_max": None, "salary_period": "year"}, "from $60,000 a year"),
    ({"salary_min": None, "salary_max": 4500, "salary_period": "month", "salary_currency": "USD"}, "up to $4,500 a month"),
    ({"salary_min": 40000, "salary_max": 40000, "salary_period": "year", "salary_currency": "GBP"}, "GBP 40,000 a year"),
    ({"salary_min": None, "salary_max": None}, None),
])
def test_salary_text(row, text):
    assert salary_text(row) == text


# --- the three formats -----------------------------------------------------------------------------

class _Markup(HTMLParser):
    """Every tag and attribute of an HTML fragment, to prove it inert."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((k, v or "") for k, v in attrs)


def assert_inert(fragment: str) -> None:
    parser = _Markup()
    parser.feed(fragment)
    assert set(parser.tags) <= {"p", "br", "strong", "a"}, parser.tags
    for name, value in parser.attrs:
        assert name == "href" and urlsplit(value).scheme in ("http", "https"), (name, value)
    assert "alert(" not in fragment


def render(db: sqlite_utils.Database, fmt: str, **params: str) -> str:
    return render_feed(feed_page(db, parse_filters(params), fmt, now=NOW), fmt)[1]


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_xml_feeds_parse_without_errors_and_carry_age_pay_and_link(jobs_db, fmt):
    _, db = jobs_db
    parsed = feedparser.parse(render(db, fmt, role="coder,technician", arrangement="remote"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    titles = [e.title for e in parsed.entries]
    assert titles[:3] == ["Coding Specialist, posted date unreadable", "Remote Coder I",
                          "Release of Information Specialist"]
    coder = parsed.entries[1]
    assert coder.id == entry_id("board:1") == "tag:himjobs,2026:posting:board:1"
    assert coder.link == "https://jobs.example.org/board/1"
    body = coder.content[0].value if fmt == "atom" else coder.description
    for fact in ("$22–$27.50 an hour", "Remote", "Entry level", "CPC", "posted 2 days ago", "Apply"):
        assert fact in body
    assert coder.published_parsed[:4] == (2026, 11, 18, 9)
    assert "Release of Information Specialist" in titles and "Clinical Coder (UK)" in titles
    assert parsed.feed.title == "himjobs: coder or technician · remote"


def test_entry_ids_never_change_between_runs(jobs_db):
    _, db = jobs_db
    first = [e.id for e in feedparser.parse(render(db, "atom")).entries]
    later = datetime(2026, 11, 25, tzinfo=timezone.utc)
    again = [e.id for e in feedparser.parse(render_feed(feed_page(db, parse_filters({}), "atom", now=later), "atom")[1]).entries]
    assert first == again and len(set(first)) == len(first) == 8


def validate_json_feed(feed: dict) -> list[str]:
    """Problems with ``feed`` against JSON Feed 1.1 (https://jsonfeed.org/version/1.1); feedparser cannot."""
    problems = []
    rfc3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

    def url(value, where):
        parts = urlsplit(value) if isinstance(value, str) else None
        if not parts or parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"{where} is not an absolute URL: {value!r}")

    if feed.get("version") != "https://jsonfeed.org/version/1.1":
        problems.append("version")
    if not isinstance(feed.get("title"), str) or not feed["title"]:
        problems.append("title")
    for key in ("home_page_url", "feed_url"):
        if key in feed:
            url(feed[key], key)
    for author in feed.get("authors", []):
        if not isinstance(author, dict) or not set(author) & {"name", "url", "avatar"}:
            problems.append("authors")
    if not isinstance(feed.get("items"), list):
        return problems + ["items"]
    known = {"id", "url", "external_url", "title", "content_html", "content_text", "summary", "image",
             "banner_image", "date_published", "date_modified", "authors", "tags", "language", "attachments"}
    for n, item in enumerate(feed["items"]):
        if not isinstance(item.get("id"), str) or not item["id"]:
            problems.append(f"items[{n}].id")
        if not any(isinstance(item.get(k), str) for k in ("content_html", "content_text")):
            problems.append(f"items[{n}] has neither content_html nor content_text")
        if "url" in item:
            url(item["url"], f"items[{n}].url")
        for key in ("date_published", "date_modified"):
            if key in item and not rfc3339.match(item[key]):
                problems.append(f"items[{n}].{key} is not RFC 3339: {item[key]!r}")
        if "tags" in item and not all(isinstance(t, str) for t in item["tags"]):
            problems.append(f"items[{n}].tags")
        problems.extend(f"items[{n}] has unknown key {k!r}" for k in item if k not in known and not k.startswith("_"))
    return problems


def test_json_feed_meets_the_1_1_spec(jobs_db):
    _, db = jobs_db
    feed = json.loads(render(db, "json"))
    assert validate_json_feed(feed) == []
    assert [i["id"] for i in feed["items"]][:2] == [entry_id("board:9"), entry_id("board:1")]
    coder = feed["items"][1]
    assert coder["date_published"] == "2026-11-18T09:00:00Z"
    assert coder["url"] == "https://jobs.example.org/board/1"
    assert "$22–$27.50 an hour" in coder["content_html"] and "posted 2 days ago" in coder["summary"]


def test_the_json_feed_checker_catches_spec_violations():
    bad = {"version": "1.1", "title": "", "feed_url": "/relative",
           "items": [{"id": "", "date_published": "2026-11-18", "url": "javascript:x"}]}
    assert validate_json_feed(bad) == [
        "version", "title", "feed_url is not an absolute URL: '/relative'", "items[0].id",
        "items[0] has neither content_html nor content_text", "items[0].url is not an absolute URL: 'javascript:x'",
        "items[0].date_published is not RFC 3339: '2026-11-18'",
    ]


def test_script_and_event_handler_payloads_arrive_inert_in_every_format(jobs_db):
    _, db = jobs_db
    atom = feedparser.parse(render(db, "atom", keyword="ICD"))
    rss = feedparser.parse(render(db, "rss", keyword="ICD"))
    items = {i["_himjobs"]["posting_id"]: i for i in json.loads(render(db, "json"))["items"]}
    hostile = [e for e in atom.entries if e.id == entry_id("board:7")][0]
    hostile_rss = [e for e in rss.entries if e.id == entry_id("board:7")][0]
    hostile_json = items["board:7"]
    for title in (hostile.title, hostile_rss.title, hostile_json["title"]):
        assert title == "Coder I"  # markup removed, the readable text kept
    # feedparser sanitises on its own, so check the HTML exactly as we wrote it, too.
    raw_atom = re.search(r'<id>tag:himjobs,2026:posting:board:7</id>.*?<content type="html">(.*?)</content>',
                         render(db, "atom"), re.S).group(1)
    for fragment in (html.unescape(raw_atom), hostile_json["content_html"], hostile_rss.description):
        assert_inert(fragment)
        assert "Assign ICD-10 codes." in fragment and "click" in fragment
    # The javascript: apply link is dropped, not linked.
    assert "url" not in hostile_json and "link" not in hostile_rss


# --- HTTP (what `himjobs serve` calls) and the command line ---------------------------------------

def test_feed_response_statuses(jobs_db, tmp_path):
    path, _ = jobs_db
    status, content_type, body = feed_response(str(path), {"role": "registrar", "_": "cache-buster"}, "atom")
    assert (status, content_type) == (200, "application/atom+xml; charset=utf-8")
    assert [e.title for e in feedparser.parse(body).entries] == ["Cancer Registrar"]
    assert feed_response(str(path), {}, "json")[1] == "application/feed+json; charset=utf-8"
    assert len(json.loads(feed_response(str(path), {"limit": "3"}, "json")[2])["items"]) == 3

    status, content_type, body = feed_response(str(path), {"seniority": "junior"}, "rss")
    assert (status, content_type) == (400, "text/plain; charset=utf-8")
    assert "seniority 'junior' is not one of: entry, mid, senior, manager" in body
    assert feed_response(str(path), {"rol": "coder"}, "rss")[0] == 400  # a typo never widens a feed
    assert feed_response(str(path), {"limit": "0"}, "rss")[0] == 400
    assert feed_response(str(path), {}, "xml")[0] == 404
    missing = tmp_path / "nothing-here.db"
    assert feed_response(str(missing), {}, "atom")[0] == 503
    assert not missing.exists()  # reading a feed never creates a database


def test_cli_feed_to_stdout_and_file(jobs_db, tmp_path):
    path, _ = jobs_db
    runner = CliRunner()
    result = runner.invoke(main, ["feed", "--db", str(path), "--role", "registrar", "--format", "rss"])
    assert result.exit_code == 0, result.output
    assert [e.title for e in feedparser.parse(result.stdout).entries] == ["Cancer Registrar"]

    out = tmp_path / "remote-coders.json"
    result = runner.invoke(main, ["feed", "--db", str(path), "--role", "coder", "--role", "technician",
                                  "--arrangement", "remote", "--min-salary", "45000", "--format", "json",
                                  "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert [i["title"] for i in json.loads(out.read_text())["items"]] == ["Remote Coder I"]

    result = runner.invoke(main, ["feed", "--db", str(path), "--arrangement", "wfh"])
    assert result.exit_code == 2
    assert "arrangement 'wfh' is not one of: remote, hybrid, onsite" in result.output
    result = runner.invoke(main, ["feed", "--db", str(tmp_path / "typo.db")])
    assert result.exit_code == 1 and "no database at" in result.output


def test_write_feed_for_the_demo(jobs_db, tmp_path):
    _, db = jobs_db
    count = write_feed(db, parse_filters({"role": "registrar"}), "atom", tmp_path / "registrars.atom", now=NOW)
    assert count == 1
    assert not feedparser.parse((tmp_path / "registrars.atom").read_text()).bozo
