"""Web and SMS endpoint latency under a bounded concurrent load, on loopback, against a
running stack (rasa + actions + web), with a count of stored messages: none may be lost.

The load stays under the per-sender rate limits on purpose: it measures the service,
not the limiter. Chat latency includes Rasa's answer (the resident waits for it); SMS
latency is the webhook's TwiML answer (Twilio waits for that; the reply goes later).
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from sqlalchemy import func, select

QUESTIONS = [
    "hello",
    "what personal data do you keep about me?",
    "how long do you keep my rent records?",
    "who do you share my data with?",
]


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def _summary(latencies: list[float], errors: dict[int, int], seconds: float) -> dict[str, Any]:
    return {
        "requests": len(latencies) + sum(errors.values()),
        "ok": len(latencies),
        "errors_by_status": {str(k): v for k, v in sorted(errors.items())},
        "p50_ms": round(_percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(_percentile(latencies, 95) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "throughput_per_s": round(len(latencies) / seconds, 1) if seconds else None,
    }


def _run(
    jobs: list[Callable[[], tuple[float, int]]], concurrency: int
) -> tuple[list[float], dict[int, int], float]:
    latencies: list[float] = []
    errors: dict[int, int] = {}
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for elapsed, status in pool.map(lambda job: job(), jobs):
            if 200 <= status < 300:
                latencies.append(elapsed)
            else:
                errors[status] = errors.get(status, 0) + 1
    return latencies, errors, time.monotonic() - started


def _timed(fn: Callable[[], requests.Response]) -> tuple[float, int]:
    start = time.perf_counter()
    try:
        status = fn().status_code
    except requests.RequestException:
        status = 599
    return time.perf_counter() - start, status


def bench_chat(
    stack: Any, conversations: int, concurrency: int
) -> tuple[dict[str, Any], list[str]]:
    """Each worker plays one resident: a conversation of len(QUESTIONS) messages."""
    url = f"{stack.web_url}/api/chat"
    ids: list[str] = []
    latencies: list[float] = []
    errors: dict[int, int] = {}

    def resident(_: int) -> None:
        http = requests.Session()
        conversation_id = None
        for text in QUESTIONS:
            body: dict[str, Any] = {"text": text}
            if conversation_id:
                body["conversation_id"] = conversation_id
            start = time.perf_counter()
            try:
                response = http.post(url, json=body, timeout=120)
                status = response.status_code
            except requests.RequestException:
                status, response = 599, None
            elapsed = time.perf_counter() - start
            if response is not None and response.headers.get("Content-Type", "").startswith(
                "application/json"
            ):
                conversation_id = response.json().get("conversation_id") or conversation_id
            if 200 <= status < 300:
                latencies.append(elapsed)
            else:
                errors[status] = errors.get(status, 0) + 1
        if conversation_id:
            ids.append(conversation_id)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(resident, range(conversations)))
    return _summary(latencies, errors, time.monotonic() - started), ids


def inbound_sms(account: str, phone: str, body: str) -> dict[str, str]:
    """The form Twilio posts to /sms/inbound for one text (sign it before sending)."""
    return {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": account,
        "From": phone,
        "To": "+447700900000",
        "Body": body,
        "NumMedia": "0",
    }


def bench_sms(
    stack: Any, phones: int, per_phone: int, concurrency: int
) -> tuple[dict[str, Any], list[str]]:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(stack.settings.twilio_auth_token)
    url = stack.settings.public_base_url + "/sms/inbound"
    account = stack.env.get("TWILIO_ACCOUNT_SID") or "AC" + "0" * 32
    sids: list[str] = []
    jobs = []
    for p in range(phones):
        phone = f"+4477009{p:05d}"
        for i in range(per_phone):
            params = inbound_sms(account, phone, QUESTIONS[i % len(QUESTIONS)])
            sids.append(params["MessageSid"])
            signature = validator.compute_signature(url, params)
            jobs.append(
                lambda params=params, signature=signature: _timed(
                    lambda: requests.post(
                        f"{stack.web_url}/sms/inbound",
                        data=params,
                        headers={"X-Twilio-Signature": signature},
                        timeout=60,
                    )
                )
            )
    latencies, errors, seconds = _run(jobs, concurrency)
    return _summary(latencies, errors, seconds), sids


def _stored(stack: Any, conversation_ids: list[str], sids: list[str]) -> dict[str, int]:
    from casework.db import session_scope
    from casework.models import Message

    with session_scope(stack.database_url) as session:
        web_in = session.scalar(
            select(func.count()).where(
                Message.conversation_id.in_(conversation_ids), Message.direction == "in"
            )
        )
        web_answered = session.scalar(
            select(func.count()).where(
                Message.conversation_id.in_(conversation_ids),
                Message.direction == "in",
                Message.processed_at.is_not(None),
            )
        )
        sms_in = session.scalar(select(func.count()).where(Message.external_id.in_(sids)))
        sms_answered = session.scalar(
            select(func.count()).where(
                Message.external_id.in_(sids), Message.processed_at.is_not(None)
            )
        )
    return {
        "web_in": int(web_in or 0),
        "web_processed": int(web_answered or 0),
        "sms_in": int(sms_in or 0),
        "sms_processed": int(sms_answered or 0),
    }


def run_web_bench(
    stack: Any,
    conversations: int = 16,
    phones: int = 16,
    per_phone: int = 3,
    concurrency: int = 8,
    settle_seconds: float = 120.0,
) -> dict[str, Any]:
    chat, conversation_ids = bench_chat(stack, conversations, concurrency)
    sms, sids = bench_sms(stack, phones, per_phone, concurrency)
    expected_web = chat["ok"]
    deadline = time.monotonic() + settle_seconds
    counts = _stored(stack, conversation_ids, sids)
    while time.monotonic() < deadline and counts["sms_processed"] < len(sids):
        time.sleep(0.5)  # SMS are answered by background jobs after the TwiML
        counts = _stored(stack, conversation_ids, sids)
    return {
        "load": {
            "concurrency": concurrency,
            "chat_conversations": conversations,
            "chat_messages_each": len(QUESTIONS),
            "sms_phones": phones,
            "sms_messages_each": per_phone,
        },
        "chat_post_api_chat": chat,
        "sms_post_sms_inbound": sms,
        "stored": counts,
        "lost_web_messages": max(expected_web - counts["web_in"], 0),
        "lost_sms_messages": len(sids) - counts["sms_in"],
        "sms_unanswered_after_settle": len(sids) - counts["sms_processed"],
    }
