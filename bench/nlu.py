#!/usr/bin/env python
"""NLU benchmark: the project's pipeline against two peers, side by side on the same data.

Systems (``--systems``):
  project  the project's Rasa pipeline (``--config``, default config.yml), used unchanged
  plain    Rasa's plain Chinese setup (bench/configs/plain_zh.yml): JiebaTokenizer,
           CountVectorsFeaturizer, DIETClassifier with default settings (300 epochs; a fixed
           random_seed is the only addition). ``--quick`` caps DIET at 100 epochs, ``--epochs-plain N``
           sets N: either is printed in the table, and the run is then not "default settings".
  svm      TF-IDF character 1-3-grams (sublinear tf) + LinearSVC(C=1.0), scikit-learn

Data sets (``--datasets``):
  hotline  train on data/nlu/ (Rasa YAML NLU), score on every file in tests/nlu/ (held-out)
  realistic  the project pipeline trained for ``hotline`` (no second training), scored on the blind
           realistic set tests/eval/nlu/realistic.tsv (``--realistic``; columns intent, kind, hospital,
           text): intent macro-F1 and hospital accuracy, in all and per kind of message (greetings
           around a request, voice transcripts, traditional characters, dialect, narratives, two
           requests, new topics, ...). Never tuned on (docs/evaluation.md). Needs ``hotline`` and
           ``project`` in the same run.
  smp      SMP2017-ECDT task 1: train on ``--smp-train``, score on ``--smp-test``; both directories
           hold ``<split>_<label>.txt`` files with one query per line (default: the shared train and
           develop splits; the withheld test split is scored by passing its directory)

For each system and data set: macro-F1 (sklearn, over the labels of the scored set) and accuracy,
training wall time, and parse latency per message (median, p99; one message at a time over the
whole scored set, after a short warm-up; Rasa: the full pipeline parse of the loaded model; SVM:
vectorize + predict). The Rasa systems are trained and loaded in-process with Rasa's Python API,
in temporary directories, with Rasa's training cache switched off (no cached step can make a
training look faster than it is).

Results: a table per data set on stdout, and JSON (``--out``, default results/bench_nlu.json).
Exit status: 0 when every requested system ran, 1 when one failed (the others are still reported),
2 on a usage or data error (nothing is trained).

    python bench/nlu.py                                   # everything (slow: DIET 300 epochs)
    python bench/nlu.py --datasets smp --systems svm      # seconds
    python bench/nlu.py --systems plain --quick           # DIET capped at 100 epochs
    python bench/nlu.py --smp-train DIR --smp-test DIR    # e.g. the withheld SMP2017 test split
    python bench/nlu.py --systems project --datasets hotline,realistic   # the project, both sets
    python bench/nlu.py --score-model models/current.tar.gz --out var/nlu-report/realistic.json
                                    # a trained model on the realistic set, no training (make test-nlu)
"""
from __future__ import annotations

import os

# Before Rasa / TensorFlow are imported.
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ["RASA_MAX_CACHE_SIZE"] = "0"  # no training cache: every training is a real one

import warnings  # noqa: E402

# Rasa's dependencies (matplotlib, pyparsing, ...) print DeprecationWarnings when imported.
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=PendingDeprecationWarning)

import argparse
import json
import logging
import math
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
PLAIN_CONFIG = BENCH / "configs" / "plain_zh.yml"
DEFAULT_SMP = REPO.parent / "shared" / "benchmarks" / "smp2017"
QUICK_EPOCHS = 100
DIET_DEFAULT_EPOCHS = 300
SVM_C = 1.0  # fixed, as in the issue; not tuned on any scored set
SEED = 42
WARMUP_MESSAGES = 5
SYSTEMS = ("project", "plain", "svm")
DATASETS = ("hotline", "smp", "realistic")
REALISTIC = REPO / "tests" / "eval" / "nlu" / "realistic.tsv"
GAZETTEER = REPO / "var" / "gazetteer.json"
PUBLISHED_SMP_F1 = 0.945  # ST-UIC, NLPCC 2018, on the SMP2017 test split

log = logging.getLogger("bench.nlu")


class DataError(Exception):
    """Unusable input: reported without a traceback, exit status 2."""


# --- data ----------------------------------------------------------------------------------


@dataclass
class Dataset:
    name: str
    train_desc: str
    test_desc: str
    train_texts: List[str]
    train_labels: List[str]
    test_texts: List[str]
    test_labels: List[str]
    rasa_train_path: Path  # what the Rasa systems train on (file or directory of Rasa NLU data)
    notes: List[str] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "train": self.train_desc,
            "test": self.test_desc,
            "n_train": len(self.train_texts),
            "n_test": len(self.test_texts),
            "n_train_labels": len(set(self.train_labels)),
            "n_test_labels": len(set(self.test_labels)),
            "notes": self.notes,
        }


def _rel(path: Path) -> str:
    """A path as shown to people: relative to the repository root (where `make` runs)."""
    rel = os.path.relpath(Path(path).resolve(), REPO)
    return str(Path(path).resolve()) if rel.startswith(os.pardir + os.sep + os.pardir) else rel


def _nlu_files(path: Path) -> List[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"{path}: no such file or directory")
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml", ".json"))
    if not files:
        raise DataError(f"{path}: no Rasa NLU files (*.yml, *.yaml, *.json)")
    return files


def load_rasa_nlu(path: Path) -> Tuple[List[str], List[str]]:
    """The intent examples (text, intent) of a Rasa NLU file or directory, read by Rasa itself
    (entity annotations removed from the text, duplicates dropped as Rasa drops them)."""
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    parts = []
    for file in _nlu_files(path):
        try:
            parts.append(load_data(str(file)))
        except Exception as e:  # a file half-written by a colleague, ...
            raise DataError(f"{file}: not readable as Rasa NLU data: {type(e).__name__}: {e}") from e
    data = TrainingData().merge(*parts)
    examples = [m for m in data.intent_examples if m.get("text")]
    if not examples:
        raise DataError(f"{path}: no intent examples")
    return [m.get("text") for m in examples], [m.get("intent") for m in examples]


_SMP_FILE = re.compile(r"^[^_]+_(?P<label>.+)\.txt$")


def load_smp_dir(path: Path) -> Tuple[List[str], List[str]]:
    """SMP2017 layout: <split>_<label>.txt, one query per line (UTF-8, possibly with BOM / CRLF)."""
    if not path.is_dir():
        raise DataError(f"{path}: not a directory of <split>_<label>.txt files")
    texts, labels = [], []
    files = sorted(path.glob("*.txt"))
    for file in files:
        m = _SMP_FILE.match(file.name)
        if not m:
            raise DataError(f"{file}: name is not <split>_<label>.txt")
        for line in file.read_text(encoding="utf-8-sig").splitlines():
            text = line.replace("\ufeff", "").strip()
            if text:
                texts.append(text)
                labels.append(m.group("label"))
    if not texts:
        raise DataError(f"{path}: no <split>_<label>.txt files with queries")
    return texts, labels


def write_rasa_yaml(texts: Sequence[str], labels: Sequence[str], out: Path) -> None:
    """Rasa NLU YAML written by Rasa's own writer, then read back and compared: a query that Rasa
    would read differently (entity-like brackets, ...) stops the run instead of skewing it."""
    from rasa.shared.nlu.constants import INTENT, TEXT
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    messages = [Message(data={TEXT: t, INTENT: y}) for t, y in zip(texts, labels)]
    RasaYAMLWriter().dump(out, TrainingData(training_examples=messages))
    back_texts, back_labels = load_rasa_nlu(out)
    expected = sorted(set(zip(texts, labels)))
    got = sorted(zip(back_texts, back_labels))
    if got != expected:
        diff = sorted(set(expected) ^ set(got))[:5]
        raise DataError(f"{out}: Rasa reads the converted data differently, e.g. {diff}")


def hotline_dataset(train: Path, test: Path) -> Dataset:
    train_texts, train_labels = load_rasa_nlu(train)
    test_texts, test_labels = load_rasa_nlu(test)
    ds = Dataset("hotline", _rel(train), _rel(test), train_texts, train_labels, test_texts, test_labels, train)
    ds.test_desc += f" ({len(_nlu_files(test))} files: {', '.join(p.name for p in _nlu_files(test))})"
    _data_notes(ds)
    return ds


def smp_dataset(train: Path, test: Path, workdir: Path) -> Dataset:
    train_texts, train_labels = load_smp_dir(train)
    test_texts, test_labels = load_smp_dir(test)
    yml = workdir / "smp_train_nlu.yml"
    write_rasa_yaml(train_texts, train_labels, yml)
    # The Rasa systems see Rasa's reading of the file (duplicates dropped): so does the SVM.
    train_texts, train_labels = load_rasa_nlu(yml)
    ds = Dataset("smp", _rel(train), _rel(test), train_texts, train_labels, test_texts, test_labels, yml)
    _data_notes(ds)
    return ds


def _data_notes(ds: Dataset) -> None:
    unseen = sorted(set(ds.test_labels) - set(ds.train_labels))
    if unseen:
        n = sum(1 for y in ds.test_labels if y in unseen)
        ds.notes.append(f"{n} scored examples have labels absent from training: {', '.join(unseen)}")
    overlap = len(set(ds.test_texts) & set(ds.train_texts))
    if overlap:
        ds.notes.append(f"{overlap} scored texts also occur verbatim in the training data")


# --- systems -------------------------------------------------------------------------------


@dataclass
class Trained:
    predict_one: Callable[[str], dict]  # text -> {"intent": ..., "intent_no_fallback": ...}
    train_seconds: float
    load_seconds: Optional[float] = None
    info: dict = field(default_factory=dict)


def train_svm(ds: Dataset, workdir: Path, args) -> Trained:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    model = make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
        LinearSVC(C=SVM_C, random_state=SEED),
    )
    start = time.perf_counter()
    model.fit(ds.train_texts, ds.train_labels)
    seconds = time.perf_counter() - start

    def predict_one(text: str) -> dict:
        label = str(model.predict([text])[0])
        return {"intent": label, "intent_no_fallback": label}

    return Trained(predict_one, seconds, info={"model": f"TfidfVectorizer(char, 1-3, sublinear_tf) + LinearSVC(C={SVM_C})"})


def _read_yaml(path: Path) -> dict:
    from rasa.shared.utils.io import read_yaml_file

    return read_yaml_file(str(path)) or {}


def _find_gazetteer_paths(node, found: List[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if "gazetteer" in str(key).lower() and isinstance(value, str):
                found.append(value)
            else:
                _find_gazetteer_paths(value, found)
    elif isinstance(node, list):
        for item in node:
            _find_gazetteer_paths(item, found)


def check_project_config(config: Path) -> dict:
    """Stop early (before any training) if the project's config cannot be trained here."""
    if not config.is_file():
        raise DataError(f"{config}: no such config file")
    try:
        data = _read_yaml(config)
    except Exception as e:
        raise DataError(f"{config}: not readable YAML: {e}") from e
    pipeline = data.get("pipeline") or []
    if not pipeline:
        raise DataError(f"{config}: no NLU pipeline")
    paths: List[str] = []
    _find_gazetteer_paths(pipeline, paths)
    if not paths and "gazetteer" in config.read_text(encoding="utf-8").lower():
        paths = ["var/gazetteer.json"]  # mentioned without an explicit path: the project's default
    for p in paths:
        if not (REPO / p).is_file() and not Path(p).is_file():
            raise DataError(
                f"{config} needs the gazetteer {p}, which does not exist: run `make gazetteer` first"
            )
    return {"components": [c.get("name") for c in pipeline if isinstance(c, dict)], "gazetteer": paths}


def diet_epochs(config: Path) -> Optional[int]:
    for c in _read_yaml(config).get("pipeline") or []:
        if isinstance(c, dict) and c.get("name") in ("DIETClassifier", "bot.diet.QuickLoadingDIETClassifier"):
            return int(c.get("epochs", DIET_DEFAULT_EPOCHS))
    return None


def plain_config(workdir: Path, epochs: Optional[int]) -> Path:
    if epochs is None:
        return PLAIN_CONFIG
    from rasa.shared.utils.io import write_yaml

    data = _read_yaml(PLAIN_CONFIG)
    for c in data["pipeline"]:
        if c.get("name") == "DIETClassifier":
            c["epochs"] = epochs
    out = workdir / f"plain_zh_{epochs}_epochs.yml"
    write_yaml(data, out)
    return out


_rasa_ready = False


def _rasa_setup() -> None:
    global _rasa_ready
    if _rasa_ready:
        return
    import numpy as np

    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    level = logging.WARNING
    configure_logging_and_warnings(level)
    configure_structlog(level)
    # Rasa hides DIET's "Epochs" progress bar when LOG_LEVEL is WARNING; it is the only sign of
    # life of a long training (and shows epochs/s), so it stays on (LOG_LEVEL only gates progress
    # bars once logging is configured).
    os.environ["LOG_LEVEL"] = "INFO"
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    try:
        import jieba

        jieba.setLogLevel(logging.WARNING)  # "Building prefix dict ..." on every tokenizer
    except ImportError:  # pragma: no cover
        pass
    random.seed(SEED)
    np.random.seed(SEED)
    try:
        import tensorflow as tf

        tf.random.set_seed(SEED)
    except Exception:  # pragma: no cover
        pass
    _rasa_ready = True


def train_rasa(config: Path, ds: Dataset, workdir: Path, name: str) -> Trained:
    import asyncio

    _rasa_setup()
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.constants import INTENT_NAME_KEY, INTENT_RANKING_KEY

    out = workdir / f"models-{name}-{ds.name}"
    out.mkdir()
    start = time.perf_counter()
    model = train_nlu(str(config), str(ds.rasa_train_path), str(out), fixed_model_name=name)
    seconds = time.perf_counter() - start
    if not model or not Path(model).is_file():
        raise RuntimeError(f"rasa train_nlu produced no model from {config} on {ds.rasa_train_path}")

    start = time.perf_counter()
    agent = Agent.load(model)
    load_seconds = time.perf_counter() - start
    loop = asyncio.new_event_loop()

    def predict_one(text: str) -> dict:
        parsed = loop.run_until_complete(agent.parse_message(text))
        intent = (parsed.get("intent") or {}).get(INTENT_NAME_KEY)
        ranking = [r.get(INTENT_NAME_KEY) for r in parsed.get(INTENT_RANKING_KEY) or []]
        no_fallback = next((r for r in ranking if r != "nlu_fallback"), intent)
        return {"intent": intent, "intent_no_fallback": no_fallback, "entities": parsed.get("entities") or []}

    return Trained(predict_one, seconds, load_seconds, {"config": _rel(config), "model_bytes": Path(model).stat().st_size})


# --- scoring -------------------------------------------------------------------------------


def score(ds: Dataset, trained: Trained) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    # Warm-up (first-call graph tracing, caches) on training texts, not timed.
    for text in ds.train_texts[:WARMUP_MESSAGES]:
        trained.predict_one(text)
    preds, preds_nf, latencies = [], [], []
    for text in ds.test_texts:
        start = time.perf_counter()
        out = trained.predict_one(text)
        latencies.append((time.perf_counter() - start) * 1000.0)
        preds.append(str(out["intent"]))
        preds_nf.append(str(out["intent_no_fallback"]))
    labels = sorted(set(ds.test_labels))  # macro over the labels of the scored set

    def f1(p: List[str]) -> float:
        return float(f1_score(ds.test_labels, p, labels=labels, average="macro", zero_division=0))

    per_label = f1_score(ds.test_labels, preds, labels=labels, average=None, zero_division=0)
    lat = sorted(latencies)
    p99_index = max(0, math.ceil(0.99 * len(lat)) - 1)  # nearest-rank percentile
    result = {
        "macro_f1": round(f1(preds), 4),
        "accuracy": round(float(accuracy_score(ds.test_labels, preds)), 4),
        "train_seconds": round(trained.train_seconds, 2),
        "latency_ms_median": round(statistics.median(lat), 3),
        "latency_ms_p99": round(lat[p99_index], 3),
        "latency_messages": len(lat),
        "n_fallback": sum(1 for p in preds if p == "nlu_fallback"),
        "per_label_f1": {y: round(float(v), 4) for y, v in zip(labels, per_label)},
    }
    if result["n_fallback"]:
        result["macro_f1_without_fallback"] = round(f1(preds_nf), 4)
    if trained.load_seconds is not None:
        result["load_seconds"] = round(trained.load_seconds, 2)
    result.update(trained.info)
    result["errors_sample"] = [
        {"text": t, "gold": g, "predicted": p}
        for t, g, p in zip(ds.test_texts, ds.test_labels, preds) if g != p
    ][:20]
    return result


# --- the realistic set ---------------------------------------------------------------------
# tests/eval/nlu/realistic.tsv, written blind (docs/evaluation.md): this code reads it, nobody tunes on
# it. A row is one message, or a short exchange whose messages are joined by " || " (the guard of
# tests/evalsets.py reads it so): then the label is the last message's, in the context of the
# others, and the hospital is the one named anywhere in it.

# A check-in (crisis_checkin) on a crisis message is a crisis answered (as tests/nlu_eval counts it).
CRISIS_TIERS = {"crisis", "crisis_checkin"}
_NO_HOSPITAL = {"", "-", "—", "none", "null", "n/a", "na", "无"}
_HOSPITALS_SPLIT = re.compile(r"\s*[|;；,，、/]\s*")


@dataclass
class RealisticRow:
    intent: str
    kind: str
    hospitals: frozenset  # canonical names; empty when the message names none
    messages: List[str]


def _merged(intent: Optional[str]) -> str:
    return "crisis" if intent in CRISIS_TIERS else str(intent)


def hospital_names(gazetteer: Path = GAZETTEER) -> Dict[str, str]:
    """Every hospital alias of the store -> its canonical name (when it names only one)."""
    if not gazetteer.is_file():
        return {}
    names: Dict[str, set] = {}
    for subject in json.loads(gazetteer.read_text(encoding="utf-8")).get("subjects", []):
        if subject.get("kind") == "hospital":
            for name in [subject["name"], *subject.get("names", [])]:
                names.setdefault(name, set()).add(subject["name"])
    return {alias: next(iter(c)) for alias, c in names.items() if len(c) == 1}


def load_realistic(path: Path, canonical: Optional[Dict[str, str]] = None) -> List[RealisticRow]:
    import csv

    if not path.is_file():
        raise DataError(f"{path}: no such file (the realistic evaluation set)")
    canonical = canonical if canonical is not None else hospital_names()
    out = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if not row:
                continue
            if len(row) < 4:
                raise DataError(f"{path}: a row without its 4 columns (intent, kind, hospital, text)")
            intent, kind, hospital, text = row[0].strip(), row[1].strip(), row[2].strip(), row[3]
            if intent.lower() == "intent" and kind.lower() == "kind":
                continue  # a header
            gold = {canonical.get(h, h) for h in _HOSPITALS_SPLIT.split(hospital)
                    if h.strip().lower() not in _NO_HOSPITAL}
            messages = [m.strip() for m in text.split(" || ") if m.strip()]
            out.append(RealisticRow(intent, kind or "-", frozenset(gold), messages))
    if not out:
        raise DataError(f"{path}: no rows")
    return out


def _hospitals(entities: list) -> Tuple[set, List[list]]:
    """The hospitals a parse names for sure, and the candidates of each ambiguous one."""
    sure, asked = set(), []
    for e in entities:
        if e.get("entity") != "hospital":
            continue
        if e.get("ambiguous"):
            asked.append(list(e.get("candidates") or []))
        else:
            sure.add(e.get("value"))
    return sure, asked


def score_realistic(rows: List[RealisticRow], predict_one: Callable[[str], dict]) -> dict:
    """Intent macro-F1 (crisis tiers merged, nlu_fallback wrong) and hospital accuracy, in all and per
    kind. Hospital accuracy is over the rows that name a hospital: right when the hospitals the
    parse names for sure are exactly those, or when the row lists the two hospitals a name may mean
    and the parse asks between exactly those (``hospital_accuracy_strict`` counts that wrong); any
    other ambiguous name is not right, and counted apart when the right one is among its candidates."""
    from sklearn.metrics import f1_score

    scored = []
    for row in rows:
        parses = [predict_one(m) for m in row.messages]
        sure, asked = set(), []
        for p in parses:
            s, a = _hospitals(p.get("entities") or [])
            sure |= s
            asked += a
        scored.append((row, _merged(parses[-1]["intent"]), sure, asked))

    def summary(part) -> dict:
        gold = [_merged(r.intent) for r, _, _, _ in part]
        pred = [p for _, p, _, _ in part]
        labels = sorted(set(gold))
        named = [(r, s, a) for r, _, s, a in part if r.hospitals]
        # a name of two hospitals that the row lists both of (口腔医院: 南京市口腔医院|江苏省口腔医院) is
        # right when the assistant asks between exactly those two (what the issue asks it to do)
        either = sum(1 for r, s, a in named if not s and len(r.hospitals) > 1
                     and any(set(c) == set(r.hospitals) for c in a))
        right = sum(1 for r, s, _ in named if s == set(r.hospitals)) + either
        asked = sum(1 for r, s, a in named if s != set(r.hospitals)
                    and any(set(r.hospitals) & set(c) for c in a))
        invented = sum(1 for r, _, s, _ in part if not r.hospitals and s)
        return {
            "n": len(part),
            "macro_f1": round(float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0)), 4),
            "accuracy": round(sum(g == p for g, p in zip(gold, pred)) / len(part), 4),
            "n_fallback": sum(1 for p in pred if p == "nlu_fallback"),
            "n_hospital": len(named),
            "hospital_accuracy": round(right / len(named), 4) if named else None,
            "hospital_asked": asked - either,  # asked, and not right
            "hospital_asked_either": either,
            "hospital_accuracy_strict": round((right - either) / len(named), 4) if named else None,
            "hospital_invented": invented,
        }

    kinds = sorted({r.kind for r in rows})
    result = {"all": summary(scored),
              "per_kind": {k: summary([s for s in scored if s[0].kind == k]) for k in kinds},
              "n_multi_message": sum(1 for r in rows if len(r.messages) > 1)}
    gold = [_merged(r.intent) for r, _, _, _ in scored]
    labels = sorted(set(gold))
    per_label = f1_score(gold, [p for _, p, _, _ in scored], labels=labels, average=None, zero_division=0)
    result["per_label_f1"] = {y: round(float(v), 4) for y, v in zip(labels, per_label)}
    return result


def print_realistic(path: Path, result: dict, label: str) -> None:
    print()
    print(f"== realistic: {label} -> score {_rel(path)} ({result['all']['n']} rows,"
          f" {result['n_multi_message']} of several messages; crisis tiers merged, nlu_fallback wrong)")
    print(f"   {'kind':<18} {'rows':>5}  {'macro-F1':>8}  {'accuracy':>8}  {'hospital':>8}  {'of':>4}"
          f"  {'asked':>5}  {'invented':>8}  {'strict':>8}")
    for name, r in [*result["per_kind"].items(), ("ALL", result["all"])]:
        hospital = f"{r['hospital_accuracy']:.4f}" if r["hospital_accuracy"] is not None else "-"
        strict = f"{r['hospital_accuracy_strict']:.4f}" if r["hospital_accuracy_strict"] is not None else "-"
        print(f"   {name:<18} {r['n']:>5}  {r['macro_f1']:>8.4f}  {r['accuracy']:>8.4f}  {hospital:>8}"
              f"  {r['n_hospital']:>4}  {r['hospital_asked']:>5}  {r['hospital_invented']:>8}  {strict:>8}")


def score_model(model: Path, realistic: Path, out: Path, also: Sequence[tuple[Path, Path]] = ()) -> int:
    """A trained model (e.g. models/current.tar.gz) on the realistic set, no training: what
    `make test-nlu` checks its thresholds on (tests/nlu_eval/test_realistic.py). ``also``: more
    (set, JSON) pairs scored by the same loaded model (loading it is a good part of the time)."""
    import asyncio

    os.chdir(REPO)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    try:
        sets = [(path, load_realistic(path), where) for path, where in [(realistic, out), *also]]
    except DataError as e:
        print(f"bench/nlu.py: {e}", file=sys.stderr)
        return 2
    _rasa_setup()
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()

    def predict_one(text: str) -> dict:
        parsed = loop.run_until_complete(agent.parse_message(text))
        return {"intent": (parsed.get("intent") or {}).get("name"), "entities": parsed.get("entities") or []}

    for path, rows, where in sets:
        result = score_realistic(rows, predict_one)
        result["model"] = _rel(model)
        result["set"] = _rel(path)
        _write(where, result)
        print_realistic(path, result, f"model {_rel(model)}")
    return 0


# --- report --------------------------------------------------------------------------------


def print_table(ds: Dataset, results: Dict[str, dict], labels: Dict[str, str]) -> None:
    s = ds.summary()
    print()
    print(f"== {ds.name}: train {s['train']} ({s['n_train']} examples, {s['n_train_labels']} intents)"
          f" -> score {s['test']} ({s['n_test']} examples, {s['n_test_labels']} intents)")
    for note in ds.notes:
        print(f"   note: {note}")
    width = max([len(labels[k]) for k in results] + [6])
    print(f"   {'system':<{width}}  {'macro-F1':>8}  {'accuracy':>8}  {'train s':>8}  {'p50 ms':>7}  {'p99 ms':>7}")
    for key, r in results.items():
        if "error" in r:
            print(f"   {labels[key]:<{width}}  FAILED: {r['error']}")
            continue
        extra = ""
        if r.get("n_fallback"):
            extra = f"  ({r['n_fallback']} nlu_fallback; macro-F1 {r['macro_f1_without_fallback']:.4f} without it)"
        print(f"   {labels[key]:<{width}}  {r['macro_f1']:>8.4f}  {r['accuracy']:>8.4f}  {r['train_seconds']:>8.1f}"
              f"  {r['latency_ms_median']:>7.2f}  {r['latency_ms_p99']:>7.2f}{extra}")
    ok = {k: r for k, r in results.items() if "error" not in r}
    if "project" in ok and len(ok) > 1:
        peers = [k for k in ok if k != "project"]
        ahead = all(ok["project"]["macro_f1"] > ok[k]["macro_f1"] for k in peers)
        print(f"   project {'AHEAD of' if ahead else 'NOT ahead of'} {' and '.join(peers)} on macro-F1")
    if ds.name == "smp":
        split = "scored here" if "develop" not in Path(ds.test_desc).name else "not the develop split scored here"
        print(f"   (best published F1 on the SMP2017 test split ({split}): {PUBLISHED_SMP_F1})")


def system_label(key: str, args, plain_epochs: Optional[int], project_epochs: Optional[int]) -> str:
    if key == "svm":
        return f"svm (tfidf char 1-3 + LinearSVC C={SVM_C:g})"
    if key == "plain":
        if plain_epochs is None:
            return f"plain (Jieba+CountVectors+DIET, default {DIET_DEFAULT_EPOCHS} epochs)"
        why = "--quick" if args.quick and args.epochs_plain is None else "--epochs-plain"
        return f"plain (Jieba+CountVectors+DIET, {plain_epochs} epochs [{why}], NOT default)"
    epochs = f", DIET {project_epochs} epochs" if project_epochs else ""
    return f"project ({_rel(args.config)}{epochs})"


def parse_args(argv: Optional[Sequence[str]] = None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated: project,plain,svm (default: all)")
    p.add_argument("--datasets", default=None,
                   help="comma-separated: hotline,smp,realistic (default: all; realistic when project is run)")
    p.add_argument("--smp-train", type=Path, default=DEFAULT_SMP / "train", help="SMP2017-layout training directory")
    p.add_argument("--smp-test", type=Path, default=DEFAULT_SMP / "develop", help="SMP2017-layout directory to score on")
    p.add_argument("--hotline-train", type=Path, default=REPO / "data" / "nlu", help="Rasa NLU training data")
    p.add_argument("--hotline-test", type=Path, default=REPO / "tests" / "nlu", help="held-out Rasa NLU data")
    p.add_argument("--config", type=Path, default=REPO / "config.yml", help="the project's Rasa config")
    p.add_argument("--realistic", type=Path, default=REALISTIC, help="the realistic set (TSV: intent, kind, hospital, text)")
    p.add_argument("--score-model", type=Path, default=None, metavar="MODEL",
                   help="score this trained model on --realistic only (no training), JSON to --out")
    p.add_argument("--also", action="append", default=[], metavar="SET=OUT",
                   help="with --score-model: another realistic set and its JSON file, by the same loaded model")
    p.add_argument("--epochs-plain", type=int, default=None,
                   help=f"DIET epochs of the plain system (default: Rasa's default, {DIET_DEFAULT_EPOCHS})")
    p.add_argument("--quick", action="store_true",
                   help=f"cap the plain system's DIET at {QUICK_EPOCHS} epochs (marked in the table)")
    p.add_argument("--out", type=Path, default=REPO / "results" / "bench_nlu.json", help="JSON results file")
    args = p.parse_args(argv)
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    explicit = args.datasets is not None
    args.datasets = [d.strip() for d in (args.datasets or ",".join(DATASETS)).split(",") if d.strip()]
    if not explicit and "project" not in args.systems:
        args.datasets = [d for d in args.datasets if d != "realistic"]
    for value, allowed, what in ((args.systems, SYSTEMS, "system"), (args.datasets, DATASETS, "dataset")):
        bad = [v for v in value if v not in allowed]
        if bad or not value:
            p.error(f"unknown {what}(s) {bad or value}; choose from {','.join(allowed)}")
    if args.epochs_plain is not None and args.epochs_plain < 1:
        p.error("--epochs-plain must be >= 1")
    # Order as in SYSTEMS / DATASETS; paths absolute (the run happens in the repository root).
    args.systems = [s for s in SYSTEMS if s in args.systems]
    args.datasets = [d for d in DATASETS if d in args.datasets]
    if "realistic" in args.datasets and ("hotline" not in args.datasets or "project" not in args.systems):
        p.error("the realistic set scores the project pipeline trained for hotline: "
                "--datasets needs hotline too and --systems project")
    for name in ("smp_train", "smp_test", "hotline_train", "hotline_test", "config", "out", "realistic"):
        setattr(args, name, getattr(args, name).resolve())
    if args.score_model is not None:
        args.score_model = args.score_model.resolve()
    pairs = []
    for item in args.also:
        path, sep, out = item.partition("=")
        if not sep or not path or not out:
            p.error(f"--also takes SET=OUT, not {item!r}")
        pairs.append((Path(path).resolve(), Path(out).resolve()))
    args.also = pairs
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.score_model is not None:
        return score_model(args.score_model, args.realistic, args.out, args.also)
    start_all = time.perf_counter()
    invoked_from = Path.cwd()
    os.chdir(REPO)  # relative paths in the project's config (var/gazetteer.json, ...) are repo-relative
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # the project's custom components (bot.*)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    plain_epochs = args.epochs_plain if args.epochs_plain is not None else (QUICK_EPOCHS if args.quick else None)
    project_epochs = None
    meta = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "argv": sys.argv[1:] if argv is None else list(argv),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "systems": args.systems,
        "datasets": args.datasets,
        "plain_diet_epochs": plain_epochs or DIET_DEFAULT_EPOCHS,
        "plain_default_settings": plain_epochs is None,
        "macro_f1": "sklearn f1_score(average='macro') over the labels of the scored set",
        "latency": f"one message at a time over the whole scored set, after {WARMUP_MESSAGES} warm-up parses",
    }
    try:
        import sklearn

        meta["sklearn"] = sklearn.__version__
        if "project" in args.systems or "plain" in args.systems or "hotline" in args.datasets:
            import rasa

            meta["rasa"] = rasa.__version__
        if "project" in args.systems:
            meta["project_config"] = check_project_config(args.config)
            project_epochs = diet_epochs(args.config)
        labels = {k: system_label(k, args, plain_epochs, project_epochs) for k in args.systems}
        meta["system_labels"] = labels
    except DataError as e:
        print(f"bench/nlu.py: {e}", file=sys.stderr)
        return 2

    if "plain" in args.systems:
        if plain_epochs is None:
            print(f"note: plain trains DIET with Rasa's default {DIET_DEFAULT_EPOCHS} epochs on {os.cpu_count()} CPU(s):"
                  f" measured 11-25 s per epoch on 2 shared cores, i.e. about 1-2 h per data set (bench/README.md);"
                  f" --quick caps it at {QUICK_EPOCHS} (then marked NOT default)", flush=True)
        else:
            print(f"note: plain DIET capped at {plain_epochs} epochs: NOT Rasa's default settings"
                  f" ({DIET_DEFAULT_EPOCHS} epochs)", flush=True)

    report = {"meta": meta, "datasets": {}}
    failed = False
    realistic_rows = None
    if "realistic" in args.datasets:
        try:
            realistic_rows = load_realistic(args.realistic)
        except DataError as e:
            print(f"bench/nlu.py: {e}", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="bench-nlu-") as tmp:
        workdir = Path(tmp)
        os.environ["RASA_CACHE_DIRECTORY"] = str(workdir / "rasa-cache")
        for dname in args.datasets:
            if dname == "realistic":
                continue  # scored with the project pipeline trained for hotline (below)
            try:
                if dname == "hotline":
                    ds = hotline_dataset(args.hotline_train, args.hotline_test)
                else:
                    ds = smp_dataset(args.smp_train, args.smp_test, workdir)
            except DataError as e:
                print(f"bench/nlu.py: {e}", file=sys.stderr)
                return 2
            print(f"\n== {dname}: {len(ds.train_texts)} training / {len(ds.test_texts)} scored examples", flush=True)
            results: Dict[str, dict] = {}
            for key in args.systems:
                print(f"-- {dname} / {labels[key]}: training ...", flush=True)
                t0 = time.perf_counter()
                try:
                    if key == "svm":
                        trained = train_svm(ds, workdir, args)
                    elif key == "plain":
                        trained = train_rasa(plain_config(workdir, plain_epochs), ds, workdir, "plain")
                    else:
                        trained = train_rasa(args.config, ds, workdir, "project")
                    trained.info.setdefault("label", labels[key])
                    results[key] = score(ds, trained)
                    if dname == "hotline" and key == "project" and "realistic" in args.datasets:
                        realistic = score_realistic(realistic_rows, trained.predict_one)
                        realistic.update({"set": _rel(args.realistic), "trained_on": ds.train_desc})
                        report["datasets"]["realistic"] = realistic
                    r = results[key]
                    print(f"-- {dname} / {key}: macro-F1 {r['macro_f1']:.4f}, accuracy {r['accuracy']:.4f},"
                          f" trained in {r['train_seconds']:.1f} s, parse p50 {r['latency_ms_median']:.2f} ms"
                          f" / p99 {r['latency_ms_p99']:.2f} ms ({time.perf_counter() - t0:.0f} s in all)", flush=True)
                except Exception as e:
                    failed = True
                    traceback.print_exc()
                    results[key] = {"error": f"{type(e).__name__}: {e}", "label": labels[key]}
                finally:
                    shutil.rmtree(workdir / "rasa-cache", ignore_errors=True)
            report["datasets"][dname] = {**ds.summary(), "results": results}
            print_table(ds, results, labels)
            if dname == "hotline" and "realistic" in report["datasets"]:
                print_realistic(args.realistic, report["datasets"]["realistic"], labels["project"])
            _write(args.out, report)  # after each data set: a long run leaves partial results

    meta["wall_seconds"] = round(time.perf_counter() - start_all, 1)
    _write(args.out, report)
    try:
        shown = args.out.relative_to(invoked_from)
    except ValueError:
        shown = args.out
    print(f"\nwrote {shown} ({meta['wall_seconds']:.0f} s in all)")
    return 1 if failed else 0


def _write(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


if __name__ == "__main__":
    sys.exit(main())
