"""Train the crisis classifier: ``python -m safety.train --out var/crisis-model.json [--cv 5]``.

Training data: every example of data/nlu (the crisis intents against every other) and
safety/data/crisis_train*.tsv (label, kind, text: crisis lines of every kind and hard negatives,
written blind for it). Never an evaluation set (tests/test_eval_sets.py refuses their lines here).
``--cv K`` first prints K-fold cross-validated figures at the thresholds safety/crisis.py uses.
"""
from __future__ import annotations

import argparse
import csv
import random
import re
import sys
import time
from pathlib import Path

import yaml

from language.normalise import normalise
from safety import crisis
from safety.classifier import CrisisClassifier

ROOT = Path(__file__).resolve().parent.parent
NLU_DATA = ROOT / "data" / "nlu"
DATA = Path(__file__).resolve().parent / "data"  # crisis_train*.tsv: label, kind, text
CRISIS_INTENTS = ("crisis", "crisis_checkin")  # both tiers are crisis to the classifier
_MARKUP = re.compile(r"\[([^\]]*)\](?:\{[^}]*\}|\([^)]*\))")


def plain(example: str) -> str:
    """A training example without Rasa's entity markup: [省人医]{"entity": …} → 省人医."""
    return _MARKUP.sub(r"\1", example)


def examples(nlu_dir: Path = NLU_DATA, extra: Path = DATA) -> list[tuple[str, int, str]]:
    """(text as typed, 1 for crisis, kind) of everything the classifier learns from."""
    out: list[tuple[str, int, str]] = []
    for path in sorted(nlu_dir.rglob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            intent = block.get("intent")
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if intent and line.startswith("- "):
                    out.append((plain(line[2:]), int(intent in CRISIS_INTENTS), f"nlu:{intent}"))
    for path in sorted(extra.glob("*.tsv")):
        with path.open(encoding="utf-8", newline="") as f:
            for label, kind, text in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                out.append((text, int(label == "crisis"), kind))
    return out


def cross_validate(data: list[tuple[str, int, str]], folds: int, seed: int = 12320) -> dict:
    """Tier counts of each held-out fold with the rules and a classifier trained on the others."""
    order = list(range(len(data)))
    random.Random(seed).shuffle(order)
    tiers: dict[int, crisis.Tier] = {}
    for k in range(folds):
        test = set(order[k::folds])
        train = [data[i] for i in order if i not in test]
        model = CrisisClassifier.train([normalise(t) for t, _, _ in train], [y for _, y, _ in train])
        for i in test:
            tiers[i] = crisis.assess(data[i][0], classifier=model).tier
    positives = [i for i, (_, y, _) in enumerate(data) if y]
    negatives = [i for i, (_, y, _) in enumerate(data) if not y]
    return {
        "crisis lines": len(positives),
        "recall (high or check-in)": sum(tiers[i] > crisis.Tier.NONE for i in positives) / len(positives),
        "recall (high)": sum(tiers[i] == crisis.Tier.HIGH for i in positives) / len(positives),
        "other lines": len(negatives),
        "false alarms (high)": sum(tiers[i] == crisis.Tier.HIGH for i in negatives) / len(negatives),
        "check-ins on other lines": sum(tiers[i] == crisis.Tier.POSSIBLE for i in negatives) / len(negatives),
        "missed": [data[i][0] for i in positives if tiers[i] == crisis.Tier.NONE],
        "false alarms": [data[i][0] for i in negatives if tiers[i] == crisis.Tier.HIGH],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cv", type=int, default=0, help="K-fold cross-validation first (0: none)")
    parser.add_argument("--show", type=int, default=0, help="print this many missed lines and false alarms")
    args = parser.parse_args(argv)
    data = examples()
    if args.cv:
        started = time.monotonic()
        result = cross_validate(data, args.cv)
        for name, value in result.items():
            if isinstance(value, float):
                print(f"  {args.cv}-fold CV {name}: {value:.4f}")
            elif isinstance(value, int):
                print(f"  {args.cv}-fold CV {name}: {value}")
        for label in ("missed", "false alarms"):
            for text in result[label][:args.show]:
                print(f"    {label}: {text}")
        print(f"  (cross-validation took {time.monotonic() - started:.1f} s)")
    started = time.monotonic()
    model = CrisisClassifier.train([normalise(t) for t, _, _ in data], [y for _, y, _ in data],
                                   meta={"examples": len(data), "crisis": sum(y for _, y, _ in data)})
    model.save(args.out)
    print(f"crisis classifier: {len(model.weights)} weights from {len(data)} examples "
          f"({model.meta['crisis']} crisis) in {time.monotonic() - started:.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
