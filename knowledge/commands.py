"""`privacybot ask|index|eval` (wired in privacybot/cli.py)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def _org(args: argparse.Namespace) -> str:
    return args.org or os.environ.get("ORG") or "barnet-homes"


def _emit(obj: dict) -> None:
    line = json.dumps(obj, ensure_ascii=False)
    # Undecodable input (lone surrogates from argv) must not crash the write.
    sys.stdout.write(line.encode("utf-8", "replace").decode("utf-8") + "\n")
    sys.stdout.flush()


def cmd_ask(args: argparse.Namespace) -> int:
    from knowledge.answer import get_answerer

    org: str | None = _org(args)
    if args.index and not args.org and not os.environ.get("ORG"):
        org = None  # a free-standing index: every notice in it, no org config
    try:
        answerer = get_answerer(org, args.index)
    except (KeyError, FileNotFoundError, ValueError) as exc:
        print(f"privacybot ask: {exc}", file=sys.stderr)
        return 2
    if answerer.org is None:
        answerer.org = answerer.bundle.manifest.get("org") or Path(args.index).name
    if args.json:
        if args.question is None:
            print("privacybot ask --json: give the QUESTION as an argument", file=sys.stderr)
            return 2
        _emit(answerer.ask(args.question, notice=args.notice))
        return 0
    if hasattr(sys.stdin, "reconfigure"):  # binary garbage becomes U+FFFD, then "unreadable"
        sys.stdin.reconfigure(errors="replace")
    for line in sys.stdin:  # --jsonl: one question per line, model loaded once
        _emit(answerer.ask(line.rstrip("\r\n"), notice=args.notice))
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from knowledge.index import build_index, build_org_index, data_dir
    from knowledge.ingest import NoticeError, load_notices

    try:
        if args.notices:
            notices = load_notices(args.notices)
            out = Path(args.out) if args.out else data_dir() / "index" / Path(args.notices).name
            started = time.perf_counter()
            path, built = build_index(notices, out, force=args.force, progress=True)
            _report(str(path), built, time.perf_counter() - started, path)
            return 0
        from privacybot.orgs import available_orgs

        if args.out:
            print(
                "privacybot index: --out needs --notices (use --all for org indexes)",
                file=sys.stderr,
            )
            return 2
        for org in available_orgs():  # --all (also the default)
            started = time.perf_counter()
            path, built = build_org_index(org, force=args.force, progress=True)
            _report(org, built, time.perf_counter() - started, path)
        return 0
    except (NoticeError, FileNotFoundError, KeyError, ValueError) as exc:
        print(f"privacybot index: {exc}", file=sys.stderr)
        return 1


def _report(name: str, built: bool, seconds: float, path: Path) -> None:
    if not built:
        print(f"{name}: up to date ({path})")
        return
    manifest = json.loads((path / "manifest.json").read_text())
    print(f"{name}: built {manifest['passages']} passages in {seconds:.1f}s -> {path}")


def cmd_eval(args: argparse.Namespace) -> int:
    from knowledge.evaluate import run_eval, summary_lines

    report = run_eval(args.questions, args.privacyqa, args.clinc, sets=args.sets)
    for line in summary_lines(report):
        print(line)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1, ensure_ascii=False))
        print(f"report written to {args.out}")
    return 0
