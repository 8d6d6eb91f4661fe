"""The evaluation sets stay what their blind writers wrote, and nothing is trained on them."""
from __future__ import annotations

import pytest

from evalsets import CHECKSUMS, EVAL, TEXT_COLUMN, eval_texts, near_copies, rows, sha256, training_texts


def _recorded() -> dict[str, str]:
    pairs = (line.split() for line in CHECKSUMS.read_text(encoding="utf-8").splitlines() if line.strip())
    return {name: digest for digest, name in pairs}


def test_every_set_has_its_checksum_and_matches_it():
    recorded = _recorded()
    present = {str(p.relative_to(EVAL)) for p in EVAL.rglob("*.tsv")}
    assert present == set(recorded), "a set without a checksum, or a checksum without its set"
    for name, digest in recorded.items():
        assert sha256(EVAL / name) == digest, f"{name} changed: write a fresh set blind instead of editing it"


@pytest.mark.parametrize("name", sorted(TEXT_COLUMN))
def test_each_set_is_well_formed(name):
    path = EVAL / name
    if not path.exists():
        pytest.skip(f"{name} not written yet")
    widths = {len(r) for r in rows(path)}
    assert len(widths) == 1 and min(widths) > TEXT_COLUMN[name], widths


def test_no_training_data_holds_an_evaluation_line_or_a_near_copy():
    found = near_copies(eval_texts(), training_texts())
    shown = "\n".join(f"{t!r} ({f}) ~ {e!r} ({s}) {sim}" for s, e, f, t, sim in found[:20])
    assert not found, f"{len(found)} training examples copy evaluation lines:\n{shown}"


def test_the_guard_catches_a_near_copy():
    """The guard itself: an exact copy and a one-character change are caught, a new sentence is not."""
    evals = [("x", "我想问一下鼓楼医院怎么预约专家号")]
    assert near_copies(evals, [("t", "我想问一下鼓楼医院怎么预约专家号")])
    assert near_copies(evals, [("t", "我想问一下鼓楼医院怎么预约专家号啊")])
    assert not near_copies(evals, [("t", "省人医的专家号在哪里挂")])
