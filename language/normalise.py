"""Text as residents type it, made comparable: the one normaliser of the assistant's text rules.

Pure Python (OpenCC's dictionaries ship in its wheel), importable from both venvs: the crisis
detector (safety/) uses it in the Rasa pipeline and in the WeChat gateway alike.

- Unicode NFKC: full-width letters and digits (ＡＢＣ１２３), compatibility forms, as their plain forms.
- Traditional characters as simplified ones (OpenCC's Taiwan-to-mainland table, which also reads
  著 as 着 where it is the aspect particle: 活著 → 活着).
- WeChat's emoji codes ([微笑], /::)) and emoji out of the words; the few emoji that carry meaning
  for the safety rules (a knife, pills, a rope) are read as their word.
- Pinyin's tone marks dropped (wǒ → wo); repeated punctuation and whitespace collapsed; letters
  lower-cased.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Emoji that stand for an object the crisis rules look for: read as its word, not dropped.
EMOJI_WORDS = {
    "🔪": "刀", "🗡": "刀", "💊": "药", "🪢": "绳", "⚰": "棺材", "🪦": "墓", "💀": "死", "☠": "死",
    "🩸": "血", "🌉": "桥", "🌊": "浪", "🏢": "楼", "🔫": "枪", "🦈": "鲨",  # 想自🦈: 自鲨, 自杀's homophone
    "⬇": "↓",  # an arrow down after a bridge or a building (🌉⬇️)
    "😂": "哈哈", "🤣": "哈哈",  # laughing: the crisis rules' joke marker (我不活了😂)
}
# WeChat's built-in faces as they arrive in text: [微笑] [捂脸] [Facepalm] (1–6 letters or characters).
_WECHAT_CODE = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,6}\]")
# Emoji and pictographs (with their joiners and variation selectors).
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\U000E0020-\U000E007F]")
_REPEATED_PUNCT = re.compile(r"([!?.,~。，！？、…～·])\1+")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # loaded on first use: a process that never normalises does not pay for it

    return opencc.OpenCC("tw2s")


def simplified(text: str) -> str:
    """Traditional characters as simplified ones; simplified text is left as it is."""
    return _t2s().convert(text)


def strip_emoji(text: str) -> str:
    """WeChat's emoji codes and emoji removed, the meaningful ones (EMOJI_WORDS) read as words."""
    for emoji, word in EMOJI_WORDS.items():
        if emoji in text:
            text = text.replace(emoji, word)
    text = _WECHAT_CODE.sub(" ", text)
    return _EMOJI.sub(" ", text)


def without_tones(text: str) -> str:
    """Latin letters without their diacritics: pinyin's tone marks (wǒ bù xiǎng → wo bu xiang)."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def normalise(text: str) -> str:
    """The text as the rules read it (never shown to anyone, never stored)."""
    text = without_tones(unicodedata.normalize("NFKC", text))
    text = simplified(text)
    text = strip_emoji(text)
    text = _REPEATED_PUNCT.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip().lower()


# --- the NLU pipeline's normalisation: the same steps, with every character traced to its source ---
#
# bot/normaliser.py runs this before tokenisation. Unlike normalise() (the crisis rules' reading), it
# keeps letter case (the names of the store are matched as written), writes Chinese numerals as digits
# where a number matters to an answer (periods, top-N, phone numbers) and keeps, for every character
# it outputs, the span of the original text it came from: entity offsets of training examples are
# moved with it, and the resident's own text is never rewritten, only read through it.

# Its tables: saved into the trained model by bot/normaliser.py, so that a model keeps reading text
# as it was trained to when this module changes.
TABLES = {
    "emoji_words": EMOJI_WORDS,
    # a digit as a resident says it (幺 is how 1 is read out in phone numbers)
    "digits": {"零": "0", "〇": "0", "○": "0", "一": "1", "幺": "1", "二": "2", "三": "3", "四": "4",
               "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"},
    # 1 to 20 as a count or a month (十一 → 11, 二十 → 20); 两 only counts (前两名)
    "numbers": {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
                "十": 10, "十一": 11, "十二": 12, "十三": 13, "十四": 14, "十五": 15, "十六": 16,
                "十七": 17, "十八": 18, "十九": 19, "二十": 20},
    # two-digit years the bulletins and residents mean (一九年 → 19年, 二三年 → 23年)
    "short_years": ["一五", "一六", "一七", "一八", "一九", "二零", "二〇", "二一", "二二", "二三", "二四", "二五"],
    # punctuation NFKC leaves alone, as its plain form
    "punctuation": {"。": "。", "｡": "。", "、": "、", "“": "\"", "”": "\"", "‘": "'", "’": "'", "「": "\"",
                    "」": "\"", "『": "\"", "』": "\"", "【": "[", "】": "]", "〔": "(", "〕": ")", "—": "-",
                    "–": "-", "―": "-", "～": "~", "〜": "~", "·": "·", "・": "·", "…": "…"},
    # after 前N these words are a time span (前三天), not a ranking: left alone
    "not_top": "天年月周日次号个小分秒",
}


@dataclass(frozen=True)
class Aligned:
    """A text and, for each of its characters, the span [start, end) of the original it comes from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> "Aligned":
        return cls(text, tuple(range(len(text))), tuple(range(1, len(text) + 1)))

    def span(self, start: int, end: int) -> tuple[int, int] | None:
        """Where the original's [start, end) is in this text (None: nothing of it is left)."""
        inside = [i for i in range(len(self.text)) if self.starts[i] < end and self.ends[i] > start]
        return (inside[0], inside[-1] + 1) if inside else None

    def sub(self, pattern: re.Pattern, replace) -> "Aligned":
        """re.sub with a function, tracing every character: an unchanged character keeps its source; a
        replacement of the same length as its match maps character to character, any other replacement
        takes the whole match as the source of each of its characters."""
        text, starts, ends = [], [], []
        last = 0
        for m in pattern.finditer(self.text):
            new = replace(m)
            if new is None:
                continue
            text.append(self.text[last:m.start()])
            starts.extend(self.starts[last:m.start()])
            ends.extend(self.ends[last:m.start()])
            if len(new) == m.end() - m.start():
                starts.extend(self.starts[m.start():m.end()])
                ends.extend(self.ends[m.start():m.end()])
            elif new:
                starts.extend([self.starts[m.start()]] * len(new))
                ends.extend([self.ends[m.end() - 1]] * len(new))
            text.append(new)
            last = m.end()
        text.append(self.text[last:])
        starts.extend(self.starts[last:])
        ends.extend(self.ends[last:])
        return Aligned("".join(text), tuple(starts), tuple(ends))

    def map_chars(self, convert) -> "Aligned":
        """Each character through convert (to any number of characters, each traced to it)."""
        text, starts, ends = [], [], []
        for c, s, e in zip(self.text, self.starts, self.ends):
            new = convert(c)
            text.append(new)
            starts.extend([s] * len(new))
            ends.extend([e] * len(new))
        return Aligned("".join(text), tuple(starts), tuple(ends))


_WHITESPACE = re.compile(r"\s+")
_PUNCT_RUN = re.compile(r"([!?.,~。、…·;:])\1+|[!?]{2,}")


class Normaliser:
    """The NLU pipeline's reading of a message (see above), from its tables and a traditional-to-
    simplified converter (OpenCC's tw2s; bot/normaliser.py loads it from the model)."""

    def __init__(self, tables: dict = TABLES, t2s=None):
        self.tables = tables
        self._t2s = t2s
        self._emoji_words = dict(tables["emoji_words"])
        self._punctuation = dict(tables["punctuation"])
        digits = "".join(tables["digits"])
        self._digits = dict(tables["digits"])
        self._numbers = dict(tables["numbers"])
        count = "|".join(sorted((re.escape(n) for n in self._numbers), key=len, reverse=True))
        month = "|".join(sorted((re.escape(n) for n, v in self._numbers.items() if v <= 12 and n != "两"),
                                key=len, reverse=True))
        # 二零二三年 / 二〇一九年 (four digits) and 一九年 / 二三年 (the short years the tables name)
        self._year = re.compile(rf"(?<![{digits}\d])([{digits}]{{4}}|{'|'.join(tables['short_years'])})(?=年)")
        # 十月, 十一月份, 三月 (not 三个月: a span)
        self._month = re.compile(rf"(?<![{digits}\d十两几])({month})(?=月)")
        # 前三, 前十名, 排名前二十 (not 前三天)
        self._top = re.compile(rf"(?<=前)({count})(?![{digits}十百千万{tables['not_top']}])")
        # a phone number or the hotline read out: five or more digits in a row (幺三九…, 一二三二零)
        self._number_run = re.compile(rf"[{digits}\d]*[{digits}][{digits}\d]*")
        self._wechat = _WECHAT_CODE
        self._emoji = _EMOJI

    def t2s(self, text: str) -> str:
        return self._t2s.convert(text) if self._t2s is not None else simplified(text)

    def __call__(self, text: str) -> Aligned:
        out = Aligned.of(text)
        # Unicode: NFKC (full-width forms), pinyin without tones, invisible format characters dropped
        out = out.map_chars(lambda c: "" if unicodedata.category(c) == "Cf" and c != "\u200d"
                            else without_tones(unicodedata.normalize("NFKC", c)))
        # traditional → simplified: the whole text when that keeps its length (phrases read in context),
        # else character by character
        converted = self.t2s(out.text)
        if len(converted) == len(out.text):
            out = Aligned(converted, out.starts, out.ends)
        else:
            out = out.map_chars(lambda c: self.t2s(c) if len(self.t2s(c)) == 1 else c)
        # emoji: the few that mean a word read as it, the rest and WeChat's codes out of the words
        out = out.map_chars(lambda c: self._emoji_words.get(c, c))
        out = out.sub(self._wechat, lambda m: " ")
        out = out.sub(self._emoji, lambda m: " ")
        # numbers where they matter
        out = out.sub(self._year, lambda m: "".join(self._digits[c] for c in m.group(1)))
        out = out.sub(self._month, lambda m: str(self._numbers[m.group(1)]))
        out = out.sub(self._top, lambda m: str(self._numbers[m.group(1)]))
        out = out.sub(self._number_run, lambda m: self._number(m.group(0)))
        # punctuation and whitespace variants
        out = out.map_chars(lambda c: self._punctuation.get(c, c))
        out = out.sub(_PUNCT_RUN, lambda m: "?" if "?" in m.group(0) else m.group(0)[0])
        out = out.sub(_WHITESPACE, lambda m: " ")
        out = self._strip(out)
        # Nothing left (👍 alone, a lone [OK]): the emoji was the message, and is what is read.
        return out if out.text or not text.strip() else self._strip(Aligned.of(text))

    def _number(self, run: str) -> str | None:
        if sum(1 for c in run if c in self._digits) + sum(1 for c in run if c.isdigit()) < 5:
            return None  # 一二三级 is not a number
        return "".join(self._digits.get(c, c) for c in run)

    @staticmethod
    def _strip(text: Aligned) -> Aligned:
        start, end = 0, len(text.text)
        while start < end and text.text[start] == " ":
            start += 1
        while end > start and text.text[end - 1] == " ":
            end -= 1
        return Aligned(text.text[start:end], text.starts[start:end], text.ends[start:end])
