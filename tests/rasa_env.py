"""Run a check inside the Rasa environment (.venv-rasa, CPython 3.10), where the bot's own
components import; the script prints its report as JSON on its last line."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from privacybot.runner import BOT_DIR, RASA_BIN

RASA_PYTHON = RASA_BIN.parent / "python"


def run_in_rasa_env(script: str, *args: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env["PYTHONPATH"] = str(BOT_DIR)
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", script, *args],
        check=True,
        env=env,
        cwd=BOT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
