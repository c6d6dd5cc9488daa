"""The Rasa test stories (bot/tests/) pass with --fail-on-prediction-errors against the
trained model: every flow incl. cancel, digression, invalid answers and handoff mid-form."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from privacybot.runner import BOT_DIR, MODEL_PATH, PROJECT_ROOT, RASA_BIN

pytestmark = pytest.mark.integration


def _rasa(*args: str, cwd: Path = BOT_DIR) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [str(RASA_BIN), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


def test_rasa_test_stories_have_no_prediction_errors(tmp_path: Path) -> None:
    assert MODEL_PATH.exists(), "run `make model` first (make test does)"
    result = _rasa(
        "test",
        "core",
        "--stories",
        "tests",
        "--model",
        str(MODEL_PATH),
        "--fail-on-prediction-errors",
        "--out",
        str(tmp_path),
    )
    failed = (tmp_path / "failed_test_stories.yml").read_text() if result.returncode else ""
    assert result.returncode == 0, failed or result.stdout[-3000:] + result.stderr[-3000:]


def test_rasa_data_is_valid() -> None:
    result = _rasa(
        "data",
        "validate",
        "--config",
        str(PROJECT_ROOT / "config.yml"),
        "--domain",
        "domain.yml",
        "--data",
        "data",
        "--fail-on-warnings",
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
