"""Configuration from environment variables (and a `.env` file), with safe development defaults.

Every process (actions, web, CLI) reads its settings here so the names in DESIGN.md
(`WEB_PORT`, `DATA_DIR`, `DATABASE_URL`, ...) mean the same thing everywhere.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_DEV_SECRET_FILE = "dev-secrets.env"  # noqa: S105 (a file name)


def _load_dotenv() -> None:
    try:
        from dotenv import load_dotenv
    except ImportError:  # the Rasa env does not need python-dotenv
        return
    load_dotenv(PROJECT_ROOT / ".env", override=False)


def _dev_secret(data_dir: Path, name: str, initial: str | None = None) -> str:
    """A per-checkout development secret, generated once (or set to `initial`) and kept
    under DATA_DIR.

    Why not a constant: a constant secret in the repository would be a real secret in
    any deployment that forgot to set one.
    """
    path = data_dir / _DEV_SECRET_FILE
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                values[key] = value
    if name not in values:
        values[name] = initial or secrets.token_urlsafe(32)
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        path.chmod(0o600)
        print(
            f"privacybot: {name} not set, using a development secret from {path}", file=sys.stderr
        )
    return values[name]


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which."""


def _has_database(database_url: str) -> bool:
    """Whether records may already exist (a SQLite file with content; any server)."""
    if not database_url.startswith("sqlite"):
        return True
    path = Path(database_url.split("///", 1)[-1])
    return path.is_file() and path.stat().st_size > 0


def _pseudonym_key(
    env: Mapping[str, str], production: bool, data_dir: Path, database_url: str, secret_key: str
) -> str:
    """The HMAC key of phone-number lookups and ledger subject keys.

    Separate from SECRET_KEY (sessions, CSRF), so rotating that orphans nothing; this one
    must stay the same as long as the records it keys are kept. Records made before it
    existed were keyed with SECRET_KEY: a development checkout with a database keeps
    using that value; production must say so itself.
    """
    value = env.get("PSEUDONYM_KEY")
    if value:
        return value
    if production:
        raise ConfigError(
            "PSEUDONYM_KEY must be set in production mode (upgrading an existing deployment: "
            "set it to the current SECRET_KEY so existing records stay findable)"
        )
    existing = _has_database(database_url)
    return _dev_secret(data_dir, "PSEUDONYM_KEY", initial=secret_key if existing else None)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    org: str
    web_port: int
    rasa_port: int
    actions_port: int
    rasa_url: str
    secret_key: str
    rasa_token: str
    pseudonym_key: str  # HMAC key of phone lookups and ledger keys (never rotated)
    twilio_account_sid: str | None
    twilio_auth_token: str
    twilio_from_number: str
    twilio_api_base: str | None
    public_base_url: str
    production: bool
    transcript_retention_days: int
    tracker_url: str | None = None  # Rasa's tracker store, so retention can reach it too
    # The action server Rasa calls; the web side only asks it whether it is up (/healthz).
    action_endpoint_url: str = "http://127.0.0.1:5055/webhook"
    # A web turn slower than this gets the holding reply (its answer follows by polling).
    holding_reply_after: float = 2.5
    extra: dict[str, str] = field(default_factory=dict)
    purge_interval_seconds: int = 86400  # how often `make run` runs the retention purge
    # /dev (play a resident's phone): signs forged SMS and shows any number's texts, so
    # only when asked for (DEV_TOOLS=1; `make run` sets it), never in production.
    dev_tools: bool = False
    # Reverse proxies in front of the web process that may set X-Forwarded-For/-Proto
    # (0: none; the client address is the peer's, as on loopback).
    trusted_proxy_hops: int = 0
    staff_token_days: int = 90  # lifetime of a new `privacybot staff token`
    # Several Rasa instances (the scaled profile): conversations are spread over them.
    rasa_urls: tuple[str, ...] = ()
    # Their action servers, in the same order (ACTION_ENDPOINT_URLS); one for all if unset.
    action_endpoint_urls: tuple[str, ...] = ()
    # Where e-mail confirmations go out (SMTP_URL: smtp://[user:password@]host[:port],
    # smtp+starttls://... or smtps://...); unset: e-mail rows wait for staff to send them.
    smtp_url: str | None = None
    smtp_from: str | None = None  # the From address; the organisation's contact e-mail if unset

    @property
    def rasa_instances(self) -> tuple[str, ...]:
        """Every Rasa the web side may use: RASA_URLS when scaled out, else RASA_URL."""
        return self.rasa_urls or (self.rasa_url,)

    @property
    def action_endpoints(self) -> tuple[str, ...]:
        return self.action_endpoint_urls or (self.action_endpoint_url,)

    @property
    def dialogue_pairs(self) -> tuple[tuple[str, str], ...]:
        """Each Rasa with the action server it calls: position by position, or every Rasa
        with the one action server when only one is given."""
        rasa, actions = self.rasa_instances, self.action_endpoints
        if len(actions) == 1:
            return tuple((url, actions[0]) for url in rasa)
        if len(actions) != len(rasa):
            raise ConfigError(
                f"ACTION_ENDPOINT_URLS names {len(actions)} action servers for "
                f"{len(rasa)} Rasa instances: give one, or one per Rasa in RASA_URLS order"
            )
        return tuple(zip(rasa, actions, strict=True))

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid)

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_url)

    @property
    def tracker_store_url(self) -> str:
        """Where Rasa keeps its tracker: the URL privacybot.runner gives Rasa, also when
        TRACKER_URL is not exported (retention and "end and delete" must reach it)."""
        return tracker_settings(self.database_url, self.data_dir, self.tracker_url)[1]


def tracker_settings(database_url: str, data_dir: Path, tracker_url: str | None) -> tuple[str, str]:
    """Rasa's tracker store (dialect, URL) sits beside casework: a SQLite file of its own
    by default (two writers on one SQLite file would contend), PostgreSQL when casework
    uses it. The runner gives Rasa this; retention finds it here."""
    if tracker_url:
        return tracker_url.split(":", 1)[0].split("+", 1)[0], tracker_url
    if database_url.startswith("postgres"):
        return "postgresql", database_url
    return "sqlite", f"sqlite:///{data_dir / 'rasa-tracker.db'}"


def _url_list(value: str) -> tuple[str, ...]:
    return tuple(u.strip() for u in value.split(",") if u.strip())


def load_settings() -> Settings:
    _load_dotenv()
    env = os.environ
    production = env.get("PRIVACYBOT_ENV", "development") == "production"
    data_dir = Path(env.get("DATA_DIR", PROJECT_ROOT / "var")).resolve()

    def secret(name: str) -> str:
        value = env.get(name)
        if value:
            return value
        if production:
            raise ConfigError(f"{name} must be set in production mode")
        return _dev_secret(data_dir, name)

    dev_tools = env.get("DEV_TOOLS", "").strip().lower() in ("1", "true", "yes", "on")
    if production and dev_tools:
        raise ConfigError("DEV_TOOLS must be off in production mode")
    web_port = int(env.get("WEB_PORT", "8000"))
    rasa_port = int(env.get("RASA_PORT", "5005"))
    database_url = env.get("DATABASE_URL", f"sqlite:///{data_dir / 'privacybot.db'}")
    secret_key = secret("SECRET_KEY")
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        org=env.get("ORG", "barnet-homes"),
        web_port=web_port,
        rasa_port=rasa_port,
        actions_port=int(env.get("ACTIONS_PORT", "5055")),
        rasa_url=env.get("RASA_URL", f"http://127.0.0.1:{rasa_port}"),
        rasa_urls=_url_list(env.get("RASA_URLS", "")),
        action_endpoint_urls=_url_list(env.get("ACTION_ENDPOINT_URLS", "")),
        secret_key=secret_key,
        rasa_token=secret("RASA_TOKEN"),
        pseudonym_key=_pseudonym_key(env, production, data_dir, database_url, secret_key),
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
        twilio_auth_token=secret("TWILIO_AUTH_TOKEN"),
        twilio_from_number=env.get("TWILIO_FROM_NUMBER", "+447700900000"),
        # Tests point the real twilio client at a local stand-in of Twilio's REST API.
        twilio_api_base=env.get("TWILIO_API_BASE") or None,
        public_base_url=env.get("PUBLIC_BASE_URL", f"http://127.0.0.1:{web_port}").rstrip("/"),
        production=production,
        transcript_retention_days=int(env.get("TRANSCRIPT_RETENTION_DAYS", "90")),
        tracker_url=env.get("TRACKER_URL") or None,
        purge_interval_seconds=int(env.get("PURGE_INTERVAL_SECONDS", "86400")),
        dev_tools=dev_tools,
        trusted_proxy_hops=int(env.get("TRUSTED_PROXY_HOPS", "0")),
        staff_token_days=int(env.get("STAFF_TOKEN_DAYS", "90")),
        action_endpoint_url=env.get(
            "ACTION_ENDPOINT_URL", f"http://127.0.0.1:{env.get('ACTIONS_PORT', '5055')}/webhook"
        ),
        holding_reply_after=float(env.get("HOLDING_REPLY_AFTER", "2.5")),
        smtp_url=env.get("SMTP_URL") or None,
        smtp_from=env.get("SMTP_FROM") or None,
    )
    settings.dialogue_pairs  # noqa: B018  (a mismatched list fails at start, not at the first check)
    return settings
