"""The `privacybot` command line. Each sub-command imports its part lazily, so
`privacybot staff add` never loads torch and `privacybot ask` never loads Flask."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence


def _lazy(target: str) -> Callable[[argparse.Namespace], int]:
    module_name, func_name = target.split(":")

    def run(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(module_name), func_name)(args)

    return run


def _run(args: argparse.Namespace) -> int:
    module = "privacybot.scaled" if getattr(args, "scaled", False) else "privacybot.runner"
    return _lazy(f"{module}:cmd_run")(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="privacybot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer privacy questions from the notice index")
    mode = ask.add_mutually_exclusive_group(required=True)
    mode.add_argument("--json", action="store_true", help="answer QUESTION, print one JSON object")
    mode.add_argument("--jsonl", action="store_true", help="one question per stdin line")
    ask.add_argument("--org", default=None, help="organisation id (default: $ORG)")
    ask.add_argument("--index", default=None, help="index directory from `privacybot index`")
    ask.add_argument("--notice", default=None, help="restrict retrieval to one notice id")
    ask.add_argument("question", nargs="?", default=None)
    ask.set_defaults(func=_lazy("knowledge.commands:cmd_ask"))

    index = sub.add_parser("index", help="build a notice index")
    index.add_argument("--notices", default=None, help="folder of .txt/.md notices")
    index.add_argument("--out", default=None, help="index directory to write")
    index.add_argument("--all", action="store_true", help="(re)build every org's index if stale")
    index.add_argument("--force", action="store_true", help="rebuild even if up to date")
    index.set_defaults(func=_lazy("knowledge.commands:cmd_index"))

    ev = sub.add_parser("eval", help="score the index on a question file and PrivacyQA")
    ev.add_argument("--questions", default=None, help="YAML in the dev_questions format")
    ev.add_argument("--privacyqa", default=None, help="folder with the PrivacyQA files")
    ev.add_argument("--clinc", default=None, help="CLINC150 data_full.json")
    ev.add_argument(
        "--sets", action="store_true", help="also score each set in knowledge/eval/, per style"
    )
    ev.add_argument("--out", default=None, help="write the JSON report here")
    ev.set_defaults(func=_lazy("knowledge.commands:cmd_eval"))

    db = sub.add_parser("db", help="casework database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply Alembic migrations").set_defaults(
        func=_lazy("privacybot.casework_commands:cmd_upgrade")
    )
    purge = db_sub.add_parser("purge", help="delete transcripts past their retention period")
    purge.add_argument(
        "--every", type=float, default=None, metavar="SECONDS", help="repeat until SIGTERM"
    )
    purge.set_defaults(func=_lazy("privacybot.casework_commands:cmd_purge"))

    staff = sub.add_parser("staff", help="staff accounts for the handoff inbox")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_sub.add_parser("add", help="create or update a staff account")
    add.add_argument("email")
    add.add_argument("--role", choices=["agent", "admin"], default="agent")
    add.add_argument("--name", default=None)
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(func=_lazy("privacybot.casework_commands:cmd_staff_add"))
    token = staff_sub.add_parser("token", help="issue an API bearer token for a staff account")
    token.add_argument("email")
    token.add_argument(
        "--days",
        type=int,
        default=None,
        help="lifetime (default: $STAFF_TOKEN_DAYS or 90)",
    )
    token.set_defaults(func=_lazy("privacybot.casework_commands:cmd_staff_token"))
    revoke = staff_sub.add_parser(
        "revoke", help="revoke one API token (by id) or every token and session of an account"
    )
    revoke.add_argument("who", metavar="EMAIL_OR_TOKEN_ID")
    revoke.set_defaults(func=_lazy("privacybot.casework_commands:cmd_staff_revoke"))

    sup = sub.add_parser("suppressions", help="the marketing suppression list")
    sup_sub = sup.add_subparsers(dest="suppressions_command", required=True)
    check = sup_sub.add_parser(
        "check", help="is a contact suppressed? exit 0 if so, 1 if not, 2 if invalid"
    )
    check.add_argument("channel", choices=["email", "sms", "phone", "post"])
    check.add_argument("contact", help="e-mail, phone number, or postal address with postcode")
    check.add_argument("--org", default=None, help="organisation id (default: $ORG)")
    check.set_defaults(func=_lazy("privacybot.casework_commands:cmd_suppressions_check"))

    run = sub.add_parser("run", help="start rasa, actions and web; stop all on Ctrl-C")
    run.add_argument(
        "--scaled",
        action="store_true",
        help="the scale-out profile on one machine: PostgreSQL, Redis, two rasa, two actions",
    )
    run.set_defaults(func=_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from privacybot.settings import ConfigError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as error:
        print(f"privacybot: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
