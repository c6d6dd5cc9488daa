"""Two of Rasa 3.6's per-turn costs, paid once instead, with the same results.

- `Event.resolve_by_type` walks every Event subclass (recursively, with an
  `inspect.isabstract` check on each) for every event it deserialises: a tracker read
  from the store is dozens of events, each a full walk. Here the walk is done once into
  a name -> class table in Rasa's own order (the first class of a name wins, as in
  Rasa's loop); a name not in the table goes to Rasa's own method (which walks again,
  so a class defined later is still found, and "topic" / the default / the error stay
  Rasa's).
- `DialogueStateTracker.__init__` copies every slot with `copy.copy`, and the policies
  build several trackers per prediction (a few thousand slot copies per turn). A Slot
  is a plain object (no __slots__, no __getstate__/__reduce__ of its own): `copy.copy`
  makes a new instance with the same __dict__, which `__copy__` here does directly.

Installed when Rasa loads our tracker store (`resilient_tracker_store`, named by both
endpoint files), like `action_response_check`; docs/architecture.md has the figures.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text, Type

import rasa.shared.utils.common
from rasa.shared.core.events import Event
from rasa.shared.core.slots import Slot

# Rasa's own method, kept once (a second import of this module must not wrap ours).
_rasa_resolve = getattr(Event, "_rasa_resolve_by_type", None) or Event.resolve_by_type
_event_classes: Dict[Text, Type[Event]] = {}


def _table() -> Dict[Text, Type[Event]]:
    if not _event_classes:
        for cls in rasa.shared.utils.common.all_subclasses(Event):
            _event_classes.setdefault(cls.type_name, cls)
    return _event_classes


def resolve_event_type(
    type_name: Text, default: Optional[Type[Event]] = None
) -> Optional[Type[Event]]:
    cls = _table().get(type_name)
    return cls if cls is not None else _rasa_resolve(type_name, default)


def copy_slot(slot: Slot) -> Slot:
    new = slot.__class__.__new__(slot.__class__)
    new.__dict__.update(slot.__dict__)
    return new


def install() -> None:
    """Idempotent: later calls change nothing."""
    Event._rasa_resolve_by_type = staticmethod(_rasa_resolve)  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_event_type)  # type: ignore[method-assign]
    Slot.__copy__ = copy_slot  # type: ignore[attr-defined]


def installed() -> Dict[Text, Any]:
    return {
        "events": Event.resolve_by_type is resolve_event_type,
        "slots": getattr(Slot, "__copy__", None) is copy_slot,
    }


install()
