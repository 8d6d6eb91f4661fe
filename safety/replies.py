"""The crisis replies as the gateway says them when Rasa cannot: the texts of domain.yml's
``utter_crisis`` and ``utter_crisis_checkin`` (one wording, in one place), read once when the app starts."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

DOMAIN = Path(__file__).resolve().parent.parent / "domain.yml"
RESPONSE = "utter_crisis"


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[tuple[str, str], ...]  # (title, payload)


def crisis_reply(domain: Path = DOMAIN) -> Reply:
    """domain.yml's crisis response (its first variant)."""
    return _response(domain, RESPONSE)


CHECKIN = "utter_crisis_checkin"


def checkin_reply(domain: Path = DOMAIN) -> Reply:
    """domain.yml's check-in for a possible crisis (its first variant)."""
    return _response(domain, CHECKIN)


def _response(domain: Path, name: str) -> Reply:
    responses = yaml.safe_load(domain.read_text(encoding="utf-8"))["responses"]
    first = responses[name][0]
    return Reply(first["text"], tuple((b["title"], b["payload"]) for b in first.get("buttons") or ()))
