"""Custom Rasa NLU components, shaped like Rasa's own JiebaTokenizer.

- DomainJiebaTokenizer: jieba with a user dictionary of every name in the knowledge store, so that
  省人医 or 南京卫生12320微信公众号 stay one token.
- DomainEntityExtractor: hospital, district, channel, platform, hotline (any alias, small typos,
  ambiguous short names marked), period, measure and phone entities.
- IntentEnsemble: a logistic regression on the same sparse features, averaged with DIET's ranking
  (on a few thousand short messages the linear model is steadier; together they beat both).
- CrisisGuard: the rule layer after the classifiers: a danger phrase makes the message a crisis,
  an idiom alone (烦死了) or a statistics question never does.

The tokenizer and the extractor read the gazetteer (`hotline gazetteer`) when the model is trained
and save what they need into the model, so a trained model carries its names with it.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import jieba
import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from . import crisis
from .names import NameMatcher, find_measures, find_periods, find_phones, measure_vocabulary

logger = logging.getLogger(__name__)

GAZETTEER_FILE = "gazetteer.json"
USERDICT_FILE = "userdict.txt"
CRISIS_INTENT = "crisis"


def _read_gazetteer(path: Optional[Text]) -> dict:
    if not path:
        raise ValueError("gazetteer_path is not set: run `hotline gazetteer --out var/gazetteer.json`")
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no gazetteer; `make model` writes it from the knowledge store")
    return json.loads(file.read_text(encoding="utf-8"))


def _userdict_lines(gazetteer: dict) -> List[Text]:
    words = {n for s in gazetteer.get("subjects", []) for n in s["names"]}
    words |= set(gazetteer.get("measures", []))
    for aliases in gazetteer.get("measure_aliases", {}).values():
        words |= set(aliases)
    # A high frequency keeps each name whole against jieba's own dictionary.
    return [f"{w.replace(' ', '')} 100000 nz" for w in sorted(words) if len(w.replace(" ", "")) >= 2]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class DomainJiebaTokenizer(Tokenizer):
    """jieba, with the knowledge store's names as a user dictionary saved into the model."""

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        return ["zh"]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["jieba"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "gazetteer_path": None,
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 userdict: List[Text]) -> None:
        super().__init__(config)
        self._model_storage = model_storage
        self._resource = resource
        self._userdict = userdict
        # A tokenizer of our own, not jieba's global one: two models in one process stay apart.
        self._jieba = jieba.Tokenizer()
        for line in userdict:
            word, freq, tag = line.rsplit(" ", 2)
            self._jieba.add_word(word, int(freq), tag)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "DomainJiebaTokenizer":
        return cls(config, model_storage, resource, _userdict_lines(_read_gazetteer(config["gazetteer_path"])))

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "DomainJiebaTokenizer":
        with model_storage.read_from(resource) as directory:
            lines = (Path(directory) / USERDICT_FILE).read_text(encoding="utf-8").splitlines()
        return cls(config, model_storage, resource, lines)

    def train(self, training_data: TrainingData) -> Resource:
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / USERDICT_FILE).write_text("\n".join(self._userdict) + "\n", encoding="utf-8")
        return self._resource

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute)
        tokens = [Token(word, start) for word, start, _ in self._jieba.tokenize(text) if word.strip()]
        return self._apply_token_pattern(tokens)


class _NamesInModel:
    """The store's names (the gazetteer) kept inside the trained model: read from the file at
    training, saved into the model, read back from the model at load (never from the repo)."""

    def _keep_names(self, model_storage: ModelStorage, resource: Resource, gazetteer: dict) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self._gazetteer = gazetteer
        self._names = NameMatcher(gazetteer)
        self._measures = measure_vocabulary(gazetteer)

    @staticmethod
    def _names_of_model(model_storage: ModelStorage, resource: Resource) -> dict:
        with model_storage.read_from(resource) as directory:
            return json.loads((Path(directory) / GAZETTEER_FILE).read_text(encoding="utf-8"))

    def train(self, training_data: TrainingData) -> Resource:
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / GAZETTEER_FILE).write_text(
                json.dumps(self._gazetteer, ensure_ascii=False), encoding="utf-8")
        return self._resource


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class DomainEntityExtractor(_NamesInModel, GraphComponent, EntityExtractorMixin):
    """Entities from the knowledge store's names (spaCy rule-based matching) and from patterns."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"gazetteer_path": None}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 gazetteer: dict) -> None:
        self._config = config
        self._keep_names(model_storage, resource, gazetteer)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "DomainEntityExtractor":
        return cls(config, model_storage, resource, _read_gazetteer(config["gazetteer_path"]))

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "DomainEntityExtractor":
        return cls(config, model_storage, resource, cls._names_of_model(model_storage, resource))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = self.extract(message.get(TEXT) or "")
            if entities:
                message.set(ENTITIES, message.get(ENTITIES, []) + self.add_extractor_name(entities),
                            add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def extract(self, text: str) -> List[Dict[Text, Any]]:
        return extract_entities(text, self._names, self._measures)


def extract_entities(text: str, names: NameMatcher, measures: Any) -> List[Dict[Text, Any]]:
    """Phones, store names (typos, ambiguity), periods and measures of a text, as Rasa entities."""
    entities: List[Dict[Text, Any]] = []
    taken: list[tuple[int, int]] = []
    for found in find_phones(text):
        taken.append((found.start, found.end))
        entities.append(_entity(found.entity, found.start, found.end, found.value))
    measure_words = [(f.start, f.end) for f in find_measures(text, measures)]
    for match in names.find(text, reserved=measure_words):
        if any(match.start < e and match.end > s for s, e in taken):
            continue
        taken.append((match.start, match.end))
        entity = _entity(match.kind, match.start, match.end,
                         match.text if match.ambiguous else match.candidates[0])
        if match.ambiguous:
            entity["ambiguous"] = True
            entity["candidates"] = list(match.candidates)
        if match.typo:
            entity["typo"] = match.text
        entities.append(entity)
    for found in find_periods(text):
        if not any(found.start < e and found.end > s for s, e in taken):
            taken.append((found.start, found.end))
            entities.append(_entity("period", found.start, found.end, found.value))
    for found in find_measures(text, measures, taken):
        entities.append(_entity("measure", found.start, found.end, found.value))
    return sorted(entities, key=lambda e: e["start"])


def _entity(kind: str, start: int, end: int, value: str) -> Dict[Text, Any]:
    return {"entity": kind, "start": start, "end": end, "value": value, "confidence_entity": 1.0}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class DomainFeaturizer(_NamesInModel, SparseFeaturizer, GraphComponent):
    """What the rules know, as features for the classifiers: which kinds of names, periods,
    measures and phones a message holds (by kind, never by name, so that a hospital seen in no
    training example counts like any other), and the crisis rule layer's verdicts (a danger phrase,
    an idiom or lookalike, a question about crisis statistics).

    "鼓楼医院2023年缴费金额" (subject, period, measure: a statistics question) and "2023年的呢"
    (a period alone: a follow-up) differ in exactly these. One column per feature, on each token
    inside the span and on the sentence. The gazetteer is saved into the model, as the extractor's.
    """

    FEATURES = ("hospital", "district", "channel", "platform", "hotline", "ambiguous", "typo",
                "period", "measure", "phone", "crisis_phrase", "crisis_lookalike", "crisis_statistics")

    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**SparseFeaturizer.get_default_config(), "gazetteer_path": None}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 execution_context: ExecutionContext, gazetteer: dict) -> None:
        super().__init__(execution_context.node_name, config)
        self._keep_names(model_storage, resource, gazetteer)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "DomainFeaturizer":
        return cls(config, model_storage, resource, execution_context,
                   _read_gazetteer(config["gazetteer_path"]))

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "DomainFeaturizer":
        return cls(config, model_storage, resource, execution_context,
                   cls._names_of_model(model_storage, resource))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            if not text or not tokens:
                continue
            sequence, sentence = self.features(text, tokens)
            self.add_features_to_message(sequence, sentence, TEXT, message)
        return messages

    def features(self, text: str, tokens: List[Token]) -> tuple[coo_matrix, coo_matrix]:
        column = {name: i for i, name in enumerate(self.FEATURES)}
        spans: list[tuple[str, int, int]] = []
        for entity in extract_entities(text, self._names, self._measures):
            if entity["entity"] in column:
                spans.append((entity["entity"], entity["start"], entity["end"]))
            for flag in ("ambiguous", "typo"):
                if entity.get(flag):
                    spans.append((flag, entity["start"], entity["end"]))
        phrase = crisis.danger_phrase(text)
        if phrase:
            start = text.find(phrase)
            spans.append(("crisis_phrase", max(start, 0), max(start, 0) + len(phrase)))
        elif crisis.only_looks_like_crisis(text):
            spans.append(("crisis_lookalike", 0, len(text)))
        if crisis.statistics_question(text):
            spans.append(("crisis_statistics", 0, len(text)))
        sequence = np.zeros((len(tokens), len(self.FEATURES)))
        sentence = np.zeros((1, len(self.FEATURES)))
        for name, start, end in spans:
            sentence[0, column[name]] = 1.0
            for i, token in enumerate(tokens):
                if token.start < end and token.end > start:
                    sequence[i, column[name]] = 1.0
        return coo_matrix(sequence), coo_matrix(sentence)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class IntentEnsemble(LogisticRegressionClassifier):
    """Runs right after DIETClassifier (configured with ranking_length: 0, so that its whole
    distribution is there): fits a logistic regression on the same featurised text and replaces the
    intent by the weighted mean of both distributions.

    The regression sees the message's n-gram counts weighted as sublinear TF-IDF (1 + log tf, times
    idf, rows L2-normalised) with a weaker regularisation (C): on these short messages raw counts let
    long messages and common characters dominate. The idf vector is learnt in training and saved
    into the model beside the classifier.
    """

    IDF_FILE = "idf.npy"

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
        counts = super()._create_X(messages).tocsr().astype(np.float64)
        if not self.config["tfidf"] or self.idf is None:
            return counts
        return _tfidf(counts, self.idf)

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
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as model_dir:
            sio.dump(self.clf, model_dir / f"{self._resource.name}.skops")
            if self.idf is not None:
                np.save(model_dir / self.IDF_FILE, self.idf, allow_pickle=False)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "IntentEnsemble":
        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        if component.config["tfidf"]:
            # A model without its idf would weigh messages differently from training: refuse it.
            with model_storage.read_from(resource) as model_dir:
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


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CrisisGuard(GraphComponent, IntentClassifier):
    """Runs after every classifier (and the FallbackClassifier): the last word on crisis."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"intent": CRISIS_INTENT}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._intent = config["intent"]

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "CrisisGuard":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            intent = message.get(INTENT) or {}
            ranking = list(message.get(INTENT_RANKING_KEY) or [])
            phrase = crisis.danger_phrase(text)
            if phrase:
                if intent.get(INTENT_NAME_KEY) != self._intent:
                    logger.info("crisis phrase %r overrides intent %s", phrase, intent.get(INTENT_NAME_KEY))
                top = {INTENT_NAME_KEY: self._intent, "confidence": 1.0}
                ranking = [top] + [r for r in ranking if r.get(INTENT_NAME_KEY) != self._intent]
                message.set(INTENT, top, add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            elif crisis.only_looks_like_crisis(text):
                # Crisis leaves the ranking too, not just the top: behind a low-confidence fallback
                # it would otherwise be offered as one of the two likeliest topics.
                rest = [r for r in ranking if r.get(INTENT_NAME_KEY) != self._intent]
                if intent.get(INTENT_NAME_KEY) == self._intent:
                    real = [r for r in rest if r.get(INTENT_NAME_KEY) != "nlu_fallback"]
                    if real:
                        message.set(INTENT, real[0], add_to_output=True)
                        message.set(INTENT_RANKING_KEY, real, add_to_output=True)
                elif len(rest) < len(ranking):
                    message.set(INTENT_RANKING_KEY, rest, add_to_output=True)
        return messages


def _tfidf(counts: csr_matrix, idf: np.ndarray) -> csr_matrix:
    """Sublinear TF-IDF, rows L2-normalised (sklearn's TfidfTransformer(sublinear_tf=True))."""
    weighted = counts.copy()
    weighted.data = 1.0 + np.log(weighted.data)
    weighted = weighted.multiply(idf.reshape(1, -1)).tocsr()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1))).ravel()
    norms[norms == 0] = 1.0
    return csr_matrix(weighted.multiply(1.0 / norms.reshape(-1, 1)))
