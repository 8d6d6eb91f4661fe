"""A fixed sample of the question bank (`make bench-answers` runs all of it) through the REST channel
of the real servers: the figure asked, as printed, or "not held"; never another figure, never silence.

The sample is drawn from tests/eval/answers-seen1/ (its errors were looked at while building the
resolver, docs/evaluation.md), so these thresholds guard against regressions; the blind measure is
tests/eval/answers/, scored by the benchmark.
"""
from __future__ import annotations

import importlib.util
import random
import sys
from collections import defaultdict

import pytest

from evalsets import EVAL, ROOT

# The benchmark's own grading (bench/ is scripts, not a package): one definition of a right answer.
_spec = importlib.util.spec_from_file_location("bench_answers", ROOT / "bench" / "answers.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # its dataclasses look their module up while it loads
_spec.loader.exec_module(bench)

pytestmark = pytest.mark.e2e

PER_KIND = 10
# Thresholds on the sample, below the whole seen bank's figures end to end (exact 83.8 %, wrong 1.6 %,
# not held 90.0 %: the answers issue's closing note).
EXACT, WRONG, NOT_HELD = 0.78, 0.04, 0.85


def sample() -> list:
    rows = bench.read(EVAL / "answers-seen1" / "bank.tsv")
    by_kind = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)
    pick = random.Random(12320)
    return [row for kind in sorted(by_kind) for row in pick.sample(by_kind[kind], min(PER_KIND, len(by_kind[kind])))]


async def test_a_sample_of_the_bank_gets_the_figure_asked_or_not_held(system):
    rows = sample()

    async def send(sender: str, message: str) -> str:
        return system.text(await system.send(sender, message))

    replies = await bench.ask_all(rows, send)
    figures_held = bench.store_figures(system.database_url)
    names = bench.store_names(system.database_url)
    guidance = bench.store_guidance(system.database_url)
    grades = [bench.grade(row, said, figures_held, names, guidance) for row, said in zip(rows, replies)]
    figures = bench.summary(rows, grades)
    shown = "\n".join(f"[{g}] {r.question} (expected {r.expected}) -> {said[:120]}"
                      for r, g, said in zip(rows, grades, replies) if g in ("wrong", "silent"))
    assert figures["silent"] == 0, shown
    assert figures["wrong_figures"] <= WRONG, shown
    assert figures["exact"] >= EXACT, figures
    assert figures["traps_not_held"] >= NOT_HELD, figures
