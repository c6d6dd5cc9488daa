"""bot/rasa_hot_paths.py: Rasa's event-type lookup and slot copies, done faster, with
exactly Rasa's results (every event type name, the unknown, "topic", the default; every
slot type copied to an equal, independent object)."""

from __future__ import annotations

from tests.rasa_env import run_in_rasa_env

_CHECK = """
import copy, json
import rasa.shared.utils.common as common
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.slots import Slot

rasa_resolve = Event.resolve_by_type
import resilient_tracker_store  # installs them, as Rasa loading the endpoints does
import rasa_hot_paths

names = sorted({cls.type_name for cls in common.all_subclasses(Event)})


def outcome(resolve, name, *default):
    try:
        return ["ok", repr(resolve(name, *default))]
    except ValueError as error:
        return ["error", str(error)]


cases = [(n,) for n in names] + [("topic",), ("no_such_event",), ("no_such_event", Event)]
rasa_hot_paths.install()  # twice: still one layer over Rasa's own method
domain = Domain.load("domain.yml")
slots = []
for slot in domain.slots:
    slot.value = slot.initial_value
    copied = copy.copy(slot)
    copied.value = "changed"
    slots.append([type(copy.copy(slot)) is type(slot),
                  vars(copy.copy(slot)) == vars(slot), slot.value != "changed"])
print(json.dumps({
    "installed": rasa_hot_paths.installed(),
    "names": len(names),
    "same": [outcome(rasa_resolve, *c) == outcome(Event.resolve_by_type, *c) for c in cases],
    "unknown": outcome(Event.resolve_by_type, "no_such_event")[0],
    "slots": slots,
    "slot_types": sorted({type(s).__name__ for s in domain.slots}),
}))
"""


def test_hot_paths_give_rasas_own_answers() -> None:
    report = run_in_rasa_env(_CHECK)
    assert report["installed"] == {"events": True, "slots": True}
    assert (
        report["names"] > 20 and all(report["same"]) and len(report["same"]) == report["names"] + 3
    )
    assert report["unknown"] == "error"
    assert report["slots"] and all(all(checks) for checks in report["slots"])
    assert len(report["slot_types"]) >= 2  # more than one slot class copied
