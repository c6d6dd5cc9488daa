"""The scale-out profile on one machine (`privacybot run --scaled`, `make run-scaled`):
PostgreSQL for casework and the Rasa tracker store, Redis for the Rasa lock store and
the web side's rate limits, two Rasa instances each with its own action server, and
several gunicorn workers spreading conversations over the Rasa instances (RASA_URLS).

PostgreSQL and Redis are throwaway servers run in the foreground as supervised
children (gone when the stack stops, however it stops), unless DATABASE_URL /
REDIS_HOST name real ones. docs/deployment.md maps this onto several machines.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from privacybot.runner import (
    Process,
    Stack,
    actions_process,
    configure_logging,
    demo_overrides,
    free_port,
    make_stack,
    rasa_process,
    serve,
)
from privacybot.services import ThrowawayPostgres, ThrowawayRedis, remove_stale, wait_for_port

WEB_WORKERS = 3


@dataclass
class ScaledStack:
    """The stack plus what the profile started around it."""

    stack: Stack
    rasa_ports: list[int]
    actions_ports: list[int]
    web_workers: int = WEB_WORKERS
    postgres: ThrowawayPostgres | None = None
    redis: ThrowawayRedis | None = None
    extra: list[Process] = field(default_factory=list)

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.rasa_ports]

    def start(self, log_dir: Path) -> ScaledStack:
        """Databases first (migrations need them), then the usual children, then the
        second Rasa and action server; all supervised and stopped together."""
        if self.postgres:
            self._start_service(
                "postgres", self.postgres.foreground_argv(), self.postgres.root, log_dir
            )
            self.postgres.wait_ready()
            for name in ("casework", "tracker"):
                self.postgres.create_database(name)
        if self.redis:
            self._start_service("redis", self.redis.foreground_argv(), self.redis.dir, log_dir)
            wait_for_port(self.redis.port)
        self.stack.start(log_dir=log_dir, web_workers=self.web_workers)
        for rasa_port, actions_port in zip(
            self.rasa_ports[1:], self.actions_ports[1:], strict=True
        ):
            self.stack.add(actions_process(self.stack, actions_port), log_dir)
            second = rasa_process(self.stack, rasa_port)
            # Each Rasa calls its own action server: the answer work (torch, the index) is
            # spread like the dialogue work.
            second.env["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{actions_port}/webhook"
            self.stack.add(second, log_dir)
        return self

    def _start_service(self, name: str, argv: list[str], cwd: Path, log_dir: Path) -> None:
        self.stack.add(Process(name, argv, None, cwd=cwd, env=dict(self.stack.env)), log_dir)

    def cleanup(self) -> None:
        """After stack.stop(): the throwaway servers' files."""
        for service in (self.postgres, self.redis):
            if service:
                service.remove()


def make_scaled_stack(
    environ: Mapping[str, str], overrides: Mapping[str, str] | None = None, instances: int = 2
) -> ScaledStack:
    """Ports, URLs and throwaway servers for the profile; nothing started yet."""
    overrides = dict(overrides or {})
    given = {**environ, **overrides}
    # What a SIGKILLed run left (its PostgreSQL files hold casework data) goes now.
    remove_stale(Path(tempfile.gettempdir()))
    postgres = None if given.get("DATABASE_URL") else ThrowawayPostgres()
    redis = None if given.get("REDIS_HOST") else ThrowawayRedis()
    if postgres:
        postgres.init()
        overrides["DATABASE_URL"] = postgres.url("casework")
        overrides["TRACKER_URL"] = postgres.url("tracker")
    if redis:
        overrides.update(REDIS_HOST="127.0.0.1", REDIS_PORT=str(redis.port))
    overrides.setdefault("REDIS_PORT", given.get("REDIS_PORT", "6379"))
    rasa_ports = [int(given.get("RASA_PORT", "5005"))] + [free_port() for _ in range(instances - 1)]
    actions_ports = [int(given.get("ACTIONS_PORT", "5055"))]
    actions_ports += [free_port() for _ in range(instances - 1)]
    overrides["RASA_URLS"] = ",".join(f"http://127.0.0.1:{port}" for port in rasa_ports)
    # The web side's health checks reach every action server, paired with its Rasa.
    overrides["ACTION_ENDPOINT_URLS"] = ",".join(
        f"http://127.0.0.1:{port}/webhook" for port in actions_ports
    )
    stack = make_stack(overrides)
    return ScaledStack(stack, rasa_ports, actions_ports, postgres=postgres, redis=redis)


def cmd_run(args: argparse.Namespace) -> int:
    """`privacybot run --scaled`."""
    configure_logging()
    return cmd_run_scaled(demo_overrides(os.environ))


def cmd_run_scaled(overrides: Mapping[str, str]) -> int:
    scaled = make_scaled_stack(os.environ, overrides)
    stack = scaled.stack
    log_dir = stack.data_dir / "logs" / "scaled"
    started = ", ".join(
        name
        for name, service in (("PostgreSQL", scaled.postgres), ("Redis", scaled.redis))
        if service
    )
    print(
        f"Scaled profile: {started or 'given databases'}, {len(scaled.rasa_ports)} rasa + actions, "
        f"{scaled.web_workers} web workers; rasa takes 30-60 s to load its model...",
        flush=True,
    )
    print(f"Rasa instances: {', '.join(scaled.rasa_urls)}", flush=True)
    # Only the throwaway servers: a given DATABASE_URL may carry a password.
    if scaled.postgres:
        print(f"Throwaway PostgreSQL: {scaled.postgres.url('casework')}", flush=True)
    if scaled.redis:
        print(f"Throwaway Redis: 127.0.0.1:{scaled.redis.port}", flush=True)
    try:
        return serve(stack, log_dir, start=lambda: scaled.start(log_dir))
    finally:
        scaled.cleanup()
