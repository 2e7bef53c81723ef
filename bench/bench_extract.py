"""Extractions per second on one core (classifier.extract.extract).

Two sets: the real Ashby postings recorded in scraper/recorded/ashby/*.json (descriptionPlain,
~5.5 KB each), and synthetic 3,000-character descriptions assembled (seeded) from lines of those
postings mixed with typical HIM requirement lines (pay, credentials, education, remote states),
so every extractor has something to find. The figure uses this process's CPU time
(time.process_time), best of several repeats, so other work on a shared machine disturbs it less.

Run: .venv/bin/python bench/bench_extract.py [--repeat N]
"""

from __future__ import annotations

import os

# One core: no thread pools in numeric libraries, and the process pinned to one CPU where possible.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import json
import random
import time
import timeit
from pathlib import Path

from classifier.extract import extract

RECORDED = Path(__file__).resolve().parent.parent / "scraper" / "recorded" / "ashby"
SYNTHETIC_CHARS = 3000
SYNTHETIC_COUNT = 200
HIM_LINES = [
    "Pay Range: $22.50 - $31.75 per hour, depending on experience.",
    "The salary range for this role is $58,000 to $72,000 annually.",
    "Compensation: USD 65,000-80,000 per year plus a $1,000 sign-on bonus.",
    "Required: active CPC, CCS or RHIT credential through AAPC or AHIMA.",
    "CPC-A accepted; CRC is a plus.",
    "Certified Tumor Registrar (CTR) or ODS-C required within 12 months of hire.",
    "Preferred Qualifications:",
    "Minimum Qualifications:",
    "- High school diploma or GED required; associate's degree in health information preferred.",
    "- Bachelor's degree in Health Information Management preferred.",
    "- 3+ years of inpatient coding experience (ICD-10-CM/PCS, DRG).",
    "This is a full-time, remote position. Candidates must reside in TX, FL, GA, or North Carolina.",
    "Tuition reimbursement toward an RHIA or a master's degree is available to employees.",
    "Part-time and PRN positions available for full-time employees' benefits.",
]


def _real_postings() -> list[tuple[str, str, str]]:
    docs = []
    for path in sorted(RECORDED.glob("*.json")):
        for job in json.loads(path.read_text(encoding="utf-8"))["jobs"]:
            docs.append((job.get("title") or "", job.get("descriptionPlain") or "", job.get("location") or ""))
    return docs


def _synthetic(real: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    rng = random.Random(7)
    lines = [line for _, text, _ in real for line in text.split("\n") if line.strip()]
    titles = ["Medical Coder II", "Coding Specialist - Remote", "Cancer Registrar (CTR)", "HIM Technician",
              "Release of Information Specialist", "Inpatient Coding Auditor"]
    docs = []
    for _ in range(SYNTHETIC_COUNT):
        parts: list[str] = []
        size = 0
        while size < SYNTHETIC_CHARS:
            line = rng.choice(HIM_LINES) if rng.random() < 0.25 else rng.choice(lines)
            parts.append(line)
            size += len(line) + 1
        docs.append((rng.choice(titles), "\n".join(parts)[:SYNTHETIC_CHARS], rng.choice(["Remote", "Dallas, TX", ""])))
    return docs


def _per_second(docs: list[tuple[str, str, str]], repeat: int) -> float:
    def run() -> None:
        for title, text, location in docs:
            extract(title, text, location=location)

    run()  # warm caches (regex compilation, lazy tables)
    best = min(timeit.repeat(run, number=1, repeat=repeat, timer=time.process_time))
    return len(docs) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed repeats; the best is reported")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    real = _real_postings()
    synthetic = _synthetic(real)
    for name, docs in (("real Ashby postings", real), (f"synthetic {SYNTHETIC_CHARS}-char descriptions", synthetic)):
        avg = sum(len(d[1]) for d in docs) / len(docs)
        rate = _per_second(docs, args.repeat)
        print(f"{name}: {len(docs)} docs, avg {avg:.0f} chars: {rate:,.0f} extractions/s ({1e6 / rate:.0f} us each)")


if __name__ == "__main__":
    main()
