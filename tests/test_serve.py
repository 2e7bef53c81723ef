"""`himjobs serve` as a real process over HTTP (issue: analysts "work in Datasette"; facets, search, canned
queries, a described schema, charts; "the subscribers' data lives in a separate private database that
Datasette never serves")."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import sqlite_utils
from conftest import free_port

from store.database import open_db
from store.duplicates import refresh_derived
from store.filters import parse_filters
from store.metadata import build_metadata, table_descriptions
from store.postings import to_row, upsert_postings
from store.private import private_db_path
from store.runs import record_run
from store.subscribers import find, open_private_db, subscribe

SECRET_EMAIL = "analyst.secret@example.org"
HIMJOBS = Path(sys.executable).with_name("himjobs")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

CODER = ("Assign ICD-10-CM and CPT codes to outpatient encounters from home. No experience required: new graduates "
         "with a CPC-A or CCA are welcome and trained. $21 to $24 per hour.")
POSTINGS = [
    # (days ago first seen, source, kind, external id, url, title, company, location, labels)
    (2, "valley", "greenhouse", "4012345", "https://boards.greenhouse.io/valleyregional/jobs/4012345",
     "Coding Specialist I (Remote)", "Valley Regional Health", "Remote - USA",
     dict(role="coder", seniority="entry", arrangement="remote", credentials=["CPC-A", "CCA"], salary_min=21.0,
          salary_max=24.0, salary_period="hour", salary_currency="USD", state=None), CODER),
    (3, "remotive", "remotive", "1900321", "https://boards.greenhouse.io/valleyregional/jobs/4012345?gh_src=remotive",
     "Coding Specialist I", "Valley Regional Health, Inc.", "USA",
     dict(role="coder", seniority="entry", arrangement="remote", credentials=["CPC-A"], state=None), CODER),
    (20, "valley", "greenhouse", "4012399", "https://boards.greenhouse.io/valleyregional/jobs/4012399",
     "Inpatient Coder II", "Valley Regional Health", "Fresno, CA",
     dict(role="coder", seniority="mid", arrangement="onsite", credentials=["CCS"], salary_min=62000.0,
          salary_max=70000.0, salary_period="year", salary_currency="USD", state="CA"),
     "Code inpatient records with ICD-10-PCS. CCS required, two years of experience."),
    (9, "usajobs-him", "usajobs", "812345600", "https://www.usajobs.gov/job/812345600",
     "Medical Records Technician (Cancer Registrar)", "Veterans Health Administration", "Fresno, California",
     dict(role="registrar", seniority="mid", arrangement="onsite", credentials=["ODS"], salary_min=4200.0,
          salary_max=4900.0, salary_period="month", salary_currency="USD", state="CA"),
     "Abstract cancer cases into the VA cancer registry. ODS (formerly CTR) preferred."),
    (16, "summit", "lever", "5a0f8c1e-2b7d-4c11-9a3e-0d6f1b2c3d4e",
     "https://jobs.lever.co/summitrcm/5a0f8c1e-2b7d-4c11-9a3e-0d6f1b2c3d4e",
     "Release of Information Specialist", "Summit Revenue Cycle Partners", "Austin, TX",
     dict(role="technician", seniority="entry", arrangement="hybrid", credentials=["RHIT"], salary_min=18.0,
          salary_max=20.0, salary_period="hour", salary_currency="USD", state="TX"),
     "Process requests for medical records under HIPAA. RHIT preferred."),
    (12, "remoteok", "remoteok", "r-77", "https://remoteok.com/remote-jobs/r-77",
     "Patient Access Registrar", "Sunrise Clinics", "Remote",
     dict(role="other", seniority="entry", arrangement="remote", credentials=[], state=None),
     "Register patients at the front desk and verify insurance."),
]


def fill(db_path: Path) -> None:
    db = open_db(db_path)
    now = datetime.now(timezone.utc)
    for days, source, kind, external_id, url, title, company, location, labels, text in POSTINGS:
        seen = (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        posting = {"id": f"{source}:{external_id}", "source": source, "external_id": external_id, "url": url,
                   "title": title, "company": company, "location": location, "description": text,
                   "posted_at": None, "remote_flag": None, "structured": {}}
        upsert_postings(db, source, [to_row(posting, {"confidence": {}, **labels})], now=seen, complete=False)
        record_run(db, {"source": source, "kind": kind, "started_at": seen, "finished_at": seen, "status": "ok",
                        "fetched": 1})
    # The Lever job closed five days ago (a successful crawl no longer returned it).
    closed = (now - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    upsert_postings(db, "summit", [], now=closed, complete=True)
    refresh_derived(db)
    private = open_private_db(private_db_path(db_path))
    subscribe(private, SECRET_EMAIL, parse_filters({"role": "coder"}))
    private.close()


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Path]]:
    tmp = Path(tempfile.mkdtemp(prefix="himjobs-serve-test-"))
    db_path = tmp / "himjobs.db"
    fill(db_path)
    port = free_port()
    proc = subprocess.Popen([str(HIMJOBS), "serve", "--db", str(db_path), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/-/versions.json", timeout=2).raise_for_status()
            break
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"himjobs serve did not start: {proc.communicate()[0].decode()}") from None
            time.sleep(0.2)
    yield base, tmp
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(tmp, ignore_errors=True)


def get(base: str, path: str, **params) -> httpx.Response:
    return httpx.get(base + path, params=params, timeout=30)


def test_role_facet_counts_every_posting_and_jobs_counts_each_job_once(server):
    base, _ = server
    postings = get(base, "/himjobs/postings.json", _facet="role").json()
    coder = {r["value"]: r["count"] for r in postings["facet_results"]["role"]["results"]}
    assert coder == {"coder": 3, "registrar": 1, "technician": 1, "other": 1}
    jobs = get(base, "/himjobs/jobs.json", _facet="role", _shape="objects").json()
    assert {r["value"]: r["count"] for r in jobs["facet_results"]["role"]["results"]}["coder"] == 2
    # Credentials facet as an array: one row per credential value, not per JSON string.
    arrays = get(base, "/himjobs/jobs.json", _facet_array="credentials").json()
    values = {r["value"] for r in arrays["facet_results"]["credentials"]["results"]}
    assert {"CPC-A", "CCA", "CCS", "ODS", "RHIT"} <= values


def test_full_text_search_on_postings_and_jobs(server):
    base, _ = server
    rows = get(base, "/himjobs/postings.json", _search="registry", _shape="objects").json()["rows"]
    assert [r["id"] for r in rows] == ["usajobs-him:812345600"]
    rows = get(base, "/himjobs/jobs.json", _search="coder", _shape="objects").json()["rows"]
    assert [r["id"] for r in rows] == ["valley:4012399"]


def test_canned_queries_answer_the_analysts_questions(server):
    base, _ = server
    remote = get(base, "/himjobs/remote_entry_coder_jobs.json", _shape="objects").json()["rows"]
    # The board copy of the Greenhouse job is not counted again.
    assert [r["id"] for r in remote] == ["valley:4012345"]
    pay = {(r["role"], r["state"]): r for r in
           get(base, "/himjobs/median_salary_vs_bls.json", _shape="objects").json()["rows"]}
    # Hourly $21–24 → 22.5 × 2080; monthly $4,200–4,900 → 4,550 × 12.
    assert pay[("coder", "not stated")]["median_annual_salary"] == 46800
    assert pay[("registrar", "CA")]["median_annual_salary"] == 54600
    assert pay[("registrar", "CA")]["difference"] == 54600 - 48780
    assert pay[("coder", "CA")]["median_annual_salary"] == 66000
    credentials = {(r["role"], r["credential"]): r["jobs"] for r in
                   get(base, "/himjobs/credentials_by_role.json", _shape="objects").json()["rows"]}
    assert credentials[("coder", "CPC-A")] == 1 and credentials[("coder", "CCS")] == 1
    new = {r["id"] for r in get(base, "/himjobs/new_this_week.json", _shape="objects").json()["rows"]}
    assert new == {"valley:4012345"}
    closed = get(base, "/himjobs/closed_this_month.json", _shape="objects").json()["rows"]
    today = datetime.now(timezone.utc)
    if (today - timedelta(days=5)).month == today.month:
        assert [(r["id"], r["days_open"]) for r in closed] == [("summit:5a0f8c1e-2b7d-4c11-9a3e-0d6f1b2c3d4e", 11)]


def test_metadata_is_served_and_describes_every_table_and_column(server):
    base, tmp = server
    served = get(base, "/-/metadata.json").json()
    assert served["databases"]["himjobs"]["queries"].keys() >= {"remote_entry_coder_jobs", "median_salary_vs_bls"}
    # Every table and view of the live schema, and each of its columns, is described (docs a test keeps honest).
    db = sqlite_utils.Database(tmp / "himjobs.db")
    described = table_descriptions()
    shadow = {"postings_fts_data", "postings_fts_idx", "postings_fts_docsize", "postings_fts_config"}
    names = [n for n in db.table_names() + db.view_names() if n not in shadow]
    missing = [n for n in names if n not in described]
    assert not missing, f"tables without a description: {missing}"
    for name in names:
        columns = [c.name for c in (db.table(name) if name in db.table_names() else db.view(name)).columns]
        undocumented = [c for c in columns if c not in described[name]["columns"]]
        assert not undocumented, f"{name}: columns without a description: {undocumented}"
    tables = served["databases"]["himjobs"]["tables"]
    assert {n: (t["description"], t["columns"]) for n, t in tables.items()} == {
        n: (t["description"], t["columns"]) for n, t in described.items()}
    assert served["about_url"] == build_metadata("himjobs")["about_url"]


def test_docs_reference_matches_the_metadata():
    from store.metadata import column_reference

    docs = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert column_reference() in docs, "README.md 'For analysts' is stale: paste `python -m store.metadata` into it"


def test_docs_example_queries_run(server):
    base, _ = server
    docs = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    queries = [block.split("```", 1)[0].strip() for block in docs.split("```sql")[1:]]
    assert len(queries) >= 5
    for sql in queries:
        response = get(base, "/himjobs.json", sql=sql.rstrip(";"), _shape="objects")
        assert response.status_code == 200 and response.json()["ok"], (sql, response.text[:300])


@pytest.mark.parametrize("path, params", [
    ("/-/databases.json", {}),
    ("/himjobs-private.json", {}),
    ("/himjobs-private/subscribers.json", {}),
    ("/himjobs.json", {"sql": "select * from pragma_database_list"}),
    ("/himjobs.json", {"sql": "attach database '{private}' as p"}),
    ("/himjobs.json", {"sql": "select 1; attach database '{private}' as p"}),
    ("/himjobs.json", {"sql": "select * from p.subscribers"}),
    ("/himjobs.json", {"sql": "select name, sql from sqlite_master"}),
    ("/himjobs.json", {"sql": "select readfile('{private}')"}),
    ("/himjobs.db", {}),
    ("/-/feeds/jobs.json", {}),
])
def test_no_subscriber_data_is_reachable_by_any_url_or_sql(server, path, params):
    base, tmp = server
    private = str(private_db_path(tmp / "himjobs.db"))
    response = get(base, path, **{k: v.format(private=private) for k, v in params.items()})
    assert SECRET_EMAIL.encode() not in response.content
    assert b"subscribers" not in response.content or "sql" in params
    if path == "/-/databases.json":
        assert [d["name"] for d in response.json()] == ["himjobs"]


def test_serve_refuses_the_private_database(server):
    _, tmp = server
    result = subprocess.run([str(HIMJOBS), "serve", "--db", str(private_db_path(tmp / "himjobs.db")),
                             "--port", str(free_port())], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "private database" in result.stderr


@pytest.mark.parametrize("fmt, content_type", [("atom", "atom"), ("rss", "rss"), ("json", "json")])
def test_feeds_are_served_at_stable_urls(server, fmt, content_type):
    base, _ = server
    response = get(base, f"/-/feeds/jobs.{fmt}", role="coder", arrangement="remote")
    assert response.status_code == 200 and content_type in response.headers["content-type"]
    assert "Coding Specialist I" in response.text and "Patient Access Registrar" not in response.text


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows of an 8-bit RGB/RGBA PNG, unfiltered (enough to judge a screenshot)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = channels = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


# CI installs Chromium (.ci/run), so there a missing browser fails instead of skipping.
@pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                    reason="chromium is not installed (apt-get install -y chromium)")
def test_charts_page_renders_in_headless_chromium(server, tmp_path):
    base, _ = server
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    dom = subprocess.run(flags + [f"--user-data-dir={tmp_path / 'profile-dom'}", "--dump-dom", f"{base}/-/charts"],
                         capture_output=True, text=True, timeout=120).stdout
    assert dom.count('class="himjobs-chart"') == 3
    assert 'class="bar"' in dom and 'class="point"' in dom and 'class="box"' in dom and "BLS median" in dom
    shot = tmp_path / "charts.png"
    subprocess.run(flags + [f"--user-data-dir={tmp_path / 'profile-shot'}", f"--screenshot={shot}",
                            "--window-size=1200,1400", f"{base}/-/charts"], capture_output=True, timeout=120)
    width, height, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (1200, 1400)
    # Not blank: the role colours of the bars and boxes are on screen.
    # Every 12th byte starts a pixel whether the PNG is RGB or RGBA.
    pixels = {row[i:i + 3] for row in rows[::4] for i in range(0, len(row), 12)}
    assert len(pixels) > 50
    assert any(r > 180 and g < 80 and b < 80 for r, g, b in pixels), "no red (coder) bar in the screenshot"


def test_one_click_unsubscribe_link_works_and_reveals_nothing(server):
    """The digest's List-Unsubscribe URL: GET asks (link scanners follow GETs), POST unsubscribes."""
    base, tmp = server
    private = open_private_db(private_db_path(tmp / "himjobs.db"))
    token = find(private, SECRET_EMAIL).token
    page = httpx.get(f"{base}/-/unsubscribe", params={"token": token}, timeout=30)
    assert page.status_code == 200 and "<form" in page.text and SECRET_EMAIL not in page.text
    assert find(private, SECRET_EMAIL).active
    # What a mail client sends for RFC 8058 one-click: a POST with no CSRF token.
    done = httpx.post(f"{base}/-/unsubscribe", params={"token": token}, data={"List-Unsubscribe": "One-Click"}, timeout=30)
    assert done.status_code == 200 and "unsubscribed" in done.text and SECRET_EMAIL not in done.text
    assert not find(private, SECRET_EMAIL).active
    wrong = httpx.post(f"{base}/-/unsubscribe", params={"token": "not-a-token"}, timeout=30)
    assert wrong.status_code == 404
