"""The model's feature matrix for a batch of postings, with the title features of each distinct title computed
once and kept across batches (per model version): titles repeat far more than descriptions ("Medical Coder"),
and a title's character n-grams cost about half as much as a whole 3,000-character description.

Kept apart from classifier/model.py, whose code is a training input (editing it rebuilds the model).
Settings: TITLE_CACHE_SIZE (titles kept; the cache is emptied when full).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from classifier.model import DESCRIPTION, TITLE, Model

TITLE_CACHE_SIZE = 50_000
_title_rows: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}


def transform(model: Model, titles: list[str], descriptions: list[str]) -> sp.csr_matrix:
    """``model.features.transform(as_columns(titles, descriptions))`` as CSR, computing the title part once per
    distinct title (tests/test_classifier.py checks that both give the same matrix)."""
    features = model.features
    parts = [(name, transformer, column) for name, transformer, column in features.transformers_
             if name != "remainder"]
    columns = [column for _, _, column in parts]
    if columns != sorted(columns):
        raise ValueError("the feature space must list its title fields before its description fields")
    weights = features.transformer_weights or {}

    def weighted(name: str, block: sp.spmatrix) -> sp.spmatrix:
        weight = weights.get(name)
        return block if weight is None else block * weight  # as ColumnTransformer applies it

    # This batch's rows are collected locally: another thread may empty the shared cache meanwhile.
    by_title: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for title in dict.fromkeys(titles):
        cached = _title_rows.get((model.version, title))
        if cached is not None:
            by_title[title] = cached
    missing = [title for title in dict.fromkeys(titles) if title not in by_title]
    if missing:
        if len(_title_rows) + len(missing) > TITLE_CACHE_SIZE:
            _title_rows.clear()
        block = sp.hstack([weighted(name, transformer.transform(missing))
                           for name, transformer, column in parts if column == TITLE]).tocsr()
        for i, title in enumerate(missing):
            start, end = block.indptr[i], block.indptr[i + 1]
            by_title[title] = _title_rows[(model.version, title)] = (block.indices[start:end].copy(),
                                                                     block.data[start:end].copy())
    rows = [by_title[title] for title in titles]
    width = sum(features.output_indices_[name].stop - features.output_indices_[name].start
                for name, _, column in parts if column == TITLE)
    indptr = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum([len(indices) for indices, _ in rows], out=indptr[1:])
    title_block = sp.csr_matrix(
        (np.concatenate([data for _, data in rows]), np.concatenate([indices for indices, _ in rows]), indptr),
        shape=(len(rows), width),
    )
    blocks = [title_block] + [weighted(name, transformer.transform(descriptions))
                              for name, transformer, column in parts if column == DESCRIPTION]
    return sp.hstack(blocks).tocsr()
