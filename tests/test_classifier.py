"""The classifier as users meet it: ``himjobs classify`` (the DESIGN.md contract), label_postings, the model
cache and the hand-checked evaluation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from classifier import model as model_module
from classifier.predict import InvalidPosting, label_postings, model_version
from classifier.train import load_split
from schedules.cli import main

LABEL_VALUES = {
    "role": {"technician", "coder", "registrar", "other"},
    "seniority": {"entry", "mid", "senior", "manager"},
    "arrangement": {"remote", "hybrid", "onsite"},
}
EVIDENCE_FIELDS = {"title", "description", "remote_flag", "structured", "model", "location"}


def run_classify(tmp_path: Path, lines: list[str]) -> tuple[int, list[dict], str]:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["classify", "--input", str(source), "--output", str(target)])
    output = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    return result.exit_code, output, result.stderr


def test_classify_reports_bad_lines_by_number_and_labels_the_rest(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "1", "title": "Medical Records Technician (Coder)", "description": "GS-0675-07"}),
        "{not json",
        json.dumps({"id": "3", "description": "no title here"}),
        json.dumps({"id": "4", "title": "Patient Access Registrar", "description": "<p>Front desk</p>"}),
    ]
    code, output, stderr = run_classify(tmp_path, lines)
    assert [row["id"] for row in output] == ["1", "4"]  # input order, bad lines skipped
    assert "line 2: not valid JSON" in stderr
    assert "line 3: no 'title'" in stderr
    assert code == 1  # documented: 1 when any line was skipped
    assert output[0]["role"] == "coder" and output[1]["role"] == "other"


def test_classify_output_carries_the_documented_fields(tmp_path: Path) -> None:
    posting = {
        "id": "greenhouse:42", "title": "Remote Inpatient Coder",
        "description": "<ul><li>This is a 100% remote position.</li><li>CCS required.</li>"
                       "<li>$30 - $38 per hour.</li><li>Minimum of 3 years of inpatient coding experience.</li></ul>",
        "company": "Example Health", "location": "Remote, TX", "source": "greenhouse",
        "remote_flag": "isRemote=true",
    }
    code, output, _ = run_classify(tmp_path, [json.dumps(posting)])
    assert code == 0
    (row,) = output
    for key in ("id", "role", "seniority", "arrangement", "confidence", "salary_min", "salary_max",
                "salary_period", "salary_currency", "credentials", "employment_type", "education"):
        assert key in row
    assert (row["role"], row["seniority"], row["arrangement"]) == ("coder", "mid", "remote")
    assert row["evidence"]["seniority"] == {"field": "description",
                                            "phrase": "Minimum of 3 years of inpatient coding experience"}
    assert row["model_version"] == model_version()


def test_probabilities_and_evidence_for_every_label() -> None:
    rows = load_split("dev")[::7]
    for row, result in zip(rows, label_postings(rows)):
        assert result["id"] == row["id"]
        for label, values in LABEL_VALUES.items():
            assert result[label] in values
            assert 0.0 <= result["confidence"][label] <= 1.0
            evidence = result["evidence"][label]
            assert evidence["field"] in EVIDENCE_FIELDS and isinstance(evidence["phrase"], str)


def test_relabelling_a_stored_row_reads_its_json_structured_facts() -> None:
    # store rows keep `structured` as JSON text; the federal grade in it must still decide seniority
    row = {"id": "usajobs:1", "title": "Medical Records Technician", "description": "", "source": "usajobs",
           "structured": '{"low_grade": "5", "high_grade": "7"}'}
    (result,) = label_postings([row])
    assert result["seniority"] == "entry"
    assert result["evidence"]["seniority"] == {"field": "structured", "phrase": "low_grade=5"}


def test_html_only_postings_are_read(tmp_path: Path) -> None:
    posting = {"id": "p", "title": "Medical Coder", "description": "",
               "description_html": "<p>This is a <b>100% remote</b> position.</p>"}
    (result,) = label_postings([posting])
    assert result["arrangement"] == "remote"


def test_lone_surrogates_in_a_record_do_not_stop_labelling() -> None:
    # A record read from JSON with a stray "\ud800" escape crashed the description tokenizer (strict UTF-8).
    record = json.loads('{"id": "x", "title": "Medical Coder \\ud800", "description": "This is a remote position. CPC required \\udfff."}')
    [result] = label_postings([record])
    assert (result["role"], result["arrangement"], result["credentials"]) == ("coder", "remote", ["CPC"])


def test_a_record_without_title_is_refused() -> None:
    with pytest.raises(InvalidPosting, match="record 1"):
        label_postings([{"title": "Medical Coder"}, {"description": "no title"}])


# Real titles from the sources (LinkedIn 2023, zapplyjobs, NHS Jobs, VA questionnaires; training rows, not the
# hand-checked splits), with how LABELS.md labels them.
REAL = [
    ({"title": "Medical Coder - Medical Records (CPC/CCA)", "remote_flag": "remote_allowed=1"},
     ("coder", "mid", "remote")),
    ({"title": "Supervisory MRT Coder", "source": "usajobs"}, ("coder", "manager", "onsite")),
    ({"title": "Medical Records Administrator - Chief of Health Information Management (CHIM)"},
     ("technician", "manager", "onsite")),
    ({"title": "Trauma Registrar, Emergency Services - .90 FTE, Days (08HR)", "remote_flag": "job_is_remote=false"},
     ("registrar", "mid", "onsite")),
    ({"title": "Health Records Clerk", "description": "No experience necessary, full training given."},
     ("technician", "entry", "onsite")),
    ({"title": "Registrar - Family Medicine"}, ("other", None, "onsite")),
    ({"title": "Pharmacy Technician & Technician Trainee"}, ("other", None, "onsite")),
    ({"title": "Trust Registrar in Cardiology (Ealing)"}, ("other", None, "onsite")),
]


@pytest.mark.parametrize(("record", "expected"), REAL)
def test_labels_on_real_titles(record: dict, expected: tuple[str, str | None, str]) -> None:
    (result,) = label_postings([{"id": "x", "description": "", **record}])
    got = (result["role"], result["seniority"] if expected[1] else None, result["arrangement"])
    assert got == expected


def test_model_is_built_when_missing_and_foreign_files_are_never_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HIMJOBS_MODEL_DIR", str(tmp_path))
    monkeypatch.setattr(model_module, "_cache", {})
    built = model_module.get_model()  # fresh clone: no model file yet
    path = tmp_path / f"model-{built.version}.joblib"
    assert path.exists()
    captured = capsys.readouterr()
    assert captured.out == "" and "building the classifier model" in captured.err
    # A file under the right name but pickled for other data (or another sklearn) is refused ...
    joblib.dump(dataclasses.replace(built, version="0123456789ab"), path)
    assert model_module._load(path) is None
    # ... and so is a corrupt file.
    path.write_bytes(b"not a pickle")
    assert model_module._load(path) is None


def test_evaluate_command_prints_scores(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["evaluate", "--split", "dev"])
    assert result.exit_code == 0, result.output
    for label in ("role: macro-F1", "seniority: macro-F1", "arrangement: macro-F1", "confusion"):
        assert label in result.output


def assert_same_matrix(fast: sp.csr_matrix, reference: sp.csr_matrix) -> None:
    assert fast.dtype == reference.dtype and fast.shape == reference.shape
    assert np.array_equal(fast.indptr, reference.indptr)
    assert np.array_equal(fast.indices, reference.indices)
    assert np.array_equal(fast.data, reference.data)


# Text that trips tokenizers: Unicode and control whitespace (str.split splits at \x1c-\x1f, \x85, \xa0,
# \u2003, \u3000, ...), the separators words() blanks, letters whose lowercase is ASCII (Kelvin sign) or longer
# (İ), a Greek final sigma (lowercased by context), NUL, ligatures, emoji, and words longer than the 15 bytes of a
# _Terms key.
TRICKY = ["a", "B", "coder", "ICD-10", "e/m", "é", "É", "Σ", "ΑΣ", "K", "\u212a", "İ", "ß", "ﬁ", "🚀", "\x00",
          "abcdefghijklmno", "abcdefghijklmnop", "Responsibilities", "x" * 40, " ", "  ", "\t", "\n", "\r\n",
          "\x0b", "\x1c", "\x1f", "\x85", "\xa0", "\u2003", "\u2028", "\u3000", "\u2013", "\u2014", "\u2019",
          "\u201c", "\u201d", "\u2022", ".", ",", "_", "'", "(", "100%"]
tricky_text = st.lists(st.sampled_from(TRICKY), max_size=60).map("".join)


def fitted(vectorizer: TfidfVectorizer, documents: list[str]) -> TfidfVectorizer:
    return vectorizer.fit(documents + ["medical coder"])  # never an empty vocabulary


def test_fast_description_transform_equals_sklearn_tfidf() -> None:
    # DescriptionWords replaces sklearn's per-word counting loop for speed; a drift (tokens, sublinear tf, idf,
    # norm, dtype) would silently feed the classifiers other features than they were trained on.
    texts = [row["description"] for row in load_split("dev") if row.get("description")]
    texts += ["", "Ça — “ICD-10” • CPC-A; e/m\xa0coding,\x1c100% remote!", "ΑΣ’Α \u212aelvin İİ\u3000x"]
    vectorizer = model_module.DescriptionWords(min_df=2, sublinear_tf=True, tokenizer=model_module.words,
                                               token_pattern=None, lowercase=False, dtype=np.float32)
    vectorizer.fit(texts[:150])
    assert_same_matrix(vectorizer.transform(texts), TfidfVectorizer.transform(vectorizer, texts))
    assert model_module.words("Coder—ICD-10 “CPC-A” e/m, 5 yrs.") == ["coder", "icd-10", "cpc-a", "e/m", "5",
                                                                       "yrs"]


@settings(max_examples=150, deadline=None)
@given(st.lists(tricky_text, min_size=1, max_size=8))
def test_fast_description_words_equal_sklearn_on_tricky_text(texts: list[str]) -> None:
    vectorizer = fitted(model_module.DescriptionWords(sublinear_tf=True, tokenizer=model_module.words,
                                                      token_pattern=None, lowercase=False, dtype=np.float32), texts)
    assert_same_matrix(vectorizer.transform(texts), TfidfVectorizer.transform(vectorizer, texts))


def test_words_split_at_no_whitespace_above_u3000() -> None:
    # DescriptionWords blanks the UTF-8 of the whitespace up to U+3000 before splitting at ASCII spaces
    assert not any(chr(c).isspace() for c in range(0x3001, 0x110000))


@settings(max_examples=150, deadline=None)
@given(st.lists(tricky_text, min_size=1, max_size=8))
def test_fast_title_transforms_equal_sklearn(titles: list[str]) -> None:
    # feature_space()'s settings; ASCII titles' n-grams are sliced from one buffer, the others title by title
    for vectorizer in (model_module.TitleWords(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32),
                       model_module.TitleChars(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                                               dtype=np.float32)):
        fitted(vectorizer, titles)
        other = titles + ["", " ", "Medical  Coder", "medical\tcoder ", "MEDICAL CODER II", "Ça—Médical Coder"]
        assert_same_matrix(vectorizer.transform(other), TfidfVectorizer.transform(vectorizer, other))


def test_batch_features_with_cached_titles_equal_the_feature_space() -> None:
    # classifier.batch_features keeps each distinct title's features across batches for speed; the matrix must
    # stay bit-identical to the fitted ColumnTransformer's (same values, column order and index order), or
    # probabilities and evidence would drift between the first and a repeated title.
    from classifier.batch_features import transform
    from classifier.model import as_columns, get_model

    model = get_model()
    rows = [row for split in ("dev", "test") for row in load_split(split)]
    titles = [row["title"].strip() for row in rows] + ["Medical Coder", "Medical Coder", ""]
    texts = [(row.get("description") or "")[:3000] for row in rows] + ["Remote coder", "", ""]
    for start, end in ((0, 150), (100, len(titles)), (0, len(titles))):  # cold, partly cached, all cached
        reference = model.features.transform(as_columns(titles[start:end], texts[start:end])).tocsr()
        assert_same_matrix(transform(model, titles[start:end], texts[start:end]), reference)


def test_probabilities_and_evidence_equal_the_classifiers() -> None:
    # Scores computes every label's probabilities from one sparse product and ranks the evidence of the whole
    # batch with numpy: both must equal predict_proba and top_ngrams exactly (confidences and phrases are stored).
    from classifier.batch_features import transform
    from classifier.model import Scores, get_model, top_ngrams

    model = get_model()
    rows = [row for split in ("dev", "test") for row in load_split(split)]
    matrix = transform(model, [row["title"].strip() for row in rows] + [""],
                       [(row.get("description") or "")[:3000] for row in rows] + [""])
    scores = Scores(model, matrix)
    for label, classifier in model.classifiers.items():
        assert np.array_equal(scores.probabilities[label], classifier.predict_proba(matrix))
        best = scores.probabilities[label].argmax(axis=1).tolist()
        for row, class_index in enumerate(best):
            for asked in (class_index, (class_index + 1) % len(classifier.classes_)):
                assert scores.top_ngrams(label, row, asked) == top_ngrams(model, label, matrix, row, asked)
        assert scores._evidence[label].tied  # rows whose top contributions tie were met (argsort decides)
