"""Load and soak: simulated residents, half over web chat (POST /api/chat), half over
signed SMS (POST /sms/inbound), 16 at once, in rounds until a message count or a time
budget is reached. Reported: per-message p50/p95 and throughput per channel, errors,
lost messages (accepted but never stored or never answered), RSS growth of every
process group over the rounds (a leak shows as steady growth after the first round),
CPU milliseconds per message of each group (rasa, actions, web: the user and system
time of each process tree over the run; unlike latency it hardly depends on what else
the machine runs), and, in the same run and under the same load, one more resident
sending the same turns straight to Rasa's REST channel, as the ratio web/direct: what
the web side adds.

SMS latency is receipt to answer (the inbound message's processed_at - created_at, as
stored): Twilio gets its TwiML at once and the reply is sent after the answer.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests
from sqlalchemy import select

from tests.bench.web_bench import _percentile, inbound_sms

RESIDENTS = int(os.environ.get("BENCH_LOAD_RESIDENTS", "16"))
MAX_MESSAGES = int(os.environ.get("BENCH_LOAD_MAX_MESSAGES", "640"))
MAX_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "300"))
SETTLE_SECONDS = 120.0
# One resident's conversation: a greeting, questions from the notices, a thank-you.
TURNS = (
    "hello",
    "what personal data do you keep about me?",
    "who do you share my data with?",
    "how long do you keep my rent records?",
    "thanks",
)


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    conversation_ids: list[str] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)
    # Web turns answered with the holding reply (the answer came later, by polling), and
    # the message ids of any HTTP 200 that carried no message at all.
    held: int = 0
    empty_ids: list[int] = field(default_factory=list)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def _figures(latencies: list[float], seconds: float) -> dict[str, Any]:
    return {
        "messages": len(latencies),
        "p50_ms": round(_percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(_percentile(latencies, 95) * 1000, 1),
        "throughput_per_s": round(len(latencies) / seconds, 2) if seconds else None,
    }


def _web_resident(web_url: str, tally: Tally) -> None:
    http = requests.Session()
    conversation_id: str | None = None
    for text in TURNS:
        body: dict[str, Any] = {"text": text}
        if conversation_id:
            body["conversation_id"] = conversation_id
        started = time.perf_counter()
        try:
            response = http.post(f"{web_url}/api/chat", json=body, timeout=120)
        except requests.RequestException:
            tally.error("web connection")
            continue
        if response.status_code != 200:
            tally.error(f"web {response.status_code}")
            continue
        answer = response.json()
        if not answer.get("messages"):
            tally.error("web 200 without messages")
            tally.empty_ids.append(answer.get("message_id"))
        elif answer.get("pending"):
            tally.held += 1
        else:
            tally.latencies.append(time.perf_counter() - started)
        conversation_id = answer["conversation_id"]
    if conversation_id:
        tally.conversation_ids.append(conversation_id)


def _sms_resident(stack: Any, phone: str, tally: Tally) -> None:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(stack.settings.twilio_auth_token)
    signed_url = stack.settings.public_base_url + "/sms/inbound"
    account = stack.env.get("TWILIO_ACCOUNT_SID") or "AC" + "0" * 32
    for text in TURNS:
        params = inbound_sms(account, phone, text)
        headers = {"X-Twilio-Signature": validator.compute_signature(signed_url, params)}
        try:
            response = requests.post(
                f"{stack.web_url}/sms/inbound", data=params, headers=headers, timeout=60
            )
        except requests.RequestException:
            tally.error("sms connection")
            continue
        if response.status_code != 200:
            tally.error(f"sms {response.status_code}")
            continue
        tally.sids.append(params["MessageSid"])
        wait_answered(stack.database_url, params["MessageSid"])  # a resident reads first


def wait_answered(database_url: str, sid: str, timeout: float = 120.0) -> None:
    from casework.db import session_scope
    from casework.models import Message

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(database_url) as session:
            done = session.scalar(select(Message.processed_at).where(Message.external_id == sid))
        if done is not None:
            return
        time.sleep(0.25)


def _sms_latencies(database_url: str, sids: list[str]) -> tuple[list[float], int, int]:
    """Receipt-to-answer seconds of the answered SMS; how many were stored; answered."""
    from casework.db import session_scope
    from casework.models import Message

    with session_scope(database_url) as session:
        rows = session.execute(
            select(Message.created_at, Message.processed_at).where(Message.external_id.in_(sids))
        ).all()
    answered = [(done - made).total_seconds() for made, done in rows if done is not None]
    return answered, len(rows), len(answered)


def _web_stored(database_url: str, conversation_ids: list[str]) -> tuple[int, list[int]]:
    """How many web messages were stored; the ids of those not answered."""
    from casework.db import session_scope
    from casework.models import Message

    with session_scope(database_url) as session:
        rows = session.execute(
            select(Message.id, Message.processed_at).where(
                Message.conversation_id.in_(conversation_ids), Message.direction == "in"
            )
        ).all()
    return len(rows), [message_id for message_id, done in rows if done is None]


def _group_rss_mb(leader_pid: int) -> float:
    """Resident memory of a child's whole process group (gunicorn and Sanic workers)."""
    total_kb = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != leader_pid:  # field 5 of stat: the process group
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return round(total_kb / 1024, 1)


def _rss(processes: Iterable[Any]) -> dict[str, float]:
    return {p.name: _group_rss_mb(p.popen.pid) for p in processes if p.running}


def _tree_cpu_seconds(leader_pid: int) -> float:
    """User + system CPU of a child and all its descendants (Sanic and gunicorn workers),
    and of the children it has already reaped."""
    try:
        leader = psutil.Process(leader_pid)
        tree = [leader, *leader.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in tree:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def _cpu(processes: Iterable[Any]) -> dict[str, float]:
    """CPU seconds per process group: "rasa-5006" counts with "rasa"."""
    groups: dict[str, float] = {}
    for p in processes:
        if p.running:
            group = p.name.split("-")[0]
            groups[group] = groups.get(group, 0.0) + _tree_cpu_seconds(p.popen.pid)
    return groups


def _cpu_by_process(processes: Iterable[Any]) -> dict[str, float]:
    return {p.name: _tree_cpu_seconds(p.popen.pid) for p in processes if p.running}


def cpu_ms_per_message(
    before: dict[str, float], after: dict[str, float], through_web: int, direct: int
) -> dict[str, float | None]:
    """CPU ms per message of each group. Rasa and the action server also run the direct
    probe's turns; the web side (and anything else) only the web and SMS messages."""
    figures: dict[str, float | None] = {}
    for group, seconds in after.items():
        messages = through_web + direct if group in ("rasa", "actions") else through_web
        used = seconds - before.get(group, 0.0)
        figures[group] = round(used * 1000 / messages, 1) if messages else None
    return figures


def _round(stack: Any, round_no: int, tally: Tally) -> None:
    web_residents = RESIDENTS // 2
    with ThreadPoolExecutor(max_workers=RESIDENTS) as pool:
        futures = [pool.submit(_web_resident, stack.web_url, tally) for _ in range(web_residents)]
        futures += [
            pool.submit(_sms_resident, stack, f"+4477009{round_no:02d}{i:03d}", tally)
            for i in range(RESIDENTS - web_residents)
        ]
        for future in futures:
            future.result()


def _probe(rasa_url: str, latencies: list[float], stop: threading.Event) -> None:
    """One more resident, talking to Rasa directly the whole time the load runs: it sees
    the same machine load, so web/direct is what the web side adds."""
    while not stop.is_set():
        _direct_resident(rasa_url, latencies)


def _direct_resident(rasa_url: str, latencies: list[float]) -> None:
    """A web resident's turns straight to Rasa: what the web side adds is the difference."""
    sender = f"bench-direct-{uuid.uuid4().hex[:10]}"
    for text in TURNS:
        started = time.perf_counter()
        response = requests.post(
            f"{rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=120,
        )
        if response.ok:
            latencies.append(time.perf_counter() - started)


def run_load_bench(
    stack: Any, max_messages: int = MAX_MESSAGES, max_seconds: float = MAX_SECONDS
) -> dict[str, Any]:
    per_round = RESIDENTS * len(TURNS)
    tally = Tally()
    rss_start = _rss(stack.processes)
    cpu_start = _cpu(stack.processes)
    cpu_by_process_start = _cpu_by_process(stack.processes)
    rss_rounds: list[dict[str, float]] = []
    started = time.monotonic()
    rounds = 0
    direct: list[float] = []
    stop = threading.Event()
    probe = threading.Thread(target=_probe, args=(stack.rasa_url, direct, stop), daemon=True)
    probe.start()
    while rounds * per_round < max_messages and time.monotonic() - started < max_seconds:
        _round(stack, rounds, tally)
        rounds += 1
        rss_rounds.append(_rss(stack.processes))
    stop.set()
    probe.join(timeout=300)
    seconds = time.monotonic() - started
    deadline = time.monotonic() + SETTLE_SECONDS
    sms, sms_stored, sms_answered = _sms_latencies(stack.database_url, tally.sids)
    while sms_answered < len(tally.sids) and time.monotonic() < deadline:
        time.sleep(0.5)
        sms, sms_stored, sms_answered = _sms_latencies(stack.database_url, tally.sids)
    # A held web message is answered by the retry loop a little later.
    web_stored, web_unanswered = _web_stored(stack.database_url, tally.conversation_ids)
    while web_unanswered and time.monotonic() < deadline:
        time.sleep(0.5)
        web_stored, web_unanswered = _web_stored(stack.database_url, tally.conversation_ids)
    cpu_end = _cpu(stack.processes)
    cpu_by_process_end = _cpu_by_process(stack.processes)
    web = _figures(tally.latencies, seconds)
    direct_figures = _figures(direct, seconds)
    first = rss_rounds[0] if rss_rounds else rss_start
    last = rss_rounds[-1] if rss_rounds else rss_start
    return {
        "load": {
            "concurrent_residents": RESIDENTS,
            "web_residents_per_round": RESIDENTS // 2,
            "sms_residents_per_round": RESIDENTS - RESIDENTS // 2,
            "messages_per_resident": len(TURNS),
            "rounds": rounds,
            "seconds": round(seconds, 1),
            "bounds": {"max_messages": max_messages, "max_seconds": max_seconds},
        },
        "web_post_api_chat": web,
        "sms_receipt_to_answer": _figures(sms, seconds),
        "all_messages_per_s": round((len(tally.latencies) + len(sms)) / seconds, 2),
        "errors": tally.errors,
        "web_holding_replies": tally.held,
        "web_empty_200_message_ids": tally.empty_ids,
        "lost": {
            "web_accepted_not_stored": max(len(tally.latencies) + tally.held - web_stored, 0),
            "web_stored_not_answered": len(web_unanswered),
            "web_unanswered_message_ids": web_unanswered[:20],
            "sms_accepted_not_stored": len(tally.sids) - sms_stored,
            "sms_stored_not_answered": sms_stored - sms_answered,
        },
        "rss_mb": {"start": rss_start, "after_first_round": first, "end": last},
        # Growth after the first round (warm-up: caches, the index's first use); null
        # with a single round.
        "rss_growth_mb_after_first_round": {
            name: round(last.get(name, 0.0) - first.get(name, 0.0), 1) if rounds > 1 else None
            for name in last
        },
        "cpu_ms_per_message": cpu_ms_per_message(
            cpu_start, cpu_end, len(tally.latencies) + len(sms), len(direct)
        ),
        "cpu_seconds": {
            group: round(cpu_end[group] - cpu_start.get(group, 0.0), 1) for group in cpu_end
        },
        # Per process: with two Rasa instances, whether both took conversations.
        "cpu_seconds_by_process": {
            name: round(seconds - cpu_by_process_start.get(name, 0.0), 1)
            for name, seconds in cpu_by_process_end.items()
        },
        "rasa_direct_one_probe_resident_during_the_load": direct_figures,
        "web_over_rasa_direct": {
            "p50": round(web["p50_ms"] / direct_figures["p50_ms"], 2) if direct else None,
            "p95": round(web["p95_ms"] / direct_figures["p95_ms"], 2) if direct else None,
        },
    }
