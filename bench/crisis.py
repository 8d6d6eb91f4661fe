"""Crisis benchmark (``make bench-crisis``): the crisis sets of tests/eval, written blind, never tuned on.

Two ways to measure, per kind of message:
- ``--detector`` (default): the detector alone (safety/crisis.py with var/crisis-model.json), as the
  NLU pipeline and the gateway run it: recall (full protocol or check-in) on the crisis set, full-
  protocol false alarms and check-ins on the lookalikes.
- ``--e2e``: every message through the REST channel of the real servers (action server, Rasa, app:
  launcher/stack.py on free loopback ports), one new conversation each; the reply decides: the crisis
  response (domain.yml utter_crisis) is the full protocol, utter_crisis_checkin the check-in.

Prints a table and writes results/bench-crisis-<mode>.json. ``--check`` exits 1 when a target is missed
(recall 100 %, full-protocol false alarms <= 1 %, check-ins <= 5 %).
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from safety import crisis  # noqa: E402

SETS = ROOT / "tests" / "eval" / "crisis"
TARGETS = {"recall": 1.0, "false_alarms": 0.01, "check_ins": 0.05}


def read(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [(r[0], r[1]) for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if r]


def detector_tiers(texts: list[str], model: Path) -> list[int]:
    classifier = crisis.load_classifier(model) if model.exists() else None
    if classifier is None:
        print(f"warning: {model} missing: the rules alone", file=sys.stderr)
    return [int(crisis.assess(t, classifier=classifier).tier) for t in texts]


async def e2e_tiers(texts: list[str]) -> list[int]:
    import aiohttp

    from hotline.settings import Settings
    from launcher.stack import Stack, free_ports
    from safety.replies import checkin_reply, crisis_reply

    full, checkin = crisis_reply().text, checkin_reply().text
    var = ROOT / "var" / "bench-crisis"
    settings = Settings.from_env({"HOTLINE_VAR_DIR": str(var), "DATABASE_URL": f"sqlite:///{var / 'store.db'}"})
    stack = Stack(settings, *free_ports(3))
    from database.migrate import upgrade

    upgrade(settings.database_url)
    stack.start()
    try:
        stack.wait_ready()
        tiers: list[int] = []
        async with aiohttp.ClientSession() as http:
            sem = asyncio.Semaphore(4)

            async def one(i: int, text: str) -> tuple[int, int]:
                async with sem:
                    async with http.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                                         json={"sender": f"bench-crisis-{i}", "message": text}) as resp:
                        replies = await resp.json()
                said = "\n".join(r.get("text") or "" for r in replies)
                return i, 2 if full in said else 1 if checkin in said else 0

            done = await asyncio.gather(*(one(i, t) for i, t in enumerate(texts)))
            tiers = [tier for _, tier in sorted(done)]
        return tiers
    finally:
        stack.stop()


def table(name: str, rows: list[tuple[str, str]], tiers: list[int], crisis_set: bool) -> dict:
    by_kind: dict[str, list[int]] = defaultdict(list)
    for (kind, _), tier in zip(rows, tiers):
        by_kind[kind].append(tier)
    result = {}
    print(f"\n{name} ({len(rows)} messages)")
    header = "recall  (full)" if crisis_set else "false alarms  check-ins"
    print(f"  {'kind':<20} {'n':>4}  {header}")
    for kind, ts in sorted(by_kind.items()) + [("ALL", tiers)]:
        n = len(ts)
        if crisis_set:
            recall, full = sum(t > 0 for t in ts) / n, sum(t == 2 for t in ts) / n
            result[kind] = {"n": n, "recall": recall, "full": full}
            print(f"  {kind:<20} {n:>4}  {recall:6.1%}  ({full:6.1%})")
        else:
            alarms, checks = sum(t == 2 for t in ts) / n, sum(t == 1 for t in ts) / n
            result[kind] = {"n": n, "false_alarms": alarms, "check_ins": checks}
            print(f"  {kind:<20} {n:>4}  {alarms:6.1%}        {checks:6.1%}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--e2e", action="store_true", help="through the real servers (REST channel)")
    parser.add_argument("--model", type=Path, default=ROOT / "var" / "crisis-model.json")
    parser.add_argument("--sets", type=Path, default=SETS, help="a folder with crisis.tsv and lookalikes.tsv")
    parser.add_argument("--show", action="store_true", help="print the messages missed and the false alarms")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    positives, lookalikes = read(args.sets / "crisis.tsv"), read(args.sets / "lookalikes.tsv")
    texts = [t for _, t in positives + lookalikes]
    started = time.monotonic()
    tiers = asyncio.run(e2e_tiers(texts)) if args.e2e else detector_tiers(texts, args.model)
    took = time.monotonic() - started
    mode = "e2e" if args.e2e else "detector"
    pos, neg = tiers[:len(positives)], tiers[len(positives):]
    report = {"mode": mode, "seconds": round(took, 1),
              "crisis": table(f"crisis ({mode})", positives, pos, True),
              "lookalikes": table(f"lookalikes ({mode})", lookalikes, neg, False)}
    if args.show:
        for (kind, text), t in zip(positives, pos):
            if t == 0:
                print(f"  missed [{kind}] {text}")
        for (kind, text), t in zip(lookalikes, neg):
            if t:
                print(f"  {'false alarm' if t == 2 else 'check-in'} [{kind}] {text}")
    out = ROOT / "results" / f"bench-crisis-{mode}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\n{len(texts)} messages in {took:.1f} s -> {out.relative_to(ROOT)}")
    missed = [k for k, ok in (
        ("recall", report["crisis"]["ALL"]["recall"] >= TARGETS["recall"]),
        ("false alarms", report["lookalikes"]["ALL"]["false_alarms"] <= TARGETS["false_alarms"]),
        ("check-ins", report["lookalikes"]["ALL"]["check_ins"] <= TARGETS["check_ins"])) if not ok]
    if missed:
        print("targets missed: " + ", ".join(missed))
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
