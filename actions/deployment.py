"""The deployment an action runs in: its organisation, the casework database and the
channel each conversation talks on (cached: forms ask several times per turn)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from privacybot.orgs import Org, load_org


def org_id() -> str:
    from privacybot.settings import load_settings

    return load_settings().org


def current_org() -> Org:
    return load_org(org_id())


def database_url() -> str:
    from privacybot.settings import load_settings

    return load_settings().database_url


@cache
def _upgraded(url: str) -> bool:
    from casework import db

    db.upgrade(url)
    return True


@contextmanager
def casework_session() -> Iterator[Session]:
    """One transaction per action: all of a request's records are written, or none."""
    from casework import db

    url = database_url()
    _upgraded(url)  # idempotent; normally done once at server start already
    with db.session_scope(url) as session:
        yield session


_channels: dict[str, str] = {}


def channel_of(sender_id: str) -> str:
    """web | sms | rest. A known conversation never changes channel, so it is cached
    (forms ask several times per turn); an unknown one is looked up again next time."""
    if sender_id in _channels:
        return _channels[sender_id]
    from casework import conversations

    with casework_session() as session:
        channel = conversations.channel_of(session, sender_id)
        if conversations.get(session, sender_id) is not None and len(_channels) < 100_000:
            _channels[sender_id] = channel
        return channel


def is_sms(tracker: Tracker) -> bool:
    """Is this conversation a text-message one (the number is known; no buttons to tap)?"""
    return channel_of(tracker.sender_id) == "sms"


def sms_number_of(session: Session, sender_id: str) -> str | None:
    """The phone number of an SMS conversation (needed to reply; never logged)."""
    from casework import conversations

    conversation = conversations.get(session, sender_id)
    if conversation is None or conversation.channel != "sms":
        return None
    return conversation.address
