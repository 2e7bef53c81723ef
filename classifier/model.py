"""The statistical half of the classifier: one TF-IDF feature space over title and description (kept as
separate fields), and one calibrated linear classifier per label.

The model is never committed. It is built from the bundled data in classifier/data/ (``himjobs train``,
or automatically on first use: a few seconds) and kept as ``model-<training version>.joblib``. That version
hashes the training data, the training code and the scikit-learn version, so a model pickled by another
scikit-learn release, or from other data, is never loaded: it is rebuilt.

Settings: ``HIMJOBS_MODEL_DIR`` (environment) — where built models are kept; default classifier/model/.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import threading
import warnings
from dataclasses import dataclass
from functools import cache
from itertools import repeat
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

PACKAGE_DIR = Path(__file__).parent
DATA_DIR = PACKAGE_DIR / "data"
LABELS: dict[str, tuple[str, ...]] = {
    "role": ("technician", "coder", "registrar", "other"),
    "seniority": ("entry", "mid", "senior", "manager"),
    "arrangement": ("remote", "hybrid", "onsite"),
}
SEED = 20261123
TITLE, DESCRIPTION = 0, 1  # columns of the 2-column object array the feature space reads


@dataclass
class Model:
    version: str
    features: ColumnTransformer
    classifiers: dict[str, CalibratedClassifierCV]
    weights: dict[str, np.ndarray]  # per label: mean linear weights (classes x features), for evidence
    feature_names: np.ndarray


def model_dir() -> Path:
    return Path(os.environ.get("HIMJOBS_MODEL_DIR") or PACKAGE_DIR / "model")


# What the fitted model depends on. Everything else in classifier/ (rule tables, extraction vocabularies and
# code) changes the labels but not the fit, so it enters labels_version() only.
TRAINING_INPUTS = ("data/train.jsonl", "data/boilerplate.csv", "model.py", "train.py", "text.py")


def _digest(paths: list[Path], seed: str) -> str:
    digest = hashlib.sha256(seed.encode())
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@cache
def training_version() -> str:
    """Names the model file: hash of the training data, the feature and training code, and sklearn's version
    (so a model pickled by another scikit-learn is never even opened)."""
    return _digest([PACKAGE_DIR / name for name in TRAINING_INPUTS], f"sklearn {sklearn.__version__}")


@cache
def labels_version() -> str:
    """The model_version recorded with every label: the fitted model plus every rule table, vocabulary and
    module of the classifier. Computed once per process (code changes need a restart anyway)."""
    files = sorted(p for p in DATA_DIR.iterdir() if p.suffix in (".csv", ".toml", ".jsonl", ".json"))
    return _digest(files + sorted(PACKAGE_DIR.glob("*.py")), training_version())


def feature_space() -> ColumnTransformer:
    """Title words, title character n-grams and description words as separate fields.

    Limits (n-gram ranges, max_features, min_df) keep transform time low: the description vectorizer
    dominates the cost of labelling a posting.
    """
    return ColumnTransformer(
        [
            ("title_words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32), TITLE),
            ("title_chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, max_features=30_000,
                                            sublinear_tf=True, dtype=np.float32), TITLE),
            # Unigrams: bigrams over 3,000 characters cost twice the time for little gain (the rules read
            # the phrases).
            ("description_words", DescriptionWords(min_df=3, max_features=40_000, sublinear_tf=True,
                                                   tokenizer=words, token_pattern=None, lowercase=False,
                                                   dtype=np.float32), DESCRIPTION),
        ],
        transformer_weights={"title_words": 1.0, "title_chars": 1.0, "description_words": 0.6},
    )


# Everything but letters, digits and the joiners of "icd-10", "cpc-a", "e/m" becomes a space: ASCII punctuation
# through a byte table (bytes.translate is a plain table lookup; str.translate with a dict is ~3x slower),
# the few Unicode dashes, quotes and bullets by str.replace.
_ASCII_SEPARATORS = "!\"#$%&'()*+,.:;<=>?@[\\]^_`{|}~"
_SEPARATOR_BYTES = bytes.maketrans(_ASCII_SEPARATORS.encode(), b" " * len(_ASCII_SEPARATORS))
_UNICODE_SEPARATORS = "\u2013\u2014\u2019\u201c\u201d\u2022"


def words(text: str) -> list[str]:
    """Fast tokenizer for long descriptions (everything runs in C; a regex is 2x slower)."""
    lowered = text.lower()
    for separator in _UNICODE_SEPARATORS:
        if separator in lowered:
            lowered = lowered.replace(separator, " ")
    # Only ASCII bytes are replaced (by ASCII spaces), so the UTF-8 round trip is exact.
    return lowered.encode().translate(_SEPARATOR_BYTES).decode().split()


class DescriptionWords(TfidfVectorizer):
    """TfidfVectorizer whose transform counts words for the whole batch with C-level calls (map over
    dict.get, numpy, one sparse sum) instead of sklearn's per-word Python loop, which raises and catches a
    KeyError for every word outside the vocabulary (about 260 to 180 µs per 3,000-character description, most
    of the rest being tokenization). Fitting is sklearn's own; tests/test_classifier.py checks that both
    transforms give the same matrix."""

    def transform(self, raw_documents):  # type: ignore[override]  # same contract as TfidfVectorizer.transform
        lookup, tokenize = self.vocabulary_.get, self.build_tokenizer()
        ids: list[int] = []
        lengths = []
        for document in raw_documents:
            found = list(map(lookup, tokenize(document), repeat(-1)))
            ids += found
            lengths.append(len(found))
        columns = np.array(ids, dtype=np.int64)
        rows = np.repeat(np.arange(len(lengths)), lengths)
        known = columns >= 0
        counts = sp.csr_matrix((np.ones(int(known.sum()), dtype=np.float32), (rows[known], columns[known])),
                               shape=(len(lengths), len(self.vocabulary_)), dtype=np.float32)
        counts.sum_duplicates()
        counts.data = ((np.log(counts.data) + 1) * self.idf_[counts.indices]).astype(np.float32)  # sublinear tf x idf
        return normalize(counts, copy=False)


def as_columns(titles: list[str], descriptions: list[str]) -> np.ndarray:
    table = np.empty((len(titles), 2), dtype=object)
    table[:, TITLE] = titles
    table[:, DESCRIPTION] = descriptions
    return table


def fit(titles: list[str], descriptions: list[str], targets: dict[str, list[str | None]], version: str) -> Model:
    """Fit the feature space on every row and one classifier per label on the rows that carry that label."""
    features = feature_space()
    matrix = features.fit_transform(as_columns(titles, descriptions)).tocsr()
    classifiers: dict[str, CalibratedClassifierCV] = {}
    weights: dict[str, np.ndarray] = {}
    for label, values in targets.items():
        rows = [i for i, value in enumerate(values) if value is not None]
        y = np.array([values[i] for i in rows])
        # LinearSVC separates well on sparse text; sigmoid calibration turns its margins into probabilities.
        classifier = CalibratedClassifierCV(
            LinearSVC(C=0.5, class_weight="balanced", max_iter=5000, random_state=SEED), method="sigmoid", cv=3
        )
        classifier.fit(matrix[rows], y)
        classifiers[label] = classifier
        weights[label] = np.mean(
            [c.estimator.coef_ for c in classifier.calibrated_classifiers_], axis=0
        ).astype(np.float32)
    return Model(version, features, classifiers, weights, features.get_feature_names_out())


def top_ngrams(model: Model, label: str, matrix, row: int, class_index: int, limit: int = 3) -> str:
    """The n-grams of one transformed posting (a row of a CSR matrix) that pushed hardest towards the class."""
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    indices, values = matrix.indices[start:end], matrix.data[start:end]
    if len(indices) == 0:
        return ""
    contributions = values * model.weights[label][class_index, indices]
    order = np.argsort(contributions)[::-1][:limit]
    names = [model.feature_names[indices[i]].split("__", 1)[1] for i in order if contributions[i] > 0]
    return ", ".join(dict.fromkeys(names))


_cache: dict[str, Model] = {}
_lock = threading.Lock()


def get_model(quiet: bool = False) -> Model:
    """The model for the current data and code: loaded once per process, built and saved when missing
    (saying so on stderr unless ``quiet``: a command that only wanted labels should know why it waits)."""
    version = training_version()
    with _lock:
        if version in _cache:
            return _cache[version]
        path = model_dir() / f"model-{version}.joblib"
        model = _load(path)
        if model is None:
            if not quiet:
                print(f"himjobs: building the classifier model {version} (none saved for this version) ...",
                      file=sys.stderr)
            from classifier.train import train_model  # train imports this module

            model = train_model(version)
            _save(model, path)
        _cache.clear()
        _cache[version] = model
        return model


def _load(path: Path) -> Model | None:
    if not path.exists():
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            model = joblib.load(path)
    except Exception as exc:  # a corrupt or foreign file is rebuilt, never trusted
        print(f"himjobs: ignoring unusable model file {path}: {exc}", file=sys.stderr)
        return None
    return model if isinstance(model, Model) and model.version == path.stem.removeprefix("model-") else None


def _save(model: Model, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".model-", suffix=".tmp", delete=False) as handle:
            joblib.dump(model, handle, compress=3)
        os.replace(handle.name, path)  # atomic: a concurrent reader sees the old file or the whole new one
        for old in path.parent.glob("model-*.joblib"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:  # read-only install: keep the model in memory only
        print(f"himjobs: could not save the model to {path.parent}: {exc}", file=sys.stderr)
