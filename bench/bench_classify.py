"""Postings classified per second on one core: title + 3,000-character description, through label_postings
(rules, model and extraction together), in batches as the crawl pipeline and ``himjobs classify`` call it.

Run: .venv/bin/python bench/bench_classify.py [--postings 20000] [--batch 2000]
Threads are pinned to one before numpy/scipy load (OMP/OPENBLAS/MKL_NUM_THREADS=1).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

from classifier.extract import extract  # noqa: E402
from classifier.predict import label_postings  # noqa: E402
from classifier.model import get_model  # noqa: E402
from classifier.train import load_split  # noqa: E402

DESCRIPTION_CHARS = 3_000


def postings(count: int) -> list[dict]:
    """Real titles and texts from the bundled data, each description padded or cut to 3,000 characters."""
    rows = [row for row in load_split("train") + load_split("dev") if row.get("description")]
    # Padding must not change what a posting is: federal text (GS grades) would make every posting federal.
    plain = [row for row in rows if "GS-" not in row["description"] and "usajobs" not in str(row.get("source", ""))]
    filler = " ".join(row["description"] for row in plain[:50])
    out = []
    for i in range(count):
        row = rows[i % len(rows)]
        text = (row["description"] + "\n" + filler)[:DESCRIPTION_CHARS]
        out.append({"id": f"bench:{i}", "title": row["title"], "description": text,
                    "remote_flag": row.get("remote_flag", ""), "structured": row.get("structured", {})})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=2_000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    get_model()  # load (or build) outside the timing
    data = postings(args.postings)
    label_postings(data[:200])  # warm caches
    started = time.perf_counter()
    for start in range(0, len(data), args.batch):
        label_postings(data[start:start + args.batch])
    elapsed = time.perf_counter() - started
    print(f"{len(data)} postings (title + {DESCRIPTION_CHARS}-char description) in {elapsed:.2f}s "
          f"on one core: {len(data) / elapsed:,.0f} postings/s")
    # Share of that time spent in classifier.extract (pay, credentials, ...), called once per posting.
    started = time.perf_counter()
    for posting in data:
        extract(posting["title"], posting["description"], structured=posting["structured"])
    extracting = time.perf_counter() - started
    print(f"  of which extract(): {extracting:.2f}s; labels alone (rules + model): "
          f"{len(data) / max(elapsed - extracting, 1e-9):,.0f} postings/s")


if __name__ == "__main__":
    main()
