"""The hotline's call taxonomy: the ONE place that says under which category a message and a
conversation are counted (the call log stores it, `hotline report` counts by it).

Categories are those of the 2023 bulletin (in its order): 咨询类, 医疗投诉, 电话预约, 人工服务,
心理危机干预, 自助语音问答. Work orders are counted apart: 市12345工单, 省12345工单, 自接工单.

A message's category (``category_of``):
- an intent with a category of its own keeps it, also inside a form (a question asked in the
  middle of the complaint form is that question: a digression);
- booking_howto, booking_channels, family_doctor → 电话预约; the information questions (services,
  statistics, contact, medical questions, out_of_scope) → 咨询类; complaint → 医疗投诉;
  human_agent → 人工服务; crisis → 心理危机干预;
- dialogue words (greet, goodbye, thanks, affirm, deny, cancel, inform, and Rasa's own restart,
  back, session_start) have no category of their own: inside a form they take the form's
  (complaint_form → 医疗投诉, booking_form → 电话预约), otherwise the previous turn's category in
  the same conversation, else none;
- nlu_fallback (the assistant did not understand): inside a form it takes the form's category (the
  forms take free text: a description, a time); outside a form it is 自助语音问答. Choice: that
  category counts the calls the hotline's automatic system answered without an agent and without a
  known topic, which is what a fallback answer is. It is not inherited from the previous turn: a
  message that was not understood is not known to continue the topic;
- an intent this module does not know (a new one not yet mapped) gets none: the test over
  domain.yml fails until it is mapped here.

A conversation (one sender's session, between session_started events) has one category: the
highest-priority category among its turns, in this order:
心理危机干预 > 医疗投诉 > 人工服务 > 电话预约 > 咨询类 > 自助语音问答.
Choice: a conversation is counted where the hotline's effort and duty of care went. A crisis is
counted as a crisis whatever else was said; a complaint is a complaint even when the resident also
asked a question or wanted an agent; an agent's involvement outweighs a booking it may have helped
with; a booking is the task, questions around it are context; a fallback only counts when nothing
else was understood. A conversation of greetings only has no category (reported as 未归类).
"""
from __future__ import annotations

from typing import Iterable

from hotline import intents

CATEGORIES = ("咨询类", "医疗投诉", "电话预约", "人工服务", "心理危机干预", "自助语音问答")  # bulletin order
PRIORITY = ("心理危机干预", "医疗投诉", "人工服务", "电话预约", "咨询类", "自助语音问答")  # highest first
UNCATEGORISED = "未归类"  # how reports name turns and conversations without a category
WORK_ORDER_KINDS = ("市12345工单", "省12345工单", "自接工单")  # bulletin order

# Each intent's category, and the dialogue words, are in the intent catalogue (hotline/intents.py).
INTENT_CATEGORY: dict[str, str] = intents.CATEGORY
DIALOGUE_INTENTS = intents.DIALOGUE
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_CATEGORY = "自助语音问答"
FORM_CATEGORY = {"complaint_form": "医疗投诉", "booking_form": "电话预约"}

_RANK = {c: i for i, c in enumerate(PRIORITY)}


def category_of(intent: str | None, *, loop: str | None = None, previous: str | None = None) -> str | None:
    """The category of one message: its intent, the active form (`loop`) when it came, and the
    category of the conversation's previous turn."""
    if intent in INTENT_CATEGORY:
        return INTENT_CATEGORY[intent]
    if intent == FALLBACK_INTENT:
        return FORM_CATEGORY.get(loop or "", FALLBACK_CATEGORY)
    if intent in DIALOGUE_INTENTS:
        if loop in FORM_CATEGORY:
            return FORM_CATEGORY[loop]
        return previous
    return None


def higher(a: str | None, b: str | None) -> str | None:
    """The higher-priority of two categories (None is below every category)."""
    if a is None:
        return b
    if b is None:
        return a
    return a if _RANK[a] <= _RANK[b] else b


def conversation_category(categories: Iterable[str | None]) -> str | None:
    """A conversation's category: the highest-priority one among its turns' (None when none has one)."""
    found: str | None = None
    for category in categories:
        found = higher(found, category)
    return found


# --- the bulletins' measures ----------------------------------------------------------------------
# What the hotline's figures are called in the bulletins, and what of ours each is beside.
HOTLINE_SUBJECT = "南京12320卫生热线"
TOTAL = "合计"  # the bulletin's 受理咨询电话: beside all our conversations
BULLETIN_MEASURES: dict[str, str | None] = {
    "受理咨询电话": TOTAL,
    # 2023 bulletin
    "咨询类": "咨询类",
    "医疗投诉": "医疗投诉",
    "电话预约": "电话预约",
    "人工服务": "人工服务",
    "心理危机干预": "心理危机干预",
    "自助语音问答": "自助语音问答",
    "市12345工单": "市12345工单",
    "省12345工单": "省12345工单",
    "自接工单": "自接工单",
    # 2019 bulletin: other names for the same categories, and two the assistant has no counterpart of
    "咨询类（不含专家咨询）": "咨询类",
    "医疗服务投诉": "医疗投诉",
    "专家在线答疑": None,
    "医院满意度调查（呼入）": None,
}
