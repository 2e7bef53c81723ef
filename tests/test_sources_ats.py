"""Employer ATS kinds (Greenhouse, Ashby, Lever, SmartRecruiters, Workday) against their recorded payloads."""

from __future__ import annotations

import json

import pytest
from conftest import crawl_kind, recorded_bytes, recorded_json
from pytest_httpserver import HTTPServer, URIPattern
from werkzeug import Request, Response

from scraper.errors import BadStatus, SourceFormatError

GH_DETAILS = ("4426707007", "4040346007", "4038805007")


# --- Greenhouse ----------------------------------------------------------------------------------

def test_greenhouse_content_list_unescapes_once_and_reads_pay_in_cents(site: HTTPServer) -> None:
    # A ?content=true list carries the same fields as the details: build one from the recorded details.
    details = [recorded_json(f"greenhouse/codepath_job_{i}.json") for i in GH_DETAILS]
    jobs = [{k: v for k, v in d.items() if k not in ("questions", "compliance", "demographic_questions")} for d in details]
    site.expect_request("/v1/boards/codepath/jobs", query_string="content=true").respond_with_json(
        {"jobs": jobs, "meta": {"total": len(jobs)}}
    )
    postings = crawl_kind("greenhouse", site.url_for("/"), board="codepath", company="CodePath")
    by_id = {p.external_id: p for p in postings}
    engineer = by_id["4426707007"]
    assert engineer.title == "Data Engineer" and engineer.company == "CodePath"
    # Wire JSON holds "&lt;div class=&quot;content-intro&quot;&gt;": one unescape makes real HTML.
    assert engineer.description_html.startswith('<div class="content-intro">')
    assert "&lt;" not in engineer.description and "&nbsp;" not in engineer.description
    assert "CodePath is a national non-profit" in engineer.description
    # pay_input_ranges min_cents 12000000 = $120,000.
    assert engineer.structured["salary_min"] == 120000 and engineer.structured["salary_max"] == 160000
    assert engineer.structured["salary_currency"] == "USD"
    assert engineer.remote_flag == "location.name=Remote, United States"
    assert engineer.posted_at == "2024-07-24T18:48:03-04:00"
    # No detail request was needed: the list had content.
    assert all(r.path in ("/robots.txt", "/v1/boards/codepath/jobs") for r, _ in site.log)


def test_greenhouse_list_without_content_falls_back_to_details(site: HTTPServer) -> None:
    listing = recorded_json("greenhouse/codepath_jobs.json")
    # The recording has details for 3 of the 15 jobs: serve the faithful subset of the real list.
    listing["jobs"] = [j for j in listing["jobs"] if str(j["id"]) in GH_DETAILS]
    assert len(listing["jobs"]) == 3 and all("content" not in j for j in listing["jobs"])
    site.expect_request("/v1/boards/codepath/jobs").respond_with_json(listing)
    for job_id in GH_DETAILS:
        site.expect_request(f"/v1/boards/codepath/jobs/{job_id}").respond_with_data(
            recorded_bytes(f"greenhouse/codepath_job_{job_id}.json"), content_type="application/json"
        )
    postings = crawl_kind("greenhouse", site.url_for("/"), board="codepath")
    assert sorted(p.external_id for p in postings) == sorted(GH_DETAILS)
    assert all(p.description and "&lt;" not in p.description for p in postings)
    assert all(p.company == "codepath" for p in postings)  # no company_name on 2024 boards: the token


def test_greenhouse_unknown_board_fails(site: HTTPServer) -> None:
    site.expect_request("/v1/boards/nope/jobs").respond_with_data("not found", status=404)
    with pytest.raises(BadStatus, match="404"):
        crawl_kind("greenhouse", site.url_for("/"), board="nope")


# --- Ashby ---------------------------------------------------------------------------------------

def serve_ashby(site: HTTPServer, board: str, filename: str) -> None:
    site.expect_request(f"/posting-api/job-board/{board}", query_string="includeCompensation=true").respond_with_data(
        recorded_bytes(f"ashby/{filename}"), content_type="application/json"
    )


def test_ashby_commure_medical_coding_posting(site: HTTPServer) -> None:
    serve_ashby(site, "Commure-Athelas", "job-board_Commure-Athelas.includeCompensation.json")
    postings = crawl_kind("ashby", site.url_for("/"), board="Commure-Athelas", company="Commure")
    assert len(postings) == 103
    coder = next(p for p in postings if p.title == "Clinical Strategy: Medical Coding Specialist")
    assert coder.remote_flag == "isRemote=true"
    # summaryComponents Salary, interval "1 YEAR" -> year.
    assert coder.structured["salary_min"] == 81100 and coder.structured["salary_max"] == 100500
    assert coder.structured["salary_period"] == "year" and coder.structured["salary_currency"] == "USD"
    assert coder.structured["employment_type"] == "full_time"
    assert coder.url.startswith("https://jobs.ashbyhq.com/Commure-Athelas/")
    assert "medical coding" in coder.description.lower() or "coding" in coder.description.lower()
    # isRemote null (6 Commure jobs) is kept as evidence, not dropped or turned into false.
    nulls = [p for p in postings if p.remote_flag == "isRemote=null"]
    assert len(nulls) == 6


def test_ashby_board_name_with_space_is_url_encoded(site: HTTPServer) -> None:
    serve_ashby(site, "Iodine Software", "job-board_Iodine_Software.includeCompensation.json")
    postings = crawl_kind("ashby", site.url_for("/"), board="Iodine Software")
    assert len(postings) == 12
    assert [r.url for r, _ in site.log if "job-board" in r.path][0].count("Iodine%20Software") == 1


def test_ashby_workplace_type_and_hourly_pay_are_kept(site: HTTPServer) -> None:
    # 2026 responses add workplaceType; pay may be hourly. Edit a copy of a real job to show both.
    board = recorded_json("ashby/job-board_Commure-Athelas.includeCompensation.json")
    job = next(j for j in board["jobs"] if j["title"] == "Clinical Strategy: Medical Coding Specialist")
    job["workplaceType"] = "Remote"
    job["compensation"]["summaryComponents"] = [
        {"compensationType": "Salary", "interval": "1 HOUR", "currencyCode": "USD", "minValue": 28, "maxValue": 34}
    ]
    site.expect_request("/posting-api/job-board/x").respond_with_json({"apiVersion": "1", "jobs": [job]})
    (posting,) = crawl_kind("ashby", site.url_for("/"), board="x")
    assert posting.remote_flag == "isRemote=true; workplaceType=Remote"
    assert posting.structured["salary_period"] == "hour" and posting.structured["salary_min"] == 28


# --- Lever ---------------------------------------------------------------------------------------

def lever_pages(board: list[dict]):
    def handler(request: Request) -> Response:
        skip, limit = int(request.args.get("skip", 0)), int(request.args.get("limit", len(board)))
        assert request.args.get("mode") == "json"
        return Response(json.dumps(board[skip : skip + limit]), content_type="application/json")

    return handler


def test_lever_pages_until_a_short_page(site: HTTPServer) -> None:
    board = json.loads(recorded_bytes("lever/GoToGroup_postings.json"))
    site.expect_request("/v0/postings/GoToGroup").respond_with_handler(lever_pages(board))
    postings = crawl_kind("lever", site.url_for("/"), site="GoToGroup", company="GoTo Group")
    assert len(postings) == 168  # pages of 100: 100 + 68
    assert len([r for r, _ in site.log if r.path.startswith("/v0/")]) == 2
    first = next(p for p in postings if p.external_id == "f53cae40-f605-4215-9a82-b48c5db508b5")
    assert first.posted_at == "2024-07-22T09:03:14Z"  # createdAt 1721638994130 ms
    assert first.remote_flag == "workplaceType=onsite" and first.structured["workplace_type"] == "onsite"
    # lists[] are appended: "What you will need" is a list heading, not in the description body.
    assert "What you will need" in first.description
    assert first.location == "Bengaluru; IN"


def test_lever_accepts_both_onsite_spellings_and_salary_range(site: HTTPServer) -> None:
    board = json.loads(recorded_bytes("lever/GoToGroup_postings.json"))[:2]
    board[1]["workplaceType"] = "on-site"  # the README's spelling
    board[1]["salaryRange"] = {"currency": "USD", "interval": "per-hour-wage", "min": 22, "max": 27}
    site.expect_request("/v0/postings/GoToGroup").respond_with_handler(lever_pages(board))
    postings = crawl_kind("lever", site.url_for("/"), site="GoToGroup")
    assert [p.structured["workplace_type"] for p in postings] == ["onsite", "onsite"]
    assert postings[1].remote_flag == "workplaceType=on-site"  # verbatim evidence
    assert postings[1].structured["salary_period"] == "hour" and postings[1].structured["salary_max"] == 27


# --- SmartRecruiters -----------------------------------------------------------------------------

SR_DETAILS = ("744000005051195", "744000004395755", "744000004395596")


def test_smartrecruiters_pages_by_offset_and_reads_details(site: HTTPServer) -> None:
    listing = recorded_json("smartrecruiters/Gousto1_postings.json")
    content = [c for c in listing["content"] if c["id"] in SR_DETAILS]  # the 3 with recorded details
    assert len(content) == 3

    def pages(request: Request) -> Response:
        offset = int(request.args["offset"])
        # A server may return fewer than asked: two a page, to exercise offset paging.
        page = {"offset": offset, "limit": 2, "totalFound": len(content), "content": content[offset : offset + 2]}
        return Response(json.dumps(page), content_type="application/json")

    site.expect_request("/v1/companies/Gousto1/postings").respond_with_handler(pages)
    for pid in SR_DETAILS:
        site.expect_request(f"/v1/companies/Gousto1/postings/{pid}").respond_with_data(
            recorded_bytes(f"smartrecruiters/Gousto1_posting_{pid}.json"), content_type="application/json"
        )
    postings = crawl_kind("smartrecruiters", site.url_for("/"), company="Gousto1")
    assert sorted(p.external_id for p in postings) == sorted(SR_DETAILS)
    assert len([r for r, _ in site.log if r.path == "/v1/companies/Gousto1/postings"]) == 2
    senior = next(p for p in postings if p.external_id == "744000005051195")
    assert senior.title == "Senior Software Engineer" and senior.company == "Gousto"
    assert senior.remote_flag == "location.remote=false"
    assert senior.structured["experience_level"] == "Mid-Senior Level"
    assert senior.structured["employment_type"] == "full_time"
    assert "Bento is a team of 19 people" in senior.description  # from jobAd.sections
    assert senior.url.startswith("https://jobs.smartrecruiters.com/Gousto1/744000005051195")
    assert senior.location == "London, GB"


# --- Workday -------------------------------------------------------------------------------------

WD_API = "/wday/cxs/motorolasolutions/Careers"
WD_DETAILS = {"R45693": "job_R45693.json", "R49077": "job_R49077.json", "R48704": "job_R48704.json"}
UK = "29247e57dbaf46fb855b224e03170bc7"
EMPTY_PAGE = {"total": 0, "jobPostings": [], "facets": [], "userAuthenticated": False}


def uk_pages(request: Request, facet_required: bool = True) -> Response:
    """The recorded 2-page UK crawl (page 2 reports total 0); other facet values answer an empty page."""
    body = json.loads(request.data)
    assert body["limit"] == 20 and body["searchText"] == ""
    if facet_required and body["appliedFacets"] != {"locationCountry": [UK]}:
        return Response(json.dumps(EMPTY_PAGE), content_type="application/json")
    name = {0: "jobs_facet_uk_page1.json", 20: "jobs_facet_uk_page2.json"}[body["offset"]]
    return Response(recorded_bytes(f"workday/{name}"), content_type="application/json")


@pytest.fixture
def workday_site(site: HTTPServer) -> HTTPServer:
    # pytest-httpserver matches a path exactly, so detail paths are routed by a prefix matcher.
    class Prefix(URIPattern):
        def __init__(self, prefix: str):
            self.prefix = prefix

        def match(self, uri: str) -> bool:
            return uri.startswith(self.prefix)

    def detail(request: Request) -> Response:
        req = request.path.rsplit("_", 1)[-1]
        if req in WD_DETAILS:
            return Response(recorded_bytes(f"workday/{WD_DETAILS[req]}"), content_type="application/json")
        return Response('{"errorCode":"NOT_FOUND"}', status=404)  # only 3 details were recorded

    site.expect_request(Prefix(f"{WD_API}/job/"), method="GET").respond_with_handler(detail)
    return site


def test_workday_keeps_page_one_total_and_stops_on_a_short_page(workday_site: HTTPServer) -> None:
    workday_site.expect_request(f"{WD_API}/jobs", method="POST").respond_with_handler(
        lambda request: uk_pages(request, facet_required=False)
    )
    postings = crawl_kind("workday", workday_site.url_for("/"), tenant="motorolasolutions", wd="wd5", site="Careers")
    # Page 1 says total 31 (20 postings); page 2 says total 0 with 11 postings: all 31 are read.
    assert len(postings) == 31
    assert len([r for r, _ in workday_site.log if r.path.endswith("/jobs")]) == 2
    graduate = next(p for p in postings if p.external_id == "Graduate-Software-Engineer_R45693")
    assert graduate.posted_at == "2024-08-07"  # detail startDate; postedOn is relative text
    assert graduate.structured["posted_on_text"] == "Posted Yesterday"
    assert graduate.location == "Uxbridge, UK (ZUK131)"
    assert graduate.company == "908000 Motorola Solutions UK Limited"
    assert "Motorola Solutions" in graduate.description
    assert graduate.url == "https://motorolasolutions.wd5.myworkdayjobs.com/Careers/job/Uxbridge-UK-ZUK131/Graduate-Software-Engineer_R45693"
    # A posting whose detail is gone (404) keeps the list's facts.
    gone = next(p for p in postings if p.external_id == "Senior-Service-Architect_R49070")
    assert gone.structured["detail_missing"] is True and gone.location == "Rugby, UK (ZUK107)"


def test_workday_splits_a_capped_total_by_a_facet(workday_site: HTTPServer) -> None:
    def jobs(request: Request) -> Response:
        body = json.loads(request.data)
        if not body["appliedFacets"]:
            return Response(recorded_bytes("workday/jobs_page1.json"), content_type="application/json")
        return uk_pages(request)

    workday_site.expect_request(f"{WD_API}/jobs", method="POST").respond_with_handler(jobs)
    # total 621 with a cap of 600: the crawl must split by locationCountry (35 values, 634 >= 621).
    postings = crawl_kind(
        "workday", workday_site.url_for("/"), tenant="motorolasolutions", wd="wd5", site="Careers",
        result_cap=600, split_facet="locationCountry",
    )
    bodies = [json.loads(r.data) for r, _ in workday_site.log if r.path.endswith("/jobs")]
    assert bodies[0]["appliedFacets"] == {}
    split = bodies[1:]
    assert {tuple(b["appliedFacets"]) for b in split} == {("locationCountry",)}
    assert len({b["appliedFacets"]["locationCountry"][0] for b in split}) == 35
    assert len(postings) == 31 == len({p.external_id for p in postings})


def test_workday_refuses_a_split_that_cannot_cover_the_board(workday_site: HTTPServer) -> None:
    workday_site.expect_request(f"{WD_API}/jobs", method="POST").respond_with_data(
        recorded_bytes("workday/jobs_page1.json"), content_type="application/json"
    )
    # timeType ("Regions") counts only 456 of 621 postings: splitting by it would lose some.
    with pytest.raises(SourceFormatError, match="cannot be read whole"):
        crawl_kind("workday", workday_site.url_for("/"), tenant="motorolasolutions", wd="wd5", site="Careers",
                   result_cap=600, split_facet="timeType")
