"""The `privacybot` command line as a user runs it (a real subprocess)."""

import os
import subprocess
import sys
from pathlib import Path

PRIVACYBOT = [sys.executable, "-m", "privacybot.cli"]


def _run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [*PRIVACYBOT, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


def test_staff_add_and_token(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
        "SECRET_KEY": "k",
    }
    added = _run(
        ["staff", "add", "Agent@Example.org", "--role", "admin", "--password-stdin"],
        env,
        stdin="a long enough password\n",
    )
    assert added.returncode == 0, added.stderr
    assert "agent@example.org (admin)" in added.stdout
    token = _run(["staff", "token", "agent@example.org"], env)
    assert token.returncode == 0 and len(token.stdout.strip()) >= 40
    assert "token id 1, expires" in token.stderr
    unknown = _run(["staff", "token", "nobody@example.org"], env)
    assert unknown.returncode == 2 and "no staff account" in unknown.stderr
    short = _run(["staff", "add", "b@example.org", "--password-stdin"], env, stdin="short\n")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    assert "Traceback" not in short.stderr


def test_staff_tokens_expire_and_revoke(tmp_path: Path) -> None:
    """`staff token --days` / STAFF_TOKEN_DAYS set the lifetime; `staff revoke` takes a
    token id or an e-mail; a revoked token no longer finds its account."""
    from datetime import timedelta

    from casework import db, staff
    from casework.models import utcnow

    url = f"sqlite:///{tmp_path / 'c.db'}"
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": url, "SECRET_KEY": "k"}
    env["STAFF_TOKEN_DAYS"] = "7"
    _run(["staff", "add", "a@example.org", "--password-stdin"], env, stdin="a long password!\n")
    week = _run(["staff", "token", "a@example.org"], env)
    day = _run(["staff", "token", "a@example.org", "--days", "1"], env)
    other = _run(["staff", "token", "a@example.org"], env)
    assert _run(["staff", "token", "a@example.org", "--days", "0"], env).returncode == 2
    with db.session_scope(url) as session:
        tokens = staff.find(session, "a@example.org").tokens
        lifetimes = [round((t.expires_at - utcnow()) / timedelta(days=1)) for t in tokens]
        assert lifetimes == [7, 1, 7]
    revoked = _run(["staff", "revoke", "2"], env)
    assert revoked.returncode == 0 and "revoked 1 token(s)" in revoked.stdout
    with db.session_scope(url) as session:
        assert staff.user_for_token(session, day.stdout.strip()) is None
        assert staff.user_for_token(session, week.stdout.strip()) is not None
    everything = _run(["staff", "revoke", "a@example.org"], env)
    assert "revoked 2 token(s) and signed its inbox sessions out" in everything.stdout
    with db.session_scope(url) as session:
        assert staff.user_for_token(session, other.stdout.strip()) is None
    unknown = _run(["staff", "revoke", "99"], env)
    assert unknown.returncode == 2 and "no staff account or token id 99" in unknown.stderr


def test_development_secrets_are_generated_once_and_private(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "RASA_TOKEN"}}
    env.update(DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'c.db'}")
    assert _run(["db", "upgrade"], env).returncode == 0
    secrets_file = tmp_path / "dev-secrets.env"
    first = secrets_file.read_text()
    assert "SECRET_KEY=" in first and oct(secrets_file.stat().st_mode)[-3:] == "600"
    assert _run(["db", "upgrade"], env).returncode == 0
    assert secrets_file.read_text() == first


def test_production_mode_refuses_missing_secrets(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "RASA_TOKEN"}}
    env.update(DATA_DIR=str(tmp_path), PRIVACYBOT_ENV="production")
    result = _run(["db", "upgrade"], env)
    assert result.returncode == 2 and "must be set in production" in result.stderr
    assert "Traceback" not in result.stderr


def test_rasa_never_phones_home(tmp_path: Path) -> None:
    from privacybot.runner import make_stack, rasa_process

    stack = make_stack({"DATA_DIR": str(tmp_path), "RASA_TELEMETRY_ENABLED": "true"})
    assert rasa_process(stack, 5005).env["RASA_TELEMETRY_ENABLED"] == "false"
