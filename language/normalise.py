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
from functools import lru_cache

# Emoji that stand for an object the crisis rules look for: read as its word, not dropped.
EMOJI_WORDS = {
    "🔪": "刀", "🗡": "刀", "💊": "药", "🪢": "绳", "⚰": "棺材", "🪦": "墓", "💀": "死", "☠": "死",
    "🩸": "血", "🌉": "桥", "🏢": "楼", "🔫": "枪",
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
