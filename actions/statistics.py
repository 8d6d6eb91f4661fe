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
from knowledge.resolve import (CUMULATIVE_WORDS, GENERIC_MEASURE_WORDS, OWN_PERIOD_WORDS, Question, Vocabulary,
                               common_runs, strong as _strong)

from actions.render import amount, ask_which, compact, figure_line, sources
from hotline import taxonomy
from actions.db import sessions
from database.work import in_thread

_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_TOP_N = re.compile(r"(?:前|top\s*|TOP\s*|Top\s*)(\d{1,2}|[一二两三四五六七八九十])")
_BOTTOM = re.compile(r"最少|最低|最小|倒数|垫底|末尾|末(?=\s*(?:\d|[一二两三四五六七八九十]))|后(\d{1,2}|[一二两三四五六七八九十])")
_MAX_RANK = 20


def _subject_key(subject: Subject) -> str:
    return f"{subject.kind}|{subject.name}"


class ActionStatistics(Action):
    """Reads the question against the store's schema (knowledge/resolve.py), then answers the one
    figure asked, several, a comparison or a ranking; or says what is not held, and what is."""

    def name(self) -> Text:
        return "action_statistics"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        message = tracker.latest_message
        intent = (message.get("intent") or {}).get("name")
        if intent == "nlu_fallback":
            # unsure between asking and ranking (自助终端 医院挂号次数 前3): the classifiers' first choice
            ranked = [r.get("name") for r in message.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
            intent = ranked[0] if ranked else intent
        entities = message.get("entities") or []
        text = message.get("text") or ""

        def work(s):
            question = vocabulary(s).read(text, entities)
            return self.answer(s, dispatcher, question, intent, tracker)
        return await in_thread(sessions(), work)

    def answer(self, s, dispatcher: CollectingDispatcher, question: Question, intent: Optional[str],
               tracker: Tracker) -> List[Dict[Text, Any]]:
        if question.foreign:
            return self.foreign(dispatcher, question)
        for mention, found in question.ambiguous:
            ask_which(dispatcher, mention.text, sorted({f.name for f in found}), found[0].kind)
            return []
        if question.sub_period:
            held = "、".join(period_label(p) for p in stats.periods(s))
            dispatcher.utter_message(
                text=f"简报中没有“{question.sub_period}”这样的分段数据：简报的统计只按{held}发布，我不能用全年或其他时间的数字代替。")
            return []
        period = question.period or tracker.get_slot("stats_period")
        named = question.subject_list
        if question.unheld and not (set(question.unheld) <= _ASKING_WORDS and named and question.measures
                                    and self.pick(s, named[0], question)[1] is None):
            # 床位, 办结率, 挂号费: never printed, whatever else is named (信息中心的地址在哪: printed)
            return self.unheld(s, dispatcher, question, named)
        if intent == "rank_statistics" and not _RANKING.search(question.text) and not named \
                and self.context_subject(s, tracker, None) is not None:
            intent = "ask_statistics"  # 实时上传天数 right after 同仁医院's figure: its figure, not a ranking
        if intent == "rank_statistics" or (_RANKING.search(question.text)
                                           and all(sub.kind == "hotline" for sub in named)):
            return self.rank(s, dispatcher, question, tracker.get_slot("stats_measure"), period)
        if question.dual and len(named) == 1 and named[0].kind == "channel":
            last = self.context_subject(s, tracker, None)
            if last is not None and last.kind in ("hospital", "district"):  # 快速预约呢: its column
                question.measures += question.dual
                question.subjects = [(m, f) for m, f in question.subjects if f[0] != named[0]]
                named = []
        if not named and not question.measures and not question.unheld and tracker.get_slot("stats_measure"):
            # 省的 right after 市12345工单: the measure that differs from the last one in those words
            sibling = _sibling(vocabulary(s), question.context, tracker.get_slot("stats_measure"))
            subject = self.context_subject(s, tracker, sibling) if sibling else None
            if subject is not None:
                return self.one(s, dispatcher, subject, sibling, period, question)
        if not named and not question.measures and not question.unheld:
            # a follow-up that names neither subject nor measure keeps both (2019年10月的呢)
            subject = self.context_subject(s, tracker, None)
            if subject is not None and not _content(question.context):
                return self.one(s, dispatcher, subject, tracker.get_slot("stats_measure"), period, question)
        if not named:  # the last answer's subject when it has the measure asked, else its owner
            subject = self.context_subject(s, tracker, None)
            if subject is not None and self.pick(s, subject, question)[0]:
                named = [subject]
            else:
                named = self.owners(s, question)
        if not named:
            ask = ("请问要查哪家医院、哪个区、哪个平台或预约渠道的什么数据？"
                   "例如：鼓楼医院2023年的预约量、玄武区门急诊人次、健康南京APP预约数量。")
            if _content(question.context):  # words we could not place: say so before asking
                ask = "简报中没有找到与您的问题对应的数据。" + ask
            dispatcher.utter_message(text=ask)
            return []
        chosen, miss = self.pick(s, named[0], question)
        if miss and (named[0].kind == "city" and named[0].name == "南京" or named[0].kind == "hotline"
                     and any(_GENERIC_HOTLINE.fullmatch(m.text) for m, f in question.subjects if named[0] in f)):
            # 南京 on its own is everyone's city: a measure it lacks is the platform's or the hotline's
            owners = self.owners(s, question)
            if owners:
                said = [m.text for m, f in question.subjects if named[0] in f]
                # 南京 vs 全省: the city gives way to its owner, the other subject stays
                named = owners + [other for other in named[1:] if other not in owners]
                chosen, miss = self.pick(s, named[0], question)
                # the owner's measure named after the hotline: 12320调阅健康档案 is 12320调阅, not all 调阅
                own = [m for m in stats.measures(s, named[0]) for t in said
                       if m.startswith(t) and m != t and m[len(t):] in question.context]
                if len(set(own)) == 1:
                    chosen, miss = own[:1], None
        if miss == "unheld":
            return self.unheld(s, dispatcher, question, named)
        if miss == "unknown":
            return self.not_this(s, dispatcher, named[0], question)
        for other in named[1:]:  # 镇江 beside a platform: 镇江's figure of it, which is not printed
            if other.kind == "city" and chosen and not self.pick(s, other, question)[0]:
                return self.not_this(s, dispatcher, other, question)
        if not chosen and miss is None and tracker.get_slot("stats_measure"):
            # a follow-up naming no measure (那儿童医院呢) keeps the last one, when the subject has it
            last = tracker.get_slot("stats_measure")
            if any(m in stats.measures(s, named[0]) for m in stats.family(last)):
                chosen = [last]
        if miss == "close":
            return self.which_measure(s, dispatcher, named[0], chosen, close=True)
        if miss == "unclear" and not tracker.get_slot("stats_measure"):
            return self.which_measure(s, dispatcher, named[0], stats.measures(s, named[0]))
        if not chosen and miss == "unclear":
            chosen = [tracker.get_slot("stats_measure")]
        if len(named) >= 2:
            own = self.own_measures(s, named, question)
            if own:  # 公众号关注人数和健康南京APP注册用户: each subject its own measure
                events: List[Dict[Text, Any]] = []
                for subject, measure in own:
                    events = self.one(s, dispatcher, subject, measure, period, question)
                return events
            return self.compare(s, dispatcher, named, chosen[0] if chosen else None, period, question)
        if len(question.periods) <= 1:
            asked = self.parts(s, named[0], question, intent, tracker.latest_message.get("entities") or [], period)
            if asked:  # two measures of one subject, each asked in its own words
                self.each(s, dispatcher, named[0], asked)
                return _context(named[0], asked[-1][0], period)
        if len(question.periods) > 1:  # one subject in two periods: each answered
            return self.several(s, dispatcher, named[0], chosen[:1] or [None], None, question,
                                periods=question.periods)
        if len(chosen) > 1:
            return self.several(s, dispatcher, named[0], chosen, period, question)
        return self.one(s, dispatcher, named[0], chosen[0] if chosen else None, period, question)

    # --- which measure, which subject ----------------------------------------------------------
    @staticmethod
    def own_measures(s, named: List[Subject], question: Question) -> List[tuple]:
        """Each subject with the measure named after it, before the next subject (A的X和B的Y), when
        every subject has one that it holds and they are not all the same; else empty."""
        starts = []
        for subject in named:
            mention = next((m for m, found in question.subjects if len(found) == 1 and found[0] == subject), None)
            if mention is None:
                return []
            starts.append(mention.start)
        order = sorted(range(len(named)), key=lambda i: starts[i])
        pairs = []
        for rank, i in enumerate(order):
            end = starts[order[rank + 1]] if rank + 1 < len(order) else len(question.text)
            held = set(stats.measures(s, named[i]))
            mine = [m for mention, found in question.measures if starts[i] <= mention.start < end
                    for m in found if m in held]
            if len(set(mine)) != 1:
                return []
            pairs.append((named[i], mine[0]))
        return pairs if len({m for _, m in pairs}) > 1 else []

    @staticmethod
    def pick(s, subject: Subject, question: Question) -> tuple[List[str], Optional[str]]:
        """The subject's measures the question asks for, and why none when none: "unheld" (a word
        for something never printed), "unknown" (a printed measure this subject lacks), "unclear"
        (words that name no measure of it) or None (nothing said: its default measure)."""
        vocab = vocabulary(s)
        held = stats.measures(s, subject)
        # a platform beside the hospital says which upload (省人医 远程心电数据上传量)
        qualified = [m for m in held if any(q.name in m for q in question.qualifiers) and not m.endswith("排名")]
        if qualified:
            held = qualified
        if _MONEY.search(question.text):  # 多少钱: only amounts answer it
            held = [m for m in held if re.search(r"金额|收入", m)] or held
        for platform in (q for q in question.qualifiers if q.kind == "platform"):
            ranks = [m for m in stats.measures(s, subject) if platform.name in m and m.endswith("排名")]
            bases = {m.replace(platform.name, "").removesuffix("排名") for m in ranks}
            if ranks and not qualified and not bases & set(held):
                # 鼓楼 互联网医院 预约量: only its place in that platform's ranking is printed
                return [], "unknown"
        exact = []
        for _, family in sorted(question.measures, key=lambda m: m[0].start):
            found = next((m for m in family if m in held), None)
            if found and found not in exact:
                exact.append(found)
        if exact and all(m.text in GENERIC_MEASURE_WORDS for m, _ in question.measures):
            # only 预约 said: a measure whose name the question uses more of is meant (完成了多少次预约
            # of the platform is 完成预约挂号, not its table's 合计)
            scored = max(((vocab.score(m, question.context), m) for m in held), default=None,
                         key=lambda x: (x[0][1], x[0][0]))
            if scored and _strong(scored[0]) and scored[0][1] > max(len(m.text) for m, _ in question.measures) \
                    and _explains(vocab, scored, question):
                return [scored[1]], None
        if exact and question.cumulative is None and question.period:
            exact = [_own_period(s, subject, m, held) for m in exact]
        if exact and question.cumulative:
            exact = [_running_total(s, vocab, subject, m, held, question) for m in exact]
        if exact:
            return exact, None
        if question.measures and subject.kind == "channel" and CHANNEL_BOOKINGS in held \
                and all("预约" in m.text for m, _ in question.measures):
            # 我的南京客户端 线上预约数量: a channel prints one booking figure, its 预约数量
            return [CHANNEL_BOOKINGS], None
        if question.measures:  # a measure named exactly, which this subject does not print ...
            words = [m.text for m, _ in question.measures]
            inside = sorted(((vocab.score(m, question.context), m) for m in held if any(w in m for w in words)),
                            key=lambda x: (x[0][1], x[0][0]), reverse=True)
            # ... unless the word is part of the name of one it does, which the question names best
            # (累计注册了多少用人单位: 注册 is the channels' 注册用户, and part of 累计注册用人单位)
            if inside and (len(inside) == 1 or inside[0][0] > inside[1][0]) and _strong(inside[0][0]) \
                    and _explains(vocab, inside[0], question):
                return [inside[0][1]], None
            return [], "unknown"
        # the measure naming most of the question's words, then the one most of whose name is named
        scored = sorted(((vocab.score(m, question.context), m) for m in held),
                        key=lambda x: (_strong(x[0]), x[0][1], x[0][0]), reverse=True)
        if scored and _strong(scored[0][0]) and _explains(vocab, scored[0], question):
            best = scored[0]
            if len(scored) > 1 and scored[1][0] == best[0] and not (
                    set(stats.family(best[1])) & set(stats.family(scored[1][1]))):
                return [best[1], scored[1][1]], "close"
            return [best[1]], None
        if question.unheld:
            return [], "unheld"
        if question.measures:
            return [], "unknown"
        if _content(question.context):
            return [], "unclear"
        return [], None

    @staticmethod
    def owners(s, question: Question) -> List[Subject]:
        """No subject named: the one subject outside the ranked tables (the hotline, a platform, the
        centre) whose measure the question names best."""
        vocab = vocabulary(s)
        best, owners, best_measure = (0.0, 0), [], ""
        for subject, measure in stats.unranked_measures(s):
            exact = any(measure in family for _, family in question.measures)
            found = (1.0, len(measure)) if exact else vocab.score(measure, question.context)
            if not _strong(found) or not exact and not _explains(vocab, (found, measure), question):
                continue
            if found > best:
                best, owners, best_measure = found, [subject], measure
            elif found == best and subject not in owners:
                owners.append(subject)
        if len(owners) > 1 and question.period:
            # 2023 电话预约: the hotline's; the platform prints it for 2019-10 only (电话预约 23年和19年10月:
            # the one that holds it for every period named)
            wanted = set(question.periods) | {question.period}
            owners = [o for o in owners
                      if wanted <= set(stats.periods(s, subject_id=o.id, measure=best_measure))] or owners
        if len(owners) != 1:
            return []
        if stats.ranked_holders(s, best_measure, question.period) and not _TOTAL.search(question.text):
            return []  # a hospital column with no hospital named: the total only when a total is asked
        if any(stats.ranked_holders(s, m) for m in stats.family(best_measure)) and _unknown_name(vocab, best_measure, question) \
                and not _TOTAL.search(question.text):
            return []  # 华世佳宝 预约小计: a name we do not hold, never the platform's total in its place
        return owners

    @staticmethod
    def which_measure(s, dispatcher: CollectingDispatcher, subject: Subject, options: List[str],
                      close: bool = False):
        """Words that name no measure of the subject (or two equally): say so, and offer what is held
        (at most ten, as buttons); what bulletins never hold is said to be elsewhere."""
        listed = "、".join(options[:10]) + ("等" if len(options) > 10 else "")
        if close:
            text = f"您问的可能是{subject.name}的{listed}，请问是哪一项？"
        else:
            text = (f"简报中没有找到与您的问题对应的{subject.name}数据。可以查的有：{listed}。"
                    "科室、门诊时间、费用、医生等信息简报没有，请以医院官方渠道为准，或拨打12320咨询。")
        dispatcher.utter_message(
            text=text, buttons=[{"title": m, "payload": f'/inform{{"measure": "{m}"}}'} for m in options[:10]])
        return [SlotSet("stats_subject", _subject_key(subject))]

    @staticmethod
    def not_this(s, dispatcher: CollectingDispatcher, subject: Subject, question: Question):
        """A printed measure the subject lacks: say so, and what it has."""
        asked = "、".join(dict.fromkeys(m.text for m, _ in question.measures)) or "、".join(
            q.name for q in question.qualifiers)
        known = stats.measures(s, subject)
        dispatcher.utter_message(
            text=f"简报中没有{subject.name}的“{asked}”数据，我不能用其他数字代替。"
                 + ("可以查的有：" + "、".join(known[:10]) + ("等。" if len(known) > 10 else "。") if known else ""))
        return _context(subject, None, question.period)

    # --- what is not held ----------------------------------------------------------------------
    @staticmethod
    def foreign(dispatcher: CollectingDispatcher, question: Question) -> List[Dict[Text, Any]]:
        names = "、".join(dict.fromkeys(question.foreign))
        dispatcher.utter_message(
            text=f"简报中没有{names}的数据，我不能用其他单位的数字代替。简报收录的是南京12320卫生热线、"
                 f"南京市各医院和各区、预约挂号渠道和各平台的统计（另有江苏省部分城市的12320接听电话）。"
                 f"其他地区或单位的情况，请咨询当地或拨打12320。")
        return []

    @staticmethod
    def unheld(s, dispatcher: CollectingDispatcher, question: Question, named: list) -> List[Dict[Text, Any]]:
        words = "、".join(dict.fromkeys(question.unheld))
        who = named[0].name if named else ""
        text = f"简报中没有{who}“{words}”方面的内容，我不能提供。"
        if named:
            known = stats.measures(s, named[0])
            if known:
                text += "可以查的有：" + "、".join(known[:10]) + ("等。" if len(known) > 10 else "。")
        text += "这类信息请以医院官方渠道为准，也可以拨打12320咨询。"
        dispatcher.utter_message(text=text)
        return []

    # --- one figure -----------------------------------------------------------------------
    @staticmethod
    def context_subject(s, tracker: Tracker, measure: Optional[str]) -> Optional[Subject]:
        """The subject of the last answer, for a follow-up: only when it holds the measure asked."""
        key = tracker.get_slot("stats_subject")
        if not key or "|" not in key:
            return None
        kind, name = key.split("|", 1)
        try:
            subject = stats.subject(s, name, kind)[0]
        except NotFound:
            return None
        if measure and not set(stats.family(measure)) & set(stats.measures(s, subject)):
            return None
        return subject

    def one(self, s, dispatcher, subject: Subject, measure: Optional[str],
            period: Optional[str], question: Optional[Question] = None) -> List[Dict[Text, Any]]:
        try:
            lookup = stats.figure(s, subject, measure, period)
        except stats.UnknownMeasure as miss:
            known = "、".join(miss.known[:10]) + ("等" if len(miss.known) > 10 else "")
            what = f"“{miss.measure}”数据" if miss.measure else "统计数据"
            dispatcher.utter_message(
                text=f"简报中没有{miss.subject.name}的{what}，我不能用其他数字代替。"
                     + (f"可以查的有：{known}。" if known else ""))
            return _context(subject, None, period)
        except stats.UnknownPeriod as miss:
            return self.no_period(dispatcher, miss, subject, measure)
        if measure and question is not None and question.cumulative is not None and not _scope(lookup.facts, question):
            # 累计呢 right after 注册用人单位 (the year's): 累计注册用人单位, printed under its own name
            other = _other_scope(s, subject, measure, "cumulative" if question.cumulative else "period")
            try:
                lookup, measure = (stats.figure(s, subject, other, period), other) if other else (lookup, measure)
            except (stats.UnknownMeasure, stats.UnknownPeriod):  # not printed for that period: said so below
                pass
        self.say(dispatcher, lookup, question)
        return _context(subject, measure, period)

    def several(self, s, dispatcher, subject: Subject, measures: list, period: Optional[str],
                question: Optional[Question] = None, periods: Optional[List[str]] = None):
        """Several measures of one subject, or one in several periods: each answered, or said to be missing."""
        self.each(s, dispatcher, subject, [(m, p, question) for m in measures for p in (periods or [period])])
        return _context(subject, measures[-1], None if periods else period)

    @staticmethod
    def each(s, dispatcher, subject: Subject, asked: List[tuple]) -> None:
        """One subject's figures, each (measure, period, the words that asked it) in turn: as printed
        in the scope its words ask (累计 or the year's own), or said to be missing."""
        facts, lines, latest = [], [], False
        for measure, period, question in asked:
            try:
                lookup = stats.figure(s, subject, measure, period)
            except stats.UnknownMeasure:
                lines.append(f"简报中没有{subject.name}的“{measure or '统计'}”数据")
                continue
            except stats.UnknownPeriod as miss:
                held = "、".join(period_label(p) for p in miss.known)
                lines.append(f"简报中没有{stats.relative_label(miss.period)}{subject.name}的“{measure}”"
                             f"（已有数据的时间：{held}）")
                continue
            kept = _scope(lookup.facts, question)
            if not kept and question is not None and question.cumulative is not None:
                # 累计完成预约挂号 asked for the year alone: 完成预约挂号 is the year's (and the other way)
                other = _other_scope(s, subject, measure, "cumulative" if question.cumulative else "period")
                try:
                    kept = _scope(stats.figure(s, subject, other, period).facts, question) if other else []
                except (stats.UnknownMeasure, stats.UnknownPeriod):  # not printed for that period: said so below
                    kept = []
            if not kept:
                lines.append(f"简报中{subject.name}的“{measure}”没有您问的"
                             f"{'累计数' if question and question.cumulative else '当期数'}")
            facts += kept
            lines += [figure_line(f) for f in kept]
            latest = latest or lookup.asked_period is None
        body = "；\n".join(lines) + "。"
        if facts and latest:
            body = "（未指定时间，按简报中最新的数据）" + body
        dispatcher.utter_message(text=body + (f"\n{sources(facts)}" if facts else ""))

    def parts(self, s, subject: Subject, question: Question, intent: Optional[str], entities: list,
              period: Optional[str]) -> List[tuple]:
        """Two or more measures of one subject asked in one message (接入了几个区、多少家医疗机构; 累计
        注册用人单位多少家？2023年度又生成了多少张电子健康证): each part's measure, period and words,
        when every measure is a clear pick of its own part. Else empty."""
        text = question.text
        spaced = len(text.split()) >= 3  # an agent's words apart (远程心电 2019年10月 心电病例 会诊量)
        if not (intent == "compare_statistics" or _PAIR.search(text) or len(_QUANTITY.findall(text)) >= 2 or spaced):
            return []
        found = self._parts(s, subject, question, entities, period, _PARTS)
        if len(found) < 2 and (intent == "compare_statistics" or spaced):  # 远程影像 接入区数 机构数
            found = self._parts(s, subject, question, entities, period, _PARTS_SPACED)
        return found if len(found) >= 2 else []

    def _parts(self, s, subject: Subject, question: Question, entities: list, period: Optional[str],
               splitter: re.Pattern) -> List[tuple]:
        text = question.text
        # 累计 or 年度 said once applies to every part; said for one part each, to that part
        both = bool(CUMULATIVE_WORDS.search(text)) and bool(OWN_PERIOD_WORDS.search(text))
        cuts = [0] + [i for m in splitter.finditer(text) for i in m.span()] + [len(text)]
        vocab, found, measures, asked = vocabulary(s), [], [], set()
        said = ""  # the parts' words so far: an agent's 区数 after 投入使用 is 投入使用区
        led = set()  # measures found only with an earlier part's words
        for start, end in zip(cuts[::2], cuts[1::2]):
            if end - start < 2 or (measures and text[start:end].strip() in ("合计", "小计", "总计")):
                continue  # 12320在线预约 合计: that column's total, not the table's 合计 as well
            if re.fullmatch(r"\s*(?:预约挂号|预约|挂号)?(?:合计|小计|总计)\s*", text[start:end]) and any(
                    m.text not in ("合计", "小计", "总计") for m, _ in question.measures):
                continue  # 预约合计 第三方: the total row's 第三方, not the 合计 as well
            before, said = said, said + text[start:end]
            hints = [{**e, "start": e["start"] - start, "end": e["end"] - start} for e in entities
                     if isinstance(e.get("start"), int) and start <= e["start"] and e.get("end", end + 1) <= end]
            part = vocab.read(text[start:end], hints)
            if part.unheld or part.foreign or [sub for sub in part.subject_list if sub != subject
                                                and sub.kind in ("hospital", "district", "city")
                                                and not (sub.kind == "city" and sub.name == "南京")]:
                return []  # another subject or something not held: not two figures of this one
            chosen, miss = self.pick(s, subject, part)
            if miss == "close" and measures:
                # 定时数据对接几个区 / 直采几家医院: of two close picks, the one sharing the other part's words
                shared = {m: common_runs(m, "".join(measures)) for m in chosen}
                best = max(shared.values())
                if best >= 2 and list(shared.values()).count(best) == 1:
                    chosen, miss = [max(shared, key=shared.get)], None
            if part.cumulative is None and not both:
                # 累计生成多少张，2023年又生成了多少张: a part naming its own year, the running total asked
                # in another part, asks the year's own figure
                own_year = bool(question.cumulative and part.period and not CUMULATIVE_WORDS.search(text[start:end]))
                if own_year and chosen and all(stats.scopes(s, subject, m) == {"cumulative"} for m in chosen):
                    # 浦口区2019年10月健康档案基本信息和糖尿病累计上传: printed only as running totals, the
                    # period is the date they run to
                    own_year = False
                part.cumulative = False if own_year else question.cumulative
            own = _FILLER.sub("", part.context)
            # a part that is only a period or a number (缴费金额 19.10) names no measure of its own
            if (miss == "unclear" or miss is None and not chosen) and measures and own:
                held = [m for m in stats.measures(s, subject) if m not in measures]
                scored = sorted(((vocab.score(m, before + part.context), m) for m in held
                                 if vocab.unexplained(m, own) < 2), key=lambda x: (x[0][1], x[0][0]), reverse=True)
                if scored and _strong(scored[0][0]) and (len(scored) == 1 or scored[0][0] > scored[1][0]):
                    chosen, miss = [scored[0][1]], None
                    led.add(scored[0][1])
            if (miss is not None or not chosen) and measures and part.cumulative is not None \
                    and (common_runs(measures[-1], text[start:end]) >= 2 or not own):
                # 累计调用了多少次？2023年一年又调用了多少次: the same measure again, in the other scope
                chosen, miss = [measures[-1]], None
            # one measure twice is two figures when the parts ask different scopes (累计生成多少，2023年度又生成多少)
            if miss is None and len(chosen) == 1 and (chosen[0], part.cumulative) not in asked:
                measures.append(chosen[0])
                asked.add((chosen[0], part.cumulative))
                found.append((chosen[0], part.period or period, part))
        # a head word read on with the next part (投入使用 区数 医院数): the parts it led to are asked, not it;
        # two measures named in full (缴费次数和缴费金额: 缴费, 缴费金额) are both asked
        return [f for f in found if not any(f[0] != g[0] and f[0] in g[0] and g[0] in led for g in found)]

    @staticmethod
    def say(dispatcher: CollectingDispatcher, lookup: stats.Lookup, question: Optional[Question] = None) -> None:
        facts = _scope(lookup.facts, question)
        if not facts:  # 2023年度 asked, only the running total printed (or the other way round)
            first = lookup.facts[0]
            held = "截至" + period_label(first.period) + "底的累计数" if first.scope == "cumulative" else \
                period_label(first.period) + "当期的数"
            dispatcher.utter_message(
                text=f"简报中{first.subject.name}的“{first.measure}”只有{held}，没有您问的"
                     f"{'累计数' if question and question.cumulative else '当期数'}，我不能用另一个数代替。")
            return
        if len(facts) <= 3:
            body = "；".join(figure_line(f) for f in facts) + "。"
        else:
            first = facts[0]
            body = f"{first.subject.name}{period_label(first.period)}的数据：{compact(facts)}。"
            body += "".join(f"\n{figure_line(f)}" for f in facts if f.flag)
        if lookup.asked_period is None:
            body = f"（未指定时间，按简报中最新的{period_label(facts[0].period)}数据）" + body
        dispatcher.utter_message(text=f"{body}\n{sources(facts)}")

    @staticmethod
    def no_period(dispatcher, miss: stats.UnknownPeriod, subject, measure):
        """A period the bulletins do not cover: say so and which periods they do, no figure."""
        asked = stats.relative_label(miss.period)
        subject = subject or miss.subject
        what = f"{subject.name}" if subject else ""
        what += f"的“{miss.measure}”" if miss.measure else "的数据"
        held = "、".join(period_label(p) for p in miss.known)
        dispatcher.utter_message(
            text=f"简报中没有{asked}{what}，我不能用其他时间的数字代替。"
                 + (f"已有数据的时间：{held}。" if held else ""))
        return _context(subject, measure, None)

    # --- comparison -----------------------------------------------------------------------
    def compare(self, s, dispatcher, named: List[Subject], measure, period,
                question: Optional[Question] = None) -> List[Dict[Text, Any]]:
        subjects = named[:4]
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
            own = measure
            if question is not None and question.period and question.cumulative is None:
                # 2023年远程影像会诊和远程心电会诊: each platform's figure of the year, not one's running total
                own = _own_period(s, subject, measure, stats.measures(s, subject))
            try:
                lookup = stats.figure(s, subject, own, period)
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
        if len(numbered) >= 2 and len({(f.period, f.scope) for f in numbered}) == 1:
            top = max(numbered, key=lambda f: f.number)
            text += f"\n{top.subject.name}的{top.measure}更多。"
        dispatcher.utter_message(text=f"{text}\n{sources(facts)}")
        return _context(subjects[-1], measure, period if period and period[0].isdigit() else None)

    # --- ranking --------------------------------------------------------------------------
    def rank(self, s, dispatcher, question: Question, measure, period) -> List[Dict[Text, Any]]:
        """Top or bottom N of a kind (hospitals unless districts, channels or cities are asked) by
        the measure the question names best among those that kind prints."""
        text = question.text
        hotlines = [sub for sub in question.subject_list if sub.kind == "hotline"]
        if hotlines and re.search(r"类|哪些电话|什么电话", text):
            return self.rank_categories(s, dispatcher, hotlines[0], question, period)
        kind = "district" if re.search(r"区(?!卫健委)", text) else \
            "hospital" if re.search(r"医院|哪几家|哪家", text) else \
            "channel" if re.search(r"途径|渠道|app|APP|客户端", text) else \
            "city" if re.search(r"城市|哪些市|各市|哪个市|个市|市排", text) else "hospital"
        platforms = [sub.name for sub in question.subject_list if sub.kind == "platform"]
        held = stats.kind_measures(s, kind)
        own = [m for m in stats.all_measures(s) if platforms and platforms[0] in m]
        own = [m for m in own if not m.endswith("排名")] or own  # its figures, else its printed ranking
        if own:  # 远程影像 数据上传量前三: the platform's uploads, whoever printed them
            held = own
        else:
            platforms = []
        named = [f for _, family in question.measures for f in family if f in held]
        if named:
            measure = named[0]
        else:
            vocab = vocabulary(s)
            said = text + "".join(platforms)  # the platform's own name is part of its measures' names
            scored = sorted(((vocab.score(m, said), m) for m in held),
                            key=lambda x: (_strong(x[0]), x[0][1], x[0][0]), reverse=True)
            if scored and _strong(scored[0][0]):
                measure = scored[0][1]
            elif measure not in held:
                measure = stats.DEFAULT_MEASURE.get(kind)
        if not measure:
            dispatcher.utter_message(text="请问按哪一项数据排名？可以排名的有：" + "、".join(held[:10]) + "。")
            return []
        n, ascending = _rank_size(text)
        try:
            lookup = stats.ranking(s, measure, period, kind=None if platforms else kind, n=n, ascending=ascending)
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


    @staticmethod
    def rank_categories(s, dispatcher, hotline: Subject, question: Question, period):
        """The hotline's call categories by calls: its figures of the period but the totals and the
        work orders (hotline/taxonomy.py), largest first."""
        try:
            lookup = stats.overview(s, hotline, period)
        except stats.UnknownPeriod as miss:
            held = "、".join(period_label(p) for p in miss.known)
            dispatcher.utter_message(text=f"简报中没有{stats.relative_label(miss.period)}的来电分类数据，已有数据的时间：{held}。")
            return []
        totals = set(stats.family("受理咨询电话"))
        facts = [f for f in lookup.facts if f.number is not None and f.measure not in totals
                 and f.measure not in taxonomy.WORK_ORDER_KINDS]
        n, ascending = _rank_size(question.text)
        facts = sorted(facts, key=lambda f: f.number, reverse=not ascending)[:n]
        if not facts:
            dispatcher.utter_message(text=f"简报中没有{hotline.name}的来电分类数据。")
            return []
        head = f"{period_label(facts[0].period)}{hotline.name}来电分类{'从少到多' if ascending else '从多到少'}前{len(facts)}类："
        lines = [f"{i}. {f.measure}：{amount(f)}" for i, f in enumerate(facts, 1)]
        dispatcher.utter_message(text=head + "\n" + "\n".join(lines) + "\n" + sources(facts))
        return []


# Stop words of a statistics question: what is left once they, names and periods are gone names a measure.
_FILLER = re.compile(r"[\s\d\W_a-zA-Z]|多少|几|是|的|了|吗|呢|呀|啊|吧|有|一共|总共|共|请问|请|查|一下|麻烦|你好|您好|想|问|咱们|咱|我们|你们"
                     r"|个|年|月|份|度|全|时候|那|换成|换|这|数据|情况|简报|里|中|在|通过|用|统计|是多少|呢|和|与|跟|各|分别"
                     r"|给我|帮我|告诉|看看|看|下|能|可以|知道|我|你|要|再|还|又|说|谢谢|收到|好|按|顺序|途径|渠道|分"
                     r"|南京|医院|市|区|平台|系统|号|约|挂|累计|截至|截止|为止|目前|至今|底|张|份|次|条|台|家|人次|例"
                     r"|统计|采集|表|其中|里面|对比|比较|相比|对照|光|仅|只|一年|全年|当年|整年")


# The hotline named only by its number (12320总预约挂号量): the figure may be the booking platform's.
_GENERIC_HOTLINE = re.compile(r"12320|12320热线|热线|12320卫生热线")
# The one booking figure a channel prints (健康南京APP: 注册用户 and 预约数量).
CHANNEL_BOOKINGS = "预约数量"
# Where and when words: "not held" unless what they ask about is printed (信息中心的地址在哪).
_ASKING_WORDS = {"在哪", "怎么走", "几点", "开门", "上班时间", "营业时间", "门诊时间", "什么时候开", "开诊",
                 "怎么去", "怎么过去", "咋去", "咋走", "如何去", "如何到达", "怎么到", "上班吗", "周六", "周日", "礼拜六", "礼拜天"}
# A ranking asked without the intent saying so (各市接听电话 排序, 前三的区).
_RANKING = re.compile(r"排序|排名|排行|前\s*\d+|前[一二两三四五六七八九十]+(?:名|位|家|个)?|top\s*\d|最多的|最少的"
                      # bottom N and N extremes (倒数三个, 末三位, 最低三个)
                      r"|倒数(?:第)?\s*(?:\d{1,2}|[一二两三四五六七八九十])|末\s*(?:\d{1,2}|[一二两三四五六七八九十])\s*(?:名|位|个|家)"
                      r"|(?:最低|最少|最高|最多)的?\s*(?:\d{1,2}|[一二两三四五六七八九十])\s*(?:个|名|位|家)"
                      # an agent's 后三 (the last three), not 前后三天 or 以后三个月
                      r"|(?<![前之以然最])后\s*(?:\d{1,2}|[一二两三四五六七八九十])(?!个月|[月天年周日季期号\d])")
# Words that ask for a total rather than one hospital's figure.
_TOTAL = re.compile(r"合计|总计|总数|总量|总共|总额|全市|所有|全部|加起来|整个|平台|汇总|一共|共计")
# 累计 said of a figure printed only for the period (累计会诊例数 of a platform that prints the year's).
_CUMULATIVE_ONLY = re.compile(r"累计")
_MONEY = re.compile(r"多少钱|金额|元\b|收入")


# How something is done (预约方式, 怎么约): never a lookup of a figure.
_HOW = re.compile(r"方式|方法|怎么|怎样|如何|流程|步骤|途径")


def _unknown_name(vocab: Vocabulary, measure: str, question: Question) -> bool:
    """Whether the question holds a run of two or more characters that neither the measure's names
    nor the fillers explain, where a hospital's name would stand (华世佳宝 2019.10 预约小计)."""
    words = question.context
    for mention, _ in question.measures:  # the other measures asked beside it (电话预约和人工服务) are no name
        words = words.replace(mention.text, " ")
    words = _FILLER.sub(" ", words)
    for name in sorted(vocab.measure_names.get(measure, {measure}) | set().union(
            *(vocab.measure_names.get(m, {m}) for m in stats.family(measure))), key=len, reverse=True):
        words = words.replace(name, " ")
    # a part of a name the store holds (自助智能服务终端 of 医疗自助智能服务终端) is no unknown name
    return any(vocab.unexplained(measure, run) >= 2 and not any(run in name for name in vocab.names)
               for run in re.findall(r"[\u4e00-\u9fff]{2,}", words))


_FOLLOW_UP_WORDS = re.compile(r"[\s\W\d_]|的|呢|吗|啊|呀|那|级|换成|换|再|看看|查查|查")


def _sibling(vocab: Vocabulary, context: str, last: str) -> Optional[str]:
    """The measure a follow-up names by the words that set it apart from the last one (省的, 市级的
    after 市12345工单: 省12345工单), when the store holds it."""
    words = _FOLLOW_UP_WORDS.sub("", context)
    if not 0 < len(words) <= 4:
        return None
    for k in range(1, min(3, len(last))):
        candidate = words + last[k:]
        if candidate != last and candidate in vocab.measures:
            return vocab.measures[candidate][0]
    if "·" in last:  # 高血压 after 健康档案累计上传总量·基本信息: the column of the same table
        candidate = last.rsplit("·", 1)[0] + "·" + words
        if candidate != last and candidate in vocab.measures:
            return vocab.measures[candidate][0]
    return None


def _content(context: str) -> bool:
    """Whether words other than fillers are left: a measure was named, in words we do not know."""
    return len(_FILLER.sub("", context)) >= 2


def _explains(vocab: Vocabulary, scored: tuple, question: Question) -> bool:
    """Whether a fuzzy pick explains most of the question's words (the ones it leaves are fewer than
    it uses, and fewer than three): else it answers another question."""
    (_, chars), measure = scored
    words = _FILLER.sub("", question.context)
    for qualifier in question.qualifiers:
        words = "".join(c for c in words if c not in qualifier.name)
    left = vocab.unexplained(measure, words)
    return left < 3 or left < chars


# How a figure is asked for (多少, 几家, 排名, 前5), not how much something costs.
_QUANTITY = re.compile(r"多少(?!钱)|几(?:个|家|台|次|人|通|条|份|万|天|张)|数量|总数|总量|排名|排第|前\s*\d|top|最多|最少|合计|一共有"
                       r"|总?台数")


def names_sibling(s, message: Dict[Text, Any], last_measure: Optional[str]) -> bool:
    """Right after a figure, words that only set the next measure apart from the last one (高血压 after
    a district's 基本信息 archive count, 省的 after 市12345工单)."""
    if not last_measure:
        return False
    question = read_question(s, message)
    return not question.subject_list and not question.measures and \
        _sibling(vocabulary(s), question.context, last_measure) is not None


def asks_how(text: str) -> bool:
    """The words ask how something is done (怎么操作, 预约方式), not how many."""
    return bool(_HOW.search(text))


def asks_quantity(text: str) -> bool:
    """The words ask how many (多少, 几家, 排名), not how much something costs."""
    return bool(_QUANTITY.search(text))


def asks_for_figure(s, message: Dict[Text, Any], *, follow_up: bool = False, unheld_anywhere: bool = False,
                    last_measure: Optional[str] = None) -> bool:
    """A service or channel question that asks for a figure (互联网医院2023年线上处方多少, 12320 2023
    接通率) or names what the bulletins do not hold (鼓楼医院地址在哪里, 苏州互联网医院): the
    statistics action answers it, rather than the service's overview with figures not asked.
    ``unheld_anywhere``: also what they never print with nothing named (签约家庭医生要交钱吗), but for
    where and when (健康证在哪里办), which ask how to use a service: its answer says. ``last_measure``:
    the measure of the figure just given (a follow-up may name what sets the next one apart)."""
    text = message.get("text") or ""
    entities = message.get("entities") or []
    question = vocabulary(s).read(text, entities)
    if question.foreign or question.sub_period or question.unheld and question.subject_list:
        return True
    if unheld_anywhere and set(question.unheld) - _ASKING_WORDS:
        return True
    if any(e.get("entity") == "period" for e in entities):
        return True
    if follow_up and len(question.subject_list) == 1 and not _content(question.context):
        return True  # 苏州市 right after 南通市's figure: the same figure of another subject
    if follow_up and not question.subject_list and not question.measures and not _content(question.context) \
            and (question.cumulative is not None or question.periods):
        return True  # 累计呢, 光2023年一年呢 right after a figure: the same figure, all told or for that year
    if follow_up and last_measure and not question.subject_list and not question.measures \
            and _sibling(vocabulary(s), question.context, last_measure):
        return True  # 市级的 right after 省12345工单: the city's work orders
    named = question.measures or any(e.get("entity") == "measure" for e in entities)
    # a measure named right after a figure (那自助终端缴费呢) is the next figure; a subject and a
    # measure named together (鼓楼地址, 省口腔实时上传天数) are a lookup, an agent's shorthand
    specific = [m for m, _ in question.measures if m.text not in GENERIC_MEASURE_WORDS]
    # 省级机关医院 体检中心 预约方式: how, not how many; 平台调阅和12320调阅: two measures set side by side
    lookup = not _HOW.search(text) and (bool(question.subject_list) and bool(specific) or len(specific) >= 2)
    return bool(named) and (follow_up or bool(_QUANTITY.search(text)) or lookup)


# Which department to see (挂哪个科, 看什么科室): the bulletins hold no department of any hospital.
_WHICH_DEPARTMENT = re.compile(r"(?:挂|看|去|找)(?:哪个|什么|哪一个|哪|啥)科|(?:哪个|什么|哪一个)科室")


def names_unheld(s, message: Dict[Text, Any], *, department: bool = False) -> bool:
    """The message asks something the bulletins never print (多少钱, 晚上有急诊吗, 几号楼, 定点吗;
    ``department``: also which department to see, 挂哪个科), whatever intent its words resemble: the
    answer says it is not held, and where to ask."""
    if department and _WHICH_DEPARTMENT.search(message.get("text") or ""):
        return True
    return bool(read_question(s, message).unheld)


def only_a_lookup(s, message: Dict[Text, Any], *, follow_up: bool = False) -> bool:
    """A printed measure and nothing else but a period or a name (23人工服务, 19年10月 心理危机干预; 高血压
    right after a figure, ``follow_up``): an agent's or a resident's lookup, whatever intent its words
    resemble (a request for a person, a medical question)."""
    entities = message.get("entities") or []
    question = vocabulary(s).read(message.get("text") or "", entities)
    specific = [m for m, _ in question.measures if m.text not in GENERIC_MEASURE_WORDS]
    dated = any(e.get("entity") == "period" for e in entities)
    rest = list(question.context)  # the text with its names and periods blanked: blank the measures too
    for mention, _ in question.measures:
        rest[mention.start:mention.end] = " " * (mention.end - mention.start)
    return bool(specific) and (dated or follow_up) and not _content("".join(rest)) and not question.unheld


def asks_column(s, message: Dict[Text, Any], last_subject: Optional[str]) -> bool:
    """A channel named alone right after a figure of the booking tables (快速预约呢): after a hospital's
    or a district's, the column of that name in its table (ActionStatistics.answer reads it so); after
    another channel's or the platform's, that channel's figure. Not the channels' overview."""
    kind = (last_subject or "").split("|", 1)[0]
    if kind not in ("hospital", "district", "channel", "platform"):
        return False
    question = vocabulary(s).read(message.get("text") or "", message.get("entities") or [])
    if len(question.subject_list) != 1 or _content(question.context):
        return False
    if kind in ("channel", "platform"):
        return question.subject_list[0].kind == "channel"
    return bool(question.dual)


def read_question(s, message: Dict[Text, Any]) -> Question:
    """The message as the store's vocabulary reads it: what it names, asks and never finds printed
    (出诊表 of a named hospital: ``unheld``; 心内科, 明天: ``details``)."""
    return vocabulary(s).read(message.get("text") or "", message.get("entities") or [])


_VOCABULARIES: Dict[str, Vocabulary] = {}


def vocabulary(s) -> Vocabulary:
    """The store's vocabulary, read once per process and store (the store does not change while
    the action server runs: `make run` restarts it after an ingest)."""
    bind = s.get_bind()
    key = str(getattr(bind, "url", None) or bind.engine.url)  # an Engine, or a Connection of one
    if key not in _VOCABULARIES:
        _VOCABULARIES[key] = Vocabulary.load(s)
    return _VOCABULARIES[key]


def _own_period(s, subject: Subject, measure: str, held: List[str]) -> str:
    """A year named and no word for a running total: the year's own figure. 会诊 is printed only as
    a running total (截至2023年底会诊超1.3万例), 会诊量 as the year's (2023年会诊量1003例): 2023年会诊了
    多少例 asks the second."""
    if stats.scopes(s, subject, measure) != {"cumulative"}:
        return measure
    own = [m for m in held if m != measure and measure in m and stats.scopes(s, subject, m) == {"period"}]
    return own[0] if len(own) == 1 else measure


def _running_total(s, vocab: Vocabulary, subject: Subject, measure: str, held: List[str],
                   question: Question) -> str:
    """A running total asked (截止2023年底的总预约量) of a measure printed only for its period (the
    table's 合计): the subject's one running total the question names best (总预约挂号量), if any;
    else the measure, and say() tells that only the period's figure is printed."""
    printed = stats.scopes_by_measure(s, subject)
    if printed.get(measure) != {"period"}:
        return measure
    scored = sorted(((vocab.score(m, question.context), m) for m in held
                     if m != measure and printed.get(m) == {"cumulative"}),
                    key=lambda x: (x[0][1], x[0][0]), reverse=True)
    words = [m.text for m, _ in question.measures]
    # the words asked share three characters with it, at least two of them the measure's own word
    # (总预约量 and 总预约挂号量), and name it better than any other running total
    if scored and scored[0][0][1] >= 3 and (len(scored) == 1 or scored[0][0] > scored[1][0]) \
            and any(common_runs(scored[0][1], w) >= 2 for w in words) and _explains(vocab, scored[0], question):
        return scored[0][1]
    return measure


def _other_scope(s, subject: Subject, measure: str, wanted: str) -> Optional[str]:
    """The subject's measure of the same name but for 累计 printed in the scope wanted, if just one."""
    core = measure.replace("累计", "")
    found = [m for m in stats.measures(s, subject) if m != measure and m.replace("累计", "") == core
             and stats.scopes(s, subject, m) == {wanted}]
    return found[0] if len(found) == 1 else None


def _scope(facts: list, question: Optional[Question]) -> list:
    """The figures of the scope asked: the running total (累计, 截至…底) or the period's own (年度,
    全年, 新增). Empty when only the other is printed and the question insists on its scope (累计,
    年度): the answer says so instead of giving the other. 截至2023年底 of a figure printed for the
    year alone is that year's figure."""
    if question is None or question.cumulative is None:
        return facts
    wanted = "cumulative" if question.cumulative else "period"
    kept = [f for f in facts if f.scope == wanted]
    if kept:
        return kept
    if question.cumulative and not _CUMULATIVE_ONLY.search(question.text):
        return facts
    return []


# Two things asked in one message, and where the message divides between them.
# (及 as "and", 门急诊人次及门急诊收入; not inside 区及医院 or 及时)
_PAIR = re.compile(r"分别|各(?:有|是|多少)|vs|VS|又|以及|还有|和|跟|与|(?<![区以])及(?![时格])|、|/|(?<!互联网)\+|加上|对比|比较")
_PARTS = re.compile(r"[，,。？?；;、/|！!]+|\s*(?:vs\.?|VS|以及|还有|另外|同时|和|跟|与|(?<![区以])及(?![时格])|(?<!互联网)\+|加上)\s*")
_PARTS_SPACED = re.compile(_PARTS.pattern + r"|\s+")


def _rank_size(text: str) -> tuple[int, bool]:
    ascending = bool(_BOTTOM.search(text))
    match = (_TOP_N.search(text) or re.search(r"后(\d{1,2}|[一二两三四五六七八九十])", text)
             or re.search(r"(\d{1,2}|[一二两三四五六七八九十])\s*(?:家|个|名|位|类|项|区|市)", text))
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
