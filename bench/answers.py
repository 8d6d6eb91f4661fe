#!/usr/bin/env python
"""Answer benchmark: the question bank of tests/eval/answers, end to end through the REST channel.

The bank (``bank.tsv``: kind, asker, question, expected, subject, measure, period) was written blind
(tests/eval/answers/NOTES.md): questions in agents' and residents' words, each with the figure as the
bulletin prints it, or NOT_HELD for a trap (another city, a hospital outside the bulletins, a period
or a measure the bulletins do not cover) and for a question the bulletins cannot answer. Follow-ups
hold two messages joined by `` || ``; the second one is graded.

The real system is started on free loopback ports (launcher/stack.py) with a store freshly built
from the seed bulletins. Every question is a new conversation; agents' questions come from a
console sender (the prefix the console's lookup box uses), residents' from a plain one.

Each reply is graded against the store's own figures (every value of the fact table is a "figure"):
  exact      the expected figure(s) given, and no other figure of the store
  extra      the expected figure given, with other figures beside it
  wrong      a figure of the store given, and not the one asked (the worst outcome)
  not held   a trap or unanswerable question answered "not held" with no figure
  other      neither a figure nor "not held" (a clarifying question, a service answer)
  silent     no reply at all
Printed per kind and in total; ``--json`` writes the same; ``--show K`` prints the replies of the
rows graded K (e.g. ``--show wrong``).

    PYTHONPATH=. .venv/bin/python bench/answers.py                  # the whole bank (a few minutes)
    PYTHONPATH=. .venv/bin/python bench/answers.py --sample 150     # a fixed sample, every kind
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import re
import subprocess
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BANK = ROOT / "tests" / "eval" / "answers" / "bank.tsv"
NOT_HELD = "NOT_HELD"
TRAPS = ("trap_city", "trap_hospital", "trap_period", "trap_measure", "unanswerable")
GRADES = ("exact", "extra", "wrong", "not held", "other", "silent")
# How an answer says the bulletins do not hold something.
_REFUSAL = re.compile(r"没有|不掌握|未收录|无法提供|不能提供|查不到|暂无|不包含|未载|不在简报|并非|不是简报")
# A figure: digits, a decimal part, 万/亿; a ratio as printed (9/11, 78/129) is one figure, not two.
_NUMBER = re.compile(r"(?<![\d./])\d+(?:\.\d+)?(?:/\d+)?(?:万|亿)?(?![\d./])")
# List markers, dates and places that are not figures: "1. ", "第3名", "前5名", "11月20日" (the
# complaint form's example of a date).
_MARKERS = re.compile(r"(?m)^\s*\d+\.\s|第\d+名|前\d+名|后\d+名|\d+年|\d+月|\d+日|\d+项")


@dataclass
class Row:
    kind: str
    asker: str
    question: str
    expected: str
    subject: str
    measure: str
    period: str

    @property
    def messages(self) -> list[str]:
        return [m.strip() for m in self.question.split("||")]

    @property
    def wanted(self) -> list[str]:
        return [] if self.expected == NOT_HELD else [squash(x) for x in self.expected.split("|")]


def squash(text: str) -> str:
    """Spaces and thousands separators out, full-width forms folded, the qualifiers of an approximate
    figure dropped (超150亿, 603余万: the bank writes 150亿, 603万): how figures are compared."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    text = re.sub(r"\s+", "", text)
    return re.sub(r"(?<=\d)[余多](?=[万亿])|[超近](?=\d)", "", text)


def read(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as f:
        return [Row(*r[:7]) for r in csv.reader(f, delimiter="\t") if r and not r[0].startswith("#")]


def store_figures(database_url: str) -> set[str]:
    """Every value of the store's fact table that reads as a figure (squashed)."""
    from sqlalchemy import select

    from database.engine import make_engine
    from knowledge.models import Fact
    from sqlalchemy.orm import Session

    engine = make_engine(database_url)
    try:
        with Session(engine) as s:
            values = s.scalars(select(Fact.value).distinct())
            return {v for v in (squash(x) for x in values) if _NUMBER.fullmatch(v) and len(v) >= 2}
    finally:
        engine.dispose()


def store_names(database_url: str) -> dict[str, str]:
    """Every name and alias of the store → its subject's name: the bank writes names as printed
    (健康南京客户端), an answer may use the subject's name (健康南京APP)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from database.engine import make_engine
    from knowledge.models import Alias, Subject

    engine = make_engine(database_url)
    try:
        with Session(engine) as s:
            names = {name: name for name in s.scalars(select(Subject.name))}
            for text, name in s.execute(select(Alias.text, Subject.name).join(Alias.subject)):
                names.setdefault(text, name)
            return names
    finally:
        engine.dispose()


def store_guidance(database_url: str) -> tuple[str, ...]:
    """The store's fixed statements (how to book, the family-doctor rule): a reply quoting one gives
    its figures as part of the guidance (南京已将30%的专家号提前向家庭医生开放), not as an answer to
    a figure question; they count as given only when asked."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from database.engine import make_engine
    from knowledge.models import Statement

    engine = make_engine(database_url)
    try:
        with Session(engine) as s:
            return tuple(squash(t) for t in s.scalars(select(Statement.text)) if t.strip())
    finally:
        engine.dispose()


def numbers(text: str) -> set[str]:
    return set(_NUMBER.findall(_MARKERS.sub(" ", text)))


def grade(row: Row, reply: str, figures: set[str], names: dict[str, str] | None = None,
          guidance: tuple[str, ...] = ()) -> str:
    if not reply.strip():
        return "silent"
    said = squash(reply)
    asked = numbers(squash(" ".join(row.messages)))
    unquoted = said
    for text in guidance:
        unquoted = unquoted.replace(text, " ")
    # the hotline's own number and the emergency numbers are phone numbers, not figures
    given = {n for n in numbers(unquoted) if n in figures and n not in asked and n not in ("12320", "120", "110")}
    if row.kind == "ranking":
        names = names or {}
        places = [min((p for p in (said.find(w), said.find(squash(names.get(w, w)))) if p >= 0), default=-1)
                  for w in row.wanted]
        if all(p >= 0 for p in places) and places == sorted(places):
            return "exact"
        return "wrong" if given else "other"
    if row.wanted:
        if all(_has(said, w) for w in row.wanted):
            # the expected figure as printed may carry its unit (129万人): compared as figures
            wanted = set(row.wanted).union(*(numbers(w) for w in row.wanted))
            return "exact" if not given - wanted else "extra"
        return "wrong" if given else "other"
    if given:
        return "wrong"
    return "not held" if _REFUSAL.search(reply) else "other"


def _has(said: str, wanted: str) -> bool:
    if re.fullmatch(r"\d+(?:\.\d+)?(?:万|亿)?", wanted):
        return bool(re.search(rf"(?<![\d.]){re.escape(wanted)}(?![\d.])", said))
    return wanted in said


def sender_for(row: Row, i: int) -> str:
    """Agents ask from the console (its sender prefix), residents from a plain sender."""
    from hotline.calllog import CONSOLE_SENDER_PREFIX

    return (CONSOLE_SENDER_PREFIX if row.asker == "agent" else "bench-") + f"answers-{i}"


async def ask_all(rows: list[Row], send) -> list[str]:
    """Every row in a conversation of its own, four at a time; `send(sender, message)` → the reply text.
    The reply to a row's last message is what is graded."""
    sem = asyncio.Semaphore(4)

    async def one(i: int, row: Row) -> str:
        async with sem:
            said = ""
            for message in row.messages:
                said = await send(sender_for(row, i), message)
            return said

    return list(await asyncio.gather(*(one(i, r) for i, r in enumerate(rows))))


async def run(rows: list[Row], seeds: Path) -> tuple[list[str], list[str]]:
    import aiohttp

    from hotline.settings import Settings
    from launcher.stack import Stack, free_ports

    var = ROOT / "var" / "bench-answers"
    var.mkdir(parents=True, exist_ok=True)
    store = var / "store.db"
    store.unlink(missing_ok=True)
    settings = Settings.from_env({"HOTLINE_VAR_DIR": str(var), "DATABASE_URL": f"sqlite:///{store}"})
    files = sorted(str(p) for p in seeds.glob("*.txt"))
    subprocess.run([str(ROOT / ".venv" / "bin" / "hotline"), "ingest", *files], check=True,
                   env={**os.environ, "DATABASE_URL": settings.database_url}, stdout=subprocess.DEVNULL)
    figures = store_figures(settings.database_url)
    names = store_names(settings.database_url)
    guidance = store_guidance(settings.database_url)
    stack = Stack(settings, *free_ports(3))
    stack.start()
    try:
        stack.wait_ready()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:

            async def send(sender: str, message: str) -> str:
                async with http.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                                     json={"sender": sender, "message": message}) as resp:
                    replies = await resp.json()
                return "\n".join(r.get("text") or "" for r in replies)

            replies = await ask_all(rows, send)
    finally:
        stack.stop()
    return [grade(r, said, figures, names, guidance) for r, said in zip(rows, replies)], replies


def summary(rows: list[Row], grades: list[str]) -> dict[str, float]:
    answerable = [g for r, g in zip(rows, grades) if r.kind not in TRAPS]
    traps = [g for r, g in zip(rows, grades) if r.kind in TRAPS]
    return {
        "exact": sum(g == "exact" for g in answerable) / max(1, len(answerable)),
        "wrong_figures": sum(g == "wrong" for g in grades) / max(1, len(grades)),
        "traps_not_held": sum(g == "not held" for g in traps) / max(1, len(traps)),
        "silent": sum(g == "silent" for g in grades) / max(1, len(grades)),
    }


def table(rows: list[Row], grades: list[str]) -> dict:
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for row, g in zip(rows, grades):
        by_kind[row.kind][g] += 1
        by_kind["(all)"][g] += 1
    print(f"{'kind':<15}{'n':>5}" + "".join(f"{g:>10}" for g in GRADES))
    out = {}
    for kind in sorted(by_kind, key=lambda k: (k == "(all)", k)):
        counts = by_kind[kind]
        n = sum(counts.values())
        print(f"{kind:<15}{n:>5}" + "".join(f"{counts[g] / n:>10.1%}" for g in GRADES))
        out[kind] = {"n": n, **{g: counts[g] for g in GRADES}}
    figures = summary(rows, grades)
    print("\nexact answers {exact:.1%} (target ≥ 97%) · wrong figures {wrong_figures:.1%} (target 0) · "
          "traps and unanswerable answered not held {traps_not_held:.1%} (target 100%) · "
          "silent {silent:.1%} (target 0)".format(**figures))
    return {"by_kind": out, "summary": figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bank", type=Path, default=BANK)
    parser.add_argument("--sample", type=int, default=0, help="a fixed random sample of N rows (0: all)")
    parser.add_argument("--kinds", default="", help="comma-separated kinds to run (default: all)")
    parser.add_argument("--show", action="append", default=[], help="print the replies graded so")
    parser.add_argument("--seeds", type=Path, default=ROOT.parent / "shared" / "seeds")
    parser.add_argument("--json", type=Path, help="default: results/bench-answers-<bank folder>.json")
    args = parser.parse_args(argv)
    rows = read(args.bank)
    if args.kinds:
        rows = [r for r in rows if r.kind in args.kinds.split(",")]
    if args.sample:
        rows = random.Random(12320).sample(rows, min(args.sample, len(rows)))
    grades, replies = asyncio.run(run(rows, args.seeds))
    for row, g, said in zip(rows, grades, replies):
        if g in args.show:
            print(f"--- [{g}] {row.kind} {row.asker}: {row.question}  (expected {row.expected})\n{said}")
    print(f"{args.bank} ({len(rows)} questions)")
    result = table(rows, grades)
    out = args.json or ROOT / "results" / f"bench-answers-{args.bank.parent.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
