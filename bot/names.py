"""Recognising the names of the knowledge store in Chinese text: hospitals, districts, channels,
platforms and the hotline, by any alias, with small typos; plus periods, measures and phone numbers.

The names come from a gazetteer exported from the store (`hotline gazetteer`), read once at
training time and saved into the trained model: the running server never reads the repo or the store.
Matching runs on spaCy's blank Chinese pipeline with one token per character, so that a name is found
wherever it stands, whatever jieba would make of the words around it; letters match in either case.
Names are also heard, not only read: a name as WeChat's voice recognition spells it (古楼医院 for
鼓楼医院, 生人医 for 省人医) is found by its pinyin, tones dropped (pypinyin). A misspelt or
misheard name that fits two subjects is marked ambiguous with both as candidates: the assistant asks.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

import spacy
from spacy.matcher import PhraseMatcher

# When one span names subjects of two kinds (鼓楼: the hospital residents mean, or the district),
# the first kind here wins; the district keeps its full name (鼓楼区) to be matched.
KIND_PRIORITY = ("hospital", "platform", "channel", "district", "hotline")
MIN_TYPO_LENGTH = 4  # shorter names are too easily one character away from ordinary words
# Names matched by their sound: at least this many characters, at least half of them as written
# (two characters sound like too many ordinary words: 古楼 is any old building).
MIN_SOUND_LENGTH = 3
SOUND_KINDS = ("hospital", "district", "channel")
# A misspelt or misheard name that fits more subjects than this is too vague to ask about.
MAX_CANDIDATES = 3
_HAN = re.compile(r"[\u4e00-\u9fff]+")
_LATIN_RUN = re.compile(r"[a-z]+(?:[\s'-]+[a-z]+)*")
_LATIN_WORD = re.compile(r"[a-z]+")
_BRACKETED = re.compile(r"\s*[(（][^()（）]*[)）]$")
# Characters that many names share: a typo window whose other characters are all of these names
# nothing (南京住院 is not 南京一院 misspelt).
GENERIC = frozenset("南京市江苏省医院")


def fold(text: str) -> str:
    """Letters in lower case, every character kept where it was (健康南京APP and 健康南京app alike)."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


@lru_cache(maxsize=20000)
def readings(char: str) -> frozenset[str]:
    """Every pinyin reading of a Chinese character, tones dropped (长 → chang, zhang)."""
    if not _HAN.fullmatch(char):
        return frozenset()
    from pypinyin import Style, pinyin  # its dictionary is loaded on first use

    return frozenset(_loose(r) for r in pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")[0])


def _loose(syllable: str) -> str:
    """A syllable as a Nanjing ear hears it: n and l, z/c/s and zh/ch/sh, -in and -ing, -en and -eng
    are one (闹科 for 脑科, 四一 for 市一, 将宁 for 江宁 all fit)."""
    for retroflex in ("zh", "ch", "sh"):
        if syllable.startswith(retroflex):
            syllable = retroflex[0] + syllable[2:]
            break
    else:
        if syllable.startswith("n") and len(syllable) > 1 and syllable != "ng":
            syllable = "l" + syllable[1:]
    if syllable.endswith(("ing", "eng")):
        syllable = syllable[:-1]
    return syllable


def spelled(name: str) -> tuple[str, str]:
    """A name in pinyin as residents type it in letters: whole (gulouyiyuan) and by initials (glyy)."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(name, errors="ignore")
    return "".join(syllables), "".join(s[0] for s in syllables if s)


@dataclass(frozen=True)
class Match:
    kind: str
    start: int
    end: int
    text: str
    candidates: tuple[str, ...]  # canonical names; more than one when the name is ambiguous
    typo: bool = False
    heard: bool = False  # written with same-sounding characters (高纯人民医院): what voice input does

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


class NameMatcher:
    def __init__(self, gazetteer: dict):
        # bot/entities.py's last answers of this matcher (message text → entities)
        self.remembered: OrderedDict[tuple[int, str], list] = OrderedDict()
        self.index: dict[tuple[str, str], tuple[str, ...]] = {}
        grouped: dict[tuple[str, str], set[str]] = {}
        for subject in gazetteer.get("subjects", []):
            for name in subject["names"]:
                if len(name) >= 2 and not name.isdigit():
                    grouped.setdefault((subject["kind"], fold(name)), set()).add(subject["name"])
        # A branch is also named without the place in brackets (鼓楼医院南部院区 for 鼓楼医院南部院区(溧水)),
        # unless that is another subject's name (南京市江宁医院 is not its 湖山路 branch).
        cut: set[tuple[str, str]] = set()
        for (kind, name), canonical in list(grouped.items()):
            bare = _BRACKETED.sub("", name)
            if bare != name and len(bare) >= 4 and (kind, bare) not in grouped:
                grouped[(kind, bare)] = set(canonical)
            # ... or with the place after the name, unbracketed (江宁医院湖山路).
            if bare != name and len(bare) >= 4:
                grouped.setdefault((kind, bare + re.sub(r"[\s()（）]", "", name[len(bare):])), set()).update(canonical)
            # A hospital's name cut short by one character (南京市儿童医 挂号, as agents type).
            if kind == "hospital" and bare.endswith("医院") and len(bare) >= 5 and (kind, bare[:-1]) not in grouped:
                grouped[(kind, bare[:-1])] = set(canonical)
                cut.add((kind, bare[:-1]))  # as written only: one slip more would be too far
        self.index = {key: tuple(sorted(v)) for key, v in grouped.items()}
        self.cut = cut
        # Ordinary words that hold a name (全市一共, 逸夫楼, 江宁妇幼): no name of theirs inside them
        # (knowledge/data/reference.yml, read by the statistics resolver the same way).
        self.ordinary = sorted({fold(w) for w in gazetteer.get("ordinary_words", []) if w}, key=len, reverse=True)
        self.nlp = spacy.blank("zh")  # default segmenter: one token per character
        self.matcher = PhraseMatcher(self.nlp.vocab)
        by_kind: dict[str, list[str]] = {}
        for kind, name in self.index:
            by_kind.setdefault(kind, []).append(name)
        for kind, names in by_kind.items():
            self.matcher.add(kind, list(self.nlp.tokenizer.pipe(names)))
        # One character replaced, never the first: 鼓搂医院 → 鼓楼医院, 省人民医阮 → 省人民医院.
        self.typos: dict[tuple[int, str], set[tuple[str, str]]] = {}
        for kind, name in self.index:
            # Only names of Chinese characters: 12320网 is not one slip away from 12320接.
            if (kind, name) not in cut and len(name) >= MIN_TYPO_LENGTH and len(re.findall(r"[\u4e00-\u9fff]", name)) >= MIN_TYPO_LENGTH - 1:
                for i in range(1, len(name)):
                    key = (len(name), name[:i] + "\0" + name[i + 1:])
                    self.typos.setdefault(key, set()).add((kind, name))
        self.lengths = sorted({n for n, _ in self.typos}, reverse=True)
        # Names of Chinese characters by length and the readings of their first character, each with
        # the readings of every character (a window sounds like a name when each of its characters
        # shares a reading with the name's).
        self.sounds: dict[tuple[int, str], list[tuple[str, str, tuple[frozenset[str], ...]]]] = {}
        for kind, name in self.index:
            if kind in SOUND_KINDS and (kind, name) not in cut and len(name) >= MIN_SOUND_LENGTH and _HAN.fullmatch(name):
                heard = tuple(readings(c) for c in name)
                if all(heard):
                    for first in heard[0]:
                        self.sounds.setdefault((len(name), first), []).append((kind, name, heard))
        self.sound_lengths = sorted({n for n, _ in self.sounds}, reverse=True)
        # Hospitals written in pinyin: whole (gulou yiyuan: gulou alone is also a district, a street) or by the initials
        # of a name of three characters or more, four for initials (glyy, jssrmyy), as whole words only.
        self.pinyin: dict[str, set[tuple[str, str]]] = {}
        self.initials: dict[str, set[tuple[str, str]]] = {}
        for kind, name in self.index:
            if kind == "hospital" and _HAN.fullmatch(name):
                whole, initials = spelled(name)
                if len(name) >= 3:
                    self.pinyin.setdefault(whole, set()).add((kind, name))
                if len(name) >= 4:
                    self.initials.setdefault(initials, set()).add((kind, name))

    def find(self, text: str, reserved: Iterable[tuple[int, int]] = ()) -> list[Match]:
        """Names in the text; typo matching leaves the reserved spans (exact measure words) alone."""
        folded = fold(text)
        doc = self.nlp.make_doc(folded)
        ordinary = self._ordinary(folded)
        reserved = list(reserved) + ordinary
        found = []
        for match_id, start, end in self.matcher(doc):
            kind = self.nlp.vocab.strings[match_id]
            span = doc[start:end]
            # spaCy matches across a space (12320 电话 for 12320电话): look the name up without it.
            names = self.index.get((kind, span.text)) or self.index.get((kind, re.sub(r"\s+", "", span.text)))
            # a name cut short stands only where the word ends (南京市儿童医 挂号, not 省人民医阮)
            if names and (kind, span.text) in self.cut and _HAN.match(text[span.end_char:span.end_char + 1]):
                continue
            # inside an ordinary word no longer than itself (市一 of 全市一共, 妇幼 of 江宁妇幼): no name
            if names and any(s < span.end_char and span.start_char < e and span.end_char - span.start_char <= e - s
                             for s, e in ordinary):
                continue
            if names:
                found.append(Match(kind, span.start_char, span.end_char, text[span.start_char:span.end_char],
                                   names))
        chosen = _non_overlapping(_joined(found, text))
        # A longer name misspelt or misheard where a shorter one is written takes its place when the
        # shorter one is ambiguous or names the same subject (生中医院 is 省中医院, not 中医院 of two
        # hospitals; 省人民医阮 is the whole of 省人民).
        chosen = _longer(chosen, self._typos(text, chosen, list(reserved)))
        chosen = _longer(chosen, self._sounds(text, chosen, list(reserved)))
        chosen += self._letters(text, chosen)
        return sorted(chosen, key=lambda m: m.start)

    def _ordinary(self, folded: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        for word in self.ordinary:
            start = folded.find(word)
            while start >= 0:
                spans.append((start, start + len(word)))
                start = folded.find(word, start + 1)
        return spans

    def _letters(self, text: str, taken: list[Match]) -> list[Match]:
        """Hospitals written in pinyin letters, the longest run of words first."""
        out: list[Match] = []
        for run in _LATIN_RUN.finditer(fold(text)):
            words = [(w.start() + run.start(), w.end() + run.start(), w.group()) for w in _LATIN_WORD.finditer(run.group())]
            # letters and then 医院 in characters (gulou医院, gl医院): the name in pinyin with yiyuan
            hospital = re.match(r"\s*医院", text[run.end():])
            i = 0
            while i < len(words):
                for j in range(len(words), i, -1):
                    key = "".join(w for _, _, w in words[i:j])
                    start, end = words[i][0], words[j - 1][1]
                    hits = None
                    if hospital and j == len(words):
                        hits = self.pinyin.get(key + "yiyuan") or (self.initials.get(key + "yy") if j == i + 1 else None)
                        end = run.end() + hospital.end() if hits else end
                    hits = hits or self.pinyin.get(key) or (self.initials.get(key) if j == i + 1 else None)
                    if hits and all(end <= m.start or start >= m.end for m in taken + out):
                        match = self._resolved(set(hits), start, text[start:end])
                        if match is not None:
                            out.append(match)
                            i = j - 1
                            break
                i += 1
        return out

    def _sounds(self, text: str, found: list[Match], reserved: list[tuple[int, int]]) -> list[Match]:
        """Names written with same-sounding characters, longest first: where nothing was found, or over a
        shorter name found exactly (which the longer one may replace, see _longer)."""
        busy = [False] * len(text)
        for start, end in reserved:
            busy[start:end] = [True] * (end - start)
        heard = [readings(c) for c in text]
        out: list[Match] = []
        for length in self.sound_lengths:
            for start in range(0, len(text) - length + 1):
                if (any(busy[start:start + length]) or not all(heard[start:start + length])
                        or _cuts(found, start, start + length)):
                    continue
                window = text[start:start + length]
                hits = {(kind, name) for first in heard[start] for kind, name, sounds in
                        self.sounds.get((length, first), ())
                        if 2 * sum(a == b for a, b in zip(window, name)) >= length
                        and all(heard[start + i] & sounds[i] for i in range(length))}
                match = self._resolved(hits, start, window, heard=True)
                if match is not None:
                    out.append(match)
                    busy[start:start + length] = [True] * length
        return out

    def _resolved(self, hits: set[tuple[str, str]], start: int, window: str, *, heard: bool = False) -> Match | None:
        """A misspelt or misheard window's match: the kind residents most likely mean, and every subject
        of that kind it fits (ambiguous when more than one, none when too many)."""
        if not hits:
            return None
        kind = min({k for k, _ in hits}, key=lambda k: KIND_PRIORITY.index(k) if k in KIND_PRIORITY else 99)
        canon = sorted({c for k, name in hits if k == kind for c in self.index[(k, name)]})
        if len(canon) > MAX_CANDIDATES:
            return None
        return Match(kind, start, start + len(window), window, tuple(canon), typo=True, heard=heard)

    def _typos(self, text: str, found: list[Match], reserved: list[tuple[int, int]]) -> list[Match]:
        """Names misspelt by one character, longest first: where nothing was found, or over a shorter
        name found exactly."""
        busy = [False] * len(text)
        for start, end in reserved:
            busy[start:end] = [True] * (end - start)
        folded = fold(text)  # one character for one: its windows are the windows' folds
        out: list[Match] = []
        for length in self.lengths:
            for start in range(0, len(text) - length + 1):
                if any(busy[start:start + length]) or _cuts(found, start, start + length):
                    continue
                window = text[start:start + length]
                if not re.fullmatch(r"[\u4e00-\u9fff]+", window[1:]):
                    continue
                hits = set()
                key = folded[start:start + length]
                for i in range(1, length):
                    hits |= self.typos.get((length, key[:i] + "\0" + key[i + 1:]), set())
                # a long name, or two of its own characters as written, or one and a slip that sounds
                # like the name's: 一下医院 is no 一民医院 (下 is not 民), 鼓搂医院 is 鼓楼医院
                hits = {(kind, name) for kind, name in hits
                        if any(a == c and c not in GENERIC for a, c in zip(key, name))
                        and (len(name) >= 5 or sum(1 for a, c in zip(key, name) if a == c and c not in GENERIC) >= 2
                             or all(readings(a) & readings(c) for a, c in zip(key, name) if a != c))}
                kinds = {kind for kind, _ in hits}
                # the slipped character sounds like the name's (高纯 for 高淳): heard, as voice input writes it
                heard = bool(hits) and all(any(readings(a) & readings(b) for a, b in zip(key, name) if a != b)
                                           for _, name in hits)
                # one kind only: a slip that could be a hospital or a district is no name at all
                match = self._resolved(hits, start, window, heard=heard) if len(kinds) == 1 else None
                if match is not None:
                    out.append(match)
                    busy[start:start + length] = [True] * length
        return out


def _cuts(found: list[Match], start: int, end: int) -> bool:
    """The window overlaps a name found exactly without holding all of it and more: it could never replace it."""
    return any(m.start < end and start < m.end and not (start <= m.start and m.end <= end and m.end - m.start < end - start)
               for m in found)


def _longer(chosen: list[Match], candidates: list[Match]) -> list[Match]:
    for c in candidates:
        overlapping = [m for m in chosen if m.start < c.end and c.start < m.end]
        if not overlapping:
            chosen = chosen + [c]
        elif not c.ambiguous and all(
                c.start <= m.start and m.end <= c.end and m.end - m.start < c.end - c.start
                and (m.ambiguous or m.candidates == c.candidates
                     # heard with two characters more than the name inside it (艾尔眼科医院 is 爱尔眼科医院)
                     or (c.heard and (c.end - c.start) - (m.end - m.start) >= 2))
                for m in overlapping):
            chosen = [m for m in chosen if m not in overlapping] + [c]
    return chosen


def _joined(matches: list[Match], text: str) -> list[Match]:
    """Two names of one subject that overlap are one name over both (泰康仙林 and 仙林鼓楼 in
    泰康仙林鼓楼): neither leaves a part of itself (鼓楼) to be read as another subject."""
    out = list(matches)
    joined = True
    while joined:
        joined = False
        for a in out:
            b = next((b for b in out if b is not a and b.kind == a.kind and b.candidates == a.candidates
                      and a.start < b.start < a.end < b.end), None)
            if b is not None:
                out = [m for m in out if m is not a and m is not b]
                out.append(Match(a.kind, a.start, b.end, text[a.start:b.end], a.candidates))
                joined = True
                break
    return out


def _non_overlapping(matches: list[Match]) -> list[Match]:
    """Longest first; on the same span, the kind residents most likely mean."""
    def rank(m: Match):
        return (-(m.end - m.start), KIND_PRIORITY.index(m.kind) if m.kind in KIND_PRIORITY else 99, m.start)

    chosen: list[Match] = []
    for m in sorted(matches, key=rank):
        if all(m.end <= c.start or m.start >= c.end for c in chosen):
            chosen.append(m)
    return chosen


# --- periods ----------------------------------------------------------------------------------
_CN_MONTH = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
             "十一": 11, "十二": 12}
_MONTH = r"(\d{1,2}|十[一二]?|[一二三四五六七八九])"
_PERIODS = [
    # (after the hotline's number too: 12320二零一九年十月 reads 123202019年10月)
    (re.compile(rf"(?:(?<!\d)|(?<=12320))(20\d{{2}}|\d{{2}})\s*年\s*{_MONTH}\s*月份?"), "year_month"),
    # agents' short forms: 2019.10, 2019-10, 2019/10, 201910
    (re.compile(r"(?<![\d.])(20\d{2})\s*[.\-/]\s*(1[0-2]|0?[1-9])(?![\d.])"), "year_month"),
    (re.compile(r"(?<!\d)(20\d{2})(1[0-2]|0[1-9])(?!\d)"), "year_month"),
    (re.compile(r"(?<![\d.])(1\d|2[0-5])\.(1[0-2]|0?[1-9])(?![\d.万亿%])"), "year_month"),  # 19.10
    (re.compile(r"(?:(?<=\s)|^)(1[5-9]|2[0-6])(1[0-2]|0[1-9])(?=\s|$|底|的)"), "year_month"),  # 中大 1910 预约小计, 1910底
    # a year: 2023年, 2023年度, 2023 (not inside a longer number); 2023年12320 is the year and the hotline
    (re.compile(r"(?<!\d)(20\d{2})(?:\s*年度?(?!\s*\d{1,2}\s*月)|(?![\d年.\-/]))"), "year"),
    (re.compile(r"(?<=12320)(20\d{2})\s*年度?(?!\s*\d{1,2}\s*月)"), "year"),
    (re.compile(r"(?<!\d)(\d{2})\s*年(?!\s*\d{1,2}\s*月|\s*[一二三四五六七八九十]+月)"), "year"),
    # a two-digit year with the word for the whole year (心电病例 23全年 vs 19年10月)
    (re.compile(r"(?<![\d.])(1[5-9]|2[0-6])(?=\s*(?:全年|整年|年度|一整年))"), "year_whole"),
    # an agent's bare two-digit year between spaces (鼓楼医院 23 电话预约), in the bulletins' range
    (re.compile(r"(?:(?<=\s)|^)(1[5-9]|2[0-6])(?=\s|$|/(?:1[5-9]|2[0-6]|20\d\d)(?!\d))"), "bare_year"),  # … and 23/19.10
    # ... or in front of the message, the words right after it (23医疗投诉, 19心理危机干预)
    (re.compile(r"^(1[5-9]|2[0-6])(?=[\u4e00-\u9fff])"), "bare_year"),
    # a month (十月份), also after a year named in words (那年十月), not inside 2019年10月 (read above)
    (re.compile(rf"(?<!\d)(?<!\d年)(?<!\d\s年){_MONTH}\s*月份?(?![\d日号])"), "month"),
    (re.compile(r"去年|上一年"), "last_year"),
    (re.compile(r"前年"), "year_before_last"),
    (re.compile(r"今年|本年"), "this_year"),
    (re.compile(r"上个?月"), "last_month"),
    (re.compile(r"这个月|本月"), "this_month"),
]


@dataclass(frozen=True)
class Found:
    entity: str
    start: int
    end: int
    text: str
    value: str


def _month(text: str) -> int | None:
    month = int(text) if text.isdigit() else _CN_MONTH.get(text)
    return month if month and 1 <= month <= 12 else None


def _year(text: str) -> str:
    return text if len(text) == 4 else f"20{text}"


def find_periods(text: str) -> list[Found]:
    """2019年10月 → 2019-10, 2023年 → 2023, 19年 → 2019, 十月份 → month:10, 去年 → last_year."""
    out: list[Found] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _PERIODS:
        for m in pattern.finditer(text):
            if any(m.start() < e and m.end() > s for s, e in taken):
                continue
            if kind == "year_month":
                month = _month(m.group(2))
                if month is None:
                    continue
                value = f"{_year(m.group(1))}-{month:02d}"
            elif kind == "year":
                if len(m.group(1)) == 2 and "年" not in m.group(0):
                    continue
                value = _year(m.group(1))
            elif kind == "year_whole":
                value = _year(m.group(1))
            elif kind == "bare_year":
                # not a count: 前 20, 20 名, 15 家
                before, after = text[:m.start()].rstrip()[-1:], text[m.end():].lstrip()[:1]
                if text[m.end():].lstrip().startswith("人工"):
                    after = ""  # 23人工服务: the measure, not 23 people
                if before in ("前", "后", "第", "p") or after in (
                        "名", "个", "家", "位", "条", "次", "人", "岁", "天", "号", "日", "点", "楼", "层", "床", "元", "块",
                        "分", "周", "小", "万", "多", "期", "台", "只", "张", "份", "例", "件", "项", "种", "米", "公", "克",
                        "斤", "度", "秒", "届", "级", "班", "路", "栋", "幢", "室", "间", "年", "月", "余", "来", "左", "以", "元"):
                    continue
                value = _year(m.group(1))
            elif kind == "month":
                month = _month(m.group(1))
                if month is None:
                    continue
                value = f"month:{month:02d}"
            else:
                value = kind
            taken.append((m.start(), m.end()))
            out.append(Found("period", m.start(), m.end(), m.group(0), value))
    return sorted(out, key=lambda f: f.start)


# --- phone numbers ----------------------------------------------------------------------------
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d[ -]?\d{4}[ -]?\d{4}|0\d{2,3}[- ]?\d{7,8}|[2-9]\d{7})(?!\d)")


def find_phones(text: str) -> list[Found]:
    """Mainland mobile (13912345678) and landline (025-84567890, 84567890) numbers."""
    return [Found("phone", m.start(), m.end(), m.group(0), re.sub(r"[ -]", "", m.group(0)))
            for m in _PHONE.finditer(text)]


# --- measures ---------------------------------------------------------------------------------
# Measure names too plain to mean a statistic when a resident types them (挂号 is how to book,
# 电话 a phone number); they are still reached through their aliases (自助机挂号, 联系电话 …).
PLAIN_WORDS = {"挂号", "缴费", "电话", "传真", "地址", "邮编", "网址", "E-mail", "会诊", "市民卡", "投入使用",
               "预约", "预约挂号"}


def measure_vocabulary(gazetteer: dict) -> dict[str, str]:
    """Every way of naming a measure → the measure as the bulletins name it."""
    vocab = {m: m for m in gazetteer.get("measures", []) if len(m) >= 2 and m not in PLAIN_WORDS}
    for canonical, aliases in gazetteer.get("measure_aliases", {}).items():
        for alias in aliases:
            if alias not in PLAIN_WORDS:  # 预约 names a measure to the statistics resolver, not here
                vocab.setdefault(alias, canonical)
    return vocab


def find_measures(text: str, vocab: dict[str, str], taken: Iterable[tuple[int, int]] = ()) -> list[Found]:
    """The measure words of the text, and where none is written, one of four or more characters
    written with one same-sounding character (珍间预约 is 诊间预约, as a pinyin keyboard or voice input
    writes it; not 线下预约 for 线上预约, nor 定时 for 实时: those sound otherwise)."""
    taken = list(taken)
    out: list[Found] = []
    for alias in sorted(vocab, key=len, reverse=True):
        start = text.find(alias)
        while start >= 0:
            end = start + len(alias)
            if not any(start < e and end > s for s, e in taken + [(f.start, f.end) for f in out]):
                out.append(Found("measure", start, end, alias, vocab[alias]))
            start = text.find(alias, end)
    masked = _masked_aliases(vocab)
    for length in sorted({length for length, _ in masked}, reverse=True):
        for start in range(len(text) - length + 1):
            end = start + length
            window = text[start:end]
            over = [f for f in out if start < f.end and end > f.start]
            # a shorter word written inside it gives way (珍间预约量: 诊间预约, not 预约量)
            if window in vocab or not _HAN_WORD.fullmatch(window) or any(start < e and end > s for s, e in taken) \
                    or any(f.end - f.start >= length for f in over):
                continue
            sounds = {vocab[alias] for i in range(length)
                      for alias in masked.get((length, window[:i] + "\0" + window[i + 1:]), ())
                      if readings(window[i]) & readings(alias[i])}
            if len(sounds) == 1:  # one measure only: a window that sounds like two names none
                out = [f for f in out if f not in over] + [Found("measure", start, end, window, sounds.pop())]
    return sorted(out, key=lambda f: f.start)


_HAN_WORD = re.compile(r"[\u4e00-\u9fff]+")
_MASKED: dict[int, tuple[dict, dict]] = {}


def _masked_aliases(vocab: dict[str, str]) -> dict[tuple[int, str], list[str]]:
    """The measure words of four or more characters by (length, the word with one character masked),
    made once per vocabulary (bot/gazetteer.py keeps one per gazetteer)."""
    kept = _MASKED.get(id(vocab))
    if kept is None or kept[0] is not vocab:
        index: dict[tuple[int, str], list[str]] = {}
        for alias in vocab:
            if len(alias) >= 4 and _HAN_WORD.fullmatch(alias):
                for i in range(len(alias)):
                    index.setdefault((len(alias), alias[:i] + "\0" + alias[i + 1:]), []).append(alias)
        kept = _MASKED[id(vocab)] = (vocab, index)
    return kept[1]
