"""TextNormaliser: messages as residents really write them, made comparable before tokenisation.

First in the pipeline (config.yml), shaped like Rasa's own components: NFKC (full-width letters and
digits), traditional characters as simplified ones (OpenCC's tw2s), WeChat's emoji codes and emoji
out of the words, punctuation and whitespace variants, Chinese numerals as digits where a number
matters (二零二三年 → 2023年, 十月 → 10月, 前十 → 前10, phone numbers read out). The steps are
language/normalise.py's Normaliser; their tables and OpenCC's dictionaries are saved into the trained
model and read back from it, so that a model reads text as it was trained to.

What changes is the message's text as the components after this one see it (and Rasa's parse
result, whose entity offsets are into it). Rasa's UserUttered event keeps the text the resident
sent (rasa.core.processor builds it from the incoming UserMessage), which is what the call log
keeps, masked. Training examples' entity annotations are moved with their text. Messages in Rasa's
intent syntax (/human_agent, a button's payload) are left as they are.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_END, ENTITY_ATTRIBUTE_START, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.fingerprint import CodeFingerprinted
from language.normalise import TABLES, Normaliser

TABLES_FILE = "normaliser.json"
OPENCC_DIR = "opencc"
OPENCC_CONFIG = "tw2s.json"  # Taiwan-standard traditional to mainland simplified (著 → 着 as a particle)


def _opencc_share() -> Path:
    import opencc

    return Path(opencc.__file__).parent / "clib" / "share" / "opencc"


def _dictionary_files(node: Any) -> set[str]:
    """The dictionary files an OpenCC config names (at any depth)."""
    if isinstance(node, dict):
        return ({node["file"]} if isinstance(node.get("file"), str) else set()).union(
            *(_dictionary_files(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_dictionary_files(v) for v in node))
    return set()


def _converter(directory: Path):
    import opencc

    # OpenCC reads its dictionaries into memory here: the directory may go away after loading.
    return opencc.OpenCC(str(directory / OPENCC_CONFIG))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class TextNormaliser(CodeFingerprinted, GraphComponent):
    """Rewrites each message's text before the tokenizer (see the module's docstring). Registered as
    a message featurizer only so that Rasa's recipe runs it on training data and on every message in
    pipeline order; it adds no features."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @staticmethod
    def required_packages() -> List[Text]:
        return ["opencc"]

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 tables: dict, opencc_dir: Optional[Path] = None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._tables = tables
        source = opencc_dir if opencc_dir is not None else _opencc_share()
        self._opencc_source = source
        self.normaliser = Normaliser(tables, _converter(source))

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "TextNormaliser":
        return cls(config, model_storage, resource, json.loads(json.dumps(TABLES, ensure_ascii=False)))

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "TextNormaliser":
        with model_storage.read_from(resource) as directory:
            tables = json.loads((Path(directory) / TABLES_FILE).read_text(encoding="utf-8"))
            return cls(config, model_storage, resource, tables, Path(directory) / OPENCC_DIR)

    def train(self, training_data: TrainingData) -> Resource:
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / TABLES_FILE).write_text(json.dumps(self._tables, ensure_ascii=False, indent=1),
                                                       encoding="utf-8")
            target = Path(directory) / OPENCC_DIR
            target.mkdir(exist_ok=True)
            config = json.loads((self._opencc_source / OPENCC_CONFIG).read_text(encoding="utf-8"))
            for name in _dictionary_files(config) | {OPENCC_CONFIG}:
                shutil.copyfile(self._opencc_source / name, target / name)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._normalise(message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalise(message)
        return messages

    def _normalise(self, message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text or text.startswith("/"):
            return
        aligned = self.normaliser(text)
        if aligned.text == text:
            return
        message.set(TEXT, aligned.text)
        entities = message.get(ENTITIES)
        if entities:
            message.set(ENTITIES, moved(entities, aligned))


def moved(entities: List[Dict[Text, Any]], aligned) -> List[Dict[Text, Any]]:
    """Entity annotations with their offsets into the normalised text (one whose characters are all
    gone is dropped). Entities without offsets (names only, as Rasa's dialogue featurisation passes
    them) are kept as they are."""
    out = []
    for entity in entities:
        if not isinstance(entity, dict) or ENTITY_ATTRIBUTE_START not in entity:
            out.append(entity)
            continue
        span = aligned.span(entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END])
        if span is not None:
            out.append({**entity, ENTITY_ATTRIBUTE_START: span[0], ENTITY_ATTRIBUTE_END: span[1]})
    return out
