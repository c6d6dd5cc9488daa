"""The web side spreads conversations over several Rasa instances (RASA_URLS)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from webhook.rasa_client import RasaClient, RasaUnavailable, instance_order

URLS = ["http://rasa-a", "http://rasa-b"]


class FakeResponse:
    status_code = 200

    def json(self) -> list[dict[str, str]]:
        return [{"text": "hi"}]


def client_with(down: set[str], timeout_on: set[str] = frozenset()) -> tuple[RasaClient, list[str]]:
    client = RasaClient(URLS, "token")
    called: list[str] = []

    def post(url: str, **_: Any) -> FakeResponse:
        base = url.split("/webhooks")[0].split("/conversations")[0]
        called.append(base)
        if base in down:
            raise requests.ConnectionError("refused")
        if base in timeout_on:
            raise requests.ReadTimeout("slow")
        return FakeResponse()

    client._http.post = post  # type: ignore[method-assign]
    return client, called


def test_order_is_stable_and_spreads_conversations() -> None:
    homes = [instance_order(f"conversation-{i}", 2)[0] for i in range(40)]
    assert homes == [instance_order(f"conversation-{i}", 2)[0] for i in range(40)]
    assert 10 <= homes.count(0) <= 30
    assert sorted(instance_order("x", 3)) == [0, 1, 2]


def test_a_conversation_goes_to_its_home_instance() -> None:
    client, called = client_with(down=set())
    client.send("conversation-1", "hello")
    assert called == [URLS[instance_order("conversation-1", 2)[0]]]


def test_a_refused_connection_falls_over_to_the_next_instance() -> None:
    home = URLS[instance_order("conversation-1", 2)[0]]
    client, called = client_with(down={home})
    assert client.send("conversation-1", "hello")[0].text == "hi"
    assert called[0] == home and called[1] != home


def test_a_timeout_is_not_retried_elsewhere() -> None:
    """The turn may be under way on the slow instance: sending it again could answer twice."""
    home = URLS[instance_order("conversation-1", 2)[0]]
    client, called = client_with(down=set(), timeout_on={home})
    with pytest.raises(RasaUnavailable):
        client.send("conversation-1", "hello")
    assert called == [home]


def test_all_down_is_rasa_unavailable() -> None:
    client, _ = client_with(down=set(URLS))
    with pytest.raises(RasaUnavailable):
        client.resume("conversation-1")
