"""Held-out NLU evaluation: disjointness from training data, scores, and the report.

The report goes to var/reports/nlu-report.md (or RAPPORT_NLU_REPORT); `make nlu-report`
writes the tracked docs/nlu-report.md. The gate scores intents as Rasa answers them
live: a prediction below the FallbackClassifier threshold counts as `nlu_fallback`.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HELDOUT_PATH = PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"
TRAINING_DIR = PROJECT_ROOT / "data" / "nlu"
REPORT_PATH = Path(
    os.environ.get("RAPPORT_NLU_REPORT") or PROJECT_ROOT / "var" / "reports" / "nlu-report.md"
)
DEFAULT_MODEL = Path("models") / "rapport.tar.gz"
ENTITY_REPORT_NAME = "SpacyEntityExtractor_report.json"
MIN_HELDOUT_EXAMPLES = 60
MIN_INTENT_WEIGHTED_F1 = 0.85
MIN_ENTITY_WEIGHTED_F1 = 0.85
RASA_TIMEOUT_SECONDS = 800  # below pytest-timeout's 900 s (pyproject.toml)

# Rasa 3.6's `rasa test nlu` drops SpacyEntityExtractor predictions before scoring
# (they are listed in rasa.nlu.test.PRETRAINED_EXTRACTORS), so it would never write
# SpacyEntityExtractor_report.json. Our spaCy extractor is the vocabulary ruler, which
# is exactly what we want scored, so the CLI runs with that filter narrowed to Duckling.
_RASA_CLI = (
    "import rasa.nlu.test as evaluation; "
    "evaluation.PRETRAINED_EXTRACTORS = frozenset({'DucklingEntityExtractor'}); "
    "from rasa.__main__ import main; main()"
)
_ENTITY_MARKUP = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_NON_WORD = re.compile(r"[^\w\s]")
_SUMMARY_ROWS = frozenset({"accuracy", "micro avg", "macro avg", "weighted avg"})

Report = dict[str, Any]


def nlu_examples(path: Path) -> list[tuple[str, str]]:
    """Read the (intent, example) pairs of a Rasa NLU YAML file.

    Args:
        path: A Rasa 3.x NLU training data file.

    Returns:
        One `(intent, example)` pair per example, entity markup left in place.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs: list[tuple[str, str]] = []
    for block in data.get("nlu") or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples", "")).splitlines():
            stripped = line.strip()
            if stripped.startswith("- "):
                pairs.append((str(block["intent"]), stripped[2:].strip()))
    return pairs


def normalise(example: str) -> str:
    """Reduce an example to a comparison key: markup, case, punctuation and spacing removed.

    Args:
        example: An NLU example, possibly with `[text](entity)` annotations.

    Returns:
        The lowercased plain text with punctuation dropped and whitespace collapsed.
    """
    plain = _ENTITY_MARKUP.sub(lambda match: match.group(1), example).lower()
    return " ".join(_NON_WORD.sub(" ", plain).split())


def training_texts(training_dir: Path) -> set[str]:
    """Normalised texts of every example in the training data.

    Args:
        training_dir: The folder holding the NLU training files.

    Returns:
        The set of normalised training examples.
    """
    files = sorted(training_dir.rglob("*.yml")) + sorted(training_dir.rglob("*.yaml"))
    return {normalise(text) for path in files for _, text in nlu_examples(path)}


def model_path() -> Path:
    """The model to evaluate: `$RAPPORT_MODEL`, else models/rapport.tar.gz.

    Returns:
        An absolute path (relative values are taken from the project root).
    """
    path = Path(os.environ.get("RAPPORT_MODEL") or DEFAULT_MODEL)
    return path if path.is_absolute() else PROJECT_ROOT / path


def run_rasa_test(model: Path, out_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run `rasa test nlu` on the held-out set, the spaCy entity extractor included.

    Args:
        model: The trained model archive.
        out_dir: Where Rasa writes its reports.

    Returns:
        The finished process, output captured.
    """
    command = [
        sys.executable, "-c", _RASA_CLI, "test", "nlu",
        "--nlu", str(HELDOUT_PATH.relative_to(PROJECT_ROOT)),
        "--model", str(model),
        "--out", str(out_dir),
        "--no-plot", "--successes",
    ]  # fmt: skip
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    return subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RASA_TIMEOUT_SECONDS,
        check=False,
    )


def load_report(path: Path) -> Report:
    """Load one of Rasa's JSON evaluation reports.

    Args:
        path: The report file.

    Returns:
        The report as a dict keyed by label and by summary row.
    """
    report: Report = json.loads(path.read_text(encoding="utf-8"))
    return report


def label_rows(report: Report) -> dict[str, dict[str, Any]]:
    """The per-label rows of a report, summary rows left out.

    Args:
        report: A Rasa intent or entity report.

    Returns:
        Label to its precision/recall/f1-score/support row, sorted by label.
    """
    return {
        label: row
        for label, row in sorted(report.items())
        if label not in _SUMMARY_ROWS and isinstance(row, dict)
    }


def summary_f1(report: Report, row: str) -> float:
    """The F1 of a summary row such as `weighted avg`.

    Args:
        report: A Rasa intent or entity report.
        row: The summary row name.

    Returns:
        Its F1 score, 0.0 when the row is missing (nothing to score).
    """
    summary = report.get(row)
    return float(summary["f1-score"]) if isinstance(summary, dict) else 0.0


def fallback_threshold(config_path: Path) -> float:
    """The FallbackClassifier threshold configured in config.yml.

    Args:
        config_path: The Rasa config file.

    Returns:
        The threshold, or Rasa's default (0.3) when none is set.
    """
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    for component in config.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))
    return 0.3


def predictions(out_dir: Path) -> list[tuple[str, str, float]]:
    """Every held-out prediction: (true intent, predicted intent, confidence).

    Args:
        out_dir: Rasa's output folder (with `--successes`, so both files exist).

    Returns:
        One triple per held-out example.
    """
    rows: list[dict[str, Any]] = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = out_dir / name
        rows += json.loads(path.read_text()) if path.is_file() else []
    return [
        (
            str(row["intent"]),
            str(row["intent_prediction"]["name"]),
            float(row["intent_prediction"]["confidence"]),
        )
        for row in rows
    ]


def gated_f1(rows: list[tuple[str, str, float]], threshold: float) -> tuple[float, int]:
    """Weighted intent F1 as a live conversation sees it, and how many fell back.

    `rasa test nlu` undoes FallbackClassifier predictions before scoring; at run time a
    prediction below `threshold` is `nlu_fallback`, so here it is a miss.
    """
    from sklearn.metrics import f1_score

    truth = [gold for gold, _, _ in rows]
    live = [guess if confidence >= threshold else "nlu_fallback" for _, guess, confidence in rows]
    fallbacks = sum(1 for guess in live if guess == "nlu_fallback")
    labels = sorted(set(truth))
    score = f1_score(truth, live, labels=labels, average="weighted", zero_division=0)
    return float(score), fallbacks


def metrics_table(rows: dict[str, dict[str, Any]], heading: str) -> list[str]:
    """A Markdown table of precision, recall, F1 and support per label.

    Args:
        rows: Label to report row, as returned by `label_rows`.
        heading: The first column's title.

    Returns:
        The table's lines.
    """
    lines = [f"| {heading} | Precision | Recall | F1 | Support |", "|---|---:|---:|---:|---:|"]
    for label, row in rows.items():
        lines.append(
            f"| {label} | {float(row['precision']):.3f} | {float(row['recall']):.3f} "
            f"| {float(row['f1-score']):.3f} | {int(row['support'])} |"
        )
    return lines


def render_report(
    intents: Report, entities: Report, examples: int, low_confidence: str, date: str
) -> str:
    """The Markdown text of the NLU report.

    Args:
        intents: Rasa's intent report.
        entities: Rasa's SpacyEntityExtractor report.
        examples: How many held-out examples were evaluated.
        low_confidence: A sentence on predictions below the fallback threshold.
        date: The evaluation date (ISO format).

    Returns:
        The full report.
    """
    lines = [
        "# NLU held-out evaluation",
        "",
        "Generated by `tests/nlu/test_heldout.py` (`make nlu-report`); do not edit by hand.",
        "",
        f"- Date: {date}",
        f"- Held-out examples: {examples} (`tests/nlu/heldout.yml`, none of them in `data/nlu/`)",
        "- Reproduce: `make nlu-report`",
        f"- Intent F1: weighted avg **{summary_f1(intents, 'weighted avg'):.3f}**, "
        f"macro avg {summary_f1(intents, 'macro avg'):.3f} (DIETClassifier)",
        f"- Entity F1: weighted avg **{summary_f1(entities, 'weighted avg'):.3f}** "
        "(SpacyEntityExtractor: entity ruler built from `shop/vocabulary.yml`)",
        f"- {low_confidence}",
        "",
        "## Intents",
        "",
        *metrics_table(label_rows(intents), "Intent"),
        "",
        "## Entities",
        "",
        *metrics_table(label_rows(entities), "Entity"),
        "",
        "Entity scores are token-level, as `rasa test nlu` computes them: support counts tokens.",
        "",
    ]
    return "\n".join(lines)


def test_heldout_is_separate_from_training() -> None:
    """The held-out set is big enough and shares no example with the training data."""
    heldout = nlu_examples(HELDOUT_PATH)
    assert len(heldout) >= MIN_HELDOUT_EXAMPLES, f"only {len(heldout)} held-out examples"
    seen = training_texts(TRAINING_DIR)
    assert seen, f"no training examples found under {TRAINING_DIR}"
    leaked = sorted({text for _, text in heldout if normalise(text) in seen})
    assert not leaked, f"held-out examples also in the training data: {leaked}"


def test_heldout_scores(tmp_path: Path) -> None:
    """The trained model reaches the F1 targets on the held-out set; writes the report."""
    model = model_path()
    if not model.is_file():
        pytest.fail(f"no trained model at {model}: run `make train` (or set RAPPORT_MODEL)")
    result = run_rasa_test(model, tmp_path)
    intent_path = tmp_path / "intent_report.json"
    entity_path = tmp_path / ENTITY_REPORT_NAME
    if result.returncode != 0 or not intent_path.is_file() or not entity_path.is_file():
        pytest.fail(
            f"`rasa test nlu` failed (exit {result.returncode}); reports: "
            f"{sorted(p.name for p in tmp_path.iterdir())}\n{result.stdout[-3000:]}\n"
            f"{result.stderr[-3000:]}"
        )
    intents, entities = load_report(intent_path), load_report(entity_path)
    examples = len(nlu_examples(HELDOUT_PATH))
    threshold = fallback_threshold(PROJECT_ROOT / "config.yml")
    live_f1, low = gated_f1(predictions(tmp_path), threshold)
    low_confidence = (
        f"Intent predictions below the FallbackClassifier threshold ({threshold}): {low}; "
        f"counted as `nlu_fallback`, as Rasa answers them live, the weighted intent F1 is "
        f"**{live_f1:.3f}** (the gate)"
    )
    today = datetime.date.today().isoformat()
    report = render_report(intents, entities, examples, low_confidence, today)
    REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
    REPORT_PATH.write_text(report, encoding="utf-8")
    entity_f1 = summary_f1(entities, "weighted avg")
    assert live_f1 >= MIN_INTENT_WEIGHTED_F1, f"intent weighted F1 with fallbacks {live_f1:.3f}"
    assert entity_f1 >= MIN_ENTITY_WEIGHTED_F1, f"entity weighted F1 {entity_f1:.3f}"
