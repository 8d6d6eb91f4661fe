#!/usr/bin/env python
"""What the crisis guard's veto costs (bot/crisis_guard.py ``STANDS``), on the seen crisis sets.

A check-in that only the detector's classifier supports (no danger signal) yields to intent classifiers
confident of an ordinary request, unless the detector's classifier scores at least ``STANDS``. For every
such check-in on the seen sets (the blind ones are left out: the bound is chosen without them) and on the
realistic NLU sets' ordinary messages, this parses the message with the trained model and prints, for a
range of bounds, the crisis lines the veto would take and the check-ins it would spare.

    .venv-rasa/bin/python bench/crisis_veto.py    # after make model; a few minutes
"""
from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BLIND = {"crisis25", "crisis7", "crisis"}  # tests/evalsets.py: the blind crisis sets
SEEN_NLU = ("realistic", "realistic2", "realistic3", "realistic4")  # realistic5 and 6 are blind
BOUNDS = (1.01, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.0)


async def main() -> None:
    logging.disable(logging.INFO)
    from rasa.core.agent import Agent

    from bot import crisis_guard as guard
    from safety import crisis

    classifier = crisis.load_classifier(ROOT / "var" / "crisis-model.json")
    agent = Agent.load(str(ROOT / "models" / "current.tar.gz"))

    ours = (guard.CRISIS_INTENT, guard.CHECKIN_INTENT)

    async def vetoed(text: str) -> float | None:
        """The detector's score when its check-in rests on the classifier alone and the intent classifiers
        are confident of an ordinary request (the veto's condition, whatever bound the guard has now)."""
        found = crisis.assess(text, classifier)
        if found.tier is not crisis.Tier.POSSIBLE or found.signals:
            return None
        parsed = await agent.parse_message(text)
        # the guard keeps the classifiers' ranking behind its own intent: their first ordinary intent
        ordinary = [r for r in parsed.get("intent_ranking") or [] if r["name"] not in ours]
        if not ordinary:
            return None
        top = ordinary[0]
        confident = top["confidence"] >= guard.CONFIDENT and top["name"] not in ("nlu_fallback", *guard.SMALL_TALK)
        return found.score if confident else None

    counts = {"crisis": 0, "lookalikes": 0, "ordinary": 0}
    scores: dict[str, list[float]] = {k: [] for k in counts}
    for folder in sorted((ROOT / "tests" / "eval").glob("crisis*")):
        if folder.name in BLIND:
            continue
        for group in ("crisis", "lookalikes"):
            for line in (folder / f"{group}.tsv").read_text(encoding="utf-8").splitlines():
                counts[group] += 1
                if (score := await vetoed(line.split("\t", 1)[1])) is not None:
                    scores[group].append(score)
    for name in SEEN_NLU:
        for line in (ROOT / "tests" / "eval" / "nlu" / f"{name}.tsv").read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            if "crisis" in fields[0]:
                continue
            counts["ordinary"] += 1
            if (score := await vetoed(fields[-1])) is not None:
                scores["ordinary"].append(score)
    print(f"seen sets: {counts['crisis']} crisis lines, {counts['lookalikes']} lookalikes; "
          f"{counts['ordinary']} ordinary messages of the seen realistic NLU sets")
    print(f"veto only below | crisis lines taken | lookalike check-ins spared | ordinary check-ins spared (now: {guard.STANDS})")
    for bound in BOUNDS:
        taken = [sum(s < bound for s in scores[g]) for g in ("crisis", "lookalikes", "ordinary")]
        print(f"{bound:>15} | {taken[0]:>18} | {taken[1]:>26} | {taken[2]:>25}")


if __name__ == "__main__":
    asyncio.run(main())
