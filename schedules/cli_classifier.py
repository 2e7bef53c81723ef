"""``himjobs classify``, ``himjobs train`` and ``himjobs evaluate``."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

import click

from schedules.cli import main

BATCH = 2_000  # postings labelled per model call: big enough to amortise, small enough to stream


def _read_postings(handle: IO[str]) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, posting or None, problem) for every non-blank line."""
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, f"not valid JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(record, dict):
            yield number, None, "not a JSON object"
        elif not isinstance(record.get("title"), str) or not record["title"].strip():
            yield number, None, "no 'title'"
        else:
            yield number, record, ""


@main.command()
@click.option("--input", "input_file", type=click.File("r", encoding="utf-8"), required=True,
              help="JSON lines: id, title, description (text or HTML), optional company, location, source, "
                   "remote_flag, structured. '-' reads stdin.")
@click.option("--output", "output_file", type=click.File("w", encoding="utf-8", atomic=True), required=True,
              help="JSON lines, one per labelled input line, in input order. '-' writes stdout.")
def classify(input_file: IO[str], output_file: IO[str]) -> None:
    """Label postings (role, seniority, arrangement, pay, credentials ...) without a database.

    A line that is not valid JSON or lacks a title is reported on stderr with its line number and skipped;
    the others are still labelled. Exit status: 0 when every line was labelled, 1 when any was skipped.
    """
    from classifier.predict import label_postings

    skipped = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        for result in label_postings(batch):
            output_file.write(json.dumps(result, ensure_ascii=False) + "\n")
        batch.clear()

    for number, record, problem in _read_postings(input_file):
        if record is None:
            skipped += 1
            click.echo(f"line {number}: {problem}; skipped", err=True)
            continue
        batch.append(record)
        if len(batch) >= BATCH:
            flush()
    flush()
    if skipped:
        click.echo(f"{skipped} line(s) skipped", err=True)
        sys.exit(1)


@main.command()
@click.option("--db", "db_paths", multiple=True, type=click.Path(dir_okay=False, exists=True),
              help="Also re-label this database's postings that an older model labelled (repeatable).")
def train(db_paths: tuple[str, ...]) -> None:
    """Rebuild the classifier model from the bundled labelled data (classifier/data/train.jsonl)."""
    from classifier.predict import model_version
    from classifier.train import rebuild

    started = time.perf_counter()
    version, path = rebuild()
    click.echo(f"model {version} built in {time.perf_counter() - started:.1f}s: {path}")
    click.echo(f"labels are recorded as model_version {model_version()}")
    if db_paths:
        from schedules.pipeline import relabel_stale
        from store.database import open_db

        for db_path in db_paths:
            click.echo(f"{db_path}: {relabel_stale(open_db(db_path))} posting(s) re-labelled")


@main.command()
@click.option("--split", type=click.Choice(["test", "dev"]), default="test", show_default=True,
              help="Hand-checked split to score.")
@click.option("--errors", "show_errors", is_flag=True, help="Also list every wrongly labelled posting.")
def evaluate(split: str, show_errors: bool) -> None:
    """Per-label precision, recall, F1, macro-F1 and confusion matrix on a hand-checked split."""
    from classifier.evaluate import evaluate as run_evaluation
    from classifier.predict import model_version

    click.echo(f"model {model_version()} on classifier/data/{split}.jsonl")
    for report in run_evaluation(split):
        click.echo(report.render())
        if show_errors:
            for posting_id, title, expected, predicted in report.errors:
                click.echo(f"    {posting_id}  {title!r}: expected {expected}, got {predicted}")
