"""Inbound SMS kept on local disk while the casework store cannot take them.

Twilio does not retry a failed inbound webhook (by default), so an SMS the database
cannot store (SQLite locked beyond its busy timeout, PostgreSQL down) would be lost if
we answered an error. Instead its form fields go to a file under DATA_DIR/spool/sms
(written, fsynced, then renamed into place: a file there is always whole) and Twilio
gets its TwiML. The retry loop stores each spooled SMS once the database answers and
then deletes the file; a crash between the two is harmless, as a MessageSid already
stored is dropped as a Twilio retry.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from pathlib import Path

log = logging.getLogger(__name__)

HELD = "_held"
FIELDS = ("MessageSid", "SmsMessageSid", "AccountSid", "From", "To", "Body")


def directory(data_dir: Path) -> Path:
    return data_dir / "spool" / "sms"


def put(data_dir: Path, form: dict[str, str], held: bool) -> Path:
    """Keep one inbound SMS durably; `held`: the webhook's answer was the holding reply.
    Returns its file."""
    folder = directory(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    record = {name: form[name] for name in FIELDS if name in form}
    record[HELD] = "1" if held else ""
    # Named in arrival order, so a resident's texts are stored in the order they came.
    name = f"{time.time_ns():020d}-{uuid.uuid4().hex}"
    temporary = folder / f".{name}.tmp"
    with open(temporary, "w", encoding="utf-8") as out:
        json.dump(record, out)
        out.flush()
        os.fsync(out.fileno())
    final = folder / f"{name}.json"
    os.replace(temporary, final)
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)  # the rename itself survives a power cut
    finally:
        os.close(descriptor)
    return final


def pending(data_dir: Path) -> list[Path]:
    folder = directory(data_dir)
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.json"))


def read(path: Path) -> dict[str, str] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:  # another worker stored it meanwhile
        return None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None


def done(path: Path) -> None:
    path.unlink(missing_ok=True)
