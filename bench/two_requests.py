"""Two requests in one message: how the app divides a message (hotline/parts.py) and what the model
understands of each part, on a set written blind (tests/eval/two/two.tsv: kind, first_intent,
second_intent, text; tests/eval/two-seen1/ is the first such set, looked at since).

    two   a message holding two requests: divided in two (or more) parts, and each of the first two
          parts understood as its request (the statistics intents count as one: the statistics
          action answers all three)
    one   a message holding one request, with words like 另外 or 还有 in it: left whole

    .venv-rasa/bin/python bench/two_requests.py [--model models/current.tar.gz] [--set F] [--show]

Runs in .venv-rasa (Rasa's Agent parses each part as the Rasa server would). Prints the rates per
kind; --show prints the rows that missed.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hotline.parts import split_requests  # noqa: E402

STATISTICS = {"ask_statistics", "compare_statistics", "rank_statistics"}


def same(a: str | None, b: str) -> bool:
    return a == b or (a in STATISTICS and b in STATISTICS)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, default=REPO / "models" / "current.tar.gz")
    # the blind set by default; tests/eval/two-seen1/ was looked at while hotline/parts.py was tuned
    p.add_argument("--set", type=Path, default=REPO / "tests" / "eval" / "two" / "two.tsv")
    p.add_argument("--show", action="store_true", help="print the rows that missed")
    args = p.parse_args(argv)
    rows = [line.rstrip("\n").split("\t") for line in args.set.read_text(encoding="utf-8").splitlines() if line.strip()]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from rasa.core.agent import Agent

    agent = Agent.load(str(args.model))
    loop = asyncio.new_event_loop()

    def intent(text: str) -> str | None:
        return (loop.run_until_complete(agent.parse_message(text)).get("intent") or {}).get("name")

    counts = {"two": [0, 0, 0, 0], "one": [0, 0, 0, 0]}  # rows, divided, first right, both right
    missed = []
    for kind, first, second, text in rows:
        parts = split_requests(text)
        c = counts[kind]
        c[0] += 1
        c[1] += len(parts) > 1
        got = [intent(part) for part in parts[:2]]
        if kind == "two":
            c[2] += same(got[0], first)
            ok = len(parts) > 1 and same(got[0], first) and same(got[1], second)
            c[3] += ok
        else:
            c[2] += same(got[0], first)
            ok = len(parts) == 1
            c[3] += ok
        if not ok:
            missed.append((kind, first, second, text, parts, got))
    print(f"{args.set.relative_to(REPO) if args.set.is_relative_to(REPO) else args.set} ({len(rows)} messages), "
          f"model {args.model.name}")
    two, one = counts["two"], counts["one"]
    if two[0]:
        print(f"  two requests  {two[0]:>4}: divided {two[1] / two[0]:.1%}, first understood {two[2] / two[0]:.1%}, "
              f"divided with both understood {two[3] / two[0]:.1%}")
    if one[0]:
        print(f"  one request   {one[0]:>4}: left whole {one[3] / one[0]:.1%} (divided {one[1] / one[0]:.1%}), "
              f"understood {one[2] / one[0]:.1%}")
    if args.show:
        for kind, first, second, text, parts, got in missed:
            print(f"--- [{kind}] {first} {second}: {text}\n    parts {parts} -> {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
