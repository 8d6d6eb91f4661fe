"""Reading a statistics question against the store's own schema: which subjects, measures and
period it names, and which names it uses that the store does not hold.

The vocabulary is the store itself (every subject's name and aliases, every printed measure) plus
the curated words of knowledge/data/reference.yml (how people name measures, measures the
bulletins never print, places they hold no figures of). The NLU's entities are hints on top
(typos, same-sounding names, periods); what the text itself names decides.

    vocab = Vocabulary.load(session)           # once per process: the store does not change while it runs
    question = vocab.read("上海瑞金医院2023年预约量", hints=entities)
    question.foreign → ["上海瑞金医院"]: the answer is "not held", never the platform's total
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.models import Alias, Fact, Subject
from knowledge.names import Reference, load_reference

# Kinds a name of the text may be (cities and organisations too: the NLU leaves them to us).
SUBJECT_KINDS = ("hospital", "district", "channel", "platform", "hotline", "city", "organisation")
# Words too common to be a measure on their own: 挂号 is how people say "booking", not the
# self-service terminals' 挂号 column; 电话 alone is the centre's phone number.
PLAIN_MEASURES = {"挂号", "缴费", "电话", "传真", "邮编", "网址", "E-mail", "投入使用", "合计"}
# When one short name is a hospital and a district (鼓楼), residents mean the hospital (../shared/domain.md).
KIND_PRIORITY = ("hospital", "platform", "channel", "district", "hotline", "city", "organisation")
# Words that name a measure only when nothing more specific is said.
GENERIC_MEASURE_WORDS = {"预约", "预约挂号", "预约量", "挂号量", "预约数", "预约总量", "预约数量", "预约次数"}
# Where an institution's name ends: a span ending so that no known name covers is a hospital the
# bulletins do not hold.
_INSTITUTION = re.compile(r"医院|卫生院|保健院|保健所|卫生所|防治所|疾控中心|附[一二三四五六七八九]?院|研究所|门诊部|诊所|卫生服务中心|医学中心|医疗中心|院区|分院|总院"
                          r"|社区(?!卫生)|妇幼(?!保健)")  # 六合区妇幼: a hospital, not 六合区
# A hospital department (心内科, 睡眠科): what the bulletins never print. Outside names only
# (南京脑科医院, 医科大学); 科技 and 科学 are no department.
_DEPARTMENT = re.compile(
    r"(?:心血管|心内|神经内|神经外|消化内?|呼吸内?|肾内|内分泌|血液|风湿免疫|风湿|普外|胸外|肝胆外?|泌尿外?|骨|心理"
    r"|精神|睡眠|皮肤|眼|耳鼻喉|口腔|牙|妇|产|儿|中医|针灸|推拿|康复|疼痛|急诊|麻醉|放射|检验|超声|乳腺|甲状腺|肛肠"
    r"|男|生殖|营养|老年|感染|肿瘤|整形|美容|[内外])科(?:室|门诊)?(?![技学研普])"
    r"|(?:睡眠|心理|精神|疼痛|戒烟|记忆|减重|更年期|哮喘|专病|便民|夜间|午间)门诊"
    # any department asked after (有没有发育行为科): whatever its name
    r"|(?<=有没有)[\u4e00-\u9fff]{1,6}?科(?:室|门诊)?(?![技学研普])")
_EXAMINATION = re.compile(r"胃镜|肠镜|核磁(?:共振)?|(?<![a-z])(?:ct|mri|pet-ct)(?![a-z])|[bB]超|(?:四维|三维)?彩超|钼靶|骨密度|"
                          r"(?:门诊|住院)?手术|(?:无痛)?人流|产检|建大卡|疫苗|体检", re.I)
# A day or time of a visit (明天上午, 下周三): today's and tomorrow's slots are never printed.
_VISIT_TIME = re.compile(r"今天|明天|后天|下周[一二三四五六日天]?|(?:这|本)?周[一二三四五六日天末]|星期[一二三四五六日天]|"
                         r"(?:明天|今天)?(?:上午|下午|晚上)|\d{1,2}月\d{1,2}[日号]")
_BOOKING_VERB = re.compile(r"挂|约|号")
# 年 ends a period (2023年鼓楼医院) but not an age group in a name (江苏省老年医院, 青少年心理中心).
_AGE_WORD = re.compile(r"[老青少童成幼中]年")
# What stands before 医院 without naming one (南京医院: Nanjing's hospitals).
_GENERIC_LEFT = {"南京", "南京市", "各", "各家", "哪家", "全部", "全体", "每家", "每个", "全市各", "小", "一家", "大一点的", "哪些", "这家", "那家", "该", "本", "三甲", "公立", "民营", "大",
                 "综合", "专科", "其他", "所有", "全市", "市内", "市区", "都市圈", "都市圈城市", "二级", "三级", "定点",
                 "这些", "那些", "多少家", "几家", "的", "人民"}
# Characters that end a name on its left: what is before them is not part of it.
_NAME_LEFT = re.compile(r"[^\u4e00-\u9fffA-Za-z]|[挂打住送转年月份的在和跟与问查下请我想那个是有家了吗呢啊从去到给帮对比较们入约做看找用让换成再底至止]")
# A doctor by name (王医生, 张主任): their roster and slots are never in the bulletins.
_NAMED_DOCTOR = re.compile(r"[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡杜叶程"
                           r"魏吕丁任沈姚卢姜崔钟谭陆汪范金廖贾夏韦方白邹孟熊秦邱尹薛段雷侯史陶黎贺顾毛郝龚邵严戴孔汤]"
                           r"(?:医生|大夫|主任|教授|专家)")
# Parts of a year the bulletins never split out: the year's figure is not an answer to them.
_SUB_PERIOD = re.compile(r"[第前后]?[一二三四1-4]季度|Q[1-4]|上半年|下半年|[上中下]旬|第[一二三四1-4]周|\d{1,2}\s*[-~至到]\s*\d{1,2}\s*月"
                         r"|每[天日周月]|日均|月均|平均每"
                         # the first or last months of a year (前三个月, 后两个月, 最后一个月)
                         r"|(?:[前后]|最后)\s*(?:\d{1,2}|[一二两三四五六七八九十]{1,2})\s*个月")


# Words after a column's short name that make it a service's name instead (12320在线 + 咨询).
_SERVICE_WORDS = ("咨询", "问诊", "答疑", "客服", "服务", "缴费", "支付")
# A city or province's own hotline (吴忠市12320, 浙江省卫生热线): a place the store may not hold.
# (a period may stand between: 南同市2023年12320接听)
_PLACE_HOTLINE = re.compile(r"([\u4e00-\u9fff]{2,3}?)[市省](?:的)?(?:\s*(?:\d{2,4}|[一二〇零]{2,4})\s*年(?:度)?(?:\s*\d{1,2}\s*月(?:份)?)?(?:的)?\s*)?(?=12320|卫生热线|热线)")
# Money words that a printed amount answers (鼓楼医院自助机挂号金额多少钱): not "not held" beside one.
_MONEY_WORDS = frozenset(("多少钱", "价格", "费用", "收费", "交钱", "要钱", "收钱"))
# The question word bound to a measure (多少家医疗机构通用): that measure is the one asked.
_ASKED_BEFORE = re.compile(r"(?:多少|几)\s*(?:个|家|台|次|份|条|张|人次|人|万|亿|通|件|例)?\s*$")
# How many days / machines / districts: the measure's own word for it (多少天 → 天数).
_COUNT_WORDS = re.compile(r"(多少|几)个?(天|台|区|家|人次|人)")
_COUNT_NOUNS = {"天": "天数", "台": "台数", "区": "区", "家": "家", "人次": "人次", "人": "人数"}
# A rate (办结率, 接通率): the bulletins print none.
_RATE = re.compile(r"(?:(?![的之是])[\u4e00-\u9fff]){1,3}率")
# "and" right before a measure's words (省12345和市12345工单).
_JOINED = re.compile(r"(?:和|与|跟|及|以及|、|/|／|vs\.?|VS|对比|比较)\s*$")
_TOTAL_WORDS = {"合计", "小计", "总计"}
_BARE_CHILDREN = re.compile(r"(?:^|\s|vs|VS|和|跟|与|、|/)\s*(儿童)(?=\s|$|\d|vs|VS|/|、)")
_EXCLUDING = re.compile(r"(?:不含|不算|不包括|不包含|除了|除去|刨去|去掉|扣除)[^，。？?）)]{0,24}")
# Verbs that stand right before a name without a word between (想知道江苏省肿瘤医院, 咨询鼓楼医院).
_ASKING_VERBS = frozenset(("知道", "了解", "咨询", "查询", "打听", "关于", "看看", "问问", "查查", "请教",
                           "那边", "这边", "那里", "这里"))  # (溧水那边鼓楼医院南部院区: 那边 ends the place before)
_RANK_WORDS = re.compile(r"(?:前|后|倒数)?[一二两三四五六七八九十\d]*名(?:的)?")
_ALL_TOLD = re.compile(r"一共|总共|共计|加起来")
CUMULATIVE_WORDS = re.compile(r"累计|截至|截止|到目前|为止|至今|总共累计|历年")
OWN_PERIOD_WORDS = re.compile(r"年度|全年|当年|这一年|一年|当月|新增")
_PERIOD_WORDS = re.compile(r"(?<!\d)(?:20)?\d{2}\s*(?:年度?|[.\-/])\s*(?:\d{1,2}\s*月?份?)?(?!\d)"
                           r"|(?<!\d)20\d{4}(?!\d)|(?<!\d)\d{1,2}\s*月份?|全年|年底|年度")


def strong(score: tuple[float, int]) -> bool:
    """Whether a fuzzy score (share of a measure's name found, characters found) names the measure."""
    ratio, chars = score
    return ratio >= 0.99 or (ratio >= 0.6 and chars >= 3) or (ratio >= 0.75 and chars >= 2) or (
        ratio >= 0.5 and chars >= 4)


def _readable(measure: str) -> list[str]:
    """The ways a printed measure can be read: as printed, without brackets and symbols, and each
    part of a slashed or dotted header (声明上传表/规定上传表, 健康档案累计上传总量·糖尿病)."""
    plain = re.sub(r"[()（）\s]", "", measure)
    bare = re.sub(r"[(（][^)）]*[)）]", "", measure).strip()  # 已上传表(CDA文档) → 已上传表
    parts = [p for p in re.split(r"[/·]", plain) if len(p) >= 2]
    return [n for n in dict.fromkeys([measure, plain, bare, re.sub(r"[/·]", "", plain), *parts]) if len(n) >= 2]


def _subsequence(a: str, b: str) -> int:
    """The length of the longest common subsequence (东部战区总院 is all of 东部战区总医院's order)."""
    row = [0] * (len(b) + 1)
    for ca in a:
        prev = 0
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], prev + 1 if ca == cb else max(row[j], row[j - 1])
    return row[-1]


def common_runs(name: str, context: str) -> int:
    """Characters of `name` found in `context` in common runs of two or more (greedy, longest first)."""
    total = 0
    a, b = name, context
    while True:
        best, at_a, at_b = 0, 0, 0
        for i in range(len(a)):
            for j in range(len(b)):
                k = 0
                while i + k < len(a) and j + k < len(b) and a[i + k] == b[j + k] and a[i + k] not in "\0\1 ":
                    k += 1
                if k > best:
                    best, at_a, at_b = k, i, j
        if best < 2:
            return total
        total += best
        a = a[:at_a] + "\0" * best + a[at_a + best:]
        b = b[:at_b] + "\1" * best + b[at_b + best:]


@dataclass(frozen=True)
class SubjectRef:
    """A subject as the vocabulary keeps it, from one load to the end of the process: plain values,
    not an ORM instance tied to the session that read it (the stats functions read id, kind, name)."""

    id: int
    kind: str
    name: str


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str


@dataclass
class Question:
    text: str
    # Each name of the text with the subjects it may mean (more than one: ambiguous).
    subjects: list[tuple[Mention, list[SubjectRef]]] = field(default_factory=list)
    # Names of places or institutions the store holds no figures of.
    foreign: list[str] = field(default_factory=list)
    # Each measure word with the printed measures it may mean.
    measures: list[tuple[Mention, tuple[str, ...]]] = field(default_factory=list)
    # Words for measures the bulletins never print.
    unheld: list[str] = field(default_factory=list)
    # A department, examination or doctor named (心内科, 胃镜, 王主任): the bulletins hold none of
    # them, also when the question asks how to book one.
    details: list[str] = field(default_factory=list)
    # The period entity (2023, 2019-10, month:10, last_year …) and a part of a year that is never held.
    period: str | None = None
    periods: list[str] = field(default_factory=list)  # every period named, in order (2023年和2019年10月)
    sub_period: str | None = None
    # The text without the names of hospitals, districts and cities and without the period: what
    # is left names the measure (platform and channel names stay: they qualify a hospital's column).
    context: str = ""
    # Platforms and channels named beside a hospital or district: they say which of its figures.
    qualifiers: list[SubjectRef] = field(default_factory=list)
    # Names that are also a measure (快速预约), taken as names: a follow-up may mean the measure.
    dual: list[tuple[Mention, tuple[str, ...]]] = field(default_factory=list)
    # Whether the running total (截至…累计) or the period's own figure is asked; None: not said.
    cumulative: bool | None = None

    @property
    def subject_list(self) -> list[SubjectRef]:
        out: list[SubjectRef] = []
        for _, found in self.subjects:
            if len(found) == 1 and found[0] not in out:
                out.append(found[0])
        return out

    @property
    def ambiguous(self) -> list[tuple[Mention, list[SubjectRef]]]:
        return [(m, found) for m, found in self.subjects if len(found) > 1]


@dataclass
class Vocabulary:
    names: dict[str, list[SubjectRef]]
    measures: dict[str, tuple[str, ...]]
    unheld: tuple[str, ...]
    places: tuple[str, ...]
    held_measures: frozenset[str]
    ordinary: tuple[str, ...] = ()
    # Every printed measure → the words that name it (itself, its readable forms, reference aliases).
    measure_names: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, reference: Reference | None = None) -> "Vocabulary":
        reference = reference or load_reference()
        names: dict[str, list[SubjectRef]] = {}
        # Channels without figures are no subjects: 12320电话预约 the channel has none, 12320 电话预约
        # is the hotline's. (A city without figures stays: 徐州 is asked about, and not held.)
        with_facts = select(Fact.subject_id).distinct()
        rows = session.execute(select(Subject.id, Subject.kind, Subject.name).where(
            Subject.kind.in_(SUBJECT_KINDS), (Subject.kind != "channel") | Subject.id.in_(with_facts)))
        subjects = [SubjectRef(*row) for row in rows]
        for subject in subjects:
            names.setdefault(subject.name, []).append(subject)
        by_id = {s.id: s for s in subjects}
        for subject_id, text in session.execute(select(Alias.subject_id, Alias.text)):
            subject = by_id.get(subject_id)
            if subject is not None and subject not in names.setdefault(text, []):
                names[text].append(subject)
        for subject in subjects:  # 苏州市 as well as 苏州
            if subject.kind == "city":
                names.setdefault(subject.name + "市", [subject])
        for text, found in names.items():  # the full name of one subject beats another's alias
            exact = [s for s in found if s.name == text]
            if exact:
                names[text] = exact
        held = frozenset(session.scalars(select(Fact.measure).distinct()))
        families = {m: family for family in reference.measure_families for m in family}

        def family(measure: str) -> tuple[str, ...]:  # the name itself first, then its family
            return (measure, *(m for m in families.get(measure, ()) if m != measure))
        measures: dict[str, tuple[str, ...]] = {}
        for measure in held:
            if measure not in PLAIN_MEASURES and len(measure) >= 2:
                measures[measure] = family(measure)
        for entry in reference.measure_aliases:
            for alias in entry.aliases:
                if alias not in measures:
                    measures[alias] = family(entry.name)
        # a plain word (挂号) names its measure only in a longer alias (自助机挂号)
        measure_names: dict[str, set[str]] = {m: set(_readable(m)) - PLAIN_MEASURES for m in held}
        for entry in reference.measure_aliases:
            for member in family(entry.name):
                if member in measure_names:
                    measure_names[member] |= {a for a in entry.aliases if len(a) >= 2}
        return cls(names=names, measures=measures, unheld=reference.unheld_measures,
                   places=reference.places, held_measures=held, measure_names=measure_names,
                   ordinary=reference.ordinary_words)

    def unexplained(self, measure: str, context: str) -> int:
        """How many characters of the context's words no name of the measure uses: a fuzzy pick that
        leaves several unexplained answers another question (健康档案浏览等服务累计使用 is not
        累计采集健康档案)."""
        used = set("".join(self.measure_names.get(measure, {measure})))
        return sum(1 for c in context if "\u4e00" <= c <= "\u9fff" and c not in used)

    def score(self, measure: str, context: str) -> tuple[float, int]:
        """How well the context names the measure: the share of its best name found in the
        context, in common runs of two or more characters (single characters are noise), and how
        many characters that is. An exact name scores 1."""
        best = (0.0, 0)
        bare_context = re.sub(r"\d+", " ", _COUNT_WORDS.sub(lambda m: _COUNT_NOUNS[m.group(2)], context))
        bare_context = re.sub(r"(?<=[\u4e00-\u9fff])[了的](?=[\u4e00-\u9fff])", "", bare_context)  # 接入了几个区, 接入的区: 接入区
        for name in self.measure_names.get(measure, {measure}):
            if name in context:
                found = (1.0, len(name))
            else:  # digits match digits anywhere (12320, years): only words count
                bare = re.sub(r"\d+", "", name)
                if len(bare) < 2:
                    continue
                common = common_runs(bare, bare_context)
                found = (common / len(bare), common)
            # the name that names it surely (糖尿病 of 健康档案累计上传总量·糖尿病, asked as 糖尿病档案),
            # then the one that covers most of the words
            best = max(best, found, key=lambda f: (strong(f), f[1], f[0]))
        return best

    def read(self, text: str, hints: Iterable[dict] = ()) -> Question:
        """The question's names, measures and period. `hints` are the NLU's entities of the text."""
        hints = list(hints)
        question = Question(text=text)
        spans = self._spans(text)
        taken: list[tuple[int, int]] = []
        measure_names = {w for w, _, _, _ in spans if w in self.measures}
        for word, start, end, kinds in spans:
            if any(start < e and end > s for s, e in taken):
                continue
            mention = Mention(start, end, word)
            if "ordinary" in kinds:  # 全市一共: no name inside it
                taken.append((start, end))
                continue
            if kinds == {"measure"} and text.startswith(_SERVICE_WORDS, end):
                continue  # 12320在线咨询 is a service, not the column 12320在线(预约)
            if "name" in kinds and "measure" in kinds:
                # 12320在线预约 is a channel and a column of the booking table: the column when
                # another subject is named, the channel otherwise.
                others = [s for s in self._names_elsewhere(text, start, end)]
                kinds = {"measure"} if others else {"name"}
                if not others:
                    question.dual.append((mention, self.measures[word]))
            if "name" in kinds:
                question.subjects.append((mention, list(self.names[word])))
            elif "measure" in kinds:
                question.measures.append((mention, self.measures[word]))
            elif "place" in kinds:
                question.foreign.append(self._widen(text, start, end))
            elif "unheld" in kinds and word not in measure_names:
                if word.startswith("名") and re.search(r"[一二两三四五六七八九十\d]$", text[:start]):
                    continue  # 前三名医院: a rank, no famous doctor (名医)
                question.unheld.append(word)
            taken.append((start, end))
        question.measures.sort(key=lambda found: found[0].start)  # as asked (市12345 和 省12345), not longest first
        self._later_measures(spans, question)
        for mention, _ in question.measures:
            money = re.match(r"\s*(?:的)?(金额|费用|收入|花费)", text[mention.end:])
            if money and mention.text + money.group(1) not in self.measures and "金额" not in mention.text \
                    and "收入" not in mention.text:
                question.unheld.append(mention.text + money.group(1))  # 线上处方金额: only the count is printed
        if any("金额" in name or "收入" in name for _, found in question.measures for name in found):
            question.unheld = [w for w in question.unheld if w not in _MONEY_WORDS]
        excluded = [(m.start(), m.end()) for m in _EXCLUDING.finditer(text)]
        kept = [(m, f) for m, f in question.measures if not any(s <= m.start < e for s, e in excluded)]
        if kept and excluded:  # 线上预约（不含电话和诊间）: what is left out is not asked
            question.measures = kept
            taken += excluded
        self._shared_tails(text, question, taken)
        self._shared_heads(text, question, taken)
        for match in _PLACE_HOTLINE.finditer(text):
            place = match.group(1).replace("全", "")
            while place and _NAME_LEFT.match(place[0]):  # 年苏洲市12320: 苏洲
                place = place[1:]
            if len(place) < 2 or any(_NAME_LEFT.match(c) for c in place) or place[0] in "本该" or "各" in place:
                continue
            if not any(place in name or name.startswith(place) for name in self.names if len(name) >= 2):
                held = self._same_sound(place)
                if held:  # 苏洲市 typed for 苏州市: the city held, not a place the bulletins lack
                    start = match.end(1) - len(place)  # the words stripped were on its left
                    question.subjects.append((Mention(start, match.end(1), place), held))
                    taken.append((start, match.end(1)))
                    continue
                question.foreign.append(place + text[match.end(1)])  # 吴忠市 (12320, or 2023年12320)
        if _RATE.search(text) and not any("率" in m for m in self.held_measures):
            question.unheld.append(_RATE.search(text).group(0))
        self._by_priority(question)
        self._extended(text, question)
        self._institutions(text, question, taken)
        self._hints(question, hints, taken)
        self._fragments(text, question, taken)
        self._bare_children(text, question, taken)
        named = [(m.start, m.end) for m, _ in question.subjects]
        doctors = [m.group(0) for m in _NAMED_DOCTOR.finditer(text)]
        question.unheld += doctors
        departments = [m.group(0) for m in _DEPARTMENT.finditer(text)
                       if not any(m.start() < e and s < m.end() for s, e in taken + named)]
        question.details = list(dict.fromkeys(
            departments + doctors + [m.group(0) for p in (_EXAMINATION, _VISIT_TIME) for m in p.finditer(text)]))
        if departments and not _BOOKING_VERB.search(text):
            # 明基医院有没有皮肤科门诊: not held; 挂鼓楼医院心内科的号 asks how to book (the booking guidance
            # says the department's slots are not held: `details`)
            question.unheld += departments
        for hint in hints:
            if hint.get("entity") == "period" and hint.get("value"):
                question.period = str(hint["value"])
                if question.period not in question.periods:
                    question.periods.append(question.period)
        years = [p for p in question.periods if re.fullmatch(r"\d{4}", p)]
        months = [p for p in question.periods if p.startswith("month:")]
        if len(years) == 1 and len(months) == 1 and len(question.periods) == 2:
            # 那年十月（2019）: one month and one year named apart are that month of that year
            question.period = f"{years[0]}-{months[0][6:]}"
            question.periods = [question.period]
        found = _SUB_PERIOD.search(text)
        if found:
            question.sub_period = found.group(0)
        self._qualifiers(question)
        self._parallel(question)
        question.subjects.sort(key=lambda found: found[0].start)  # as asked (鼓楼医院和省人医: 鼓楼 first)
        self._asked_one(text, question)
        if len(question.measures) > 1:  # 第三方渠道预约: 第三方, not also 预约
            specific = [(m, f) for m, f in question.measures if m.text not in GENERIC_MEASURE_WORDS]
            question.measures = specific or question.measures
        for mention, found in list(question.measures):
            # 预约挂号合计里诊间预约: the column inside the total, not the total as well
            if mention.text in _TOTAL_WORDS and any(
                    re.fullmatch(r"\s*(?:里|中|里面|当中|之中|的)?\s*", text[mention.end:other.start])
                    for other, _ in question.measures if other.start >= mention.end):
                question.measures.remove((mention, found))
        if any(f[0] != "合计" and f[0].endswith("合计") for _, f in question.measures):
            # 分途径预约加起来合计: the total that table prints (线上预约数量合计), not also the booking table's 合计
            question.measures = [(m, f) for m, f in question.measures if m.text != "合计"]
        for mention, found in list(question.measures):
            # 诊间预约合计, 第三方 合计: that column's total (the platform's 诊间预约), not also the table's 合计
            if mention.text in _TOTAL_WORDS and any(
                    other.end <= mention.start and re.fullmatch(r"[\s（(]*(?:总数|总量|的)?[\s（(]*", text[other.end:mention.start])
                    for other, _ in question.measures if other is not mention):
                question.measures.remove((mention, found))
        if any(s.kind in ("hospital", "district") for s in question.subject_list) and "12320在线预约" in self.measures \
                and not _ALL_TOLD.search(text):
            # 鼓楼 23年 12320预约: a hospital's 12320 bookings are its 12320在线预约 column, not its total
            question.measures = [(m, self.measures["12320在线预约"]) if m.text in GENERIC_MEASURE_WORDS
                                 and re.search(r"12320\s*(?:的|上|里)?\s*$", text[:m.start]) else (m, f)
                                 for m, f in question.measures]
        question.context = self._context(text, question, hints)
        if CUMULATIVE_WORDS.search(text):
            question.cumulative = True
        elif OWN_PERIOD_WORDS.search(text):
            question.cumulative = False
        elif _ALL_TOLD.search(text) and not question.periods and not _PERIOD_WORDS.search(text):
            # 一共生成过多少张电子健康证: no period named, all told is the running total
            question.cumulative = True
        return question

    def _same_sound(self, place: str) -> list[SubjectRef]:
        """The city held whose name sounds the same as a place the store does not know (苏洲 → 苏州,
        杨州 → 扬州: a pinyin keyboard's or voice input's typo of one character)."""
        from pypinyin import lazy_pinyin  # its dictionary loads on first use

        sound = lazy_pinyin(place)
        found = [ref for name, refs in self.names.items() if len(name) == len(place) and name != place
                 for ref in refs if ref.kind == "city" and lazy_pinyin(name) == sound]
        return list(dict.fromkeys(found)) if len({ref.id for ref in found}) == 1 else []

    @staticmethod
    def _asked_one(text: str, question: Question) -> None:
        """Two measures named with one question word bound to one of them and no 和 between them
        (市民卡能在多少家医疗机构通用): that one is asked; the other only says what it is about."""
        if len(question.measures) != 2 or len(re.findall(r"多少|几", text)) != 1:
            return
        (first, _), (second, _) = question.measures
        if _JOINED.search(text, first.end, second.start):  # 市民卡和通用医疗机构: both asked
            return
        asked = [(m, f) for m, f in question.measures if _ASKED_BEFORE.search(text, 0, m.start)]
        if len(asked) == 1:
            question.measures = asked

    @staticmethod
    def _by_priority(question: Question) -> None:
        """A short name of subjects of several kinds means the kind residents mean (鼓楼: the hospital)."""
        out = []
        for mention, found in question.subjects:
            kinds = {s.kind for s in found}
            if len(kinds) > 1:
                kind = min(kinds, key=KIND_PRIORITY.index)
                found = [s for s in found if s.kind == kind]
            out.append((mention, found))
        question.subjects = out

    def _extended(self, text: str, question: Question) -> None:
        """A short hospital name with more of a name before it (泰康仙林 + 鼓楼): the hospital whose name
        explains all of it, when there is one."""
        out = []
        for mention, found in question.subjects:
            left = self._left(text, mention.start)
            if left and left not in _GENERIC_LEFT and any(s.kind == "hospital" for s in found):
                uncovered, best = self._explain(left + mention.text)
                if best and uncovered == 0 and set(best) != set(found):
                    mention, found = Mention(mention.start - len(left), mention.end, left + mention.text), best
            out.append((mention, found))
        question.subjects = out

    def _shared_tails(self, text: str, question: Question, taken: list[tuple[int, int]]) -> None:
        """Two measures sharing their last words, written once (省12345和市12345工单, 门诊和住院收入):
        the words before 和 with the named measure's tail name a measure too, and both are asked.
        Only words that are no name or measure of their own (自助挂号和缴费金额: 挂号 is asked as said)."""
        for mention, _ in list(question.measures):
            joined = _JOINED.search(text, 0, mention.start)
            if not joined:
                continue
            left = len(text[:joined.start()].rstrip())  # 市12345 和 省12345 工单: the words before the space
            for k in range(len(mention.text) - 1, 0, -1):
                start, end = left - k, left
                if start < 0 or any(start < e and s < end for s, e in taken):
                    continue
                word = text[start:end] + mention.text[k:]
                if word != mention.text and word in self.measures:
                    question.measures.append((Mention(start, end, word), self.measures[word]))
                    question.measures.sort(key=lambda found: found[0].start)  # as asked: 市12345 first
                    break

    def _shared_heads(self, text: str, question: Question, taken: list[tuple[int, int]]) -> None:
        """Two measures sharing their first words, written once (自助机挂号和缴费: 自助机缴费 too)."""
        for mention, _ in list(question.measures):
            joined = re.match(r"\s*(?:和|与|跟|及|以及|、)\s*", text[mention.end:])
            if not joined:
                continue
            start = mention.end + joined.end()
            for length in range(min(6, len(text) - start), 1, -1):
                end = start + length
                if any(start < e and s < end for s, e in taken) or any(
                        m.start < end and start < m.end for m, _ in question.measures):
                    continue
                words = [mention.text[:k] + text[start:end] for k in range(len(mention.text) - 1, 0, -1)]
                word = next((w for w in words if w in self.measures and w != mention.text), None)
                if word:
                    question.measures.append((Mention(start, end, word), self.measures[word]))
                    question.measures.sort(key=lambda found: found[0].start)
                    taken.append((start, end))
                    break

    def _later_measures(self, spans, question: Question) -> None:
        """Two measure words overlapping: the one that ends later is what is asked
        (自助终端挂号金额 is 挂号金额, not 自助终端挂号)."""
        for word, start, end, kinds in spans:
            if "measure" not in kinds:
                continue
            if word not in self.held_measures:
                continue
            for i, (mention, family) in enumerate(question.measures):
                if mention.start < start < mention.end < end and mention.text not in self.held_measures:
                    question.measures[i] = (Mention(start, end, word), self.measures[word])

    def _qualifiers(self, question: Question) -> None:
        """Names that qualify another rather than being asked about: 南京 beside a Nanjing subject
        (南京 is everyone's city), the hotline beside a city (苏州12320: Suzhou's 12320), and beside a
        hospital or district (鼓楼医院12320在线预约: the hospital's column)."""
        kinds = {s.kind for _, found in question.subjects for s in found}
        keep = []
        for mention, found in question.subjects:
            kind = found[0].kind
            if kind == "city" and found[0].name == "南京" and kinds - {"city", "hotline"}:
                continue
            if kind == "district" and any(
                    f[0].kind == "hospital" and mention.text in f[0].name for _, f in question.subjects):
                continue  # 溧水那个鼓楼南部院区: the district says where the hospital is (南部院区(溧水))
            if kind == "hotline" and kinds & {"city", "hospital", "district", "channel", "platform"} and not (
                    (found[0].name == "江苏省12320卫生热线" or mention.text.startswith("南京")) and self._compared(question, mention)):
                continue
            if kind in ("channel", "platform") and kinds & {"hospital", "district"}:
                question.qualifiers.append(found[0])
                # 第三方平台 beside a hospital is its 第三方 column: the measure word inside the name
                inner = [w for w in self.measures if len(w) >= 2 and w in mention.text and w != mention.text]
                if inner:
                    word = max(inner, key=len)
                    start = mention.start + mention.text.index(word)
                    question.measures.append((Mention(start, start + len(word), word), self.measures[word]))
                continue  # its name stays in the context: it names the column or the upload
            if kind == "hotline" and found[0].name != "江苏省12320卫生热线" and any(
                    f[0].name == "江苏省12320卫生热线" for _, f in question.subjects):
                continue  # 江苏全省…12320: the province's hotline, not Nanjing's
            keep.append((mention, found))
        question.subjects = keep

    @staticmethod
    def _parallel(question: Question) -> None:
        """A name written short right after one written in full (南京市第一医院和第二医院): of its
        candidates, the one that is the first's beginning (南京市) and the short name."""
        out = []
        for mention, found in question.subjects:
            if len(found) > 1:
                written = [other.text for other, f in question.subjects if other != mention and len(f) == 1]
                alike = [ref for ref in found if ref.name.endswith(mention.text) and len(ref.name) > len(mention.text)
                         and any(text.startswith(ref.name[:-len(mention.text)]) for text in written)]
                if len(alike) == 1:
                    found = alike
            out.append((mention, found))
        question.subjects = out

    @staticmethod
    def _compared(question: Question, mention: Mention) -> bool:
        """南京接听量vs全省: the province's hotline set against another subject, not qualifying it."""
        for other, found in question.subjects:
            if other == mention:
                continue
            between = question.text[min(other.end, mention.end):max(other.start, mention.start)]
            if re.search(r"vs|和|与|跟|对比|比较|相比|比", between, re.I):
                return True
        return False

    @staticmethod
    def _context(text: str, question: Question, hints: list[dict]) -> str:
        chars = list(text)
        spans = [(m.start, m.end) for m, found in question.subjects]
        spans += [(int(h.get("start", 0)), int(h.get("end", 0))) for h in hints if h.get("entity") == "period"]
        for start, end in spans:
            for i in range(max(0, start), min(len(chars), end)):
                chars[i] = " "
        return _PERIOD_WORDS.sub(" ", "".join(chars))

    # --- internals ---------------------------------------------------------------------------
    def _spans(self, text: str) -> list[tuple[str, int, int, set[str]]]:
        """Every vocabulary word found in the text, longest first, with what it may be."""
        spans = []
        for word, kinds in self._words(text).items():
            start = text.find(word)
            while start >= 0:
                spans.append((word, start, start + len(word), kinds))
                start = text.find(word, start + 1)
        # 线上预约 合计: a word typed with a space inside it, found in the text without its spaces
        kept = [i for i, c in enumerate(text) if not c.isspace()]
        compact = "".join(text[i] for i in kept)
        if len(compact) < len(text):
            for word, kinds in self._words(compact).items():
                start = compact.find(word)
                while start >= 0:
                    first, last = kept[start], kept[start + len(word) - 1] + 1
                    if last - first > len(word):  # only where a space was taken out
                        spans.append((word, first, last, kinds))
                    start = compact.find(word, start + 1)
        # Longest first; at equal length a name before a measure before a place.
        spans.sort(key=lambda s: (-(s[2] - s[1]), s[1]))
        return spans

    def _words(self, text: str) -> dict[str, set[str]]:
        """Each vocabulary word the text holds, with what it may be (a name, a measure, a place, a
        measure never printed)."""
        words: dict[str, set[str]] = {}
        for vocabulary, kind in ((self.names, "name"), (self.measures, "measure"), (self.places, "place"),
                                 (self.unheld, "unheld"), (self.ordinary, "ordinary")):
            for word in vocabulary:
                if word in text:
                    words.setdefault(word, set()).add(kind)
        return words

    def _names_elsewhere(self, text: str, start: int, end: int) -> list[str]:
        rest = text[:start] + " " * (end - start) + text[end:]
        return [w for w in self.names if len(w) >= 2 and w in rest
                and any(s.kind in ("hospital", "district") for s in self.names[w])]

    def _institutions(self, text: str, question: Question, taken: list[tuple[int, int]]) -> None:
        """Hospital-like names (…医院, …院区, …社区): the known hospital that explains every character
        of the name (仙林鼓楼医院 is 泰康仙林鼓楼医院, not 南京鼓楼医院; 南京市一医院 is 南京市第一医院),
        or else a name the store does not hold (江苏省妇幼保健院 is not 南京市妇幼保健院)."""
        measured = [(m.start, m.end) for m, _ in question.measures]
        spans: list[tuple[int, int]] = []
        for match in _INSTITUTION.finditer(text):
            if any(s <= match.start() and e >= match.end() for s, e in measured):
                continue  # part of a measure's name (医院满意度调查)
            left = self._left(text, match.start())
            number = None if left else re.search(r"(?<![\d.])\d{2,4}$", text[:match.start()])
            if number and re.fullmatch(r"(?:19|20)\d\d", number.group(0)):
                number = None  # 2023医院住院收入: a year, not a hospital's number
            if number:  # 301医院, 454医院: a hospital named by its number
                left = number.group(0)
            if left in _GENERIC_LEFT or len(left) + len(match.group(0)) < 3 or _RANK_WORDS.fullmatch(left):
                continue  # 南京医院, 各医院, 前三名医院: no name
            spans.append((match.end() - len(left) - len(match.group(0)), match.end()))
        spans = [sp for sp in spans if not any(o != sp and o[0] <= sp[0] and o[1] >= sp[1] for o in spans)]
        for start, end in spans:
            if any(m.start <= start and m.end >= end and m.end - m.start > end - start for m, _ in question.subjects):
                continue  # part of a longer known name (东部战区总医院秦淮医疗区)
            name = text[start:end]
            inside = [(m, f) for m, f in question.subjects if m.start < end and m.end > start]
            uncovered, best = self._explain(name)
            for item in inside:
                question.subjects.remove(item)
            if best and uncovered == 0:
                question.subjects.append((Mention(start, end, name), best))
            else:
                question.foreign.append(name)
            taken.append((start, end))

    def _fragments(self, text: str, question: Question, taken: list[tuple[int, int]]) -> None:
        """No hospital or district named: a run of three or more characters that only one hospital's
        name contains (博大肾科 → 南京博大肾科医院), where no other word of the question stands."""
        if any(found[0].kind in ("hospital", "district") for _, found in question.subjects) or question.foreign:
            return
        busy = [False] * len(text)
        for start, end in taken + [(m.start, m.end) for m, _ in question.measures]:
            busy[max(0, start):end] = [True] * (min(end, len(text)) - max(0, start))
        hospitals = {s.name: s for found in self.names.values() for s in found if s.kind == "hospital"}
        others = [w for w, found in self.names.items() if all(s.kind != "hospital" for s in found)]
        others += list(self.measures)
        for length in range(8, 2, -1):
            for start in range(0, len(text) - length + 1):
                window = text[start:start + length]
                if any(busy[start:start + length]) or not re.fullmatch(r"[\u4e00-\u9fff]+", window):
                    continue
                owners = [h for name, h in hospitals.items() if window in name]
                if len(owners) == 1 and not any(window in w for w in others):
                    question.subjects.append((Mention(start, start + length, window), owners))
                    busy[start:start + length] = [True] * length
                    taken.append((start, start + length))

    def _bare_children(self, text: str, question: Question, taken: list[tuple[int, int]]) -> None:
        """儿童 alone, set apart in an agent's lookup (儿童 23 小计, 鼓楼 vs 儿童 23年 12320在线预约): the children's
        hospital, when the question asks a figure (a measure or a period) and 儿童 is part of no other name."""
        hospital = [s for s in self.names.get("儿童医院", []) if s.kind == "hospital"]
        if len(hospital) != 1 or not (question.measures or _PERIOD_WORDS.search(text)):
            return
        for match in _BARE_CHILDREN.finditer(text):
            start, end = match.start(1), match.end(1)
            if not any(start < e and s < end for s, e in taken + [(m.start, m.end) for m, _ in question.subjects]):
                question.subjects.append((Mention(start, end, "儿童"), hospital))
                taken.append((start, end))

    def _measure_hint(self, question: Question, hint: dict, taken: list[tuple[int, int]]) -> None:
        """A measure the NLU heard where the text scan found no word (珍间预约: 诊间预约, written with a
        same-sounding character): that measure. Words the scan knows are the scan's to read."""
        value = str(hint.get("value") or "")
        start, end = int(hint.get("start", -1)), int(hint.get("end", -1))
        if value not in self.measures or start < 0 or end <= start or question.text[start:end] in self.measures:
            return
        # a shorter measure word inside it gives way (珍间预约量: 诊间预约, not 预约量); anything else stands
        over = [(m, f) for m, f in question.measures if m.start < end and start < m.end]
        if any(m.end - m.start >= end - start for m, _ in over) or any(
                start < e and end > s for s, e in taken if (s, e) not in {(m.start, m.end) for m, _ in over}):
            return
        question.measures = [item for item in question.measures if item not in over]
        question.measures.append((Mention(start, end, question.text[start:end]), self.measures[value]))
        taken.append((start, end))

    def _explain(self, span: str) -> tuple[int, list[SubjectRef]]:
        """The hospitals (and platforms) whose names leave the fewest characters of the span
        unexplained, and how many are left; at a tie, the names the span uses most of."""
        best_key, best = None, []
        for name, found in self.names.items():
            if len(name) < 2 or not any(s.kind in ("hospital", "platform") for s in found):
                continue
            common = _subsequence(name, span)
            if common < 2:
                continue
            key = (len(span) - common, -(common / len(name)))
            if best_key is None or key < best_key:
                best_key, best = key, [s for s in found if s.kind in ("hospital", "platform")]
            elif key == best_key:
                best += [s for s in found if s.kind in ("hospital", "platform") and s not in best]
        if best_key is None:
            return len(span), []
        if best_key[0] == 0 and span not in self.names and self._district_hospital(span):
            # 浦口医院: a district's name and 医院 is none of its hospitals in particular (浦口中医院 only
            # needs the fewest characters added); every hospital it may be is asked about
            return 0, self._whole(span)
        return best_key[0], best

    def _district_hospital(self, span: str) -> bool:
        districts = {s.name.removesuffix("区") for found in self.names.values() for s in found if s.kind == "district"}
        return any(span in (d + "医院", d + "区医院", "南京" + d + "医院", "南京市" + d + "医院") for d in districts if len(d) >= 2)

    def _whole(self, span: str) -> list[SubjectRef]:
        out: list[SubjectRef] = []
        for name, found in self.names.items():
            if len(name) >= len(span) and _subsequence(name, span) == len(span):
                out += [s for s in found if s.kind == "hospital" and s not in out]
        return out

    @staticmethod
    def _left(text: str, start: int, limit: int = 10) -> str:
        """The characters of a name on the left of `start`, up to a word that ends it."""
        i = start
        while i > 0 and start - i < limit and (not _NAME_LEFT.match(text[i - 1]) or _AGE_WORD.fullmatch(text[max(0, i - 2):i])):
            if text[max(0, i - 2):i].lower() == "vs":  # 鼓楼vs儿童医院: two names compared
                break
            if text[max(0, i - 2):i] in _ASKING_VERBS:  # 想知道江苏省肿瘤医院: the name starts after the verb
                break
            i -= 1
        return text[i:start]

    def _widen(self, text: str, start: int, end: int) -> str:
        """A place with the name it begins (上海 → 上海瑞金医院, 上海12320)."""
        match = re.match(r"[\u4e00-\u9fffA-Za-z0-9]{0,10}?(?:医院|卫生院|保健院|研究所|12320)", text[end:])
        return text[start:end] + (match.group(0) if match else "")

    def _hints(self, question: Question, hints: list[dict], taken: list[tuple[int, int]]) -> None:
        """The NLU's names the text scan missed (a typo, a same-sounding name), where no foreign
        name was found at the same place."""
        have = {s.name for _, found in question.subjects for s in found}
        for hint in hints:
            kind = hint.get("entity")
            if kind == "measure":
                self._measure_hint(question, hint, taken)
                continue
            if kind not in SUBJECT_KINDS or hint.get("ambiguous"):
                continue
            value = str(hint.get("value") or "")
            start, end = int(hint.get("start", -1)), int(hint.get("end", -1))
            # 高纯人民医院 is 南京市高淳人民医院 heard by voice input, not a hospital outside the bulletins
            heard = hint.get("heard") and hint.get("typo") in question.foreign
            # 南京市中医远 is 南京市中医院 misspelt, not the city 南京 and three unknown characters: a
            # longer name the NLU heard replaces the shorter names found inside it, and only those
            inner = [(m, f) for m, f in question.subjects if start <= m.start and m.end <= end and m.end - m.start < end - start]
            if not hint.get("typo") or kind != "hospital" or _INSTITUTION.sub("", question.text[max(0, start):end]) in _GENERIC_LEFT:
                inner = []  # 约南京医院: Nanjing's hospitals, not 南京市一医院 heard; 南京 12320: two names
            inner_spans = {(m.start, m.end) for m, _ in inner}
            if value in have or not heard and any(start < e and end > s for s, e in taken if (s, e) not in inner_spans):
                continue
            found = [s for s in self.names.get(value, []) if s.kind == kind]
            if found:
                for item in inner:
                    question.subjects.remove(item)
                if heard:  # only once it names a subject: else the name stays foreign, never a total
                    question.foreign.remove(hint.get("typo"))
                question.subjects.append((Mention(start, end, str(hint.get("typo") or value)), found[:1]))
                have.add(value)
