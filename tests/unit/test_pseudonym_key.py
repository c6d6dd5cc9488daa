"""PSEUDONYM_KEY keys the phone-number lookups and the ledger's subject keys, apart from
SECRET_KEY: rotating SECRET_KEY orphans no SMS conversation and no opt-out."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from casework import db, ledger
from casework.models import Conversation
from casework.pseudonym import subject_key
from privacybot.settings import ConfigError, Settings, load_settings
from tests.browser.fake_rasa import FakeRasa
from tests.browser.webapp import settings_for
from tests.unit.test_web_sms import PUBLIC, inbound, post_signed
from webhook import create_app
from webhook.state import state

PHONE = "+447700900123"


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("PSEUDONYM_KEY", "PRIVACYBOT_ENV", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "the-secret-key")
    monkeypatch.setenv("RASA_TOKEN", "t")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t")
    yield tmp_path


def test_a_fresh_checkout_generates_its_own_key_once(clean_env: Path) -> None:
    first = load_settings().pseudonym_key
    assert first and first != "the-secret-key"
    assert f"PSEUDONYM_KEY={first}" in (clean_env / "dev-secrets.env").read_text()
    assert load_settings().pseudonym_key == first


def test_a_checkout_with_records_keeps_reading_them(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its database predates PSEUDONYM_KEY: every HMAC in it was keyed with SECRET_KEY.
    db.upgrade(f"sqlite:///{clean_env / 'privacybot.db'}")
    assert load_settings().pseudonym_key == "the-secret-key"
    # Written down: a later SECRET_KEY rotation leaves it alone.
    monkeypatch.setenv("SECRET_KEY", "rotated")
    assert load_settings().pseudonym_key == "the-secret-key"


def test_production_needs_it_and_says_how_to_upgrade(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRIVACYBOT_ENV", "production")
    with pytest.raises(ConfigError, match="set it to the current SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("PSEUDONYM_KEY", "p")
    assert load_settings().pseudonym_key == "p"


def _app(settings: Settings) -> Flask:
    return create_app(settings, background=False)


def _after_stop(app: Flask) -> tuple[list[Conversation], bool]:
    with db.session_scope(state(app).settings.database_url) as session:
        rows = list(session.scalars(select(Conversation)))
        key = subject_key(PHONE, state(app).settings.pseudonym_key)
        return rows, ledger.is_marketing_opted_out(session, key, "barnet-homes", "sms")


def test_rotating_secret_key_orphans_nothing(tmp_path: Path, rasa: FakeRasa) -> None:
    base = settings_for(tmp_path, rasa.url, public_base_url=PUBLIC, pseudonym_key="p-key")
    before = _app(dataclasses.replace(base, secret_key="old-secret"))
    post_signed(before.test_client(), "/sms/inbound", inbound("STOP", phone=PHONE))
    rotated = _app(dataclasses.replace(base, secret_key="new-secret"))
    response = post_signed(rotated.test_client(), "/sms/inbound", inbound("what now?"))
    state(rotated).wait_idle()
    assert response.status_code == 200
    rows, opted_out = _after_stop(rotated)
    assert len(rows) == 1 and rows[0].sms_blocked  # the same conversation, still blocked
    assert opted_out  # and the suppression ledger still finds the number


def test_a_different_pseudonym_key_would_not_find_them(tmp_path: Path, rasa: FakeRasa) -> None:
    """The control: the lookups depend on PSEUDONYM_KEY, not on SECRET_KEY."""
    base = settings_for(tmp_path, rasa.url, public_base_url=PUBLIC, secret_key="same")
    before = _app(dataclasses.replace(base, pseudonym_key="one"))
    post_signed(before.test_client(), "/sms/inbound", inbound("STOP", phone=PHONE))
    other = _app(dataclasses.replace(base, pseudonym_key="two"))
    post_signed(other.test_client(), "/sms/inbound", inbound("what now?"))
    state(other).wait_idle()
    rows, opted_out = _after_stop(other)
    assert len(rows) == 2 and not opted_out
