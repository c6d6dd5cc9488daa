"""`make bench`: quality, latency and memory of the whole product, in one report.

Writes <out>/report.json and <out>/report.md. Speed targets live here, not in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from privacybot.runner import free_port, make_stack
from tests.conftest import BUILD_DATA_DIR

BENCH_LIMITS = {
    # Latency is measured to the answer, not to a holding reply.
    "HOLDING_REPLY_AFTER": "120",
    # the routing set opens one conversation per item, all from 127.0.0.1
    "RATE_LIMIT_NEW_CHAT": "1000/minute",
    # the load bench's residents write faster than a person does
    "RATE_LIMIT_CHAT": "1000/minute",
    "RATE_LIMIT_SMS": "1000/minute",
}


def _start_stack(tmp: Path):  # noqa: ANN202 - a privacybot.runner.Stack
    (tmp / "index").symlink_to(BUILD_DATA_DIR / "index", target_is_directory=True)
    web_port = free_port()
    stack = make_stack(
        {
            "DATA_DIR": str(tmp),
            "DATABASE_URL": f"sqlite:///{tmp / 'casework.db'}",
            "WEB_PORT": str(web_port),
            "RASA_PORT": str(free_port()),
            "ACTIONS_PORT": str(free_port()),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
            **BENCH_LIMITS,
        }
    )
    stack.start(log_dir=tmp / "logs")
    stack.wait_ready()
    return stack


def _start_scaled(tmp: Path):  # noqa: ANN202 - a privacybot.scaled.ScaledStack
    """The `make run-scaled` profile (throwaway PostgreSQL and Redis, two Rasa instances
    each with its action server, several web workers), with the bench's settings."""
    from privacybot.scaled import make_scaled_stack

    (tmp / "index").symlink_to(BUILD_DATA_DIR / "index", target_is_directory=True)
    web_port = free_port()
    given = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_HOST")}
    scaled = make_scaled_stack(
        given,
        {
            "DATA_DIR": str(tmp),
            "WEB_PORT": str(web_port),
            "RASA_PORT": str(free_port()),
            "ACTIONS_PORT": str(free_port()),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
            **BENCH_LIMITS,
        },
    )
    scaled.start(tmp / "logs")
    scaled.stack.wait_ready(timeout=400)
    return scaled


def _keep_logs(tmp: Path, out: Path) -> None:
    """The processes' logs outlive the throwaway data directory: a lost message is
    looked up there."""
    if (tmp / "logs").is_dir():
        shutil.copytree(tmp / "logs", out / "logs", dirs_exist_ok=True)


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "# privacybot benchmark report",
        "",
        f"Machine: {report['machine']}. Run at {report['started']}.",
        "",
    ]
    for section, figures in report["sections"].items():
        lines += [f"## {section}", "", "```json", json.dumps(figures, indent=2), "```", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(BUILD_DATA_DIR / "bench"))
    parser.add_argument("--skip-stack", action="store_true", help="knowledge index only")
    parser.add_argument("--load-only", action="store_true", help="the load and soak run only")
    parser.add_argument(
        "--records-only", action="store_true", help="the wrong-records residents only"
    )
    parser.add_argument(
        "--scaled",
        action="store_true",
        help="the load and soak run only, against the scale-out profile (make run-scaled)",
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "sections": {},
    }
    if args.scaled:
        from tests.bench.load_bench import run_load_bench

        with tempfile.TemporaryDirectory() as tmp:
            scaled = _start_scaled(Path(tmp))
            try:
                report["sections"]["Load and soak, scale-out profile (16 residents)"] = (
                    run_load_bench(scaled.stack)
                )
            finally:
                scaled.stack.stop()
                _keep_logs(Path(tmp), out)
                scaled.cleanup()
    elif args.records_only:
        from tests.bench.records_bench import run_records_bench

        with tempfile.TemporaryDirectory() as tmp:
            stack = _start_stack(Path(tmp))
            try:
                report["sections"]["Wrong records (scripted residents)"] = run_records_bench(stack)
            finally:
                stack.stop()
    elif not args.load_only:
        from tests.bench.knowledge_bench import run_knowledge_bench

        report["sections"]["Knowledge index"] = run_knowledge_bench()
    if not (args.skip_stack or args.scaled or args.records_only):
        from tests.bench.dialogue_bench import run_dialogue_bench
        from tests.bench.load_bench import run_load_bench
        from tests.bench.records_bench import run_records_bench
        from tests.bench.routing_bench import run_routing_bench
        from tests.bench.web_bench import run_web_bench

        with tempfile.TemporaryDirectory() as tmp:
            stack = _start_stack(Path(tmp))
            try:
                if not args.load_only:
                    report["sections"]["Routing of first messages (POST /api/chat)"] = (
                        run_routing_bench(stack.web_url, stack.rasa_url, stack.rasa_token)
                    )
                    report["sections"]["Dialogue (Rasa + actions)"] = run_dialogue_bench(stack)
                    report["sections"]["Wrong records (scripted residents)"] = run_records_bench(
                        stack
                    )
                    report["sections"]["Web and SMS endpoints"] = run_web_bench(stack)
                report["sections"]["Load and soak (16 residents, web + SMS)"] = run_load_bench(
                    stack
                )
            finally:
                stack.stop()
                _keep_logs(Path(tmp), out)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    (out / "report.md").write_text(_markdown(report))
    print(_markdown(report))
    print(f"written to {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
