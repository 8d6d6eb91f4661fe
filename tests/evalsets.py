"""The evaluation sets (tests/eval/): written blind, kept out of training, never tuned on.

Each set is a TSV whose last column is the message (the answers bank: its question column). Their
checksums are in tests/eval/CHECKSUMS.sha256: a set that changes must be replaced by a fresh one
written blind, not edited (docs/evaluation.md). Training data holding any of their lines, or a near
copy (character 3-gram Jaccard >= 0.8), is refused by tests/test_eval_sets.py.
"""
from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Iterator

import yaml

from safety.train import plain

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "eval"
CHECKSUMS = EVAL / "CHECKSUMS.sha256"
NEAR_COPY = 0.8
# set file → the column holding the message
# crisis26/ (the newest), crisis7/, crisis/, nlu/realistic6.tsv (the newest), nlu/realistic5.tsv, answers24/ (the newest), answers6/ and answers/ are the blind measures (crisis24/, crisis25/, answers21/, answers22/ and answers23/ were looked at in session 19; crisis21/ to crisis23/, answers17/ to answers20/ and nlu/realistic4.tsv were looked at in session 18; crisis19/, crisis20/ and the hospital names of nlu/realistic.tsv … realistic3.tsv were looked at in session 17; crisis18/ and answers16/ in session 16; crisis16/, crisis17/, answers14/ and answers15/ in session 15; crisis14/, crisis15/, answers12/ and answers13/ in session 14); the -seenN/ sets were measured, their errors looked at
# and the system changed after them (docs/evaluation.md): kept out of training all the same.
TEXT_COLUMN = {"crisis/crisis.tsv": 1, "crisis/lookalikes.tsv": 1, "crisis7/crisis.tsv": 1, "crisis7/lookalikes.tsv": 1, "crisis11/crisis.tsv": 1, "crisis11/lookalikes.tsv": 1, "crisis12/crisis.tsv": 1, "crisis12/lookalikes.tsv": 1, "crisis13/crisis.tsv": 1, "crisis13/lookalikes.tsv": 1, "crisis14/crisis.tsv": 1, "crisis14/lookalikes.tsv": 1, "crisis15/crisis.tsv": 1, "crisis15/lookalikes.tsv": 1, "crisis16/crisis.tsv": 1, "crisis16/lookalikes.tsv": 1, "crisis17/crisis.tsv": 1, "crisis17/lookalikes.tsv": 1, "crisis18/crisis.tsv": 1, "crisis18/lookalikes.tsv": 1, "crisis19/crisis.tsv": 1, "crisis19/lookalikes.tsv": 1, "crisis20/crisis.tsv": 1, "crisis20/lookalikes.tsv": 1, "crisis21/crisis.tsv": 1, "crisis21/lookalikes.tsv": 1, "crisis22/crisis.tsv": 1, "crisis22/lookalikes.tsv": 1, "crisis23/crisis.tsv": 1, "crisis23/lookalikes.tsv": 1, "crisis24/crisis.tsv": 1, "crisis24/lookalikes.tsv": 1, "crisis25/crisis.tsv": 1, "crisis25/lookalikes.tsv": 1, "crisis26/crisis.tsv": 1, "crisis26/lookalikes.tsv": 1, "crisis10/crisis.tsv": 1, "crisis10/lookalikes.tsv": 1,
               **{f"crisis-seen{n}/{f}.tsv": 1 for n in (1, 2, 3, 4, 5, 6, 7) for f in ("crisis", "lookalikes")},
               "nlu/realistic.tsv": 3, "nlu/realistic2.tsv": 3, "nlu/realistic3.tsv": 3, "nlu/realistic4.tsv": 3, "nlu/realistic5.tsv": 3, "nlu/realistic6.tsv": 3, "answers/bank.tsv": 2, "answers-seen4/bank.tsv": 2, "answers-seen5/bank.tsv": 2, "answers6/bank.tsv": 2, "answers-seen7/bank.tsv": 2, "answers-seen8/bank.tsv": 2, "answers9/bank.tsv": 2, "answers10/bank.tsv": 2, "answers11/bank.tsv": 2, "answers12/bank.tsv": 2, "answers13/bank.tsv": 2, "answers14/bank.tsv": 2, "answers15/bank.tsv": 2, "answers16/bank.tsv": 2, "answers17/bank.tsv": 2, "answers18/bank.tsv": 2, "answers19/bank.tsv": 2, "answers20/bank.tsv": 2, "answers21/bank.tsv": 2, "answers22/bank.tsv": 2, "answers23/bank.tsv": 2, "answers24/bank.tsv": 2, "two/two.tsv": 3, "two-seen1/two.tsv": 3, "answers-seen1/bank.tsv": 2,
               "answers-seen2/bank.tsv": 2}


def rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [r for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if r]


def eval_texts() -> Iterator[tuple[str, str]]:
    """(set, message) of every evaluation set."""
    for name, column in TEXT_COLUMN.items():
        path = EVAL / name
        if path.exists():
            for row in rows(path):
                for part in row[column].split(" || "):  # a follow-up question is two messages
                    yield name, part


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def training_texts() -> Iterator[tuple[str, str]]:
    """(file, example) of everything anything is trained on: Rasa's NLU data, the crisis detector's
    data and the data waiting to be converted (data/pending)."""
    for path in sorted((ROOT / "data").rglob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    yield str(path.relative_to(ROOT)), plain(line[2:])
    for path in sorted([*(ROOT / "data").rglob("*.tsv"), *(ROOT / "safety" / "data").rglob("*.tsv")]):
        for row in rows(path):
            yield str(path.relative_to(ROOT)), plain(row[-1])


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\s\W_]+", "", text)


def grams(text: str) -> set[str]:
    key = _key(text)
    if len(key) < 3:
        return {key} if key else set()
    return {key[i:i + 3] for i in range(len(key) - 2)}


def near_copies(evals: Iterable[tuple[str, str]], trains: Iterable[tuple[str, str]],
                threshold: float = NEAR_COPY) -> list[tuple[str, str, str, str, float]]:
    """(eval set, eval text, training file, training text, similarity) of every training example that
    equals an evaluation message or shares >= threshold of their character 3-grams (Jaccard)."""
    train = [(f, t, grams(t)) for f, t in trains]
    index: dict[str, list[int]] = defaultdict(list)
    for i, (_, _, g) in enumerate(train):
        for gram in g:
            index[gram].append(i)
    found = []
    for name, text in evals:
        g = grams(text)
        if not g:
            continue
        shared = Counter(i for gram in g for i in index.get(gram, ()))
        for i, n in shared.items():
            other = train[i][2]
            similarity = n / len(g | other)
            if similarity >= threshold:
                found.append((name, text, train[i][0], train[i][1], round(similarity, 3)))
    return found


def remove_near_copies() -> dict[str, int]:
    """Take every training example that copies an evaluation line out of its file (a new set came in:
    the set stays as written, training gives way). {file: lines removed}. An NLU block left with no
    example goes too."""
    found = near_copies(eval_texts(), training_texts())
    copied: dict[str, set[str]] = defaultdict(set)
    for _, _, file, text, _ in found:
        copied[file].add(text)
    removed = {}
    for file, texts in copied.items():
        path = ROOT / file
        kept, n = [], 0
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
            body = line.rstrip("\n").split("\t")[-1] if path.suffix == ".tsv" else line.strip()[2:]
            if (path.suffix == ".tsv" or line.strip().startswith("- ")) and plain(body) in texts:
                n += 1
            else:
                kept.append(line)
        text = "".join(kept)
        if path.suffix == ".yml":  # a block whose examples all went
            text = re.sub(r"  - intent: [^\n]+\n(?:    metadata:\n(?:      [^\n]+\n)+)?    examples: \|\n(?:\s*\n)*(?=  - |\Z)",
                          "", text)
        path.write_text(text, encoding="utf-8")
        removed[file] = n
    return removed


if __name__ == "__main__":  # python -m tests.evalsets: after adding an evaluation set (docs/evaluation.md)
    for file, n in sorted(remove_near_copies().items()):
        print(f"{file}: {n} near copies of evaluation lines removed")
