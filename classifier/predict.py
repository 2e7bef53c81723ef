"""Labelling postings: role, seniority and arrangement with a probability and evidence each, merged with
the extracted facts (pay, credentials, employment type, education, state) of classifier.extract.

The same function serves ``himjobs classify`` and the crawl pipeline. Rules decide where they are precise
(classifier/data/*_rules.csv, arrangement_phrases.csv); the calibrated model decides the rest, and a label
nothing supports keeps the model's honest, low probability.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from classifier import rules
from classifier.batch_features import transform
from classifier.extract import extract
from classifier.model import Model, Scores, get_model, labels_version
from classifier.text import MODEL_TEXT_CHARS, clean_description
from scraper.errors import HimjobsError
from scraper.posting import valid_text

HIM_ROLES = ("technician", "coder", "registrar")
# With no phrase, flag or structured fact, LABELS.md says on-site ("nothing says otherwise"); the model
# may only overrule that default when it is this sure and has a description to go on (from a title alone
# it mostly learns which occupations often are remote, which says nothing about this job).
ARRANGEMENT_MODEL_THRESHOLD = 0.9
ARRANGEMENT_MODEL_MIN_TEXT = 300
# LABELS.md: a skilled HIM role that states nothing about experience is mid; the model may overrule that
# default only when it is this sure.
SENIORITY_MODEL_THRESHOLD = 0.9


Row = tuple[Scores, int]  # (the batch's scores, row number): evidence is only looked up when the model decides


class InvalidPosting(HimjobsError):
    """A record given to label_postings lacks what labelling needs (a title)."""


@dataclass
class Decision:
    label: str
    confidence: float
    evidence: dict[str, str]


def model_version() -> str:
    """Version of the labels produced now (model, rule tables, vocabularies, code); rows stored with another
    version are due for relabelling."""
    return labels_version()


def label_postings(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One result per record, in input order (see the Classifier API in the project brief)."""
    records = list(records)
    for index, record in enumerate(records):
        if not isinstance(record, Mapping) or not isinstance(record.get("title"), str):
            raise InvalidPosting(f"record {index}: needs a 'title' string")
    if not records:
        return []
    model = get_model()
    version = labels_version()
    titles = [valid_text(record["title"].strip()) for record in records]
    # Posting.to_dict() carries both; a store row only the plain text.
    texts = [clean_description(_as_str(record.get("description")) or _as_str(record.get("description_html")))
             for record in records]
    scores = Scores(model, transform(model, titles, [t[:MODEL_TEXT_CHARS] for t in texts]))
    probabilities = scores.probabilities
    results = []
    for i, record in enumerate(records):
        structured = _structured(record.get("structured"))
        source = _as_str(record.get("source"))
        facts = extract(titles[i], texts[i], location=_as_str(record.get("location")), structured=structured)
        role = _role(model, (scores, i), probabilities["role"][i], titles[i], texts[i])
        seniority = _seniority(model, (scores, i), probabilities["seniority"][i], titles[i], texts[i], source,
                               structured, role.label)
        arrangement = _arrangement(model, (scores, i), probabilities["arrangement"][i], titles[i], texts[i],
                                   _as_str(record.get("remote_flag")))
        evidence = {key: value for key, value in facts.get("evidence", {}).items()}
        evidence.update(role=role.evidence, seniority=seniority.evidence, arrangement=arrangement.evidence)
        results.append({
            "id": record.get("id"),
            "role": role.label,
            "seniority": seniority.label,
            "arrangement": arrangement.label,
            "confidence": {"role": role.confidence, "seniority": seniority.confidence,
                           "arrangement": arrangement.confidence},
            "evidence": evidence,
            "salary_min": facts.get("salary_min"),
            "salary_max": facts.get("salary_max"),
            "salary_period": facts.get("salary_period"),
            "salary_currency": facts.get("salary_currency"),
            "credentials": list(facts.get("credentials") or []),
            "employment_type": facts.get("employment_type"),
            "education": facts.get("education"),
            "state": facts.get("state"),
            "model_version": version,
        })
    return results


def _as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _structured(value: Any) -> dict[str, Any]:
    """Source-stated facts as a dict; the store keeps them as a JSON string (relabelling reads those rows)."""
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    return dict(value) if isinstance(value, Mapping) else {}


def _model_decision(model: Model, label: str, row: Row, probs: np.ndarray) -> Decision:
    return _with_evidence(model, label, row, _model_choice(model, label, probs))


def _model_choice(model: Model, label: str, probs: np.ndarray) -> Decision:
    """The model's label and probability, without evidence yet: the callers often replace the model's label by a
    default."""
    best = int(probs.argmax())  # the method: np.argmax costs 1-2 µs more per call
    return Decision(_classes(model, label)[best], round(float(probs[best]), 4), {})


def _with_evidence(model: Model, label: str, row: Row, decision: Decision) -> Decision:
    best = _classes(model, label).index(decision.label)
    phrase = row[0].top_ngrams(label, row[1], best)
    return Decision(decision.label, decision.confidence, {"field": "model", "phrase": phrase})


def _classes(model: Model, label: str) -> list[str]:
    """The classifier's classes in column order, converted once per classifier (numpy to list is slow)."""
    classifier = model.classifiers[label]
    cached = _CLASSES.get(label)
    if cached is None or cached[0] is not classifier:
        cached = _CLASSES[label] = (classifier, [str(c) for c in classifier.classes_])
    return cached[1]


_CLASSES: dict[str, tuple[Any, list[str]]] = {}


def _probability(model: Model, label: str, probs: np.ndarray, value: str) -> float:
    classes = _classes(model, label)
    return float(probs[classes.index(value)]) if value in classes else 0.0


def _from_rule(hit: rules.Hit, model: Model, label: str, probs: np.ndarray) -> Decision:
    # A rule's table confidence, raised when the model agrees more strongly.
    confidence = max(hit.confidence, _probability(model, label, probs, hit.label))
    return Decision(hit.label, round(confidence, 4), hit.evidence())


def _role(model: Model, row: Row, probs: np.ndarray, title: str, text: str) -> Decision:
    hit = rules.role_rule(title, text)
    if hit is not None:
        return _from_rule(hit, model, "role", probs)
    return _model_decision(model, "role", row, probs)


def _seniority(model: Model, row: Row, probs: np.ndarray, title: str, text: str, source: str,
               structured: dict[str, Any], role: str) -> Decision:
    hit = rules.seniority_rule(title, text, source, structured)
    if hit is not None:
        return _from_rule(hit, model, "seniority", probs)
    decision = _model_choice(model, "seniority", probs)
    if role in HIM_ROLES and decision.label != "mid" and decision.confidence < SENIORITY_MODEL_THRESHOLD:
        mid = _probability(model, "seniority", probs, "mid")
        return Decision("mid", round(max(mid, 1 - decision.confidence), 4),
                        {"field": "title", "phrase": "no experience requirement stated (skilled role: mid)"})
    return _with_evidence(model, "seniority", row, decision)


def _arrangement(model: Model, row: Row, probs: np.ndarray, title: str, text: str, remote_flag: str) -> Decision:
    hit = rules.arrangement_rule(title, text, remote_flag)
    if hit is not None:
        return _from_rule(hit, model, "arrangement", probs)
    decision = _model_choice(model, "arrangement", probs)
    sure = decision.confidence >= ARRANGEMENT_MODEL_THRESHOLD and len(text) >= ARRANGEMENT_MODEL_MIN_TEXT
    if decision.label != "onsite" and sure:
        return _with_evidence(model, "arrangement", row, decision)
    onsite = _probability(model, "arrangement", probs, "onsite")
    return Decision("onsite", round(max(onsite, 0.6), 4),
                    {"field": "description" if text else "title", "phrase": "no remote or hybrid work stated"})
