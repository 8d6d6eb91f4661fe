"""Choose IntentEnsemble's diet_weight by k-fold cross-validation on the training data only.

The held-out set (tests/nlu) is never read here: tuning on it would make its score meaningless.
Each fold trains the project's pipeline once with `expose_parts: true`, so that one training gives
both distributions (DIET's and the regression's) for every validation message; every candidate
weight is then scored on them offline. Prints macro-F1 per weight (mean over folds).

    .venv-rasa/bin/python bench/cv_ensemble.py [--folds 3] [--weights 0,0.2,0.3,0.4,0.5,0.6,0.8,1]
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--weights", default="0,0.2,0.3,0.4,0.5,0.6,0.7,0.8,1")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    args = parser.parse_args()
    weights = [float(w) for w in args.weights.split(",")]

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import yaml
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    parts = [load_data(str(f)) for f in sorted((ROOT / "data" / "nlu").glob("*.yml"))]
    data = parts[0].merge(*parts[1:])
    examples = [e for e in data.intent_examples]
    labels = [e.get("intent") for e in examples]
    config = yaml.safe_load(args.config.read_text())
    for component in config["pipeline"]:
        if component["name"].endswith("IntentEnsemble"):
            component["expose_parts"] = True
        if "gazetteer_path" in component:
            component["gazetteer_path"] = str(ROOT / "var" / "gazetteer.json")

    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=12320)
    gold, parts_by_message = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = tmp / "config.yml"
        cfg.write_text(yaml.safe_dump(config, allow_unicode=True))
        for k, (train_idx, test_idx) in enumerate(folds.split(examples, labels), 1):
            train = TrainingData(training_examples=[copy.deepcopy(examples[i]) for i in train_idx])
            train_file = tmp / f"train_{k}.yml"
            RasaYAMLWriter().dump(train_file, train)
            model = train_nlu(str(cfg), str(train_file), str(tmp / f"models_{k}"), fixed_model_name=f"fold{k}")
            agent = Agent.load(model)
            loop = asyncio.new_event_loop()
            for i in test_idx:
                parsed = loop.run_until_complete(agent.parse_message(examples[i].get("text")))
                gold.append(labels[i])
                parts_by_message.append(parsed["intent_parts"])
            print(f"fold {k}/{args.folds}: trained on {len(train_idx)}, scored {len(test_idx)}", flush=True)

    results = defaultdict(float)
    for w in weights:
        preds = []
        for p in parts_by_message:
            first, second = p["diet"], p["regression"]
            mixed = {n: w * first.get(n, 0.0) + (1 - w) * second.get(n, 0.0) for n in set(first) | set(second)}
            preds.append(max(mixed, key=mixed.get))
        results[w] = f1_score(gold, preds, average="macro")
    print(f"{len(gold)} examples, {args.folds}-fold cross-validation on data/nlu (tests/nlu not read)")
    for w in weights:
        print(f"diet_weight {w:.2f}: macro-F1 {results[w]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
