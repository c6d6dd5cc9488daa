"""The one parser for contact details: which method a resident wants (email, phone,
text message, post, or here in the chat) and the detail that method needs, validated
and normalised (e-mail lower-cased, UK numbers in E.164, postcodes in capitals).

Every form that asks how to reach the resident uses it (sar, consent, handoff,
marketing), so "email me at sam@example.com" means the same in each. `mask` gives the
form the bot repeats back ("s…@example.com"), never the whole detail in logs. Addresses
are read by casework.contacts.parse_postal_address, as the ledger keys read them."""

from __future__ import annotations

from collections.abc import Collection

from actions.text import words
from casework.contacts import (
    MAX_ADDRESS,
    parse_email,
    parse_postal_address,
    parse_postcode,
    parse_uk_mobile,
    parse_uk_phone,
)

__all__ = [
    "METHODS",
    "mask",
    "parse_contact",
    "parse_contact_method",
    "parse_email",
    "parse_postal_address",
    "parse_postcode",
    "parse_uk_mobile",
    "parse_uk_phone",
]

METHODS = ("email", "phone", "sms", "post", "chat")
MAX_ADDRESS_CHARS = MAX_ADDRESS  # the longest address a record keeps

# The words that name each method, as residents write them.
METHOD_WORDS: dict[str, frozenset[str]] = {
    "email": frozenset({"email", "emails", "e-mail"}),
    "phone": frozenset({"phone", "call", "calls", "ring", "telephone", "landline", "mobile"}),
    "sms": frozenset({"text", "texts", "sms", "txt", "message", "messages"}),
    "post": frozenset({"post", "letter", "letters", "postal", "address", "posted", "mail"}),
    "chat": frozenset({"here", "chat", "online", "this", "reply"}),
}
# When a form does not offer a method the resident named, the nearest one it does
# offer: a text is a reply here (handoff) or a call to that phone (SAR).
_NEAREST = {"sms": ("chat", "phone"), "chat": ("sms",), "phone": ("sms",)}


def parse_contact_method(text: str, allowed: Collection[str] = METHODS) -> str | None:
    """Which of the `allowed` methods the resident named ("email me", "a call", "by
    post"); a detail given ("sam@example.com", "07700 900123") names its method too."""
    low = (text or "").lower()
    tokens = set(words(low.replace("e-mail", "email")))
    named: list[str] = []
    if parse_email(low) or tokens & METHOD_WORDS["email"]:
        named.append("email")
    if parse_uk_phone(low):
        named.append("phone")
    named += [m for m in ("phone", "sms", "post", "chat") if tokens & METHOD_WORDS[m]]
    for method in named:
        if method in allowed:
            return method
        for nearest in _NEAREST.get(method, ()):
            if nearest in allowed:
                return nearest
    return None


def parse_contact(method: str, text: str) -> str | None:
    """The detail `method` needs, from the resident's answer, or None if it is not one."""
    if method == "email":
        return parse_email(text)
    if method == "phone":
        return parse_uk_phone(text)
    if method == "sms":
        return parse_uk_mobile(text)
    if method == "post":
        return parse_postal_address(text)
    return None


def mask(method: str, contact: str | None) -> str:
    """Enough of a contact to recognise it, repeated back to the resident:
    s…@example.org, a number ending 987, the postcode of an address."""
    if not contact:
        return ""
    if method == "email" and "@" in contact:
        local, domain = contact.split("@", 1)
        return f"{local[:1]}…@{domain}"
    if method in ("phone", "sms"):
        return f"the number ending {contact[-3:]}"
    if method == "post":
        postcode = parse_postcode(contact)
        return f"your address at {postcode}" if postcode else "your address"
    return ""
