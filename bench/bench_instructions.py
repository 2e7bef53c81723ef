"""Machine instructions per posting for label_postings, counted by valgrind: an exact figure where CPU time on a
shared machine varies by a quarter from one run to the next (bench_classify.py's postings/s on this project's
machines: 1,700 to 2,500 for the same code). Use it to tell whether a change made labelling cheaper; use
bench_classify.py for the rate.

Runs this script twice under ``valgrind --tool=cachegrind --cache-sim=no``: once labelling no postings and once
labelling --postings of bench_classify's postings (title + 3,000-character description, cold title caches,
batches of 500), and prints the difference per posting. Needs valgrind (Debian package ``valgrind``); takes
about a minute.

Run: .venv/bin/python bench/bench_instructions.py [--postings 500]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve()


def label(count: int) -> None:
    """The measured work: everything is loaded and warmed up first, so a run differs only by ``count``."""
    sys.path.insert(0, str(HERE.parent))
    from bench_classify import forget_titles, postings

    from classifier.model import get_model
    from classifier.predict import label_postings

    get_model()
    data = postings(2_000)
    label_postings(data[-5:])
    forget_titles()
    for start in range(0, count, 500):
        label_postings(data[start:min(count, start + 500)])


def instructions(count: int) -> int:
    # One thread for numpy's BLAS (idle threads spin and count) and a fixed hash seed: the count repeats exactly.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONHASHSEED": "0"}
    run = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                          sys.executable, str(HERE), "--label", str(count)],
                         capture_output=True, text=True, env=env, check=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
    if found is None:
        raise SystemExit(f"valgrind printed no instruction count:\n{run.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=500)
    parser.add_argument("--label", type=int, help=argparse.SUPPRESS)  # the run valgrind watches
    args = parser.parse_args()
    if args.label is not None:
        label(args.label)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    per_posting = (instructions(args.postings) - instructions(0)) / args.postings
    print(f"{args.postings} postings (title + 3000-char description) through label_postings: "
          f"{per_posting:,.0f} instructions each")


if __name__ == "__main__":
    main()
