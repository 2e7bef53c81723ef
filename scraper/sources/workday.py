"""Workday career sites (the CXS JSON behind ``{tenant}.{wd}.myworkdayjobs.com``).

List: ``POST /wday/cxs/{tenant}/{site}/jobs`` with ``{"limit":20,"offset":N,"appliedFacets":{},"searchText":""}``;
detail: ``GET /wday/cxs/{tenant}/{site}`` + ``externalPath``.

Quirks kept here: ``total`` is reported only on the first page (later pages say 0), so page 1's total
is kept and paging stops on a short page; the only absolute date is the detail's ``startDate`` (the
relative ``postedOn`` text is kept in structured); ``remoteType`` is evidence when a tenant has it.
Large tenants cap ``total`` at ``result_cap`` (2000, as public clients report): then the crawl is split
by one facet of the first response (``split_facet``, or the facet whose values cover the most postings
while each stays under the cap) and the parts are unioned by posting id. A detail that answers 404 (the
posting closed between list and detail) keeps the list's facts; any other failure fails the source.
"""

from __future__ import annotations

from typing import Any

from scraper.config import SourceConfig
from scraper.errors import BadStatus, ConfigError, SourceFormatError
from scraper.fetcher import Fetcher
from scraper.posting import Posting
from scraper.sources import employment_type, expect, flag, gather_all, join_location, plain_text, require

KIND = "workday"
REQUIRED = ("tenant", "wd", "site")
OPTIONAL = ("company", "search_text", "result_cap", "split_facet")
DEFAULT_BASE_URL = ""  # the host is per tenant: https://{tenant}.{wd}.myworkdayjobs.com
PAGE_SIZE = 20
RESULT_CAP = 2000


def host_url(source: SourceConfig) -> str:
    return source.base_url or f"https://{source.option('tenant')}.{source.option('wd')}.myworkdayjobs.com"


async def fetch_postings(fetcher: Fetcher, source: SourceConfig) -> list[Posting]:
    api = f"{host_url(source)}/wday/cxs/{source.option('tenant')}/{source.option('site')}"
    cap = source.option("result_cap", RESULT_CAP)
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < PAGE_SIZE:
        raise ConfigError(f"source {source.name!r}: field 'result_cap' must be a whole number >= {PAGE_SIZE}")
    first, items = await _list(fetcher, api, source, {}, cap)
    if first.get("total", 0) >= cap:
        facet, values = _split_facet(first, cap, source, api)
        items = {}
        for value in values:
            part_first, part = await _list(fetcher, api, source, {facet: [value]}, cap)
            if part_first.get("total", 0) >= cap:
                raise SourceFormatError(f"{api}: facet {facet}={value} alone reaches the {cap} cap")
            items.update(part)
    details = await gather_all(_detail(fetcher, api, item) for item in items.values())
    return [_posting(source, item, detail) for item, detail in zip(items.values(), details)]


async def _list(
    fetcher: Fetcher, api: str, source: SourceConfig, facets: dict[str, list[str]], cap: int
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Every list item under one facet filter, keyed by posting id, and the first page as sent.

    Stops after the first page when its total reaches the cap: the caller must split instead.
    """
    url = f"{api}/jobs"
    items: dict[str, dict[str, Any]] = {}
    first: dict[str, Any] | None = None
    offset = 0
    while True:
        body = {"limit": PAGE_SIZE, "offset": offset, "appliedFacets": facets,
                "searchText": source.option("search_text", "")}
        page = expect(await fetcher.post_json(url, body), dict, url)
        postings = require(page, "jobPostings", list, url)
        if first is None:
            first = page  # the only page whose "total" is real
            if (first.get("total") or 0) >= cap:
                return first, {}
        for item in postings:
            item = expect(item, dict, url)
            items[_posting_id(item, url)] = item
        offset += PAGE_SIZE
        if len(postings) < PAGE_SIZE or (first.get("total") and offset >= first["total"]):
            return first, items


def _posting_id(item: dict[str, Any], url: str) -> str:
    path = item.get("externalPath")
    if not isinstance(path, str) or "/" not in path:
        raise SourceFormatError(f"{url}: a job posting has no externalPath")
    return path.rstrip("/").rsplit("/", 1)[-1]  # e.g. "Graduate-Software-Engineer_R45693" (= jobPostingId)


def _facets(facets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Facets flattened: a value that is itself a facet (locationMainGroup -> locationCountry) counts too."""
    flat = []
    for facet in facets:
        values = facet.get("values") or []
        nested = [v for v in values if "facetParameter" in v]
        if nested:
            flat.extend(_facets(nested))
        elif values:
            flat.append(facet)
    return flat


def _split_facet(first: dict[str, Any], cap: int, source: SourceConfig, api: str) -> tuple[str, list[str]]:
    candidates = _facets(first.get("facets") or [])
    wanted = source.option("split_facet")
    if wanted:
        candidates = [f for f in candidates if f.get("facetParameter") == wanted]
        if not candidates:
            raise SourceFormatError(f"{api}: split_facet {wanted!r} is not among this site's facets")
    usable = [f for f in candidates if all((v.get("count") or 0) < cap for v in f["values"])]
    if not usable:
        raise SourceFormatError(f"{api}: {first.get('total')} postings hit the {cap} cap and no facet splits them")
    best = max(usable, key=lambda f: (sum(v.get("count") or 0 for v in f["values"]), -len(f["values"])))
    if sum(v.get("count") or 0 for v in best["values"]) < first["total"]:
        raise SourceFormatError(
            f"{api}: facet {best['facetParameter']!r} covers fewer postings than the capped total; "
            "the board cannot be read whole"
        )
    return best["facetParameter"], [v["id"] for v in best["values"]]


async def _detail(fetcher: Fetcher, api: str, item: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return expect(await fetcher.get_json(api + item["externalPath"]), dict, api + item["externalPath"])
    except BadStatus as exc:
        if exc.status == 404:
            return None
        raise


def _posting(source: SourceConfig, item: dict[str, Any], detail: dict[str, Any] | None) -> Posting:
    info = (detail or {}).get("jobPostingInfo") or {}
    structured: dict[str, Any] = {}
    if item.get("postedOn") or info.get("postedOn"):
        structured["posted_on_text"] = info.get("postedOn") or item.get("postedOn")
    if info.get("timeType"):
        structured["employment_type"] = employment_type(info["timeType"]) or info["timeType"]
    for key, out in (("jobReqId", "requisition_id"), ("endDate", "valid_through")):
        if info.get(key):
            structured[out] = info[key]
    if detail is None:
        structured["detail_missing"] = True
    html = info.get("jobDescription") or ""
    additional = [a if isinstance(a, str) else a.get("descriptor") for a in info.get("additionalLocations") or []]
    remote_type = info.get("remoteType") or item.get("remoteType")
    company = (detail or {}).get("hiringOrganization") or {}
    return Posting(
        source=source.name,
        external_id=_posting_id(item, "workday"),
        url=info.get("externalUrl") or f"{host_url(source)}/{source.option('site')}{item['externalPath']}",
        title=(info.get("title") or item.get("title") or "").strip(),
        company=source.option("company") or company.get("name") or source.option("tenant"),
        location=join_location(info.get("location") or item.get("locationsText"), *additional, sep="; "),
        description=plain_text(html),
        description_html=html,
        posted_at=info.get("startDate"),
        remote_flag=flag("remoteType", remote_type) if remote_type else None,
        structured=structured,
    )
