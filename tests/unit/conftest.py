"""Fixtures shared by the web-side unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.fake_rasa import FakeRasa, running_fake_rasa


@pytest.fixture
def rasa(tmp_path: Path) -> Iterator[FakeRasa]:
    """A fake Rasa on loopback that shares the test's casework database."""
    with running_fake_rasa(f"sqlite:///{tmp_path / 'casework.db'}") as fake:
        yield fake
