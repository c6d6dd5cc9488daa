"""Fixtures shared by the web-side unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.browser.fake_rasa import FakeRasa, running_fake_rasa


@pytest.fixture
def rasa(tmp_path: Path) -> Iterator[FakeRasa]:
    """A fake Rasa on loopback that shares the test's casework database."""
    with running_fake_rasa(f"sqlite:///{tmp_path / 'casework.db'}") as fake:
        yield fake


@pytest.fixture
def app(tmp_path: Path, rasa: FakeRasa) -> Flask:
    """The web app against the fake Rasa, no background threads; a module that needs other
    settings defines its own `app`."""
    from tests.browser.webapp import settings_for
    from webhook import create_app

    return create_app(settings_for(tmp_path, rasa.url), background=False)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
