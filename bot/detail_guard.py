"""DetailQuestionGuard: a question about a detail the bulletins do not hold is not a complaint.

Residents ask about one hospital's details the way they complain about them: 江宁医院住院押金要交多少钱,
同仁医院整形科哪个医生技术好. The intent classifiers, which learnt complaints as messages about a named
hospital, read many such questions as a complaint, and the complaint form then asked "when did it
happen?". A message the classifiers call a complaint is a service question (`other_service`: where to
get it, 12320 or a human agent) when it asks (吗, 多少, 哪个 …), names a detail the store says it does not
hold (knowledge/data/reference.yml `unheld_measures`, in the gazetteer) and holds no word of grievance.
Runs after the FallbackClassifier and before the CrisisGuard, which keeps the last word.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Text

from rasa.engine.graph import GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.gazetteer import NamesInModel

logger = logging.getLogger(__name__)

COMPLAINT = "complaint"
SERVICE = "other_service"
# Asking, not telling: a question word or a question's last particle, or an agent's lookup of a count
# (省人医 医生人数).
_ASKS = re.compile(r"[?？]|吗|多少|人数|数量|几[个位点天家]|哪[个位里儿些家]|什么|怎么|如何|是否|能不能|可不可以|要不要|有没有|需不需要|用不用")
# Grievance: what was done to someone, how it felt, wanting it put right. One of these and the
# message stays a complaint, whatever it asks (为什么收费这么贵 is one).
_GRIEVANCE = re.compile(
    r"投诉|举报|反映|曝光|维权|差劲|太差|很差|真差|态度|骂|凶|吼|不耐烦|推来推去|踢皮球|没人管|不管|不理|过分|离谱|坑|黑心|太黑"
    r"|乱收|多收|重复收|不退|拒绝|不让|不给|凭什么|为什么|为啥|怎么回事|搞什么|什么破|有毛病|气死|生气|气愤|愤怒|无语|失望"
    r"|误诊|诊断错|弄错|搞错|耽误|延误|出事|事故|受伤|弄伤|烫伤|弄坏|赔|道歉|说法|讨个|等了|排了|半天|太慢|太贵|这么贵"
    r"|被取消|没号了|说没号|扣了|扣钱|没挂上|不负责|敷衍|刁难|收红包|红包|回扣|推诿|退不了|骗|非要|才肯|不肯|等得起"
    r"|合理吗|不合理|也要钱|还要钱|就关了|让我们等|让我等")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class DetailQuestionGuard(NamesInModel, GraphComponent, IntentClassifier):
    """A complaint that only asks about an unheld detail becomes other_service (module docstring)."""

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 gazetteer: dict) -> None:
        super().__init__(config, model_storage, resource, gazetteer)
        words = sorted({w for w in gazetteer.get("unheld_measures", []) if w}, key=len, reverse=True)
        self._unheld = re.compile("|".join(map(re.escape, words))) if words else None

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get(INTENT_NAME_KEY) == COMPLAINT and self.only_asks(message.get(TEXT) or ""):
                top = {INTENT_NAME_KEY: SERVICE, "confidence": intent.get("confidence")}
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != SERVICE]
                message.set(INTENT, top, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [top] + ranking, add_to_output=True)
        return messages

    def only_asks(self, text: str) -> bool:
        """A question about a detail the store does not hold, with no grievance in it."""
        return bool(self._unheld and self._unheld.search(text) and _ASKS.search(text)
                    and not _GRIEVANCE.search(text))
