"""Figures stated in sentences: 12320 calls by category, province calls by city, platform figures.

A sentence names its subject first (南京市远程影像诊断平台…, 全省12320…) and then states figures,
each a number with its unit after the words that say what is counted. The measure is those words,
cleaned of connectives; a list after 其中 or 统计为 breaks its parent figure down (by category,
or by city when the item names a city). Rankings (排名前三的…是 A、B和C) and the centre hospital
of a platform (以…为主业务中心) have patterns of their own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.bulletin.figures import Figure, Note
from knowledge.bulletin.layout import Paragraph
from knowledge.bulletin.text import scaled

_UNITS = "人次|千元|个|件|家|份|次|例|条|张|台|人|通|所|元|%"
_NUMBER = re.compile(
    rf"(?<![\dA-Za-z.])(?P<q>超|近|逾)?(?P<n>\d+(?:\.\d+)?)(?P<m1>多|余)?(?P<mag>万|亿)?"
    rf"(?P<m2>多|余)?(?P<unit>{_UNITS})?"
)
_NOUNS = sorted(
    ["医疗卫生机构", "医疗机构", "远程会诊", "电子健康证", "从业体检机构", "体检机构", "用人单位", "社区卫生服务中心", "机构",
     "医院", "城市", "区", "市民卡", "专家"],
    key=len, reverse=True,
)
_VERBS = ("已对接", "对接", "直采", "接入", "联通", "覆盖", "采集", "上传", "调阅", "调用", "生成",
          "注册", "开展", "提供", "流转", "接收", "投入使用", "通用", "完成", "受理", "接听", "汇聚")
_CONNECTIVES = re.compile(r"^(?:其中|以及|并|且|及|和|与|另|在|共|通过平台?(?=流转))+")
_FILLERS = re.compile(r"(?:共计|总计|共|达|超|为|近|计|分别)+$")
_PERIOD_YEAR = re.compile(r"(\d{4})\s*年(?:度|全年|[，,])")
_PERIOD_MONTH = re.compile(r"^(?:(\d{4})年)?(\d{1,2})月(?:份)?[，,]?|本月|(\d{1,2})月份")
_PERIOD_WORDS = re.compile(r"\d{4}年(?:度|全年)?|本月|\d{1,2}月份|^\d{1,2}月")
_LIST_START = re.compile(r"其中[，,]?|统计为[:：]")
_RANKING = re.compile(
    r"(?P<measure>[^，,;；。]*?)(?:排名)?前(?P<n>[一二三四五六七八九十\d]+)(?:位)?的(?P<kind>区|医院)?(?:分别)?(?:是|为)"
    r"[:：]?(?P<items>.+)$"
)
_CENTRE = re.compile(r"以(?P<name>[^，,。]+?)为主业务中心")
_DELIMS = "，,；;:：（("
_LIST_DELIMS = _DELIMS + "、"
# Where the words before a figure do not name it well, the name agents know it by.
_RENAMES = {
    ("南京市远程心电诊断监测平台", "都市圈城市医疗机构"): "接入医疗机构",
    ("南京市医疗一卡通", "医疗机构通用"): "通用医疗机构",
    ("医疗自助智能服务终端", "区"): "投入使用区",
    ("医疗自助智能服务终端", "医院"): "投入使用医院",
}
_ADDITIVE_HINT = re.compile(r"其他|其它")


@dataclass
class Context:
    subjects: dict[str, tuple[str, str]]  # any known name → (kind, canonical or printed name)
    cities: set[str]
    bulletin_period: str
    districts: frozenset[str] = frozenset()


def _period_for(text: str, ctx: Context) -> str | None:
    m = _PERIOD_YEAR.search(text)
    if m:
        return m.group(1)
    m = _PERIOD_MONTH.search(text)
    if m:
        year = m.group(1) or ctx.bulletin_period[:4]
        month = m.group(2) or m.group(3)
        if month:
            return f"{year}-{int(month):02d}"
        return ctx.bulletin_period  # 本月
    return None


def _find_subject(text: str, ctx: Context, kinds=("platform", "hotline", "channel", "organisation")):
    """The longest known name of one of these kinds that the text contains, with where it ends."""
    best = None
    for name, (kind, canonical) in ctx.subjects.items():
        # Digits-only names (12320) are part of measures (12320调阅), never a sentence's subject.
        if kind in kinds and len(name) >= 3 and re.search(r"[\u4e00-\u9fff]", name):
            pos = text.find(name)
            if pos >= 0 and (best is None or len(name) > len(best[0])):
                best = (name, kind, canonical, pos)
    return best


def _resolve_item(label: str, ctx: Context, kind_hint: str | None = None,
                  strict: bool = False) -> tuple[str, str] | None:
    """Who a list item or ranked name is. Strict (breakdowns): only names known to be places."""
    if label in ctx.cities or label.removesuffix("市") in ctx.cities:
        return ("city", label.removesuffix("市"))
    if label in ctx.subjects:
        return ctx.subjects[label]
    if strict:
        return ("district", label) if label in ctx.districts else None
    if label.endswith(("卫健委", "卫生健康委员会")):
        return ("organisation", label)
    if kind_hint == "区" or re.fullmatch(r".+区", label):
        return ("district", label)
    if kind_hint == "医院" or re.search(r"(医院|诊所|中心|研究所|院)$", label):
        return ("hospital", label)
    return None


def _clean(prefix: str, subject_names: list[str]) -> str:
    text = prefix
    for name in sorted(subject_names, key=len, reverse=True):
        text = text.replace(name, "")
    text = _PERIOD_WORDS.sub("", text)
    text = text.strip("，,；;：:、“”\" ")
    text = _balance(text)
    if "、" in text or "等地" in text:  # 联通北京、新疆…等地: the places are not the measure
        verb = next((v for v in _VERBS if text.startswith(v)), "")
        text = verb
    text = re.sub(r"南京市$", "", text)
    text = text.replace("已对接", "对接")
    text = _FILLERS.sub("", text)
    return text


def _balance(text: str) -> str:
    """Drop a bracket left open or closed at either end: 不含专家咨询） → 不含专家咨询."""
    text = text.lstrip("(（" if text.count("(") + text.count("（") > text.count(")") + text.count("）") else "")
    opened = text.count("(") + text.count("（")
    closed = text.count(")") + text.count("）")
    if closed > opened:
        text = text.rstrip(")）") if text.endswith((")", "）")) else text.lstrip(")）")
    elif opened > closed and text.endswith(("(", "（")):
        text = text.rstrip("(（")
    return text


def _clause_start(body: str, end: int, delims: str) -> int:
    """Where the words naming a figure start: after the last delimiter, except an opening bracket
    closed again before the figure, which belongs to the name (咨询类（不含专家咨询）)."""
    start = 0
    depth = 0
    for i in range(end - 1, -1, -1):
        ch = body[i]
        if ch in ")）":
            depth += 1
        elif ch in "(（" and depth:
            depth -= 1
        elif ch in delims and not depth:
            start = i + 1
            break
    return start


def _topic(measure: str) -> str:
    for verb in _VERBS:
        pos = measure.find(verb)
        if pos > 0:
            return measure[:pos]
    return ""


def _verb_phrase(measure: str, noun: str) -> str:
    return measure[: -len(noun)] if noun and measure.endswith(noun) else measure


def paragraph_figures(
    para: Paragraph, ctx: Context, notes: list[Note], centres: dict[str, str],
    default_subject: tuple[str, str] | None,
) -> list[Figure]:
    figures: list[Figure] = []
    text = re.sub(r"[“”\"]", "", para.text)
    subject = default_subject
    last: Figure | None = None
    previous: list[Figure] = []  # the figures of the sentence before
    for s_index, sentence in enumerate(s for s in re.split(r"(?<=。)", text) if s.strip()):
        found = _find_subject(sentence[:40], ctx)
        if found and found[3] <= 2:
            subject = (found[1], found[2])
        centre = _CENTRE.search(sentence)
        if centre and subject:
            centres[subject[1]] = centre.group("name")
        ranking = _RANKING.search(sentence)
        body = sentence[: ranking.start()] if ranking else sentence
        sentence_period = None
        scope = "cumulative"
        list_parent: Figure | None = None
        list_group = ""
        list_items: list[Figure] = []
        list_pos = None
        lists: list[tuple[Figure, list[Figure], str]] = []
        if body.startswith("其中") and last is not None:
            # The breakdown of a figure of the sentence before: the last one in the unit of the
            # first item (其中…11家 breaks down …148家, not the 4个城市 after it).
            first = next((m for m in _NUMBER.finditer(body) if m.group("unit")), None)
            same_unit = [f for f in previous if first and f.unit == first.group("unit")]
            list_parent = same_unit[-1] if same_unit else last
            list_group, list_pos = f"{para.line}:{s_index}", 0
        sentence_figures: list[Figure] = []
        prev_end = 0
        prev_measure = ""
        prev_noun = ""
        for m in _NUMBER.finditer(body):
            if not m.group("unit") and not m.group("mag"):
                continue
            marker = _LIST_START.search(body, prev_end, m.start())
            if marker and last is not None and list_parent is None:
                list_parent, list_group, list_pos = last, f"{para.line}:{s_index}:{marker.start()}", marker.end()
            in_list = list_parent is not None
            delims = _LIST_DELIMS if in_list else _DELIMS
            start = max(prev_end, _clause_start(body, m.start(), delims))
            if in_list and list_pos:
                start = max(start, list_pos)
            prefix = body[start: m.start()]
            period = _period_for(body[: m.start()], ctx) or sentence_period
            if period:
                sentence_period, scope = period, "period"
            fig_subject = subject
            names = []
            if fig_subject:
                names = [n for n, v in ctx.subjects.items() if v == fig_subject]
            # A name in the figure's own clause switches the subject (…,健康南京APP注册用户…);
            # inside a breakdown the items are categories, never new subjects.
            clause_end = min((p for p in (body.find(d, m.end()) for d in "，,；;。") if p >= 0), default=len(body))
            switch = None if in_list else _find_subject(body[start:clause_end], ctx)
            if switch:
                fig_subject = (switch[1], switch[2])
                names = [n for n, v in ctx.subjects.items() if v == fig_subject] + [switch[0]]
                if not in_list:
                    subject = fig_subject
            noun = next((n for n in _NOUNS if body.startswith(n, m.end())), "")
            cleaned = _clean(prefix, names)
            item_subject = _resolve_item(cleaned, ctx, strict=True) if in_list else None
            if item_subject and item_subject[0] in ("city", "hospital", "district"):
                fig_subject, measure = item_subject, list_parent.measure
            else:
                if in_list and cleaned.startswith("受理"):
                    cleaned = cleaned[2:]
                connective = _CONNECTIVES.match(cleaned)
                if connective:
                    cleaned = cleaned[connective.end():]
                    if cleaned and prev_measure and connective.group(0) not in ("其中", "在"):
                        cleaned = _topic(prev_measure) + cleaned
                if not cleaned and prev_measure:
                    cleaned = _verb_phrase(prev_measure, prev_noun)
                measure = cleaned + noun
                if not cleaned and noun:
                    after = re.match(r"[\u4e00-\u9fff]{1,4}?(?=[，,；;。]|$)", body[m.end() + len(noun):])
                    measure = noun + (after.group(0) if after else "")
                measure = _RENAMES.get((fig_subject[1], measure), measure) if fig_subject else measure
            if fig_subject is None or not measure:
                notes.append(Note("warning", "unattributed_figure", para.line,
                                  f"figure {m.group(0)} in 「{sentence[:30]}…」 has no subject or measure: not stored"))
                prev_end = m.end()
                continue
            qualifier = (m.group("q") or "")
            value = qualifier + m.group("n") + (m.group("m1") or "") + (m.group("mag") or "") + (m.group("m2") or "")
            unit = m.group("unit") or ""
            fig = Figure(
                fig_subject[0], fig_subject[1], measure, value, scaled(m.group("n"), m.group("mag")),
                unit, sentence_period or ctx.bulletin_period, scope, para.heading, para.line,
            )
            if in_list:
                fig.role, fig.group = "item", list_group
                list_items.append(fig)
            figures.append(fig)
            sentence_figures.append(fig)
            last = fig
            prev_end = m.end() + len(noun)
            prev_measure, prev_noun = measure, noun
        previous = sentence_figures
        if list_parent is not None:
            list_parent.role = "parent"
            list_parent.group = list_group
            lists.append((list_parent, list_items, sentence))
        if ranking:
            period = _period_for(sentence, ctx) or sentence_period
            figures += _ranking_figures(ranking, subject, ctx, para, period, "period" if period else scope)
        for parent, items, sent in lists:
            _check_list(parent, items, sent, notes)
    return figures


def _ranking_figures(ranking, subject, ctx, para, period, scope) -> list[Figure]:
    measure = _clean(ranking.group("measure"), [n for n, v in ctx.subjects.items() if v == subject])
    measure = re.sub(r"^[，,]", "", measure)
    if subject and subject[0] == "platform" and subject[1] not in measure:
        measure = subject[1] + measure
    items = [i for i in re.split(r"[、，,]|和(?=[^和]*$)", ranking.group("items").rstrip("。")) if i]
    out = []
    for rank, item in enumerate(items, start=1):
        m = _NUMBER.search(item)
        name = item[: m.start()] if m and m.group("unit") else item
        resolved = _resolve_item(name, ctx, ranking.group("kind")) or ("hospital", name)
        out.append(Figure(resolved[0], resolved[1], measure + "排名", str(rank), None, "名",
                          period or ctx.bulletin_period, "period" if period else scope,
                          para.heading, para.line, role="rank"))
        if m and m.group("unit"):
            out.append(Figure(resolved[0], resolved[1], measure, m.group("n"), scaled(m.group("n"), None),
                              m.group("unit"), period or ctx.bulletin_period,
                              "period" if period else scope, para.heading, para.line))
    return out


_UNIT_CLASS = {"个": "calls", "通": "calls"}


def _check_list(parent: Figure, items: list[Figure], sentence: str, notes: list[Note]) -> None:
    """A breakdown after 其中 should add up to its parent when it claims to be complete."""
    cls = _UNIT_CLASS.get(parent.unit, parent.unit)
    same = [i for i in items if _UNIT_CLASS.get(i.unit, i.unit) == cls and i.number is not None]
    if len(same) < 2 or parent.number is None:
        return
    total = sum(i.number for i in same)
    if total == parent.number:
        return
    complete = parent.subject_kind == "hotline" or bool(_ADDITIVE_HINT.search(sentence))
    listed = "、".join(f"{i.subject if i.subject != parent.subject else i.measure}" for i in same)
    diff = parent.number - total
    if complete:
        notes.append(Note("warning", "total_mismatch", parent.line,
                          f"{parent.subject} {parent.measure} {parent.value}{parent.unit}: its parts "
                          f"({listed}) add up to {_fmt(total)}, {_fmt(abs(diff))} "
                          f"{'short of' if diff > 0 else 'more than'} the printed total"))
        parent.flags.append("total_mismatch")
    else:
        notes.append(Note("info", "partial_breakdown", parent.line,
                          f"{parent.subject} {parent.measure} {parent.value}{parent.unit}: the parts listed "
                          f"({listed}) add up to {_fmt(total)}, a partial breakdown"))


def _fmt(number) -> str:
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
