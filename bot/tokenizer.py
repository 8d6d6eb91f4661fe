"""DomainJiebaTokenizer: jieba with a user dictionary of every name in the knowledge store, so that
省人医 or 南京卫生12320微信公众号 stay one token. Shaped like Rasa's own JiebaTokenizer.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import jieba
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.fingerprint import file_fingerprint, fingerprint
from bot.gazetteer import USERDICT_FILE, read_gazetteer, userdict_lines

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
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        """The gazetteer's content: its names are the user dictionary (bot/fingerprint.py)."""
        return fingerprint(file_fingerprint(config.get("gazetteer_path")))

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "DomainJiebaTokenizer":
        return cls(config, model_storage, resource, userdict_lines(read_gazetteer(config["gazetteer_path"])))

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
