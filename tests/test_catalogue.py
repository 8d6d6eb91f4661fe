"""The intent catalogue (hotline/intents.py) against the domain and the training data: one place says
what each intent is counted as, offered as and answered by, and it covers every intent there is."""
from __future__ import annotations

from pathlib import Path

import yaml

from hotline import intents, taxonomy

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def _trained_intents() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "data").rglob("*.yml"):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" in block:
                found.add(block["intent"])
    return found


def test_the_catalogue_holds_exactly_the_domains_intents():
    assert {i.name for i in intents.CATALOGUE} == set(DOMAIN["intents"])
    assert len(intents.BY_NAME) == len(intents.CATALOGUE), "an intent is listed twice"


def test_every_intent_has_training_examples():
    assert set(DOMAIN["intents"]) <= _trained_intents()


def test_every_category_is_one_of_the_bulletins():
    assert set(intents.CATEGORY.values()) <= set(taxonomy.CATEGORIES)
    # Every category but the fallback's own is reached by some intent.
    assert set(taxonomy.CATEGORIES) - set(intents.CATEGORY.values()) == {taxonomy.FALLBACK_CATEGORY}


def test_what_is_offered_and_answered_are_known_intents_that_the_domain_answers():
    assert set(intents.LABELS) <= set(intents.CATEGORY)  # dialogue words are never offered
    assert "crisis" not in intents.LABELS  # a crisis is never a guess offered as a button
    actions = set(DOMAIN.get("actions") or [])
    assert "action_service_answer" in actions
    for name, service in intents.SERVICES.items():
        assert service.topic or service.subjects, name
