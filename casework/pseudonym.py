"""Pseudonymous keys for residents: an HMAC of a contact detail, never the detail itself."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Protocol


class HasKeys(Protocol):
    """What pseudonym_secret needs of the settings (privacybot.settings.Settings has it)."""

    secret_key: str


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


def pseudonym_secret(settings: HasKeys) -> str:
    """The key every contact HMAC is made with. One function, so the SMS conversation
    key and the suppression ledger can never disagree; a dedicated PSEUDONYM_KEY
    setting (`settings.pseudonym_key`) takes over from SECRET_KEY when it exists."""
    return str(getattr(settings, "pseudonym_key", None) or settings.secret_key)


def contact_key(normalised_contact: str, secret: str) -> str:
    """Ledger key of a normalised contact (casework.contacts.normalise). For a phone
    number it equals the SMS conversation's sender_key, so a Twilio STOP and a chat
    opt-out for the same number are one suppression."""
    return subject_key(normalised_contact, secret)
