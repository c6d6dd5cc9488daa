"""Pseudonymous keys for residents: an HMAC of a contact detail, never the detail itself."""

from __future__ import annotations

import hashlib
import hmac
import re


def normalise_phone(number: str) -> str:
    """E.164-ish form of a UK number: '07700 900123' -> '+447700900123'."""
    digits = re.sub(r"[^\d+]", "", number)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("0"):
        digits = "+44" + digits[1:]
    return digits


def mask_phone(number: str) -> str:
    """For logs and staff lists: '+447700900123' -> '+44******123'."""
    number = normalise_phone(number)
    return number[:3] + "*" * max(len(number) - 6, 0) + number[-3:]


def subject_key(address: str, secret: str) -> str:
    value = normalise_phone(address) if re.fullmatch(r"[\d\s+()-]{7,}", address) else address
    return hmac.new(secret.encode(), value.strip().lower().encode(), hashlib.sha256).hexdigest()
