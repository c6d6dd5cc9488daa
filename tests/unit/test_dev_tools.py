"""/dev (play a resident's phone) is closed by default: it signs forged inbound SMS and
shows any number's texts. Only DEV_TOOLS=1 opens it, only for loopback clients that did
not come through a proxy, and production refuses to start with it on."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient

from privacybot.settings import ConfigError, load_settings
from tests.browser.fake_rasa import FakeRasa
from tests.browser.webapp import settings_for
from tests.web_process import real_web_process, web_env
from webhook import create_app

PHONE_QUERY = "/dev/phone/messages?phone=07700900123"


def _client(tmp_path: Path, rasa: FakeRasa, **overrides: object) -> FlaskClient:
    settings = settings_for(tmp_path, rasa.url, **overrides)
    app = create_app(settings, background=False)
    app.config["WTF_CSRF_ENABLED"] = False
    return app.test_client()


def _codes(client: FlaskClient, **request: object) -> list[int]:
    sign = {"phone": "07700900123", "body": "STOP"}
    return [
        client.get("/dev/phone", **request).status_code,  # type: ignore[arg-type]
        client.post("/dev/phone/sign", json=sign, **request).status_code,  # type: ignore[arg-type]
        client.get(PHONE_QUERY, **request).status_code,  # type: ignore[arg-type]
    ]


def test_closed_unless_dev_tools_is_set(tmp_path: Path, rasa: FakeRasa) -> None:
    assert _codes(_client(tmp_path, rasa)) == [404, 404, 404]


def test_open_for_loopback_only(tmp_path: Path, rasa: FakeRasa) -> None:
    client = _client(tmp_path, rasa, dev_tools=True)
    assert _codes(client) == [200, 200, 200]  # the test client is 127.0.0.1
    assert _codes(client, environ_base={"REMOTE_ADDR": "::1"}) == [200, 200, 200]
    remote = {"REMOTE_ADDR": "203.0.113.7"}
    assert _codes(client, environ_base=remote) == [404, 404, 404]
    # Through a reverse proxy on this machine every client looks like loopback.
    proxied = {"X-Forwarded-For": "203.0.113.7"}
    assert _codes(client, headers=proxied) == [404, 404, 404]


def test_production_refuses_dev_tools(tmp_path: Path, rasa: FakeRasa, monkeypatch) -> None:  # noqa: ANN001
    settings = dataclasses.replace(
        settings_for(tmp_path, rasa.url), production=True, dev_tools=True
    )
    with pytest.raises(ConfigError, match="DEV_TOOLS must be off"):
        create_app(settings, background=False)
    monkeypatch.setenv("PRIVACYBOT_ENV", "production")
    monkeypatch.setenv("DEV_TOOLS", "1")
    for name in ("SECRET_KEY", "RASA_TOKEN", "TWILIO_AUTH_TOKEN"):
        monkeypatch.setenv(name, "set")
    with pytest.raises(ConfigError, match="DEV_TOOLS must be off"):
        load_settings()


def test_privacybot_run_in_production_with_dev_tools_does_not_start(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "privacybot.cli", "run"],
        env=web_env(tmp_path, PRIVACYBOT_ENV="production", DEV_TOOLS="1"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "DEV_TOOLS must be off in production" in done.stderr
    assert "Starting" not in done.stdout


def test_make_run_turns_dev_tools_on_for_the_demo_only() -> None:
    from privacybot.runner import demo_overrides

    assert demo_overrides({}) == {"DEV_TOOLS": "1"}
    assert demo_overrides({"DEV_TOOLS": "0"}) == {}  # the developer said no
    assert demo_overrides({"PRIVACYBOT_ENV": "production"}) == {}


@pytest.mark.parametrize("dev_tools", ["", "1"])
def test_the_real_web_process(tmp_path: Path, dev_tools: str) -> None:
    """gunicorn as `privacybot run` starts it, with and without DEV_TOOLS."""
    from privacybot.runner import free_port

    env = web_env(tmp_path, WEB_PORT=str(free_port()))
    if dev_tools:
        env["DEV_TOOLS"] = dev_tools
    with real_web_process(env, tmp_path / "logs") as stack:
        response = requests.get(stack.web_url + PHONE_QUERY, timeout=10)
    assert response.status_code == (200 if dev_tools else 404)
