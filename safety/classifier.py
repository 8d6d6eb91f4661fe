"""The crisis classifier: a logistic regression on the character 1–3-grams of the normalised text.

Small and fast on purpose: it scores every message in the gateway and in the NLU pipeline, so it
must load in milliseconds and need nothing but Python (numpy only to train). Its weights are a JSON
file (``python -m safety.train`` writes var/crisis-model.json; the NLU component keeps a copy
inside the trained Rasa model).
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Sequence


# Spoken fillers (voice messages) say nothing about risk; left in, they would teach the classifier
# that a transcript's style is a sign.
_FILLERS = re.compile(r"(?:嗯+|呃+|啊+|喂+|那个|就是说?|然后|这个)(?=[，,。.\s])[，,。.]?\s*")


def features(text: str) -> set[str]:
    """Character 1-, 2- and 3-grams of a normalised text without fillers (spaces kept: they separate
    pinyin and English words)."""
    padded = f"^{_FILLERS.sub('', text)}$"
    grams = {padded[i:i + n] for n in (1, 2, 3) for i in range(len(padded) - n + 1)}
    grams.discard("^")
    grams.discard("$")
    return grams


class CrisisClassifier:
    FORMAT = 1

    def __init__(self, weights: dict[str, float], bias: float, meta: dict | None = None) -> None:
        self.weights = weights
        self.bias = bias
        self.meta = meta or {}

    def score(self, normalised: str) -> float:
        """P(crisis) for a normalised text (language/normalise.py)."""
        z = self.bias + sum(self.weights.get(g, 0.0) for g in features(normalised))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    # --- training -------------------------------------------------------------------------------
    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[int], *, l2: float = 1.0, epochs: int = 300,
              min_count: int = 2, balanced: bool = True, meta: dict | None = None) -> "CrisisClassifier":
        """Fit on normalised texts; labels 1 for crisis. Full-batch gradient descent with L2 and
        class-balanced weights (crisis lines are the minority)."""
        import numpy as np

        counts: dict[str, int] = {}
        rows = [features(t) for t in texts]
        for row in rows:
            for g in row:
                counts[g] = counts.get(g, 0) + 1
        vocab = {g: i for i, g in enumerate(sorted(g for g, c in counts.items() if c >= min_count))}
        # The binary feature matrix as (row, column) pairs: X @ w and X.T @ e are bincounts.
        row_ids, col_ids = [], []
        for r, row in enumerate(rows):
            cols = [vocab[g] for g in row if g in vocab]
            row_ids += [r] * len(cols)
            col_ids += cols
        row_ids, col_ids = np.asarray(row_ids, dtype=np.int64), np.asarray(col_ids, dtype=np.int64)
        y = np.asarray(labels, dtype=float)
        positive = max(y.mean(), 1e-6)
        sample = (np.where(y == 1, 0.5 / positive, 0.5 / max(1 - positive, 1e-6)) if balanced
                  else np.ones_like(y))
        w, b = np.zeros(len(vocab)), 0.0
        # Adam: a few hundred full-batch steps converge on a few thousand lines in about a second.
        m_w, v_w, m_b, v_b, lr = np.zeros_like(w), np.zeros_like(w), 0.0, 0.0, 0.05
        n = len(y)
        for step in range(1, epochs + 1):
            z = np.bincount(row_ids, weights=w[col_ids], minlength=n) + b
            p = 1 / (1 + np.exp(-np.clip(z, -30, 30)))
            err = (p - y) * sample
            g_w = np.bincount(col_ids, weights=err[row_ids], minlength=len(vocab)) / n + l2 * w / n
            g_b = err.sum() / n
            m_w = 0.9 * m_w + 0.1 * g_w
            v_w = 0.999 * v_w + 0.001 * g_w ** 2
            m_b = 0.9 * m_b + 0.1 * g_b
            v_b = 0.999 * v_b + 0.001 * g_b ** 2
            w -= lr * (m_w / (1 - 0.9 ** step)) / (np.sqrt(v_w / (1 - 0.999 ** step)) + 1e-8)
            b -= lr * (m_b / (1 - 0.9 ** step)) / (math.sqrt(v_b / (1 - 0.999 ** step)) + 1e-8)
        inverse = {i: g for g, i in vocab.items()}
        weights = {inverse[i]: round(float(x), 5) for i, x in enumerate(w) if abs(x) >= 1e-4}
        return cls(weights, float(b), meta)

    # --- storage --------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps({"format": self.FORMAT, "bias": self.bias, "meta": self.meta,
                                   "weights": self.weights}, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "CrisisClassifier":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != cls.FORMAT:
            raise ValueError(f"{path}: not a crisis classifier of format {cls.FORMAT}")
        return cls(data["weights"], data["bias"], data.get("meta"))
