"""The conversation so far, from Rasa's tracker events, for a staff ticket."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Tracker

MAX_MESSAGES = 60  # enough context for staff, bounded ticket size


def _at(timestamp: Any) -> str | None:
    try:
        return datetime.fromtimestamp(float(timestamp), UTC).isoformat(timespec="seconds")
    except (TypeError, ValueError, OverflowError):
        return None


def transcript_of(tracker: Tracker, limit: int = MAX_MESSAGES) -> list[dict[str, Any]]:
    """[{"author": "resident"|"bot", "text": ..., "at": ...}], oldest first.

    Text is kept as typed: the staff inbox escapes it when it shows it."""
    lines: list[dict[str, Any]] = []
    for event in tracker.events:
        kind = event.get("event")
        if kind not in ("user", "bot"):
            continue
        text = event.get("text")
        if not text:
            continue
        lines.append(
            {
                "author": "resident" if kind == "user" else "bot",
                "text": str(text),
                "at": _at(event.get("timestamp")),
            }
        )
    return lines[-limit:]
