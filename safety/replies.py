"""The crisis replies as the gateway says them when Rasa cannot: the texts of domain.yml's
``utter_crisis`` and ``utter_crisis_checkin`` (one wording, in one place), read once per process."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DOMAIN = Path(__file__).resolve().parent.parent / "domain.yml"
CRISIS = "utter_crisis"
CHECKIN = "utter_crisis_checkin"


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[tuple[str, str], ...]  # (title, payload)


@lru_cache(maxsize=None)
def response(name: str, domain: Path = DOMAIN) -> Reply:
    """A response of domain.yml (its first variant)."""
    first = yaml.safe_load(domain.read_text(encoding="utf-8"))["responses"][name][0]
    return Reply(first["text"], tuple((b["title"], b["payload"]) for b in first.get("buttons") or ()))


def crisis_reply() -> Reply:
    """The full protocol."""
    return response(CRISIS)


def checkin_reply() -> Reply:
    """The check-in for a possible crisis."""
    return response(CHECKIN)
