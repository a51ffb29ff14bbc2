"""Rasa's own checks: the training data validates cleanly and the conversation stories pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.harness import MODEL, ROOT

RASA = str(Path(sys.executable).parent / "rasa")
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


def _rasa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RASA, *args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600
    )


def test_training_data_validates_without_warnings() -> None:
    done = _rasa("data", "validate", "--fail-on-warnings")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_conversation_stories_have_no_prediction_errors(tmp_path: Path) -> None:
    assert MODEL.exists(), "no trained model: run `make train`"
    done = _rasa(
        "test",
        "core",
        "--model",
        str(MODEL),
        "--stories",
        "tests/stories",
        "--fail-on-prediction-errors",
        "--out",
        str(tmp_path),
    )
    failed = tmp_path / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else ""
    assert done.returncode == 0, detail + done.stdout[-3000:] + done.stderr[-3000:]
    assert "story:" not in detail.replace("# None of the test stories failed", "")
