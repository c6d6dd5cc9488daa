"""rasa-sdk action server for the privacy assistant (`python -m rasa_sdk --actions actions`).

Split by concern: answer (questions), sar, marketing, consent, handoff, general; what
they share lives in modules of one concern each: deployment (org, casework, channel),
text, contact (the contact-method parser), parsers, forms (the validation base class),
transcript. Importing the package as the action server also migrates the casework
database and loads the knowledge index in the background, so the first question is fast.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

logger = logging.getLogger(__name__)


def _running_as_action_server() -> bool:
    # `python -m rasa_sdk` runs .../rasa_sdk/__main__.py
    return os.path.basename(os.path.dirname(sys.argv[0] or "")) == "rasa_sdk"


def on_server_start() -> None:
    """Migrate the casework database once (idempotent), then warm the index."""
    from actions.answer import warm_up
    from actions.deployment import database_url
    from casework import db

    db.upgrade(database_url())
    if os.environ.get("ACTIONS_WARMUP", "1") != "0":
        threading.Thread(target=warm_up, name="knowledge-warm-up", daemon=True).start()


if _running_as_action_server():
    on_server_start()
