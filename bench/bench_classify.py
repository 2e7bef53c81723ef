"""Postings classified per second on one core: title + 3,000-character description, through label_postings
(rules, model and extraction together), in batches as the crawl pipeline and ``himjobs classify`` call it.

Then the same postings through each stage alone, so the next speed-up starts from a measurement: the model
(features, probabilities), the three rule cascades, extract(), and the text cleaning. extract() reads the document
scan (vocab.DOCUMENT_SCAN), the rules the prefilter's pass (prefilter.DESCRIPTIONS) and, for the few texts it lets
through, the document scan too; label_postings runs each once per text, while a stage alone pays for what it
reads. Every run starts with empty title caches (model features, rule hits, extracted title facts), as a crawl of
new postings would. Figures are CPU time of this process (time.process_time), best of --repeat runs; on a shared
machine they still vary by a quarter from one run to the next, so compare two versions with
bench_instructions.py (exact), or with runs of both taken in turn.

Run: .venv/bin/python bench/bench_classify.py [--postings 20000] [--batch 2000] [--repeat 3]
Threads are pinned to one before numpy/scipy load (OMP/OPENBLAS/MKL_NUM_THREADS=1).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

from classifier import rules  # noqa: E402
from classifier.batch_features import _title_rows, transform  # noqa: E402
from classifier.extract import _title_facts, extract  # noqa: E402
from classifier.model import Scores, get_model  # noqa: E402
from classifier.predict import label_postings  # noqa: E402
from classifier.text import clean_description  # noqa: E402
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


def forget_titles() -> None:
    """Empty every per-title cache: the postings' titles are seen for the first time."""
    _title_rows.clear()
    _title_facts.cache_clear()
    for table in rules.tables().values():
        table._title_hits.clear()


def best_time(run: Callable[[], object], repeat: int) -> float:
    """Fewest CPU seconds of ``repeat`` runs, each with cold title caches."""
    times = []
    for _ in range(repeat):
        forget_titles()
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return min(times)


def stages(data: list[dict]) -> dict[str, Callable[[], object]]:
    """Each stage of label_postings alone, over the same postings, in the same batches."""
    model = get_model()
    titles = [posting["title"] for posting in data]
    texts = [clean_description(posting["description"]) for posting in data]

    def model_stage() -> None:
        for start in range(0, len(data), 2000):
            Scores(model, transform(model, titles[start:start + 2000], texts[start:start + 2000])).probabilities

    def rule_stage() -> None:
        for title, text, posting in zip(titles, texts, data):
            rules.role_rule(title, text)
            rules.seniority_rule(title, text, "", posting["structured"])
            rules.arrangement_rule(title, text, posting["remote_flag"])

    return {
        "model (features, probabilities)": model_stage,
        "rules (role, seniority, arrangement)": rule_stage,
        "extract() (pay, credentials, ...)": lambda: [extract(t, x, structured=p["structured"])
                                                      for t, x, p in zip(titles, texts, data)],
        "clean_description()": lambda: [clean_description(p["description"]) for p in data],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    get_model()  # load (or build) outside the timing
    data = postings(args.postings)
    label_postings(data[:200])  # warm caches

    def whole() -> None:
        for start in range(0, len(data), args.batch):
            label_postings(data[start:start + args.batch])

    elapsed = best_time(whole, args.repeat)
    print(f"{len(data)} postings (title + {DESCRIPTION_CHARS}-char description) in {elapsed:.2f}s CPU "
          f"on one core: {len(data) / elapsed:,.0f} postings/s ({elapsed / len(data) * 1e6:,.0f} µs each)")
    for name, run in stages(data).items():
        print(f"  {name:38s} {best_time(run, args.repeat) / len(data) * 1e6:6.0f} µs per posting")


if __name__ == "__main__":
    main()
