"""USAJOBS search against the recorded response (HIM pages are edited copies of the real item)."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import crawl_kind, recorded_json
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scraper.config import SourceConfig
from scraper.errors import ConfigError
from scraper.sources import usajobs

REAL = recorded_json("usajobs/search_keyword_software_development_rpp1.json")


def him_page() -> dict:
    """Page 2: the real item edited into a 0675 Medical Records Technician (Coder), hourly, remote."""
    page = copy.deepcopy(REAL)
    page["SearchResult"]["UserArea"]["NumberOfPages"] = "2"
    item = page["SearchResult"]["SearchResultItems"][0]
    item["MatchedObjectId"] = "800000001"
    job = item["MatchedObjectDescriptor"]
    job["PositionTitle"] = "Medical Records Technician (Coder)"
    job["JobCategory"] = [{"Name": "Medical Records Technician", "Code": "0675"}]
    job["PositionRemuneration"] = [{"MinimumRange": "24.5", "MaximumRange": "31.9", "RateIntervalCode": "PH", "Description": "Per Hour"}]
    job["UserArea"]["Details"].update({"LowGrade": "6", "HighGrade": "7", "RemoteIndicator": True})
    return page


def serve_two_pages(site: HTTPServer, seen: list[Request]) -> None:
    first = copy.deepcopy(REAL)
    first["SearchResult"]["UserArea"]["NumberOfPages"] = "2"

    def search(request: Request) -> Response:
        seen.append(request)
        page = first if request.args["Page"] == "1" else him_page()
        return Response(json.dumps(page), content_type="application/json")

    site.expect_request("/api/search").respond_with_handler(search)


def test_usajobs_pages_and_maps_salary_grades_and_telework(site: HTTPServer, monkeypatch) -> None:
    monkeypatch.setenv(usajobs.EMAIL_ENV, "ops@example.org")
    monkeypatch.setenv(usajobs.KEY_ENV, "secret-key")
    seen: list[Request] = []
    serve_two_pages(site, seen)
    postings = crawl_kind("usajobs", site.url_for("/"), series=["0675", "0669"], keyword="coder")
    assert [r.args["Page"] for r in seen] == ["1", "2"]
    assert seen[0].args["JobCategoryCode"] == "0675;0669" and seen[0].args["Keyword"] == "coder"
    assert seen[0].headers["Authorization-Key"] == "secret-key"
    assert seen[0].headers["User-Agent"] == "ops@example.org"  # USAJOBS wants the e-mail as User-Agent
    real, him = postings
    assert real.structured["salary_min"] == 134751.0 and real.structured["salary_period"] == "year"  # PA
    assert real.structured["low_grade"] == "4" and real.structured["pay_plan"] == "DB"
    assert real.remote_flag == "TeleworkEligible=true; RemoteIndicator=false"
    assert real.url == "https://www.usajobs.gov:443/GetJob/ViewDetails/793682000"
    assert "Division Chief" in real.title and "Assists the Associate Director" in real.description
    assert him.structured["salary_period"] == "hour" and him.structured["salary_max"] == 31.9  # PH
    assert him.structured["series"] == ["0675"] and him.structured["high_grade"] == "7"
    assert him.remote_flag == "TeleworkEligible=true; RemoteIndicator=true"


def test_usajobs_without_credentials_on_the_real_host_names_the_variables(monkeypatch) -> None:
    monkeypatch.delenv(usajobs.EMAIL_ENV, raising=False)
    monkeypatch.delenv(usajobs.KEY_ENV, raising=False)
    source = SourceConfig(name="usajobs-him", kind="usajobs", options={"series": ["0675"]})
    with pytest.raises(ConfigError, match="HIMJOBS_USAJOBS_EMAIL, HIMJOBS_USAJOBS_KEY"):
        usajobs._headers(source)


def test_usajobs_base_url_allows_a_missing_key(site: HTTPServer, monkeypatch) -> None:
    monkeypatch.delenv(usajobs.EMAIL_ENV, raising=False)
    monkeypatch.delenv(usajobs.KEY_ENV, raising=False)
    seen: list[Request] = []
    serve_two_pages(site, seen)
    assert len(crawl_kind("usajobs", site.url_for("/"), keyword="health information")) == 2
    assert "Authorization-Key" not in seen[0].headers


def test_usajobs_needs_series_or_keyword() -> None:
    with pytest.raises(ConfigError, match="'series' or 'keyword'"):
        usajobs._params(SourceConfig(name="u", kind="usajobs", options={}))
