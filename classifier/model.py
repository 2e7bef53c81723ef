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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from itertools import pairwise, repeat
from pathlib import Path
from typing import TypeVar

import joblib
import numpy as np
import scipy.sparse as sp
import sklearn
from scipy.special import expit
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
_T = TypeVar("_T")


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
            ("title_words", TitleWords(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32), TITLE),
            ("title_chars", TitleChars(analyzer="char_wb", ngram_range=(3, 5), min_df=2, max_features=30_000,
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
    """Fast tokenizer for long descriptions (everything runs in C; a regex is 2x slower). DescriptionWords
    transforms with a numpy version of it."""
    lowered = text.lower()
    for separator in _UNICODE_SEPARATORS:
        if separator in lowered:
            lowered = lowered.replace(separator, " ")
    # Only ASCII bytes are replaced (by ASCII spaces), so the UTF-8 round trip is exact.
    return lowered.encode().translate(_SEPARATOR_BYTES).decode().split()


class FastTfidf(TfidfVectorizer):
    """The feature space's vectorizers: sklearn's fit, and a transform that finds the whole batch's n-grams in the
    vocabulary with C-level calls or numpy (each subclass its own way) and counts them with one numpy sort, instead
    of sklearn's per-n-gram Python loop, which raises and catches a KeyError for every n-gram outside the
    vocabulary. tests/test_classifier.py checks that each transform gives sklearn's matrix, bit for bit."""

    def transform(self, raw_documents: Iterable[str]) -> sp.csr_matrix:  # type: ignore[override]
        documents = list(raw_documents)
        return _tfidf(self, len(documents), *self._entries(documents))

    def _entries(self, documents: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Row and vocabulary column of every n-gram of the documents that is in the vocabulary, in any order."""
        raise NotImplementedError

    def _lookup(self) -> dict[str, bytes]:
        """vocabulary_ with each column as native int32 bytes."""
        return self._per_vocabulary("_lookup_cache", lambda: {
            term: int(column).to_bytes(4, sys.byteorder) for term, column in self.vocabulary_.items()})

    def _terms(self) -> _Terms:
        """vocabulary_ in UTF-8 as a _Terms (surrogatepass: a title may hold a lone surrogate; such a term is never
        looked up, as only ASCII titles and encodable descriptions are)."""
        return self._per_vocabulary("_terms_cache", lambda: _Terms(
            {term.encode(errors="surrogatepass"): int(column) for term, column in self.vocabulary_.items()}))

    def _per_vocabulary(self, name: str, build: Callable[[], _T]) -> _T:
        """build(), computed once per fitted vocabulary."""
        cached = self.__dict__.get(name)
        if cached is None or cached[0] is not self.vocabulary_:
            cached = self.__dict__[name] = (self.vocabulary_, build())
        return cached[1]


def _entries_of(found: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns from each row's columns as native int32 bytes."""
    lengths = np.fromiter(map(len, found), dtype=np.intp, count=len(found)) // 4
    return np.repeat(np.arange(len(found)), lengths), np.frombuffer(b"".join(found), dtype=np.int32)


def _tfidf(vectorizer: TfidfVectorizer, n_rows: int, rows: np.ndarray, columns: np.ndarray) -> sp.csr_matrix:
    """TfidfTransformer.transform of the counts of the (row, column) entries: the same float32 operations in the
    same order (log, + 1, x idf, l2 norm), so the same bits."""
    if vectorizer.binary or not vectorizer.sublinear_tf or not vectorizer.use_idf or vectorizer.norm != "l2":
        raise ValueError("FastTfidf implements sublinear_tf=True, use_idf=True, norm='l2' only")
    width = len(vectorizer.vocabulary_)
    # Counting = sorting row * width + column keys and measuring the runs of equal keys; int32 sorts twice as fast.
    key_type = np.int32 if (n_rows + 1) * width <= np.iinfo(np.int32).max else np.int64
    keys = rows.astype(key_type) * width + columns
    keys.sort()
    first = np.empty(len(keys), dtype=bool)
    first[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    tf = np.diff(starts, append=len(keys)).astype(vectorizer.dtype)
    keys = keys[starts]
    row_keys = np.arange(0, (n_rows + 1) * width, width, dtype=key_type)
    indptr = np.searchsorted(keys, row_keys)
    keys -= np.repeat(row_keys[:-1], np.diff(indptr))
    np.log(tf, out=tf)
    tf += 1.0
    tf *= vectorizer.idf_[keys]
    return normalize(sp.csr_matrix((tf, keys, indptr), shape=(n_rows, width)), copy=False)


# A string of n bytes as a _Terms key: masks keeping its first n bytes, up to 8 in the low uint64 and the rest (at
# most 7) in the high one, and n as the high one's top byte.
_LOW_BYTES = np.array([(1 << 8 * min(n, 8)) - 1 for n in range(17)], dtype=np.uint64)
_HIGH_BYTES = np.array([(1 << 8 * min(max(n - 8, 0), 7)) - 1 for n in range(17)], dtype=np.uint64)
_LENGTH_BYTE = np.array([n << 56 for n in range(17)], dtype=np.uint64)


class _Terms:
    """A vocabulary looked up for a whole array of byte strings at once. A term of up to 15 bytes is a key of two
    uint64 (its bytes zero-padded, its length in the top byte, so "a" and "a\\0" differ) in a numpy hash table with
    linear probing; longer terms, rare, are kept in a dict."""

    def __init__(self, vocabulary: dict[bytes, int]) -> None:
        short = {term: column for term, column in vocabulary.items() if len(term) <= 15}
        self.long = {term: column for term, column in vocabulary.items() if len(term) > 15}
        packed = np.frombuffer(b"".join(term.ljust(15, b"\0") + bytes([len(term)]) for term in short), dtype="<u8")
        bits = (4 * len(short)).bit_length()  # at most 1/4 full: a string not in it mostly meets an empty slot
        self.shift, self.mask = np.uint64(64 - bits), (1 << bits) - 1
        # Slot by slot: both halves of the key (an empty slot's length byte, 0xff, is no string's) and the column.
        self.low = np.full(1 << bits, (1 << 64) - 1, dtype=np.uint64)
        self.high = self.low.copy()
        self.columns = np.full(1 << bits, -1, dtype=np.int32)
        for low, high, column, slot in zip(packed[0::2].tolist(), packed[1::2].tolist(), short.values(),
                                           self._slots(packed[0::2], packed[1::2]).tolist()):
            while self.columns[slot] >= 0:
                slot = (slot + 1) & self.mask
            self.low[slot], self.high[slot], self.columns[slot] = low, high, column

    def _slots(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        # Multiplicative hashing (the uint64 product wraps around): its top bits are well mixed.
        return ((low ^ high) * np.uint64(0x9E3779B97F4A7C15) >> self.shift).view(np.int64)

    def find(self, buffer: bytes | bytearray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The column of each string buffer[start:start + length], -1 where it is not a term. buffer must extend
        16 bytes past the last string."""
        found = np.empty(len(starts), dtype=np.int32)
        for at in range(0, len(starts), 32_768):  # a chunk's arrays stay in the CPU cache
            found[at:at + 32_768] = self._find_short(buffer, starts[at:at + 32_768], lengths[at:at + 32_768])
        if self.long:
            long = np.flatnonzero(lengths > 15)
            found[long] = [self.long.get(bytes(buffer[start:start + length]), -1)
                           for start, length in zip(starts[long].tolist(), lengths[long].tolist())]
        return found

    def _find_short(self, buffer: bytes | bytearray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        capped = np.minimum(lengths, 16)  # a longer string's length byte, 16, is no short term's
        low = _uint64_at(buffer, 0)[starts].view("<u8")
        low &= _LOW_BYTES[capped]
        high = _uint64_at(buffer, 8)[starts].view("<u8")
        high &= _HIGH_BYTES[capped]
        high |= _LENGTH_BYTE[capped]
        slots = self._slots(low, high)
        found = self.columns[slots]
        todo = np.flatnonzero((self.low[slots] != low) | (self.high[slots] != high))
        # Linear probing: a string that met another term goes on to the next slot, until its own or an empty one.
        while len(todo):
            found[todo] = -1
            todo = todo[self.columns[slots[todo]] >= 0]
            slots[todo] = (slots[todo] + 1) & self.mask
            at = slots[todo]
            hit = (self.low[at] == low[todo]) & (self.high[at] == high[todo])
            found[todo[hit]] = self.columns[at[hit]]
            todo = todo[~hit]
        return found


def _uint64_at(buffer: bytes | bytearray, offset: int) -> np.ndarray:
    """Element i: the 8 bytes of buffer from offset + i (unaligned), to be viewed as uint64 once gathered."""
    return np.ndarray((len(buffer) - 15,), dtype="V8", buffer=buffer, offset=offset, strides=(1,))


class TitleWords(FastTfidf):
    """Word unigrams and bigrams of the lowercased title (its tokenizer's words), joined as sklearn's _word_ngrams
    joins them but without its per-n-gram Python loop, and looked up with map over dict.get."""

    def _entries(self, documents: list[str]) -> tuple[np.ndarray, np.ndarray]:
        if ((self.analyzer, self.ngram_range, self.lowercase, self.input) != ("word", (1, 2), True, "content")
                or self.stop_words or self.preprocessor or self.strip_accents):
            raise ValueError("TitleWords reads lowercased word unigrams and bigrams only")
        lookup, tokenize = self._lookup().get, self.build_tokenizer()
        found = []
        for title in documents:
            tokens = tokenize(title.lower())
            found.append(b"".join(map(lookup, tokens + list(map(" ".join, pairwise(tokens))), repeat(b""))))
        return _entries_of(found)


class TitleChars(FastTfidf):
    """analyzer="char_wb" n-grams sliced from the whole title, its words joined by single spaces (sklearn pads each
    word with spaces and slices it in a Python loop). An n-gram spanning two words has a space inside, which no
    padded word has, so it is never in the vocabulary and the counts are the same. ASCII titles, the common case,
    are looked up with numpy (_Terms), the others n-gram by n-gram."""

    def _entries(self, documents: list[str]) -> tuple[np.ndarray, np.ndarray]:
        # Below 2 characters the space shared by two words would be counted once instead of twice; above 3,
        # sklearn keeps a padded 1-letter word (" a ") whole although it is shorter than n.
        shortest, longest = self.ngram_range
        if self.analyzer != "char_wb" or not 2 <= shortest <= 3 or longest > 15:
            raise ValueError("TitleChars reads char_wb n-grams from 2 or 3 up to 15 characters")
        preprocess = self.build_preprocessor()
        padded = [f" {' '.join(preprocess(title).split())} " for title in documents]
        plain = [row for row, title in enumerate(padded) if title.isascii()]
        lookup, other = self._lookup().get, [row for row, title in enumerate(padded) if not title.isascii()]
        rows, columns = _entries_of([b"".join(map(lookup, (padded[row][start:start + n]
                                                           for n in range(shortest, longest + 1)
                                                           for start in range(len(padded[row]) - n + 1)), repeat(b"")))
                                     for row in other])
        rows_parts, column_parts = [np.array(other, dtype=np.intp)[rows]], [columns]
        buffer = "".join(padded[row] for row in plain).encode() + bytes(16)
        lengths = np.array([len(padded[row]) for row in plain], dtype=np.intp)
        offsets = np.cumsum(lengths) - lengths
        terms = self._terms()
        for n in range(shortest, longest + 1):
            counts = np.maximum(lengths - n + 1, 0)
            # Start of every n-gram: each title's offset, plus 0, 1, ... counts - 1.
            starts = np.arange(counts.sum()) + np.repeat(offsets - (np.cumsum(counts) - counts), counts)
            found = terms.find(buffer, starts, np.full(len(starts), n))
            known = found >= 0
            rows_parts.append(np.repeat(np.array(plain, dtype=np.intp), counts)[known])
            column_parts.append(found[known])
        return np.concatenate(rows_parts), np.concatenate(column_parts)


# words() in one bytes.translate of the whole batch (after str.lower for non-ASCII text): ASCII separators and
# whitespace to spaces (str.split also splits at \x1c-\x1f), A-Z to a-z.
_BLANKED = (_ASCII_SEPARATORS + "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f").encode()
_WORD_BYTES = bytes.maketrans(_BLANKED + bytes(range(ord("A"), ord("Z") + 1)),
                              b" " * len(_BLANKED) + bytes(range(ord("a"), ord("z") + 1)))
# The UTF-8 of what else words() splits at: the Unicode separators and whitespace (none above U+3000).
_UNICODE_BREAKS = [c.encode() for c in _UNICODE_SEPARATORS + "".join(
    c for c in map(chr, range(0x80, 0x3001)) if c.isspace())]
_BREAKS_2 = np.array([int.from_bytes(c, "big") for c in _UNICODE_BREAKS if len(c) == 2])
_BREAKS_3 = np.array([int.from_bytes(c, "big") for c in _UNICODE_BREAKS if len(c) == 3])


class DescriptionWords(FastTfidf):
    """FastTfidf over ``words`` (tokenizer=words, lowercase=False, unigrams), tokenized and looked up with numpy
    over the whole batch at once: one bytes.translate, spaces found with numpy, every word read as a _Terms key."""

    def _entries(self, documents: list[str]) -> tuple[np.ndarray, np.ndarray]:
        if self.tokenizer is not words or self.lowercase or self.ngram_range != (1, 1) or self.stop_words:
            raise ValueError("DescriptionWords reads unigrams of words() only")
        parts = [_lowered_utf8(document) for document in documents]
        # Spaces around every description, and 16 bytes past the last for _Terms.find.
        buffer = bytearray(b" ").join([b"", *parts, b""]).translate(_WORD_BYTES) + bytes(16)
        text = np.frombuffer(buffer, dtype=np.uint8)
        if not buffer.isascii():
            _blank_unicode_breaks(text)
        word = text[:-16] != 32
        edges = np.flatnonzero(word[1:] != word[:-1]) + 1
        starts, ends = edges[0::2], edges[1::2]
        found = self._terms().find(buffer, starts, ends - starts)
        # The words of description i start between its offset and the next description's.
        offsets = np.cumsum([1] + [len(part) + 1 for part in parts])
        rows = np.repeat(np.arange(len(parts)), np.diff(np.searchsorted(starts, offsets)))
        known = found >= 0
        return rows[known], found[known]


def _lowered_utf8(document: str) -> bytes:
    """The document as words() lowercases it, but for ASCII letters (left to _WORD_BYTES), in UTF-8."""
    if document.isascii():
        return document.encode()
    # Most other text is ASCII but for typographic quotes and dashes; str.lower of the rest is slow.
    spaced = document
    for separator in _UNICODE_SEPARATORS + "\xa0":
        if separator in spaced:
            spaced = spaced.replace(separator, " ")
    # Lowercasing other than ASCII depends on context (a Greek final sigma), hence on the original text.
    return spaced.encode() if spaced.isascii() else document.lower().encode()


def _blank_unicode_breaks(text: np.ndarray) -> None:
    """Turn the UTF-8 of _UNICODE_BREAKS in text into spaces, in place."""
    lead = np.flatnonzero(text[:-2] >= 0xC2)  # where every character of 2 or 3 bytes starts
    code = text[lead].astype(np.int32) << 16 | text[lead + 1].astype(np.int32) << 8 | text[lead + 2]
    for width, breaks, key in ((2, _BREAKS_2, code >> 8), (3, _BREAKS_3, code)):
        at = lead[np.isin(key, breaks)]
        for offset in range(width):
            text[at + offset] = 32


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


class Scores:
    """A batch's class probabilities per label (predict_proba) and the evidence for each posting's most probable
    class (top_ngrams): the contributions of every posting are ranked with numpy when a label's evidence is first
    asked for, and a posting's phrase is only joined when asked for."""

    def __init__(self, model: Model, matrix: sp.csr_matrix) -> None:
        self.model, self.matrix = model, matrix
        self.probabilities = predict_proba(model, matrix)
        self._evidence: dict[str, _Evidence] = {}

    def top_ngrams(self, label: str, row: int, class_index: int) -> str:
        """top_ngrams(model, label, matrix, row, class_index)."""
        evidence = self._evidence.get(label)
        if evidence is None:
            evidence = self._evidence[label] = _Evidence(self.model, label, self.matrix,
                                                         self.probabilities[label].argmax(axis=1))
        if class_index != evidence.classes[row]:
            return top_ngrams(self.model, label, self.matrix, row, class_index)
        return evidence.phrase(row)


def predict_proba(model: Model, matrix: sp.csr_matrix) -> dict[str, np.ndarray]:
    """Each label's ``classifier.predict_proba(matrix)``, bit for bit (tests/test_classifier.py checks it): the
    margins of every cv fold of every label from one sparse product instead of one per fold, then each fold's
    sigmoid calibration, normalisation and the mean over folds as CalibratedClassifierCV computes them."""
    derived = _derived(model)
    margins = matrix @ derived.coefficients + derived.intercepts
    probabilities = {}
    column = 0
    for label, classifier in model.classifiers.items():
        n_classes = len(classifier.classes_)
        mean = np.zeros((matrix.shape[0], n_classes))
        for fold in classifier.calibrated_classifiers_:
            proba = np.zeros((matrix.shape[0], n_classes))
            # The estimator's classes among the classifier's, as LabelEncoder places them in sklearn
            for class_index, calibrator in zip(np.searchsorted(fold.classes, fold.estimator.classes_),
                                               fold.calibrators):
                proba[:, class_index] = expit(-(calibrator.a_ * margins[:, column] + calibrator.b_))
                column += 1
            denominator = np.sum(proba, axis=1)[:, np.newaxis]
            proba = np.divide(proba, denominator, out=np.full_like(proba, 1 / n_classes), where=denominator != 0)
            proba[(1.0 < proba) & (proba <= 1.0 + 1e-5)] = 1.0
            mean += proba
        mean /= len(classifier.calibrated_classifiers_)
        probabilities[label] = mean
    return probabilities


def top_ngrams(model: Model, label: str, matrix: sp.csr_matrix, row: int, class_index: int, limit: int = 3) -> str:
    """The n-grams of one transformed posting (a row of a CSR matrix) that pushed hardest towards the class."""
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    indices = matrix.indices[start:end]
    return _phrase(model, indices, matrix.data[start:end] * model.weights[label][class_index, indices], limit)


def _phrase(model: Model, columns: np.ndarray, contributions: np.ndarray, limit: int) -> str:
    """The names of the columns with the largest positive contributions, largest first (argsort orders ties)."""
    order = np.argsort(contributions)[::-1][:limit]
    names = _derived(model).names
    return ", ".join(dict.fromkeys(names[columns[i]] for i in order if contributions[i] > 0))


class _Evidence:
    """For every row of a matrix, the columns top_ngrams(model, label, matrix, row, classes[row]) names, found with
    numpy over the whole batch; rows whose top contributions tie are left to argsort, as in top_ngrams (its order
    decides between them)."""

    def __init__(self, model: Model, label: str, matrix: sp.csr_matrix, classes: np.ndarray, limit: int = 3) -> None:
        lengths = np.diff(matrix.indptr)
        weights = model.weights[label]
        contributions = matrix.data * weights.ravel()[np.repeat(classes * weights.shape[1], lengths) + matrix.indices]
        # A row's top limit + 1 are among its contributions at least as large as the (limit + 1)-th largest of the
        # maxima of disjoint parts of the row (those maxima are limit + 1 contributions that large); short rows
        # keep all.
        parts = 4 * (limit + 1)
        split = lengths >= parts
        bounds = matrix.indptr[:-1][split, np.newaxis] + lengths[split, np.newaxis] * np.arange(parts + 1) // parts
        threshold = np.full(len(lengths), -np.inf, dtype=contributions.dtype)
        if len(bounds):  # reduceat: [bound, next bound) per part; the part from a row's end to the next is unused
            maxima = np.maximum.reduceat(np.append(contributions, contributions.dtype.type(-np.inf)), bounds.ravel())
            maxima = maxima.reshape(-1, parts + 1)[:, :parts]
            threshold[split] = np.partition(maxima, parts - limit - 1, axis=1)[:, parts - limit - 1]
        candidates = np.flatnonzero((contributions >= np.repeat(threshold, lengths)) & (contributions > 0))
        rows = np.searchsorted(matrix.indptr, candidates, side="right") - 1
        values = contributions[candidates]
        # By row, then largest first: positive float32 values order as their bit patterns do.
        order = np.argsort(rows.astype(np.int64) << 31 | 0x7F800000 - values.view(np.int32), kind="stable")
        rows, values, candidates = rows[order], values[order], candidates[order]
        top = np.arange(len(rows)) - np.searchsorted(rows, rows) < limit
        self.model, self.matrix, self.contributions, self.limit = model, matrix, contributions, limit
        self.classes = classes.tolist()
        self.tied = set(rows[:-1][top[:-1] & (rows[1:] == rows[:-1]) & (values[1:] == values[:-1])].tolist())
        self.top = matrix.indices[candidates[top]].tolist()  # row after row, largest first
        self.starts = np.searchsorted(rows[top], np.arange(len(lengths) + 1)).tolist()

    def phrase(self, row: int) -> str:
        """top_ngrams(model, label, matrix, row, classes[row])."""
        if row in self.tied:  # the same contributions in the same order: argsort orders the ties alike
            start, end = self.matrix.indptr[row], self.matrix.indptr[row + 1]
            return _phrase(self.model, self.matrix.indices[start:end], self.contributions[start:end], self.limit)
        names = _derived(self.model).names
        return ", ".join(dict.fromkeys(names[column] for column in self.top[self.starts[row]:self.starts[row + 1]]))


@dataclass
class _Derived:
    """What scoring needs from a loaded model, derived once per process: every cv fold's LinearSVC of every label
    side by side, for one sparse product, and the features' names as evidence shows them."""

    model: Model
    coefficients: np.ndarray  # features x (every fold's classes, label by label), float64 as LinearSVC keeps them
    intercepts: np.ndarray
    names: list[str]


_derived_cache: dict[str, _Derived] = {}


def _derived(model: Model) -> _Derived:
    derived = _derived_cache.get(model.version)
    if derived is None or derived.model is not model:
        if any(len(classifier.classes_) < 3 for classifier in model.classifiers.values()):
            raise ValueError("predict_proba follows CalibratedClassifierCV for three classes or more only")
        estimators = [fold.estimator for classifier in model.classifiers.values()
                      for fold in classifier.calibrated_classifiers_]
        derived = _Derived(model, np.ascontiguousarray(np.vstack([e.coef_ for e in estimators]).T),
                           np.concatenate([e.intercept_ for e in estimators]),
                           [name.split("__", 1)[1] for name in model.feature_names.tolist()])
        _derived_cache.clear()
        _derived_cache[model.version] = derived
    return derived


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
