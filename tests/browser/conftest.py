"""Browser tests: Debian's Chromium driven by Playwright (never `playwright install`).

Two kinds of target: the web app served in-process against a fake Rasa (deterministic
widget and inbox behaviour), and the real stack (rasa + actions + web) from
tests/integration/conftest.py for the end-to-end runs.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.fake_rasa import FakeRasa
from tests.browser.webapp import serve, settings_for
from tests.integration.conftest import stack, start_stack, twilio_fake  # noqa: F401

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
STAFF_EMAIL, STAFF_PASSWORD = "agent@example.org", "correct horse battery"

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run `make browser`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Site:
    url: str
    database_url: str
    rasa: FakeRasa | None = None
    app: object | None = None  # the in-process Flask app (fake target only)


@pytest.fixture
def fake_site(tmp_path: Path) -> Iterator[Site]:
    """The web app on a loopback port with a fake Rasa and one staff account."""
    from casework import staff
    from casework.db import session_scope
    from privacybot.runner import free_port
    from webhook import create_app

    database_url = f"sqlite:///{tmp_path / 'casework.db'}"
    rasa = FakeRasa(database_url).start()
    port = free_port()
    # DEV_TOOLS on: test_inbox plays a resident's phone through /dev/phone.
    settings = settings_for(
        tmp_path, rasa.url, public_base_url=f"http://127.0.0.1:{port}", dev_tools=True
    )
    app = create_app(settings, background=True)
    with session_scope(database_url) as session:
        staff.add_or_update(session, STAFF_EMAIL, STAFF_PASSWORD, "admin", "Agent Smith")
    try:
        with serve(app, port) as url:
            yield Site(url=url, database_url=database_url, rasa=rasa, app=app)
    finally:
        app.extensions["privacybot"].stopping.set()
        rasa.stop()


@pytest.fixture
def context(browser: object) -> Iterator[object]:
    # bypass_csp: only so the test can inject axe-core; the app's CSP stays on for real users.
    ctx = browser.new_context(bypass_csp=True)  # type: ignore[attr-defined]
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: object) -> object:
    return context.new_page()  # type: ignore[attr-defined]


def axe_violations(page: object, selector: str | None = None) -> list[dict[str, object]]:
    """axe-core WCAG 2.x A/AA rules on the current page (or one element of it)."""
    assert AXE.exists(), "axe-core missing: run `make browser` (npm ci --prefix tests/browser)"
    page.add_script_tag(path=str(AXE))  # type: ignore[attr-defined]
    result = page.evaluate(  # type: ignore[attr-defined]
        """async (selector) => {
            const context = selector ? document.querySelector(selector) : document;
            const r = await axe.run(context, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }""",
        selector,
    )
    return list(result)


def staff_login(
    page: object, base_url: str, email: str = STAFF_EMAIL, password: str = STAFF_PASSWORD
) -> None:
    page.goto(f"{base_url}/inbox/login")  # type: ignore[attr-defined]
    page.fill("#email", email)  # type: ignore[attr-defined]
    page.fill("#password", password)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("h1:has-text('Queue')")  # type: ignore[attr-defined]
