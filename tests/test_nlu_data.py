"""The NLU data as the issue asks for it: enough varied examples per intent, and a held-out set
(tests/nlu) that shares no example with the training data."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_INTENTS = set(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])


def _examples(folder: str) -> list[tuple[str, str, str]]:
    out = []
    for file in sorted((ROOT / folder).glob("*.yml")):
        for block in yaml.safe_load(file.read_text(encoding="utf-8")).get("nlu", []):
            for line in block.get("examples", "").splitlines():
                if line.strip().startswith("- "):
                    out.append((line.strip()[2:].strip(), block["intent"], file.name))
    return out


def _norm(text: str) -> str:
    return re.sub(r"[\s，,。.!！?？~～、]", "", text).lower()


def test_every_intent_has_enough_examples():
    training = Counter(i for _, i, _ in _examples("data/nlu"))
    held_out = Counter(i for _, i, _ in _examples("tests/nlu"))
    # crisis_checkin is the crisis detector's (safety/crisis.py): the crisis sets of tests/eval measure
    # it; other_service came with the realistic data (tests/eval/nlu/realistic.tsv measures it). The
    # held-out set predates both.
    assert set(training) == DOMAIN_INTENTS == set(held_out) | {"crisis_checkin", "other_service"}
    assert min(training.values()) >= 40, training
    assert min(held_out.values()) >= 15, held_out
    assert held_out["crisis"] >= 40
    assert sum(1 for _, _, f in _examples("tests/nlu") if f == "crisis_lookalikes.yml") >= 40


def test_held_out_examples_are_never_trained_on():
    trained = {_norm(t) for t, _, _ in _examples("data/nlu")}
    leaked = [t for t, _, _ in _examples("tests/nlu") if _norm(t) in trained]
    assert not leaked


def test_no_example_is_labelled_twice():
    labels: dict[str, set[str]] = {}
    for text, intent, _ in _examples("data/nlu") + _examples("tests/nlu"):
        labels.setdefault(_norm(text), set()).add(intent)
    assert not {t: i for t, i in labels.items() if len(i) > 1}
