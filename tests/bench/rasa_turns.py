"""Rasa's own CPU per turn, and what it predicted, in the Rasa environment (.venv-rasa).

Loads the trained model with Rasa's Agent (in-memory tracker store, no action server:
custom actions fail the same way in every run) and sends every text of
tests/bench/data/routing_writer_a.yaml and of the bot's NLU examples, five turns per
conversation. Writes, per turn, the intent (with its confidence to 4 places) and the
actions Rasa ran, and prints CPU ms per turn. Run it before and after a change to Rasa's
hot paths and compare the two files: they must be equal.

    cd bot && ../.venv-rasa/bin/python ../tests/bench/rasa_turns.py OUT.json [--stock]

--stock: without bot/rasa_hot_paths.py (Rasa's own code paths).
"""

import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TURNS_PER_CONVERSATION = 5


def texts() -> list:
    found = [
        d["text"]
        for d in yaml.safe_load((ROOT / "tests/bench/data/routing_writer_a.yaml").read_text())
    ]
    for path in sorted((ROOT / "bot/data").glob("nlu*.yml")):
        for item in yaml.safe_load(path.read_text()).get("nlu", []):
            for line in str(item.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.append(line[2:].strip())
    return found


async def run(agent, all_texts: list) -> list:
    from rasa.shared.core.events import ActionExecuted, UserUttered

    out = []
    for start in range(0, len(all_texts), TURNS_PER_CONVERSATION):
        sender = f"bench-{start}"
        for text in all_texts[start : start + TURNS_PER_CONVERSATION]:
            await agent.handle_text(text, sender_id=sender)
            tracker = await agent.tracker_store.retrieve(sender)
            events = list(tracker.events)
            last_user = max(i for i, e in enumerate(events) if isinstance(e, UserUttered))
            user = events[last_user]
            out.append(
                {
                    "text": text,
                    "intent": user.intent.get("name"),
                    "confidence": round(float(user.intent.get("confidence") or 0), 4),
                    "actions": [
                        e.action_name for e in events[last_user:] if isinstance(e, ActionExecuted)
                    ],
                    "slots": {
                        k: v for k, v in tracker.current_slot_values().items() if v is not None
                    },
                }
            )
    return out


def main() -> None:
    out_path, stock = Path(sys.argv[1]), "--stock" in sys.argv[2:]
    os.chdir(ROOT / "bot")
    sys.path.insert(0, str(ROOT / "bot"))
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # as `rasa run` configures it, quieter
    if not stock:
        import rasa_hot_paths  # noqa: F401
    from rasa.core.agent import Agent

    agent = Agent.load(str(ROOT / "models/privacybot.tar.gz"))
    all_texts = texts()
    loop = asyncio.new_event_loop()
    loop.run_until_complete(run(agent, all_texts[:10]))  # warm-up
    cpu, wall = time.process_time(), time.perf_counter()
    result = loop.run_until_complete(run(agent, all_texts))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    out_path.write_text(json.dumps(result, indent=1, sort_keys=True))
    print(
        json.dumps(
            {
                "turns": len(result),
                "stock": stock,
                "cpu_ms_per_turn": round(1000 * cpu / len(result), 2),
                "wall_ms_per_turn": round(1000 * wall / len(result), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
