"""Cross-source duplicates: the same job reached through its ATS, a remote board and USAJOBS is one job.

Layers, strongest first; two postings are one job when
1. ``url``: their canonical URLs are equal (tracking parameters, case, trailing slash ignored);
2. ``requisition``: they carry the same ATS job id (Greenhouse id, Workday R-number, Lever/Ashby UUID,
   SmartRecruiters id, USAJOBS control number);
3. ``employer_title_location``: normalised employer, title and location are equal;
4. ``description``: same normalised title, same (or prefix-related) employer, compatible locations and
   descriptions whose TF-IDF cosine is at least ``DESCRIPTION_SIMILARITY``.

Layers 3 and 4 never join two postings of one source (a board's two ids are two jobs there), postings
whose open periods lie more than ``LIFETIME_SLACK_DAYS`` apart, or a group that would then hold two
different ids of one ATS: two requisitions are two jobs, whatever their titles.

Every run recomputes the groups from scratch (so it is idempotent) and picks as canonical the open copy
from the employer's own ATS (then a remote board, then the earliest seen); when that copy closes, the
next run moves ``duplicate_of`` to an open copy. Copies keep their rows, with ``duplicate_layer`` and
``duplicate_reason`` (the evidence); every change of ``duplicate_of`` is kept in ``posting_history``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any, Iterable

import sqlite_utils
from sklearn.feature_extraction.text import TfidfVectorizer

from store.database import utc_now
from store.normalize import (
    annotate_postings,
    ensure_derived_schema,
    kind_rank,
    location_key,
    refresh_employers,
    title_key,
)

DESCRIPTION_SIMILARITY = 0.8  # TF-IDF cosine (word 1–2-grams) above which two descriptions are one text
LIFETIME_SLACK_DAYS = 14  # boards lag their ATS by days; a job seen again months later is a new one
LAYERS = ("url", "requisition", "employer_title_location", "description")


@dataclass
class Match:
    a: str
    b: str
    layer: str
    evidence: str


@dataclass
class _Posting:
    id: str
    source: str
    kind: str | None
    employer: str
    title: str
    location: str
    canonical_url: str | None
    requisition: str | None
    description: str
    first_seen: str
    last_seen: str
    closed_at: str | None

    def start(self) -> datetime:
        return _parse(self.first_seen) if self.first_seen else datetime.min

    def end(self) -> datetime:
        return _parse(self.closed_at) if self.closed_at else datetime.max

    def preference(self) -> tuple[Any, ...]:
        return (self.closed_at is not None, kind_rank(self.kind), self.first_seen or "", self.id)


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")


class _Groups:
    """Union-find that refuses a union making one group hold two ids of one ATS, or (for the weaker
    layers) two postings of one source."""

    def __init__(self, postings: dict[str, _Posting]) -> None:
        self.parent = {pid: pid for pid in postings}
        self.sources = {pid: {p.source} for pid, p in postings.items()}
        self.requisitions = {pid: _requisitions(p) for pid, p in postings.items()}

    def find(self, pid: str) -> str:
        while self.parent[pid] != pid:
            self.parent[pid] = self.parent[self.parent[pid]]
            pid = self.parent[pid]
        return pid

    def union(self, a: str, b: str, *, strong: bool) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        reqs_a, reqs_b = self.requisitions[ra], self.requisitions[rb]
        if any(ns in reqs_b and reqs_b[ns] != rid for ns, rid in reqs_a.items()):
            return False
        if not strong and self.sources[ra] & self.sources[rb]:
            return False
        self.parent[rb] = ra
        self.sources[ra] |= self.sources.pop(rb)
        self.requisitions[ra] = {**reqs_b, **self.requisitions.pop(rb)}
        return True


def _requisitions(p: _Posting) -> dict[str, str]:
    if not p.requisition:
        return {}
    namespace, _, rid = p.requisition.rpartition(":")
    return {namespace: rid}


def _load(db: sqlite_utils.Database) -> dict[str, _Posting]:
    rows = db.query(
        "select id, source, source_kind, employer_key, title, location, canonical_url, requisition, description, "
        "first_seen, last_seen, closed_at from postings order by id"
    )
    return {
        r["id"]: _Posting(
            id=r["id"], source=r["source"], kind=r["source_kind"], employer=r["employer_key"] or "",
            title=title_key(r["title"]), location=location_key(r["location"]), canonical_url=r["canonical_url"],
            requisition=r["requisition"], description=r["description"] or "", first_seen=r["first_seen"] or "",
            last_seen=r["last_seen"] or "", closed_at=r["closed_at"],
        )
        for r in rows
    }


def _same_key(postings: Iterable[_Posting], key: Any, layer: str, describe: Any) -> list[Match]:
    buckets: dict[Any, list[_Posting]] = defaultdict(list)
    for p in postings:
        k = key(p)
        if k:
            buckets[k].append(p)
    return [Match(a.id, b.id, layer, describe(a)) for group in buckets.values() for a, b in combinations(group, 2)]


def _open_overlap(a: _Posting, b: _Posting, slack: timedelta) -> bool:
    a_end, b_end = a.end(), b.end()
    return (a_end == datetime.max or a_end + slack >= b.start()) and (b_end == datetime.max or b_end + slack >= a.start())


def _employers_related(a: str, b: str) -> bool:
    """Equal, or one is the other with words added ("valley regional" / "valley regional health system")."""
    if not a or not b:
        return False
    short, long = sorted((a.split(), b.split()), key=len)
    return long[: len(short)] == short


def _locations_compatible(a: str, b: str) -> bool:
    return a == b or not a or not b


def find_matches(postings: dict[str, _Posting]) -> list[Match]:
    """Every candidate pair, layer by layer (strongest first)."""
    items = list(postings.values())
    matches = _same_key(items, lambda p: p.canonical_url, "url", lambda p: f"same canonical URL {p.canonical_url}")
    matches += _same_key(items, lambda p: p.requisition, "requisition", lambda p: f"same ATS requisition {p.requisition}")
    weak = _same_key(
        items,
        lambda p: (p.employer, p.title, p.location) if p.employer and p.title else None,
        "employer_title_location",
        lambda p: f"same employer {p.employer!r}, title {p.title!r}, location {p.location or 'unspecified'!r}",
    )
    matches += [m for m in weak if _weak_pair_allowed(postings[m.a], postings[m.b])]
    matches += _similar_descriptions(items)
    return matches


def _weak_pair_allowed(a: _Posting, b: _Posting) -> bool:
    return a.source != b.source and _open_overlap(a, b, timedelta(days=LIFETIME_SLACK_DAYS))


def _similar_descriptions(items: list[_Posting]) -> list[Match]:
    # Related employer names share their first word, so blocking on it loses no candidate pair.
    blocks: dict[tuple[str, str], list[_Posting]] = defaultdict(list)
    for p in items:
        if p.title and p.employer and len(p.description.split()) >= 20:
            blocks[(p.title, p.employer.split()[0])].append(p)
    pairs = [
        (a, b)
        for group in blocks.values()
        for a, b in combinations(group, 2)
        if _weak_pair_allowed(a, b) and _employers_related(a.employer, b.employer)
        and _locations_compatible(a.location, b.location)
    ]
    if not pairs:
        return []
    docs = sorted({p.id: p for pair in pairs for p in pair}.values(), key=lambda p: p.id)
    index = {p.id: i for i, p in enumerate(docs)}
    matrix = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(p.description for p in docs)
    matches = []
    for a, b in pairs:
        score = float(matrix[index[a.id]].multiply(matrix[index[b.id]]).sum())
        if score >= DESCRIPTION_SIMILARITY:
            matches.append(Match(a.id, b.id, "description",
                                 f"title {a.title!r}, employers {a.employer!r}/{b.employer!r}, "
                                 f"description cosine {score:.2f}"))
    return matches


def group_duplicates(postings: dict[str, _Posting]) -> dict[str, tuple[str, str, str] | None]:
    """For each posting: None when it is canonical, else (canonical id, layer, reason)."""
    groups = _Groups(postings)
    accepted: dict[str, list[Match]] = defaultdict(list)
    for match in find_matches(postings):
        strong = match.layer in ("url", "requisition")
        if groups.union(match.a, match.b, strong=strong) or groups.find(match.a) == groups.find(match.b):
            accepted[match.a].append(match)
            accepted[match.b].append(match)
    members: dict[str, list[_Posting]] = defaultdict(list)
    for pid, p in postings.items():
        members[groups.find(pid)].append(p)
    result: dict[str, tuple[str, str, str] | None] = {}
    for group in members.values():
        canonical = min(group, key=_Posting.preference)
        result[canonical.id] = None
        for p in group:
            if p is canonical:
                continue
            edges = sorted(accepted[p.id], key=lambda m: (canonical.id not in (m.a, m.b), LAYERS.index(m.layer)))
            edge = edges[0]
            other = edge.b if edge.a == p.id else edge.a
            result[p.id] = (canonical.id, edge.layer, f"{edge.evidence} (matched {other})")
    return result


def mark_duplicates(db: sqlite_utils.Database, *, now: str | None = None) -> int:
    """Set ``duplicate_of``/``duplicate_layer``/``duplicate_reason`` on every posting from scratch;
    writes only what changed and records changed ``duplicate_of`` in history. Returns rows changed."""
    now = now or utc_now()
    postings = _load(db)
    wanted = group_duplicates(postings)
    current = {r["id"]: r for r in db.query("select id, duplicate_of, duplicate_layer, duplicate_reason from postings")}
    changed = 0
    with db.conn:
        for pid, target in wanted.items():
            new = target or (None, None, None)
            old = current[pid]
            if (old["duplicate_of"], old["duplicate_layer"], old["duplicate_reason"]) == new:
                continue
            db.execute(
                "update postings set duplicate_of = ?, duplicate_layer = ?, duplicate_reason = ? where id = ?",
                [*new, pid],
            )
            if old["duplicate_of"] != new[0]:
                db.table("posting_history").insert(
                    {"posting_id": pid, "changed_at": now, "field": "duplicate_of",
                     "old_value": old["duplicate_of"], "new_value": new[0]}
                )
            changed += 1
    return changed


def refresh_derived(db: sqlite_utils.Database) -> None:
    """After postings changed: normalised keys, duplicates, the employers table and the views."""
    ensure_derived_schema(db)
    annotate_postings(db)
    mark_duplicates(db)
    refresh_employers(db)
