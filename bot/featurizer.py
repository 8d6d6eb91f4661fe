"""DomainFeaturizer: the kinds of names, periods, measures and phones a message holds, and the crisis
rules' verdicts, as sparse features of both intent classifiers.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

import numpy as np
from scipy.sparse import coo_matrix
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.entities import extract_entities
from bot.gazetteer import read_gazetteer, NamesInModel
from safety import crisis

@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class DomainFeaturizer(NamesInModel, SparseFeaturizer, GraphComponent):
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
        # SparseFeaturizer's constructor, not NamesInModel's (which takes the gazetteer's components' arguments)
        SparseFeaturizer.__init__(self, execution_context.node_name, config)
        self._keep_names(model_storage, resource, gazetteer)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "DomainFeaturizer":
        return cls(config, model_storage, resource, execution_context,
                   read_gazetteer(config["gazetteer_path"]))

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
