"""What `sar_form` collects: its slots, and which answers the resident can change at
the confirmation (with the later answers that depend on them)."""

from __future__ import annotations

from typing import NamedTuple

SAR_SLOTS = (
    "sar_name",
    "sar_for_someone_else",
    "sar_subject_name",
    "sar_locator",
    "sar_scope",
    "sar_scope_detail",
    "sar_scope_check",
    "sar_contact_method",
    "sar_contact",
    "sar_change",
    "sar_confirm",
)
# The contact methods a SAR reply can use (on SMS: text to the number it came from).
SAR_CONTACT_METHODS = ("email", "phone", "post")


class Changeable(NamedTuple):
    slots: tuple[str, ...]  # cleared, so the form asks them again
    words: frozenset[str]  # words that name this answer


# Answer to change -> what it clears (later answers that depend on it go too) and the
# words that name it, most specific first: "email address" is the contact, not the address.
CHANGEABLE = {
    "what you want": Changeable(
        ("sar_scope", "sar_scope_detail", "sar_scope_check"),
        frozenset({"what", "want", "wanted", "information", "records", "dates", "everything"}),
    ),
    "how we contact you": Changeable(
        ("sar_contact_method", "sar_contact"),
        frozenset({"contact", "email", "phone", "number", "post", "how", "reply"}),
    ),
    "address or reference": Changeable(
        ("sar_locator",), frozenset({"address", "postcode", "reference", "tenancy", "home"})
    ),
    "who it is for": Changeable(
        ("sar_for_someone_else", "sar_subject_name"),
        frozenset({"who", "whose", "behalf", "someone", "myself", "for"}),
    ),
    "name": Changeable(("sar_name",), frozenset({"name", "spelling", "spelt", "surname"})),
}


def change_options(on_sms: bool) -> list[str]:
    """On SMS the reply goes to the number the resident texts from: nothing to change."""
    return [c for c in CHANGEABLE if not (on_sms and c == "how we contact you")]
