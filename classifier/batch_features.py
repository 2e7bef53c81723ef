"""The model's feature matrix for a batch of postings, with the title features of each distinct title computed
once and kept across batches (per model version): titles repeat far more than descriptions ("Medical Coder").

Kept apart from classifier/model.py, whose code is a training input (editing it rebuilds the model).
Settings: TITLE_CACHE_SIZE (titles kept; the cache is emptied when full).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from classifier.model import DESCRIPTION, TITLE, Model

TITLE_CACHE_SIZE = 50_000
# (model version, title) -> the title's row of the title block: its column indices (int32) and values, as bytes
# (cheaper to slice and join than small numpy arrays).
_title_rows: dict[tuple[str, str], tuple[bytes, bytes]] = {}


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

    title_parts = [(name, transformer) for name, transformer, column in parts if column == TITLE]
    # The dtype of the weighted title blocks (cached rows keep only their bytes).
    dtype = np.result_type(*[transformer.dtype for _, transformer in title_parts], 1.0)
    # This batch's rows are collected locally: another thread may empty the shared cache meanwhile.
    by_title: dict[str, tuple[bytes, bytes]] = {}
    missing = []
    for title in dict.fromkeys(titles):
        cached = _title_rows.get((model.version, title))
        if cached is None:
            missing.append(title)
        else:
            by_title[title] = cached
    if missing:
        if len(_title_rows) + len(missing) > TITLE_CACHE_SIZE:
            _title_rows.clear()
        block = sp.hstack([weighted(name, transformer.transform(missing)) for name, transformer in title_parts],
                          dtype=dtype).tocsr()
        indices, data, bounds = block.indices.astype(np.int32).tobytes(), block.data.tobytes(), block.indptr.tolist()
        for title, start, end in zip(missing, bounds, bounds[1:]):
            by_title[title] = _title_rows[(model.version, title)] = (indices[4 * start:4 * end],
                                                                     data[dtype.itemsize * start:dtype.itemsize * end])
    rows = [by_title[title] for title in titles]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(indices) // 4 for indices, _ in rows], out=indptr[1:])
    width = sum(features.output_indices_[name].stop - features.output_indices_[name].start
                for name, _ in title_parts)
    title_block = sp.csr_matrix((np.frombuffer(b"".join([data for _, data in rows]), dtype=dtype),
                                 np.frombuffer(b"".join([indices for indices, _ in rows]), dtype=np.int32), indptr),
                                shape=(len(rows), width))
    blocks = [title_block] + [weighted(name, transformer.transform(descriptions))
                              for name, transformer, column in parts if column == DESCRIPTION]
    return sp.hstack(blocks).tocsr()
