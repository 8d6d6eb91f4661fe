#!/usr/bin/env python
"""Hospital names on development data: how the name matcher reads hospital mentions written as agents,
voice recognition, typos, pinyin, traditional characters and English write them.

``data/dev/hospital_names.tsv`` (hospital, text; ``-`` for none, ``A|B`` for two) was written by a helper
who never saw an evaluation set: it is tuned on, and is no measure (the realistic set is:
docs/evaluation.md). Each text goes through the normaliser (language/normalise.py) and the matcher
(bot/names.py) as the NLU pipeline runs them; right when the hospitals it names for sure are exactly the
row's. ``--show`` lists the rows it gets wrong.

    PYTHONPATH=. .venv-rasa/bin/python bench/names_dev.py [--show]
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEV = ROOT / "data" / "dev" / "hospital_names.tsv"
GAZETTEER = ROOT / "var" / "gazetteer.json"


def main(argv: list[str] | None = None) -> int:
    from bench.nlu import hospital_names
    from bot.entities import extract_entities
    from bot.names import NameMatcher, measure_vocabulary
    from bot.normaliser import _converter, _opencc_share
    from language.normalise import TABLES, Normaliser

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=DEV)
    parser.add_argument("--gazetteer", type=Path, default=GAZETTEER)
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args(argv)

    gazetteer = json.loads(args.gazetteer.read_text(encoding="utf-8"))
    canonical = hospital_names(args.gazetteer)
    matcher, measures = NameMatcher(gazetteer), measure_vocabulary(gazetteer)
    normalise = Normaliser(TABLES, _converter(_opencc_share()))
    held = {s["name"] for s in gazetteer["subjects"] if s["kind"] == "hospital"}
    outcome: Counter = Counter()
    wrong = []
    with args.dev.open(encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) < 2:
                continue
            gold = {canonical.get(h.strip(), h.strip()) for h in row[0].split("|") if h.strip() not in ("", "-")}
            gold &= held | {h for h in gold if h not in held}  # names the store lacks stay: they must not be found
            text = normalise(row[1]).text
            found, asked = set(), []
            for e in extract_entities(text, matcher, measures):
                if e["entity"] != "hospital":
                    continue
                if e.get("ambiguous"):
                    asked.append(tuple(e["candidates"]))
                else:
                    found.add(e["value"])
            key = "named" if gold else "none"
            if found == gold and (gold or not asked):
                outcome[key, "right"] += 1
            elif gold and not found and any(gold & set(c) for c in asked):
                outcome[key, "asked"] += 1
                wrong.append(("asked", row[0], row[1], text, sorted(found), asked))
            else:
                outcome[key, "wrong"] += 1
                wrong.append(("wrong", row[0], row[1], text, sorted(found), asked))
    for key in ("named", "none"):
        n = sum(v for (k, _), v in outcome.items() if k == key)
        if n:
            print(f"{key:>6}: {n} rows, right {outcome[key, 'right'] / n:.4f}, asked {outcome[key, 'asked']}, "
                  f"wrong {outcome[key, 'wrong']}")
    if args.show:
        for grade, gold, raw, text, found, asked in wrong:
            print(f"{grade}\t{gold}\t{raw}\t-> {found} {asked if asked else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
