"""Datasette metadata for the public database, from ``store/datasette/metadata.toml``.

``build_metadata(database_name)`` gives the dict ``himjobs serve`` hands Datasette (descriptions of every
table, view and column, facets, sort orders, full-text search, canned queries); ``column_reference()``
renders the same descriptions as the Markdown reference in the README's "For analysts" section, so the two cannot drift.
Run ``python -m store.metadata`` to print that reference.
"""

from __future__ import annotations

import html
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

DATASETTE_DIR = Path(__file__).resolve().parent / "datasette"
METADATA_FILE = DATASETTE_DIR / "metadata.toml"
FEED_PATH = "/-/feeds/jobs.{fmt}"
CHARTS_PATH = "/-/charts"


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    return tomllib.loads(METADATA_FILE.read_text(encoding="utf-8"))


def bls_median() -> int:
    """BLS median annual pay for medical records specialists, the reference line of charts and queries."""
    return int(_raw()["bls_median"])


def _with_bls(text: str) -> str:
    return text.replace("{bls_median:,}", f"{bls_median():,}").replace("{bls_median}", str(bls_median()))


def table_descriptions() -> dict[str, dict[str, Any]]:
    """Per table or view: {"description": ..., "columns": {column: description}}."""
    return {name: {"description": t["description"], "columns": dict(t.get("columns", {}))}
            for name, t in _raw()["tables"].items()}


def build_metadata(database_name: str) -> dict[str, Any]:
    raw = _raw()
    tables: dict[str, Any] = {}
    for name, spec in raw["tables"].items():
        table = {k: v for k, v in spec.items() if k != "array_facets"}
        facets: list[Any] = list(spec.get("facets", []))
        facets += [{"array": column} for column in spec.get("array_facets", [])]
        if facets:
            table["facets"] = facets
        tables[name] = table
    queries = {name: {"title": q["title"], "description": _with_bls(q["description"]), "sql": _with_bls(q["sql"].strip())}
               for name, q in raw["queries"].items()}
    links = " · ".join(
        f'<a href="{FEED_PATH.format(fmt=fmt)}?role=coder">{label} feed</a>'
        for fmt, label in (("atom", "Atom"), ("rss", "RSS"), ("json", "JSON"))
    )
    description_html = (
        f"<p>{html.escape(raw['description'])}</p>"
        f'<p><a href="{CHARTS_PATH}">Charts</a>: postings per week by role, share remote, salary by role. '
        f"Feeds (filters as query string: role, seniority, arrangement, state): {links}</p>"
    )
    return {
        "title": raw["title"],
        "description_html": description_html,
        "license": raw["license"],
        "source": raw["source"],
        "about": _with_bls(raw["about"]),
        "about_url": raw["about_url"],
        "databases": {database_name: {"tables": tables, "queries": queries}},
    }


def column_reference() -> str:
    """Markdown: each table or view, what it holds, and each column."""
    parts = []
    for name, spec in table_descriptions().items():
        lines = [f"### `{name}`", "", spec["description"], "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{column}` | {text.replace('|', '/')} |" for column, text in spec["columns"].items()]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    print(column_reference(), end="")
