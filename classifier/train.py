"""Reproducible training: classifier/data/train.jsonl (weak labels from rules and source fields) to a Model.

Run with ``himjobs train``. The seed is fixed (model.SEED) and the rows are read in file order, so the same
data, code and scikit-learn version give the same model and the same version string.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from classifier.model import DATA_DIR, LABELS, Model, fit, get_model, model_dir, training_version
from classifier.text import MODEL_TEXT_CHARS, clean_description


def load_split(name: str) -> list[dict[str, Any]]:
    """Rows of classifier/data/<name>.jsonl (train, dev or test)."""
    path = DATA_DIR / f"{name}.jsonl"
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def train_model(version: str | None = None) -> Model:
    rows = load_split("train")
    titles = [row["title"] for row in rows]
    descriptions = [clean_description(row.get("description"))[:MODEL_TEXT_CHARS] for row in rows]
    targets = {}
    for label, allowed in LABELS.items():
        values = [row.get(label) for row in rows]
        unknown = {v for v in values if v is not None and v not in allowed}
        if unknown:
            raise ValueError(f"train.jsonl: unknown {label} labels {sorted(unknown)}")
        targets[label] = values
    return fit(titles, descriptions, targets, version or training_version())


def rebuild() -> tuple[str, Path]:
    """Delete any saved model and build the current one; returns its version and file."""
    for old in model_dir().glob("model-*.joblib"):
        old.unlink()
    model = get_model(quiet=True)  # the caller asked for exactly this
    return model.version, model_dir() / f"model-{model.version}.joblib"
