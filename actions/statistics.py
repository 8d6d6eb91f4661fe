"""Statistics for agents: a figure, a comparison or a ranking, quoted as printed with its source.

Follow-ups keep their context: the subject, measure and period last answered are kept in the
slots stats_subject / stats_measure / stats_period, and a new message changes only what it names
("2019年10月的呢" keeps the hospital and measure; "省人医呢" keeps the period).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge import stats
from knowledge.models import period_label, Subject
from knowledge.queries import NotFound

from actions.render import ask_which, compact, figure_line, sources
from actions.db import sessions
from database.work import in_thread

SUBJECT_ENTITIES = ("hospital", "district", "channel", "platform", "hotline")
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_TOP_N = re.compile(r"(?:前|top\s*|TOP\s*|Top\s*)(\d{1,2}|[一二两三四五六七八九十])")
_BOTTOM = re.compile(r"最少|最低|最小|倒数|垫底|末尾|后(\d{1,2}|[一二两三四五六七八九十])")
_MAX_RANK = 20


def _subject_key(subject: Subject) -> str:
    return f"{subject.kind}|{subject.name}"


class ActionStatistics(Action):
    def name(self) -> Text:
        return "action_statistics"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        message = tracker.latest_message
        intent = (message.get("intent") or {}).get("name")
        entities = message.get("entities") or []
        named = [e for e in entities if e.get("entity") in SUBJECT_ENTITIES]
        for entity in named:
            if entity.get("ambiguous"):
                ask_which(dispatcher, entity["value"], entity.get("candidates", []), entity["entity"])
                return []
        measure = _last(entities, "measure") or tracker.get_slot("stats_measure")
        period = _last(entities, "period") or tracker.get_slot("stats_period")
        text = message.get("text") or ""

        def work(s):
            if intent == "rank_statistics" or (_TOP_N.search(text) and not named):
                return self.rank(s, dispatcher, text, measure, period)
            if len(named) >= 2:
                return self.compare(s, dispatcher, named, measure, period)
            subject = self.subject(s, named, tracker)
            return self.one(s, dispatcher, subject, measure, period)
        return await in_thread(sessions(), work)

    # --- one figure -----------------------------------------------------------------------
    @staticmethod
    def subject(s, named: list, tracker: Tracker) -> Optional[Subject]:
        if named:
            entity = named[-1]
            found = stats.subject(s, entity["value"], entity["entity"])
            return found[0]
        key = tracker.get_slot("stats_subject")
        if key and "|" in key:
            kind, name = key.split("|", 1)
            try:
                return stats.subject(s, name, kind)[0]
            except NotFound:
                return None
        return None

    def one(self, s, dispatcher, subject: Optional[Subject], measure: Optional[str],
            period: Optional[str]) -> List[Dict[Text, Any]]:
        try:
            if subject is None:
                if not measure:
                    dispatcher.utter_message(
                        text="请问要查哪家医院、哪个区或哪个预约渠道的什么数据？"
                             "例如：鼓楼医院2023年的预约量、玄武区门急诊人次、健康南京APP预约数量。")
                    return []
                lookup = stats.measure_anywhere(s, measure, period)
                subject = lookup.facts[0].subject
            else:
                lookup = stats.figure(s, subject, measure, period)
        except stats.UnknownMeasure as miss:
            known = "、".join(miss.known[:10]) + ("等" if len(miss.known) > 10 else "")
            dispatcher.utter_message(
                text=f"简报中没有{miss.subject.name}的“{miss.measure}”数据。"
                     + (f"可以查的有：{known}。" if known else "简报中没有它的统计数据。"))
            return _context(subject, None, period)
        except stats.UnknownPeriod as miss:
            return self.no_period(s, dispatcher, miss, subject, measure, period)
        except NotFound:
            dispatcher.utter_message(text=f"“{measure}”在简报里有多家单位的数据，请问要查哪家医院、哪个区或哪个渠道的？")
            return _context(None, measure, period)
        self.say(dispatcher, lookup)
        return _context(subject, measure, period)

    @staticmethod
    def say(dispatcher: CollectingDispatcher, lookup: stats.Lookup) -> None:
        facts = lookup.facts
        if len(facts) <= 3:
            body = "；".join(figure_line(f) for f in facts) + "。"
        else:
            first = facts[0]
            body = f"{first.subject.name}{period_label(first.period)}的数据：{compact(facts)}。"
            body += "".join(f"\n{figure_line(f)}" for f in facts if f.flag)
        if lookup.asked_period is None:
            body = f"（未指定时间，按简报中最新的{period_label(facts[0].period)}数据）" + body
        dispatcher.utter_message(text=f"{body}\n{sources(facts)}")

    def no_period(self, s, dispatcher, miss: stats.UnknownPeriod, subject, measure, period):
        asked = stats.relative_label(miss.period)
        subject = subject or miss.subject
        what = f"{subject.name}" if subject else ""
        what += f"的“{miss.measure}”" if miss.measure else "的数据"
        held = "、".join(period_label(p) for p in miss.known)
        dispatcher.utter_message(
            text=f"简报中没有{asked}{what}，我不能提供这个时间的数字。已有数据的时间：{held}。")
        if subject is not None and miss.known:
            self.say(dispatcher, stats.figure(s, subject, measure, None))
        return _context(subject, measure, None)

    # --- comparison -----------------------------------------------------------------------
    def compare(self, s, dispatcher, named: list, measure, period) -> List[Dict[Text, Any]]:
        subjects = []
        for entity in named[:4]:
            subject = stats.subject(s, entity["value"], entity["entity"])[0]
            if subject not in subjects:
                subjects.append(subject)
        if len(subjects) < 2:
            return self.one(s, dispatcher, subjects[0], measure, period)
        measure = measure or stats.DEFAULT_MEASURE.get(subjects[0].kind)
        if not measure:
            dispatcher.utter_message(text="请问要比较哪一项数据？例如预约量、门急诊人次、出院人次。")
            return _context(subjects[-1], None, period)
        if not period:  # the latest period that all of them have
            common = None
            for subject in subjects:
                have = set(stats.periods(s, subject_id=subject.id, measure=measure))
                common = have if common is None else common & have
            if common:
                period = max(common)
        lines, facts, missing = [], [], []
        for subject in subjects:
            try:
                lookup = stats.figure(s, subject, measure, period)
            except NotFound:
                missing.append(subject.name)
                continue
            facts += lookup.facts
            lines += [figure_line(f) for f in lookup.facts]
        if not facts:
            dispatcher.utter_message(text=f"简报中没有{'、'.join(missing)}的“{measure}”数据，无法比较。")
            return _context(subjects[-1], measure, None)
        text = "\n".join(lines)
        if missing:
            text += f"\n简报中没有{'、'.join(missing)}的这项数据。"
        numbered = [f for f in facts if f.number is not None]
        if len(numbered) >= 2 and len({f.period for f in numbered}) == 1:
            top = max(numbered, key=lambda f: f.number)
            text += f"\n{top.subject.name}的{top.measure}更多。"
        dispatcher.utter_message(text=f"{text}\n{sources(facts)}")
        return _context(subjects[-1], measure, period if period and period[0].isdigit() else None)

    # --- ranking --------------------------------------------------------------------------
    def rank(self, s, dispatcher, text: str, measure, period) -> List[Dict[Text, Any]]:
        measure = measure or "小计"
        kind = "district" if re.search(r"哪个区|哪些区|各区|区排", text) else \
            "channel" if re.search(r"渠道|平台|app|APP", text) else "hospital"
        if kind == "channel" and measure == "小计":
            measure = "预约数量"
        n, ascending = _rank_size(text)
        try:
            lookup = stats.ranking(s, measure, period, kind=kind, n=n, ascending=ascending)
        except stats.UnknownPeriod as miss:
            held = "、".join(period_label(p) for p in miss.known)
            dispatcher.utter_message(text=f"简报中没有{stats.relative_label(miss.period)}的“{measure}”排名，"
                                          f"已有数据的时间：{held}。")
            return []
        except NotFound:
            dispatcher.utter_message(text=f"简报中没有可以按“{measure}”排名的数据。")
            return []
        facts = lookup.facts
        if facts[0].measure.endswith("排名"):  # the bulletin's own ranking: its places, not figures
            head = f"{period_label(facts[0].period)}{facts[0].measure}（简报原排名）："
            lines = [f"第{f.value}名 {f.subject.name}" for f in facts]
        else:
            order = "从少到多" if ascending else "从多到少"
            head = f"{period_label(facts[0].period)}{facts[0].measure}{order}前{len(facts)}名："
            lines = [f"{i}. {figure_line(f)}" for i, f in enumerate(facts, 1)]
        if lookup.asked_period is None:
            head = f"（未指定时间，按简报中最新的{period_label(facts[0].period)}数据）" + head
        dispatcher.utter_message(text=head + "\n" + "\n".join(lines) + "\n" + sources(facts))
        return [SlotSet("stats_measure", measure), SlotSet("stats_period", period)]


def _last(entities: list, kind: str) -> Optional[str]:
    values = [e.get("value") for e in entities if e.get("entity") == kind and e.get("value")]
    return values[-1] if values else None


def _rank_size(text: str) -> tuple[int, bool]:
    ascending = bool(_BOTTOM.search(text))
    match = (_TOP_N.search(text) or re.search(r"后(\d{1,2}|[一二两三四五六七八九十])", text)
             or re.search(r"(\d{1,2}|[一二两三四五六七八九十])\s*(?:家|个|名|位)", text))
    if match:
        raw = match.group(1)
        n = int(raw) if raw.isdigit() else _CN_DIGITS[raw]
    elif re.search(r"最多|最高|最大|第一|最少|最低|最小|垫底", text):
        n = 1
    else:
        n = 5
    return max(1, min(n, _MAX_RANK)), ascending


def _context(subject: Optional[Subject], measure: Optional[str], period: Optional[str]) -> List[Dict[Text, Any]]:
    return [SlotSet("stats_subject", _subject_key(subject) if subject else None),
            SlotSet("stats_measure", measure), SlotSet("stats_period", period)]
