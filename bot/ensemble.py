"""IntentEnsemble: a logistic regression on the same sparse features, averaged with DIET's ranking
(on a few thousand short messages the linear model is steadier; together they beat both).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

import numpy as np
from scipy.sparse import csr_matrix
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.fingerprint import CodeFingerprinted
from bot.rows import sentence_row


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class IntentEnsemble(CodeFingerprinted, LogisticRegressionClassifier):
    """Runs right after DIETClassifier (configured with ranking_length: 0, so that its whole
    distribution is there): fits a logistic regression on the same featurised text and replaces the
    intent by the weighted mean of both distributions.

    The regression sees the message's n-gram counts weighted as sublinear TF-IDF (1 + log tf, times
    idf, rows L2-normalised) with a weaker regularisation (C): on these short messages raw counts let
    long messages and common characters dominate. The idf vector is learnt in training and saved
    into the model beside the classifier.
    """

    IDF_FILE = "idf.npy"
    # The fitted regression as plain arrays (no pickle): Rasa's own format (skops) costs the Rasa
    # server 7 s at start for importing skops alone (issue 17).
    REGRESSION_FILE = "regression.npz"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "max_iter": 1000,
                "diet_weight": 0.5, "ranking_length": 10,
                "tfidf": False, "C": 1.0,
                # bench/cv_ensemble.py: both distributions in the parse output, to choose diet_weight
                # by cross-validation on the training data (never on the held-out set).
                "expose_parts": False}

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage,
                 resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))
        self.idf: Optional[np.ndarray] = None

    def _create_X(self, messages: List[Message]) -> csr_matrix:
        counts = self._counts(messages)
        if not self.config["tfidf"] or self.idf is None:
            return counts
        return _tfidf(counts, self.idf)

    def _counts(self, messages: List[Message]) -> csr_matrix:
        """Each message's sentence features, sparse then dense, one row each: Rasa's ``_create_X``
        built with one CSR matrix instead of a sparse stack per message (a tenth of the Rasa server's
        CPU per message under load, issue 17), and a message without sparse features (an empty text)
        a row of the model's width instead of an error. In training (not fitted yet) the width is the
        messages' own: the same matrix as Rasa's, without its stack per message (`make model`, issue 17)."""
        rows = [sentence_row(message) for message in messages]
        if hasattr(self.clf, "coef_"):
            width = self.clf.coef_.shape[1]
        else:
            width = max((((sparse[2] if sparse else 0) + (dense.size if dense is not None else 0))
                         for sparse, dense in rows), default=0)
        data, indices, indptr = [np.zeros(0)], [np.zeros(0, dtype=np.int64)], [0]
        for sparse, dense in rows:
            values = dense.astype(np.float64) if dense is not None else np.zeros(0)
            start = width - values.size  # the dense features are the last columns
            count = 0
            if sparse is not None:
                columns, counted, start = sparse
                data.append(counted.astype(np.float64))
                indices.append(columns)
                count = columns.size
            nonzero = np.flatnonzero(values)
            data.append(values[nonzero])
            indices.append(nonzero + start)
            indptr.append(indptr[-1] + count + nonzero.size)
        counts = csr_matrix((np.concatenate(data), np.concatenate(indices), indptr), shape=(len(messages), width))
        counts.sum_duplicates()
        return counts

    def train(self, training_data: TrainingData) -> Resource:
        self.idf = None  # counts first: the idf is learnt from them
        X, y = self._create_training_matrix(training_data)
        if X.shape[0] == 0:
            return self._resource
        X.sum_duplicates()
        if self.config["tfidf"]:
            documents = np.bincount(X.indices, minlength=X.shape[1])  # per column: messages with it
            self.idf = np.log((1.0 + X.shape[0]) / (1.0 + documents)) + 1.0
            X = _tfidf(X, self.idf)
        self.clf.fit(X, y)
        self.persist()
        return self._resource

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez(model_dir / self.REGRESSION_FILE, coef=self.clf.coef_, intercept=self.clf.intercept_,
                     classes=np.asarray(self.clf.classes_, dtype=str))
            if self.idf is not None:
                np.save(model_dir / self.IDF_FILE, self.idf, allow_pickle=False)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "IntentEnsemble":
        component = cls(config, execution_context.node_name, model_storage, resource)
        # A model without its regression or (with tfidf) its idf would answer differently from how
        # it was trained: refused (the error names the file), never silently a fresh classifier.
        with model_storage.read_from(resource) as model_dir:
            with np.load(model_dir / cls.REGRESSION_FILE, allow_pickle=False) as saved:
                component.clf.coef_ = saved["coef"]
                component.clf.intercept_ = saved["intercept"]
                component.clf.classes_ = saved["classes"]
            component.clf.n_features_in_ = component.clf.coef_.shape[1]
            if component.config["tfidf"]:
                component.idf = np.load(model_dir / cls.IDF_FILE, allow_pickle=False)
        return component

    def regression(self, messages: List[Message]) -> List[Dict[Text, float]]:
        """The regression's whole distribution for each message."""
        probabilities = self.clf.predict_proba(self._create_X(messages))
        return [dict(zip(self.clf.classes_, map(float, row))) for row in probabilities]

    def process(self, messages: List[Message]) -> List[Message]:
        weight = float(self.config["diet_weight"])
        length = self.config["ranking_length"]
        for message, second in zip(messages, self.regression(messages)):
            first = {r[INTENT_NAME_KEY]: r["confidence"] for r in (message.get(INTENT_RANKING_KEY) or [])}
            if not first:
                first, weight_here = second, 0.0  # no DIET ranking: the regression alone
            else:
                weight_here = weight
            mixed = {name: weight_here * first.get(name, 0.0) + (1 - weight_here) * second.get(name, 0.0)
                     for name in set(first) | set(second)}
            ranking = [{INTENT_NAME_KEY: n, "confidence": c}
                       for n, c in sorted(mixed.items(), key=lambda kv: -kv[1])]
            if length > 0:
                ranking = ranking[:length]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            if self.config["expose_parts"]:
                message.set("intent_parts", {"diet": first, "regression": second}, add_to_output=True)
        return messages


def _tfidf(counts: csr_matrix, idf: np.ndarray) -> csr_matrix:
    """Sublinear TF-IDF, rows L2-normalised (sklearn's TfidfTransformer(sublinear_tf=True))."""
    weighted = counts.copy()
    weighted.data = 1.0 + np.log(weighted.data)
    weighted = weighted.multiply(idf.reshape(1, -1)).tocsr()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1))).ravel()
    norms[norms == 0] = 1.0
    return csr_matrix(weighted.multiply(1.0 / norms.reshape(-1, 1)))
