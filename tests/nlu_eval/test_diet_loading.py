"""bot/diet.py loads the trained DIET model without Rasa's training step: the same predictions as
Rasa's own way of loading it, on the held-out messages (issue 17: the Rasa server ready sooner)."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MODEL = Path(os.environ.get("HOTLINE_MODEL", ROOT / "models" / "current.tar.gz"))


def _held_out(limit: int = 300) -> list[str]:
    texts = []
    for path in sorted((ROOT / "tests" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            texts += [line[2:].strip() for line in (block.get("examples") or "").splitlines() if line.startswith("- ")]
    return texts[:limit]


def _rankings(agent, texts: list[str]) -> list[list[dict]]:
    loop = asyncio.new_event_loop()
    try:
        return [loop.run_until_complete(agent.parse_message(t))["intent_ranking"] for t in texts]
    finally:
        loop.close()


def test_the_quick_load_predicts_what_rasas_own_load_predicts(monkeypatch):
    if not MODEL.is_file():
        pytest.fail(f"no trained model at {MODEL}: run make model first")
    from rasa.core.agent import Agent
    from rasa.nlu.classifiers.diet_classifier import DIET

    from bot.diet import QuickLoadingDIETClassifier

    texts = _held_out()
    assert len(texts) >= 200
    quick = _rankings(Agent.load(str(MODEL)), texts)
    monkeypatch.setattr(QuickLoadingDIETClassifier, "model_class", staticmethod(lambda: DIET))  # Rasa's load
    rasas = _rankings(Agent.load(str(MODEL)), texts)
    for text, a, b in zip(texts, quick, rasas):
        assert [r["name"] for r in a] == [r["name"] for r in b], text
        assert max(abs(x["confidence"] - y["confidence"]) for x, y in zip(a, b)) < 1e-6, text


def test_the_fast_paths_predict_what_rasas_own_paths_predict(monkeypatch):
    """bot/diet.py IntentHead (DIET's confidences without TensorFlow) and bot/ensemble.py's feature
    rows built at once: the same rankings as TensorFlow's prediction and Rasa's own rows, to 1e-6
    (issue 17: the two were a third of the Rasa server's CPU per message). And an empty text, which
    Rasa's own rows could not stack, is classified like any other message."""
    if not MODEL.is_file():
        pytest.fail(f"no trained model at {MODEL}: run make model first")
    import numpy as np
    from rasa.core.agent import Agent
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

    from bot.diet import IntentHead, QuickLoadingDIETClassifier
    from bot.ensemble import IntentEnsemble

    built = []
    original = IntentHead.of.__func__

    def of(cls, model, config):
        head = original(cls, model, config)
        built.append(head)
        return head

    monkeypatch.setattr(IntentHead, "of", classmethod(of))
    texts = _held_out(limit=400) + ["？？？", "[微笑]", "a" * 300, "鼓楼医院" * 40]
    agent = Agent.load(str(MODEL))
    fast = _rankings(agent, texts)
    assert built and built[0] is not None  # the configuration is one the head computes
    assert _rankings(agent, [""])[0]  # an empty text gets a ranking too
    monkeypatch.setattr(QuickLoadingDIETClassifier, "numpy_prediction", False)
    monkeypatch.setattr(IntentEnsemble, "_counts",
                        lambda self, messages: LogisticRegressionClassifier._create_X(self, messages).tocsr().astype(np.float64))
    slow = _rankings(agent, texts)
    for text, a, b in zip(texts, fast, slow):
        assert [r["name"] for r in a] == [r["name"] for r in b], text
        assert max((abs(x["confidence"] - y["confidence"]) for x, y in zip(a, b)), default=0.0) < 1e-6, text
