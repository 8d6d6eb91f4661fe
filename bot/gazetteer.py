"""The store's names (the gazetteer, `hotline gazetteer`) as the NLU components read them at training
and keep them inside the trained model.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.fingerprint import file_fingerprint, fingerprint
from bot.names import NameMatcher, measure_vocabulary

GAZETTEER_FILE = "gazetteer.json"


USERDICT_FILE = "userdict.txt"
_MATCHERS: Dict[str, Tuple[NameMatcher, Any]] = {}


def read_gazetteer(path: Optional[Text]) -> dict:
    if not path:
        raise ValueError("gazetteer_path is not set: run `hotline gazetteer --out var/gazetteer.json`")
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no gazetteer; `make model` writes it from the knowledge store")
    return json.loads(file.read_text(encoding="utf-8"))


def userdict_lines(gazetteer: dict) -> List[Text]:
    words = {n for s in gazetteer.get("subjects", []) for n in s["names"]}
    words |= set(gazetteer.get("measures", []))
    for aliases in gazetteer.get("measure_aliases", {}).values():
        words |= set(aliases)
    # A high frequency keeps each name whole against jieba's own dictionary.
    return [f"{w.replace(' ', '')} 100000 nz" for w in sorted(words) if len(w.replace(" ", "")) >= 2]


class NamesInModel:
    """The store's names (the gazetteer) kept inside the trained model: read from the file at
    training, saved into the model, read back from the model at load (never from the repo).
    A component whose only configuration is the gazetteer's path needs no constructor of its own."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"gazetteer_path": None}

    def __init__(self, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 gazetteer: dict) -> None:
        self._config = config
        self._keep_names(model_storage, resource, gazetteer)

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "NamesInModel":
        """A component built as ``cls(config, model_storage, resource, gazetteer)``: the gazetteer file's names."""
        return cls(config, model_storage, resource, read_gazetteer(config["gazetteer_path"]))

    @classmethod
    def load(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "NamesInModel":
        """The same, with the names the trained model keeps."""
        return cls(config, model_storage, resource, cls._names_of_model(model_storage, resource))

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The gazetteer's content: new names retrain the component (Rasa's cache would keep the old)."""
        return fingerprint(file_fingerprint(config.get("gazetteer_path")))

    def _keep_names(self, model_storage: ModelStorage, resource: Resource, gazetteer: dict) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self._gazetteer = gazetteer
        # One matcher per gazetteer in the process: the entity extractor and the featuriser read the
        # same names of the same message (bot/entities.py keeps the matcher's last answers).
        key = hashlib.sha256(json.dumps(gazetteer, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        if key not in _MATCHERS:
            _MATCHERS[key] = (NameMatcher(gazetteer), measure_vocabulary(gazetteer))
        self._names, self._measures = _MATCHERS[key]

    @staticmethod
    def _names_of_model(model_storage: ModelStorage, resource: Resource) -> dict:
        with model_storage.read_from(resource) as directory:
            return json.loads((Path(directory) / GAZETTEER_FILE).read_text(encoding="utf-8"))

    def train(self, training_data: TrainingData) -> Resource:
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / GAZETTEER_FILE).write_text(
                json.dumps(self._gazetteer, ensure_ascii=False), encoding="utf-8")
        return self._resource
