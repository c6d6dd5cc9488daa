"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The index and the model are built by `make test` before pytest runs.
BUILD_DATA_DIR = Path(os.environ.get("DATA_DIR", PROJECT_ROOT / "var")).resolve()

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated SQLite casework database, also exported as DATABASE_URL."""
    from casework.db import upgrade

    url = f"sqlite:///{tmp_path / 'casework.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "test-secret-key")
    monkeypatch.setenv("RASA_TOKEN", "test-rasa-token")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "test-twilio-token")
    upgrade(url)
    yield url
