"""Normalised keys of a posting and the tables and views analysts join on.

Keys (vocabularies in ``store/data/normalize.toml``): ``employer_key`` ("Valley Regional Health, Inc."
→ "valley regional health"), ``title_key``, ``location_key``, ``canonical_url`` (scheme and host case,
``www.``, default port, fragment, tracking parameters and trailing slash removed) and ``requisition``
(the ATS's own job id, from the URL or from the posting's own ATS source: "workday/acme:R12345").

Derived objects, rebuilt by ``store.duplicates.refresh_derived`` after every crawl: the postings columns
``employer_key``, ``source_kind``, ``canonical_url``, ``requisition``; the ``employers`` table; and the
views ``jobs`` (each job once, with days open), ``credentials`` (one row per posting and credential)
and ``sources`` (each source with its last crawl and counts).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlite_utils

VOCABULARY = Path(__file__).resolve().parent / "data" / "normalize.toml"

# Multipliers that turn a salary of each period into a yearly one (2080 working hours a year).
ANNUAL_FACTORS = {"hour": 2080, "day": 260, "week": 52, "month": 12, "year": 1}


@dataclass(frozen=True)
class RequisitionRule:
    ats: str
    host: str | None
    path: re.Pattern[str] | None
    param: str | None
    tenant_scoped: bool


@dataclass(frozen=True)
class Vocabulary:
    employer_suffixes: tuple[str, ...]
    employer_prefixes: tuple[str, ...]
    title_noise: tuple[str, ...]
    location_unspecific: tuple[str, ...]
    tracking_params: tuple[str, ...]
    employer_kinds: tuple[str, ...]
    board_kinds: tuple[str, ...]
    requisition_rules: tuple[RequisitionRule, ...]


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    raw = tomllib.loads(VOCABULARY.read_text(encoding="utf-8"))
    rules = tuple(
        RequisitionRule(
            ats=r["ats"],
            host=r.get("host"),
            path=re.compile(r["path"], re.IGNORECASE) if r.get("path") else None,
            param=r.get("param"),
            tenant_scoped=r.get("scope") == "tenant",
        )
        for r in raw["requisition"]
    )
    return Vocabulary(
        employer_suffixes=tuple(raw["employer"]["suffixes"]),
        employer_prefixes=tuple(raw["employer"]["prefixes"]),
        title_noise=tuple(raw["title"]["noise"]),
        location_unspecific=tuple(raw["location"]["unspecific"]),
        tracking_params=tuple(p.lower() for p in raw["url"]["tracking_params"]),
        employer_kinds=tuple(raw["kinds"]["employer"]),
        board_kinds=tuple(raw["kinds"]["board"]),
        requisition_rules=rules,
    )


def _words(text: str | None) -> str:
    """Lower case, ``&`` as "and", every run of other punctuation a single space."""
    text = (text or "").lower().replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _drop_phrases(text: str, phrases: tuple[str, ...]) -> str:
    for phrase in sorted(phrases, key=len, reverse=True):
        text = re.sub(rf"(^| ){re.escape(phrase)}(?= |$)", " ", text)
    return " ".join(text.split())


def employer_key(name: str | None) -> str:
    """"The Valley Regional Health System, Inc." → "valley regional health system"."""
    vocab = vocabulary()
    # "L.L.C." is "llc" and "St. Luke's" is "st lukes": dots and apostrophes join, not split.
    words = _words(re.sub(r"[.'’]", "", name or "")).split()
    while words and words[0] in vocab.employer_prefixes:
        words = words[1:]
    while len(words) > 1 and words[-1] in vocab.employer_suffixes:
        words = words[:-1]
    return " ".join(words)


def title_key(title: str | None) -> str:
    """"Medical Coder II - Remote (Full-Time)" → "medical coder ii"."""
    return _drop_phrases(_words(title), vocabulary().title_noise)


def location_key(location: str | None) -> str:
    """The place a location names, or "" when it names none ("Remote - USA")."""
    return _drop_phrases(_words(location), vocabulary().location_unspecific)


def _tracking(param: str) -> bool:
    name = param.lower()
    return any(name.startswith(p[:-1]) if p.endswith("*") else name == p for p in vocabulary().tracking_params)


def canonical_url(url: str | None) -> str | None:
    """One spelling per page: https, lower-case host without ``www.`` or a default port, no fragment,
    no tracking parameters, the others sorted, no trailing slash."""
    if not url or not url.strip():
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/")
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _tracking(k))
    return urlunsplit(("https", host, path, urlencode(query), ""))


def _host_matches(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def requisition(url: str | None, source_kind: str | None = None, external_id: str | None = None) -> str | None:
    """The ATS job id a posting carries, as "ats:id" ("workday/tenant:id" for tenant-scoped ATSs).

    Read from the URL (a remote board's apply link often is the ATS page), else from the posting's own
    ATS source, whose external id is the ATS's id.
    """
    parts = urlsplit((url or "").strip())
    host = (parts.hostname or "").lower()
    params = {k.lower(): v for k, v in parse_qsl(parts.query)}
    for rule in vocabulary().requisition_rules:
        if rule.param:
            value = params.get(rule.param, "").strip()
            if value:
                return f"{rule.ats}:{value}"
            continue
        if rule.host and host and _host_matches(host, rule.host) and rule.path:
            match = rule.path.search(parts.path)
            if match:
                return _requisition_key(rule, host, match.group("id"))
    if source_kind and external_id:
        for rule in vocabulary().requisition_rules:
            if rule.ats != source_kind or rule.param:
                continue
            if not rule.tenant_scoped:
                return f"{rule.ats}:{external_id}"
            match = rule.path.search("/" + external_id) if rule.path else None
            if match and host and rule.host and _host_matches(host, rule.host):
                return _requisition_key(rule, host, match.group("id"))
    return None


def _requisition_key(rule: RequisitionRule, host: str, job_id: str) -> str:
    if rule.tenant_scoped:
        return f"{rule.ats}/{host.split('.')[0]}:{job_id.upper()}"
    return f"{rule.ats}:{job_id.lower()}"


def kind_rank(kind: str | None) -> int:
    """0 for the employer's own ATS, 1 for a remote board, 2 for an unknown kind."""
    vocab = vocabulary()
    if kind in vocab.employer_kinds:
        return 0
    if kind in vocab.board_kinds:
        return 1
    return 2


def source_kinds(db: sqlite_utils.Database) -> dict[str, str]:
    """Each source's kind, from its latest crawl run."""
    rows = db.query(
        "select source, kind from crawl_runs where kind is not null order by started_at, id"
    )
    return {r["source"]: r["kind"] for r in rows}


def annotate_postings(db: sqlite_utils.Database) -> int:
    """Fill the key columns of every posting; writes only rows whose keys changed. Returns how many."""
    kinds = source_kinds(db)
    changed = 0
    rows = db.query(
        "select id, source, external_id, url, company, source_kind, employer_key, canonical_url, requisition "
        "from postings"
    )
    updates = []
    for row in rows:
        kind = kinds.get(row["source"]) or row["source_kind"]
        keys = {
            "source_kind": kind,
            "employer_key": employer_key(row["company"]) or None,
            "canonical_url": canonical_url(row["url"]),
            "requisition": requisition(row["url"], kind, row["external_id"]),
        }
        if any(row[k] != v for k, v in keys.items()):
            updates.append((keys, row["id"]))
    with db.conn:
        for keys, posting_id in updates:
            db.execute(
                "update postings set source_kind = ?, employer_key = ?, canonical_url = ?, requisition = ? "
                "where id = ?",
                [keys["source_kind"], keys["employer_key"], keys["canonical_url"], keys["requisition"], posting_id],
            )
            changed += 1
    return changed


def refresh_employers(db: sqlite_utils.Database) -> None:
    """Rebuild ``employers``: one row per normalised employer, named by its most used spelling."""
    names: dict[str, Counter[str]] = {}
    for row in db.query("select employer_key, company from postings where employer_key is not null"):
        names.setdefault(row["employer_key"], Counter())[row["company"]] += 1
    stats = {
        r["employer_key"]: r
        for r in db.query(
            """select employer_key, count(*) as postings,
                 sum(duplicate_of is null) as jobs,
                 sum(duplicate_of is null and closed_at is null) as open_jobs,
                 json_group_array(distinct source) as sources,
                 min(first_seen) as first_seen, max(last_seen) as last_seen
               from postings where employer_key is not null group by employer_key"""
        )
    }
    rows = [
        {
            "id": key,
            "name": counter.most_common(1)[0][0],
            "spellings": json.dumps(sorted(counter), ensure_ascii=False),
            "postings": stats[key]["postings"],
            "jobs": stats[key]["jobs"],
            "open_jobs": stats[key]["open_jobs"],
            "sources": json.dumps(sorted(json.loads(stats[key]["sources"])), ensure_ascii=False),
            "first_seen": stats[key]["first_seen"],
            "last_seen": stats[key]["last_seen"],
        }
        for key, counter in names.items()
    ]
    with db.conn:
        db.execute("delete from employers")
        if rows:
            db.table("employers").insert_all(rows)


EMPLOYER_COLUMNS: dict[str, type] = {
    "id": str, "name": str, "spellings": str, "postings": int, "jobs": int, "open_jobs": int,
    "sources": str, "first_seen": str, "last_seen": str,
}


def _annual(prefix: str = "") -> str:
    cases = " ".join(f"when '{period}' then {factor}" for period, factor in ANNUAL_FACTORS.items())
    low = f"coalesce({prefix}salary_min, {prefix}salary_max)"
    high = f"coalesce({prefix}salary_max, {prefix}salary_min)"
    return f"(({low} + {high}) / 2.0) * (case {prefix}salary_period {cases} end)"


_NOW = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

VIEWS: dict[str, str] = {
    "jobs": f"""
select
  p.id, p.title, p.company, p.employer_key, p.location, p.state, p.role, p.seniority, p.arrangement,
  p.salary_min, p.salary_max, p.salary_period, p.salary_currency,
  {_annual("p.")} as salary_annual,
  p.credentials, p.employment_type, p.education, p.source, p.source_kind, p.url, p.posted_at,
  min(p.first_seen, coalesce(c.first_seen, p.first_seen)) as first_seen,
  max(p.last_seen, coalesce(c.last_seen, p.last_seen)) as last_seen,
  case when p.closed_at is not null then max(p.closed_at, coalesce(c.closed_at, p.closed_at)) end as closed_at,
  case when p.closed_at is null then 'open' else 'closed' end as status,
  cast(julianday(coalesce(
      case when p.closed_at is not null then max(p.closed_at, coalesce(c.closed_at, p.closed_at)) end, {_NOW}))
    - julianday(min(p.first_seen, coalesce(c.first_seen, p.first_seen))) as integer) as days_open,
  min(p.first_seen, coalesce(c.first_seen, p.first_seen)) >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days')
    as new_this_week,
  coalesce(c.copies, 0) as copies, coalesce(c.copy_sources, '[]') as copy_sources,
  p.rowid as posting_rowid
from postings p
left join (
  select duplicate_of, count(*) as copies, json_group_array(source) as copy_sources,
    min(first_seen) as first_seen, max(last_seen) as last_seen, max(closed_at) as closed_at
  from postings where duplicate_of is not null group by duplicate_of
) c on c.duplicate_of = p.id
where p.duplicate_of is null""",
    "credentials": """
select p.id as posting_id, j.value as credential, p.duplicate_of is null as canonical,
  p.role, p.seniority, p.arrangement, p.state, p.closed_at is null as open
from postings p, json_each(case when json_valid(p.credentials) then p.credentials else '[]' end) j""",
    "sources": """
select s.source as name,
  (select kind from crawl_runs r where r.source = s.source and r.kind is not null
     order by r.started_at desc, r.id desc limit 1) as kind,
  (select max(finished_at) from crawl_runs r where r.source = s.source) as last_crawl,
  (select status from crawl_runs r where r.source = s.source order by r.started_at desc, r.id desc limit 1)
    as last_status,
  (select canary from crawl_runs r where r.source = s.source order by r.started_at desc, r.id desc limit 1)
    as last_canary,
  (select count(*) from crawl_runs r where r.source = s.source) as runs,
  (select count(*) from crawl_runs r where r.source = s.source and r.status != 'ok') as failed_runs,
  (select count(*) from postings p where p.source = s.source) as postings,
  (select count(*) from postings p where p.source = s.source and p.closed_at is null) as open_postings,
  (select count(*) from postings p where p.source = s.source and p.duplicate_of is not null) as copies
from (select source from crawl_runs union select source from postings) s""",
}


def ensure_derived_schema(db: sqlite_utils.Database) -> None:
    """Create the ``employers`` table and (re)create the views, so their definitions stay current."""
    if not db["employers"].exists():
        db.table("employers").create(EMPLOYER_COLUMNS, pk="id")
    for name, sql in VIEWS.items():
        current = next(iter(db.query("select sql from sqlite_master where type = 'view' and name = ?", [name])), None)
        wanted = f"CREATE VIEW [{name}] AS {sql.strip()}"
        if current is None or current["sql"] != wanted:
            with db.conn:
                db.execute(f"drop view if exists [{name}]")
                db.execute(wanted)

