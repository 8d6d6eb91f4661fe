"""Every response of domain.yml renders well-formed with any of its slots empty or missing: no
"None", no unfilled {placeholder}, and never an empty message (the issue's never-silent rule)."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from rasa.core.channels.channel import OutputChannel
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(ROOT / "domain.yml")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def render(name: str, slots: dict) -> list[str]:
    tracker = DialogueStateTracker.from_dict("t", [], DOMAIN.slots)
    for slot, value in slots.items():
        tracker.slots[slot].value = value
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    out = asyncio.run(nlg.generate(name, tracker, OutputChannel.name()))
    return [out.get("text") or ""] if out else []


@pytest.mark.parametrize("name", sorted(DOMAIN.responses))
def test_a_response_with_every_slot_missing_is_still_a_sentence(name):
    # A response that needs a slot's value is an action's to render (the complaint's confirmation is
    # actions/complaints.py's ActionAskComplaintConfirmed): a template would print None.
    texts = render(name, {})
    assert texts and all(t.strip() for t in texts), f"{name} renders empty"
    for text in texts:
        assert "None" not in text and not PLACEHOLDER.search(text), f"{name}: {text}"
