"""DomainEntityExtractor: hospital, district, channel, platform, hotline (any alias, small typos,
ambiguous short names marked), period, measure and phone entities, by rules over the store's names.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.gazetteer import NamesInModel
from bot.names import NameMatcher, find_measures, find_periods, find_phones

# How many messages' entities a matcher keeps (the featuriser asks for the one just read).
REMEMBERED = 64


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class DomainEntityExtractor(NamesInModel, GraphComponent, EntityExtractorMixin):
    """Entities from the knowledge store's names (spaCy rule-based matching) and from patterns."""

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
    """Phones, store names (typos, ambiguity), periods and measures of a text, as Rasa entities.
    The matcher keeps its last answers: the featuriser asks again for the message the entity
    extractor just read (copies are returned: Rasa adds to each entity)."""
    key = (id(measures), text)
    if key not in names.remembered:
        names.remembered[key] = _extract(text, names, measures)
        while len(names.remembered) > REMEMBERED:
            names.remembered.popitem(last=False)
    return [dict(e) for e in names.remembered[key]]


def _extract(text: str, names: NameMatcher, measures: Any) -> List[Dict[Text, Any]]:
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
        if match.heard:  # the resolver trusts a name heard over reading it as a place it does not know
            entity["heard"] = True
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
