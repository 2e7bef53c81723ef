"""Per-label precision, recall, F1, macro-F1 and confusion matrices on a hand-checked split.

Seniority is scored on postings whose checked role is an HIM role (LABELS.md: not evaluated for `other`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from classifier.model import LABELS
from classifier.predict import HIM_ROLES, label_postings
from classifier.train import load_split


@dataclass
class LabelReport:
    label: str
    classes: tuple[str, ...]
    precision: list[float]
    recall: list[float]
    f1: list[float]
    support: list[int]
    macro_f1: float
    matrix: list[list[int]]
    errors: list[tuple[str, str, str, str]]  # id, title, expected, predicted

    def render(self) -> str:
        lines = [f"{self.label}: macro-F1 {self.macro_f1:.3f} over {sum(self.support)} postings",
                 f"  {'class':<12}{'precision':>10}{'recall':>8}{'F1':>8}{'n':>6}"]
        for i, name in enumerate(self.classes):
            lines.append(f"  {name:<12}{self.precision[i]:>10.3f}{self.recall[i]:>8.3f}{self.f1[i]:>8.3f}"
                         f"{self.support[i]:>6}")
        lines.append("  confusion (rows = expected, columns = predicted): " + " ".join(self.classes))
        for name, counts in zip(self.classes, self.matrix):
            lines.append(f"  {name:<12}" + "".join(f"{c:>8}" for c in counts))
        return "\n".join(lines)


def evaluate(split: str = "test") -> list[LabelReport]:
    rows = [row for row in load_split(split) if row.get("checked")]
    if not rows:
        raise ValueError(f"classifier/data/{split}.jsonl has no hand-checked rows")
    predictions = label_postings(rows)
    reports = []
    for label, classes in LABELS.items():
        pairs = [(row, pred) for row, pred in zip(rows, predictions)
                 if label != "seniority" or row["role"] in HIM_ROLES]
        expected = [row[label] for row, _ in pairs]
        predicted = [pred[label] for _, pred in pairs]
        present = tuple(c for c in classes if c in expected or c in predicted)
        precision, recall, f1, support = precision_recall_fscore_support(
            expected, predicted, labels=list(present), zero_division=0)
        macro = float(sum(f1[i] for i, c in enumerate(present) if c in expected)) / len(set(expected))
        errors = [(row["id"], row["title"], row[label], pred[label]) for row, pred in pairs
                  if row[label] != pred[label]]
        reports.append(LabelReport(label, present, list(map(float, precision)), list(map(float, recall)),
                                   list(map(float, f1)), list(map(int, support)), macro,
                                   confusion_matrix(expected, predicted, labels=list(present)).tolist(), errors))
    return reports
