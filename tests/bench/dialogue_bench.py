"""Dialogue benchmark: per-message latency through Rasa + the action server, beside a
bare Rasa reply (no custom action) measured in the same run, and NLU cross-validation
(intent F1 per intent). `run_dialogue_bench(stack)` returns one dict."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import requests

from privacybot.runner import BOT_DIR, PROJECT_ROOT, RASA_BIN

ROUNDS = int(os.environ.get("BENCH_DIALOGUE_ROUNDS", "10"))
# One SAR from start to record: every turn runs the validator and an ask action.
SAR_TURNS = (
    "I want a copy of all the information you hold on me",
    "Sam Smith",
    "my own",
    "12 High Street, London NW9 4EW",
    "everything",
    "email",
    "sam.smith@example.com",
    "yes",
)
QUESTIONS = (
    "who do you share my personal information with?",
    "how long do you keep my information?",
    "do you record phone calls?",
)


def _post(rasa_url: str, sender: str, text: str) -> float:
    started = time.perf_counter()
    response = requests.post(
        f"{rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=120,
    )
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


def _summary(samples: list[float]) -> dict[str, float | int]:
    return {
        "n": len(samples),
        "p50_ms": round(float(np.percentile(samples, 50)), 1),
        "p95_ms": round(float(np.percentile(samples, 95)), 1),
        "max_ms": round(max(samples), 1),
    }


def measure_latency(rasa_url: str, rounds: int = ROUNDS) -> dict[str, Any]:
    """Interleaved, so all three kinds see the same machine load."""
    bare: list[float] = []
    question: list[float] = []
    form: list[float] = []
    _post(rasa_url, "bench-warm-up", "who do you share my data with?")  # loads the index
    for i in range(rounds):
        sender = f"bench-{uuid.uuid4().hex[:10]}"
        bare.append(_post(rasa_url, sender, "hello"))
        question.append(_post(rasa_url, sender, QUESTIONS[i % len(QUESTIONS)]))
        form_sender = f"bench-{uuid.uuid4().hex[:10]}"
        form += [_post(rasa_url, form_sender, turn) for turn in SAR_TURNS]
    return {
        "bare_rasa_reply (greet, no custom action)": _summary(bare),
        "question (Rasa + action_answer_question + index)": _summary(question),
        "form turn (Rasa + validator + ask/submit action)": _summary(form),
        "all messages through actions": _summary(question + form),
    }


def _intent_f1(report: dict[str, Any]) -> dict[str, Any]:
    per_intent = {
        name: round(figures["f1-score"], 3)
        for name, figures in sorted(report.items())
        if isinstance(figures, dict) and "f1-score" in figures and "avg" not in name
    }
    macro = report.get("macro avg", {}).get("f1-score")
    weighted = report.get("weighted avg", {}).get("f1-score")
    return {
        "per_intent_f1": per_intent,
        "macro_f1": round(macro, 3) if macro is not None else None,
        "weighted_f1": round(weighted, 3) if weighted is not None else None,
        "accuracy": round(report["accuracy"], 3) if "accuracy" in report else None,
    }


def nlu_cross_validation(folds: int = 3) -> dict[str, Any]:
    """`rasa test nlu --cross-validation`: intent F1 per intent on held-out folds."""
    with tempfile.TemporaryDirectory(prefix="nlu-cv-") as out:
        started = time.perf_counter()
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        completed = subprocess.run(
            [
                str(RASA_BIN),
                "test",
                "nlu",
                "--cross-validation",
                "--folds",
                str(folds),
                "--config",
                str(PROJECT_ROOT / "config.yml"),
                "--domain",
                "domain.yml",
                "--nlu",
                "data",
                "--out",
                out,
            ],
            cwd=BOT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if completed.returncode != 0:
            return {"error": completed.stderr[-2000:]}
        report_path = Path(out) / "intent_report.json"
        result = _intent_f1(json.loads(report_path.read_text()))
        result["folds"] = folds
        result["seconds"] = round(time.perf_counter() - started, 1)
        return result


def run_dialogue_bench(stack: Any) -> dict[str, Any]:
    report: dict[str, Any] = {"latency": measure_latency(stack.rasa_url)}
    if os.environ.get("BENCH_NLU_CV", "1") != "0":
        report["nlu_cross_validation"] = nlu_cross_validation()
    return report


if __name__ == "__main__":  # against a running stack: RASA_URL=http://127.0.0.1:5005
    from types import SimpleNamespace

    rasa = os.environ.get("RASA_URL", "http://127.0.0.1:5005")
    print(json.dumps(run_dialogue_bench(SimpleNamespace(rasa_url=rasa)), indent=2))
