"""The widget against the real stack (rasa + actions + gunicorn web)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.integration


def test_real_conversation_in_the_widget(page, stack: Any) -> None:  # noqa: ANN001
    page.goto(stack.web_url + "/")
    page.click(".pbw-launcher")
    page.fill("#pbw-input", "what do you hold on me? I want it all")
    page.press("#pbw-input", "Enter")
    page.wait_for_function(
        "() => document.querySelector('.pbw-log').textContent.includes('full name')",
        timeout=60_000,
    )
    page.fill("#pbw-input", "cancel")
    page.press("#pbw-input", "Enter")
    page.wait_for_function(
        "() => document.querySelector('.pbw-log').textContent.includes('Nothing has been saved')",
        timeout=60_000,
    )
    page.reload()
    page.wait_for_function(
        "() => document.querySelector('.pbw-log').textContent.includes('Nothing has been saved')"
    )
    assert axe_violations(page) == []
