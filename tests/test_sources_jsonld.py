"""Career pages with JobPosting JSON-LD, discovered through a sitemap index."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from conftest import crawl_kind, recorded_bytes
from pytest_httpserver import HTTPServer

from scraper.sources.jsonld import job_postings


def serve_site(site: HTTPServer) -> None:
    for path, name, kind in (
        ("/sitemap_index.xml", "sitemap_index.xml", "application/xml"),
        ("/sitemap_jobs.xml", "sitemap_jobs.xml", "application/xml"),
        ("/jobs/1001/software-engineer/job", "job_1001.html", "text/html"),
        ("/jobs/1002/remote-coding-specialist/job", "job_1002.html", "text/html"),
    ):
        site.expect_request(path).respond_with_data(recorded_bytes(f"jsonld/{name}"), content_type=kind)


def test_sitemap_index_to_job_pages(site: HTTPServer) -> None:
    serve_site(site)
    postings = crawl_kind(
        "jsonld", site.url_for("/"), sitemap="https://careers.example-health.org/sitemap_index.xml",
        url_pattern=r"/jobs/\d+/", company="Example Health",
    )
    assert "/about" not in [r.path for r, _ in site.log]  # url_pattern keeps non-job pages out
    by_title = {p.title: p for p in postings}
    engineer = by_title["Software Engineer"]  # schema.org eg-0028, after a broken JSON block
    assert engineer.structured["salary_min"] == 100000 and engineer.structured["salary_text"] == "100000"
    assert engineer.structured["salary_currency"] == "USD" and engineer.structured["employment_type"] == "full_time"
    assert engineer.location == "Kirkland, WA" and engineer.posted_at == "2011-10-31"
    assert engineer.company == "Example Health"  # no hiringOrganization: the configured company
    assert engineer.remote_flag is None

    coder = by_title["Coding Specialist II - Remote"]  # @graph, @type list, escaped description
    assert coder.external_id == "REQ-2026-1002"
    assert coder.description_html.startswith("<p>Assign ICD-10-CM") and "CPC or CCS required" in coder.description
    assert coder.remote_flag == "jobLocationType=TELECOMMUTE; applicantLocationRequirements=Arizona, Utah"
    assert coder.structured["salary_min"] == 24.5 and coder.structured["salary_period"] == "hour"
    assert coder.structured["employment_type"] == ["full_time", "per_diem"]
    assert coder.location == "Phoenix, AZ, US"  # the empty TELECOMMUTE address {} adds nothing
    assert coder.posted_at == "2026-07-18T08:00:00-05:00"
    assert coder.structured["valid_through"] == "2026-08-17T23:59:00-05:00"


def test_date_posted_stamped_at_fetch_time_is_distrusted(site: HTTPServer) -> None:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    job = {"@context": "https://schema.org", "@type": "JobPosting", "title": "HIM Clerk",
           "description": "<p>Scan records.</p>", "datePosted": now,
           "hiringOrganization": {"@type": "Organization", "name": "Example Clinic"}}
    page = f'<html><head><script type="application/ld+json">{json.dumps([job])}</script></head></html>'
    site.expect_request("/jobs/7").respond_with_data(page, content_type="text/html")
    (posting,) = crawl_kind("jsonld", site.url_for("/"), urls=["https://clinic.example.org/jobs/7"])
    assert posting.posted_at is None and posting.structured["date_posted_distrusted"] == now
    assert posting.company == "Example Clinic" and posting.external_id.endswith("/jobs/7")


def test_job_postings_ignores_other_types_and_bad_blocks() -> None:
    page = (
        '<script type="application/ld+json">{"@type": "Organization", "name": "x"}</script>'
        '<script type="application/ld+json">not json</script>'
        '<script type="text/javascript">{"@type": "JobPosting"}</script>'
        '<script type="application/ld+json">[{"@type": ["JobPosting", "Thing"], "title": "a"}]</script>'
    )
    assert [p["title"] for p in job_postings(page)] == ["a"]
