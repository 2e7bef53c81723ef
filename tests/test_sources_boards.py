"""Remote job boards and feeds: Remotive, Remote OK, Himalayas, Jobicy, RSS/Atom (We Work Remotely)."""

from __future__ import annotations

import feedparser
import pytest
from conftest import crawl_kind, recorded_bytes
from pytest_httpserver import HTTPServer

from scraper.errors import SourceFormatError
from scraper.sources.remoteok import repair_mojibake


def test_remotive_reads_every_job_and_keeps_the_location_restriction(site: HTTPServer) -> None:
    site.expect_request("/api/remote-jobs", query_string="category=medical").respond_with_data(
        recorded_bytes("remotive/remote-jobs_all_2026-07-18.json"), content_type="application/json"
    )
    postings = crawl_kind("remotive", site.url_for("/"), category="medical")
    assert len(postings) == 42
    patient = next(p for p in postings if p.external_id == "2091069")
    assert patient.title == "Patient Care Specialist" and patient.company == "STATLINX"
    assert patient.remote_flag == "remote-only board; candidate_required_location=USA"
    assert patient.structured["salary_text"] == "$36k" and patient.structured["employment_type"] == "full_time"
    assert patient.posted_at == "2026-07-16T13:28:02" and patient.description


def test_remoteok_skips_the_legal_notice_and_repairs_mojibake(site: HTTPServer) -> None:
    site.expect_request("/api").respond_with_data(
        recorded_bytes("remoteok/api_full_2026-03-17.json"), content_type="application/json"
    )
    postings = crawl_kind("remoteok", site.url_for("/"))
    assert len(postings) == 97  # 98 elements, element 0 is {"last_updated", "legal"}
    companies = {p.company for p in postings}
    assert "Zócalo Health" in companies and "ZÃ³calo Health" not in companies
    assert not any("â€" in p.description or "\u00e2\u0080" in p.description for p in postings)
    assert all(p.remote_flag.startswith("remote-only board") for p in postings)


@pytest.mark.parametrize(
    ("raw", "repaired"),
    [
        ("Z\u00c3\u00b3calo Health", "Zócalo Health"),  # double-encoded UTF-8 from the real payload
        ("it\u00e2\u0080\u0099s", "it\u2019s"),
        ("Zócalo Health", "Zócalo Health"),  # already correct: left alone (latin-1 bytes aren't UTF-8)
        ("plain ascii", "plain ascii"),
        ("emoji 🇺🇸", "emoji 🇺🇸"),  # outside latin-1: cannot be mojibake, left alone
    ],
)
def test_mojibake_repair_is_guarded(raw: str, repaired: str) -> None:
    assert repair_mojibake(raw) == repaired


def test_himalayas_pages_by_offset_and_reads_ms_or_s_dates(site: HTTPServer) -> None:
    site.expect_request("/jobs/api", query_string="limit=20&offset=0").respond_with_data(
        recorded_bytes("himalayas/jobs_offset_0.json"), content_type="application/json"
    )
    site.expect_request("/jobs/api", query_string="limit=20&offset=2").respond_with_data(
        recorded_bytes("himalayas/jobs_offset_2.json"), content_type="application/json"
    )
    postings = crawl_kind("himalayas", site.url_for("/"))
    assert len(postings) == 3  # totalCount 3, two per page: the second page is fetched at offset 2
    coder, registrar, cdi = postings
    assert coder.posted_at == "2026-07-14T03:33:20Z"  # 1784000000000 ms
    assert registrar.posted_at == "2026-07-14T00:46:40Z"  # 1783990000 s
    assert coder.structured["salary_min"] == 52000 and coder.structured["salary_period"] == "year"
    assert registrar.location == "United States"  # a Location object
    assert cdi.remote_flag == "remote-only board; locationRestrictions=United States, Canada"
    assert cdi.structured["employment_type"] == "contract"


def test_jobicy_reads_both_salary_spellings_and_job_type_shapes(site: HTTPServer) -> None:
    site.expect_request("/api/v2/remote-jobs", query_string="count=100&geo=usa&industry=healthcare").respond_with_data(
        recorded_bytes("jobicy/remote-jobs_healthcare_usa.json"), content_type="application/json"
    )
    coder, roi, auditor = crawl_kind("jobicy", site.url_for("/"), count=100, geo="usa", industry="healthcare")
    assert (coder.structured["salary_min"], coder.structured["salary_period"]) == (62000, "year")  # salaryMin
    assert (roi.structured["salary_max"], roi.structured["salary_period"]) == (44000, "year")  # annualSalaryMax
    assert coder.structured["employment_type"] == "full_time"  # ["full-time"]
    assert roi.structured["employment_type"] == "part_time"  # "part-time"
    assert roi.location == "LATAM, Canada, USA"  # "LATAM,  Canada,  USA"
    assert "salary_min" not in auditor.structured  # 0 = unknown
    assert roi.posted_at == "2025-11-02 09:30:00"


def test_wwr_rss_splits_company_and_unescapes_description(site: HTTPServer) -> None:
    feed = recorded_bytes("rss/wwr_all-other-remote-jobs.rss")
    site.expect_request("/categories/all-other-remote-jobs.rss").respond_with_data(feed, content_type="application/rss+xml")
    coder, registrar = crawl_kind(
        "rss", site.url_for("/"), url="https://weworkremotely.com/categories/all-other-remote-jobs.rss",
        company_in_title=True,
    )
    assert (coder.company, coder.title) == ("Example Coding Co", "Remote Medical Coder: Outpatient")  # first ": "
    assert coder.description_html.startswith("<p>Code outpatient") and "$24–$30 per hour" in coder.description
    assert coder.remote_flag == "region=USA Only; country=🇺🇸 United States of America"
    assert coder.location == "Delaware; 🇺🇸 United States of America; USA Only"
    assert coder.posted_at == "2026-07-17T20:07:06Z" and coder.structured["employment_type"] == "full_time"
    assert registrar.remote_flag == "region=Anywhere in the World" and registrar.structured["employment_type"] == "contract"
    # Cross-check against feedparser (test-only dependency): same items, same links.
    parsed = feedparser.parse(feed)
    assert [e.link for e in parsed.entries] == [coder.url, registrar.url]


def test_atom_feed_entries(site: HTTPServer) -> None:
    site.expect_request("/feeds/jobs.atom").respond_with_data(recorded_bytes("rss/atom_jobs.xml"), content_type="application/atom+xml")
    (posting,) = crawl_kind("rss", site.url_for("/"), url="https://careers.example.org/feeds/jobs.atom")
    assert posting.title == "Health Information Technician" and posting.company == "Example Health System"
    assert posting.url == "https://careers.example.org/jobs/2291" and "RHIT preferred" in posting.description


def test_rss_that_is_not_xml_fails_clearly(site: HTTPServer) -> None:
    site.expect_request("/feed").respond_with_data("<html>maintenance</html", content_type="text/html")
    with pytest.raises(SourceFormatError, match="not well-formed XML"):
        crawl_kind("rss", site.url_for("/"), url="https://example.org/feed")
