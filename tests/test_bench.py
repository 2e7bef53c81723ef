"""The benchmarks under bench/ keep running as the code under them changes (their figures are not tested)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_bench_classify_prints_its_rate_and_stages() -> None:
    run = subprocess.run([sys.executable, str(BENCH / "bench_classify.py"), "--postings", "40", "--batch", "20",
                          "--repeat", "1"], capture_output=True, text=True, timeout=300, check=True)
    assert "postings/s" in run.stdout
    assert "rules (role, seniority, arrangement)" in run.stdout and "extract()" in run.stdout


def test_bench_instructions_workload_runs_without_valgrind() -> None:
    # The part valgrind watches; counting itself needs valgrind and a minute, so it is not run here.
    subprocess.run([sys.executable, str(BENCH / "bench_instructions.py"), "--label", "3"], timeout=300, check=True)
