"""`privacybot db ...`, `privacybot staff ...` and `privacybot suppressions ...` sub-commands.

They live here, not in casework/, because they read the settings: casework is given a
database URL by whoever calls it and never reads configuration (or creates development
secrets) itself."""

from __future__ import annotations

import argparse
import getpass
import json
import signal
import sys
import threading
from typing import Any

from casework import db
from privacybot.settings import load_settings


def cmd_upgrade(args: argparse.Namespace) -> int:
    db.upgrade(load_settings().database_url)
    print("database is up to date")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """One retention run (prints its counts as JSON), or with --every a loop that runs
    one, sleeps and repeats until SIGTERM / Ctrl-C (the process `make run` starts)."""
    settings = load_settings()
    db.upgrade(settings.database_url)
    if args.every is None:
        return _purge_once(settings)
    if args.every <= 0:
        print("privacybot: --every needs a positive number of seconds", file=sys.stderr)
        return 2
    return _purge_every(settings, args.every)


def _purge_once(settings: Any) -> int:
    from casework.retention import purge_expired

    with db.session_scope(settings.database_url) as session:
        result = purge_expired(
            session, settings.transcript_retention_days, settings.tracker_store_url
        )
    print(json.dumps(result.counts()), flush=True)
    if result.tracker_error:
        print(f"privacybot: tracker store: {result.tracker_error}", file=sys.stderr)
        return 1
    return 0


def _purge_every(settings: Any, seconds: float) -> int:
    stop = threading.Event()

    def request_stop(_signum: int, _frame: object) -> None:
        stop.set()  # a run in progress finishes its transaction first

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    print(f"retention purge every {seconds:g} s", flush=True)
    while not stop.is_set():
        try:
            _purge_once(settings)
        except Exception as error:  # noqa: BLE001 (a database blip must not end the schedule)
            print(f"privacybot: purge failed: {type(error).__name__}", file=sys.stderr)
        stop.wait(seconds)
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat: "):
        raise SystemExit("passwords do not match")
    return first


def cmd_staff_add(args: argparse.Namespace) -> int:
    from casework import staff

    password = _read_password(args.password_stdin)
    url = load_settings().database_url
    db.upgrade(url)
    try:
        with db.session_scope(url) as session:
            user = staff.add_or_update(session, args.email, password, args.role, args.name)
            print(f"saved {user.email} ({user.role})")
    except ValueError as error:
        print(f"privacybot: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_staff_token(args: argparse.Namespace) -> int:
    """Prints the token alone on stdout (scripts read it); its id and expiry on stderr."""
    from casework import staff

    settings = load_settings()
    days = args.days if args.days is not None else settings.staff_token_days
    db.upgrade(settings.database_url)
    try:
        with db.session_scope(settings.database_url) as session:
            issued = staff.issue(session, args.email, days)
    except (LookupError, ValueError) as error:
        print(f"privacybot: {error}", file=sys.stderr)
        return 2
    print(issued.secret)
    print(
        f"token id {issued.id}, expires {issued.expires_at:%Y-%m-%d %H:%M} UTC; "
        f"revoke with: privacybot staff revoke {issued.id}",
        file=sys.stderr,
    )
    return 0


def cmd_staff_revoke(args: argparse.Namespace) -> int:
    from casework import staff

    url = load_settings().database_url
    db.upgrade(url)
    try:
        with db.session_scope(url) as session:
            count = staff.revoke(session, args.who)
    except LookupError as error:
        print(f"privacybot: {error}", file=sys.stderr)
        return 2
    ended = " and signed its inbox sessions out" if "@" in args.who else ""
    print(f"revoked {count} token(s){ended}")
    return 0


def cmd_suppressions_check(args: argparse.Namespace) -> int:
    """The same answer as GET /api/suppressions, as JSON; the exit code says it too."""
    import json

    from casework import suppressions
    from casework.pseudonym import pseudonym_secret

    settings = load_settings()
    db.upgrade(settings.database_url)
    with db.session_scope(settings.database_url) as session:
        try:
            result = suppressions.status(
                session,
                org=args.org or settings.org,
                channel=args.channel,
                contact=args.contact,
                secret=pseudonym_secret(settings),
            )
        except suppressions.InvalidContact as error:
            print(f"privacybot: {error}", file=sys.stderr)
            return 2
    print(json.dumps(result))
    return 0 if result["suppressed"] else 1
