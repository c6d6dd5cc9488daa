"""Contact details as residents type them, read and normalised one way for every part:
the forms (actions/), the suppression lookup (API, CLI) and the ledger keys.

One normaliser per contact method, so "07700 900987" typed in the chat and
"+447700900987" typed by staff into a lookup give the same ledger key.
"""

from __future__ import annotations

import re

MAX_EMAIL = 254  # RFC 5321 path limit
MAX_ADDRESS = 200  # longer than any UK postal address; 2 kB of text is not an address

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})\b", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MARKUP = re.compile(r"[<>{}\[\]`\\]")  # as actions.text: never part of a contact
# UK mobiles: 071-075 and 077-079, plus the Isle of Man's 07624 (070 is a "personal
# number" and 076 a pager: neither can take a text reliably).
_MOBILE = re.compile(r"\+447(?:[1-57-9]\d{8}|624\d{6})")


def parse_email(text: str) -> str | None:
    """The first e-mail address in `text`, lower-cased, or None."""
    match = _EMAIL.search(text)
    if not match or len(match.group(0)) > MAX_EMAIL:
        return None
    return match.group(0).lower()


def find_uk_phones(text: str) -> list[str]:
    """Every UK number in `text`, in E.164 form (+447700900123), in order.

    Landlines (01, 02, 03), mobiles (07) and freephone (08); 10 digits after the 0."""
    found = []
    for candidate in re.findall(r"\+?[\d][\d\s().-]{8,18}\d", text):
        digits = re.sub(r"[^\d+]", "", candidate)
        if digits.startswith("+44"):
            national = digits[3:]
        elif digits.startswith("0044"):
            national = digits[4:]
        elif digits.startswith("0"):
            national = digits[1:]
        else:
            continue
        national = national.removeprefix("0")  # "+44 (0)20 ..." written out
        if re.fullmatch(r"[12378]\d{8,9}", national):
            found.append("+44" + national)
    return found


def parse_uk_phone(text: str) -> str | None:
    """The first UK number in `text`, in E.164 form, or None."""
    return next(iter(find_uk_phones(text)), None)


def is_uk_mobile(e164: str) -> bool:
    """Can this (normalised) number take a text message?"""
    return bool(_MOBILE.fullmatch(e164))


def parse_uk_mobile(text: str) -> str | None:
    """The first UK mobile number in `text`, in E.164 form, or None."""
    return next((n for n in find_uk_phones(text) if is_uk_mobile(n)), None)


def parse_postcode(text: str) -> str | None:
    match = _POSTCODE.search(text)
    if not match:
        return None
    return f"{match.group(1)} {match.group(2)}".upper()


def parse_postal_address(text: str) -> str | None:
    """A postal address with a UK postcode and a street, house or place name before it,
    tidied to one line with the postcode in its standard form. The one reading of an
    address for every form, record and ledger key; markup never reaches a record."""
    text = _CONTROL.sub(" ", text)
    if _MARKUP.search(text):
        return None
    text = re.sub(r"\s+", " ", text).strip(" ,.")
    postcode = parse_postcode(text)
    if postcode is None or len(text) > MAX_ADDRESS:
        return None
    # A postcode alone (or with bare numbers) does not reach a letterbox.
    if not re.search(r"[^\W\d_]{3,}", _POSTCODE.sub(" ", text)):
        return None
    return _POSTCODE.sub(postcode, text, count=1)


def postal_key_text(address: str) -> str:
    """What identifies a letterbox: the postcode plus the house and flat numbers, in order
    ("High St" and "High Street, London" match). A house with a name and no number is
    identified by its first line instead."""
    postcode = parse_postcode(address) or ""
    rest = _POSTCODE.sub(" ", address.lower())
    numbers = re.findall(r"\d+[a-z]?\b", rest)
    if numbers:
        return f"{postcode}|{' '.join(numbers)}"
    first_line = re.sub(r"[^a-z ]", "", rest.split(",")[0])
    return f"{postcode}|{' '.join(first_line.split())}"


def normalise(channel: str, contact: str) -> str | None:
    """The normalised contact for a marketing channel, or None if it is not one."""
    if channel == "email":
        return parse_email(contact)
    if channel == "sms":
        return parse_uk_mobile(contact)
    if channel == "phone":
        return parse_uk_phone(contact)
    if channel == "post":
        address = parse_postal_address(contact)
        return postal_key_text(address) if address else None
    raise ValueError(f"unknown channel {channel!r}")


def mask_email(email: str) -> str:
    """'k.smith@example.org' -> 'k…@example.org': enough to recognise, not to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


def last_digits(number: str, count: int = 3) -> str:
    return re.sub(r"\D", "", number)[-count:]
