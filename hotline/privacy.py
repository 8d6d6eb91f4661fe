"""Personal data: the one place for the rules about phone, ID-card and bank-card numbers and pseudonyms.

- ``normalise_phone``: what counts as a phone number a resident gave (the complaint form accepts it,
  the ticket stores it): a mainland mobile, a landline with area code, or a 7–8 digit local number.
- ``mask_text``: every phone, ID-card and bank-card number in a text masked; ``mask_phone``: what a
  masked phone looks like (139****5678, 025****7890, ****7890). ID cards: 320102********1234 (18 digits),
  320102*****1234 (15); bank cards: 6222***********1234.
- ``publish`` / ``published_numbers``: the centre's own published numbers (025-83626620 …), read from
  the store at a process's start, which the masker leaves in clear.
- ``pseudonym``: the one keyed hash (HMAC-SHA256) that stands for a person's identifier wherever
  the identifier itself must not be kept (the gateway's senders, the call log, the console's lookups).

One scanner reads numbers for both the masker and the form, so the form accepts exactly what the
masker hides. A number is read however it is written: ASCII, full-width or any other script's digits,
Chinese numerals (〇零一幺二…九, 壹贰…玖), full-width letters (Ｘ), between its digit groups any of
space - . · ・ / — and parentheses, with a +86 / 0086 / (+86) / 86 prefix (kept in clear: it says
nothing about the person).
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Iterator

__all__ = ["PHONE", "Found", "describe_error", "find_numbers", "load_published", "mask_phone", "mask_text",
           "normalise_phone", "publish", "published_numbers", "pseudonym"]

# A phone number as digits: mobile, landline with its area code, local number (7 or 8 digits).
_MOBILE_DIGITS = r"1[3-9]\d{9}"
_LANDLINE_DIGITS = r"0(?:[12]\d|[3-9]\d\d)\d{7,8}"  # 010 / 02X have three digits, the others four
_LOCAL_DIGITS = r"[2-9]\d{6,7}"
PHONE = re.compile(f"{_MOBILE_DIGITS}|{_LANDLINE_DIGITS}|{_LOCAL_DIGITS}")
_MOBILE = re.compile(_MOBILE_DIGITS)
_LANDLINE = re.compile(_LANDLINE_DIGITS)
_LOCAL = re.compile(_LOCAL_DIGITS)
# After a country code the landline's leading 0 is usually dropped (+86 25 8456 7890).
_LANDLINE_ABROAD = re.compile(r"0?(?:[12]\d|[3-9]\d\d)\d{7,8}")
# Region codes start 1–8 (no ID starts with 0: 0086 139… is a phone).
_ID_18 = re.compile(r"[1-9]\d{16}[\dX]")
_ID_15 = re.compile(r"[1-9]\d{14}")
_BANK_CARD = re.compile(r"\d{16,19}")
_COUNTRY = ("0086", "86")
_LONGEST = 4 + 19  # digits: a country code and a bank card, the longest thing worth reading

_CHINESE_DIGITS = {**{c: str(i) for i, c in enumerate("〇一二三四五六七八九")},
                   "零": "0", "幺": "1", "○": "0",
                   **{c: str(i) for i, c in enumerate("零壹贰叁肆伍陆柒捌玖", start=0) if i}}
# Every character _kind reads as a digit (\d is Unicode's decimal digits, as unicodedata.decimal), and the
# fewest digits of anything masked (a local number): a text with fewer is left as it is, unread.
_DIGIT_LIKE = re.compile("[\\d" + "".join(_CHINESE_DIGITS) + "]")
_FEWEST = 7
# Between digit groups: what people put there when they type or paste a number.
_SEPARATORS = set("-.·・/()—–‐‑−﹣")
_GLUE = set("-_")


@functools.lru_cache(maxsize=8192)  # a text's characters repeat: each is looked up once
def _kind(ch: str) -> tuple[str, str]:
    """(class, value) of one character: d (a digit, value its ASCII digit), x (an ID card's check
    letter), + , s (a separator), a (a Latin letter), o (anything else)."""
    if ch in _CHINESE_DIGITS:
        return "d", _CHINESE_DIGITS[ch]
    if ch.isspace():
        return "s", " "
    decimal = unicodedata.decimal(ch, None)
    if decimal is not None:
        return "d", str(decimal)
    folded = unicodedata.normalize("NFKC", ch) if ord(ch) > 127 else ch
    if len(folded) != 1:
        return "o", ch
    if folded in "xX":
        return "x", "X" if folded == "X" else "x"
    if folded == "+":
        return "+", "+"
    if folded in _SEPARATORS:
        return "s", folded
    if "a" <= folded.lower() <= "z":
        return "a", folded
    return "o", ch


# Over the text's classes (one letter per character): a run of digit groups with at most three
# separators between two groups, a + before it, an ID card's check letter right after its last digit.
_RUN = re.compile(r"(?:\+s{0,2})?d(?:s{0,3}d)*x?")


@dataclass(frozen=True)
class Found:
    """A number found in a text: where (start, end of the characters), what (mobile, landline,
    local, id_card, bank_card), its digits without country code (`national`) and how it is shown
    masked (`masked`: the typed prefix kept, the number masked)."""

    start: int
    end: int
    kind: str
    national: str
    masked: str

    @property
    def phone(self) -> bool:
        return self.kind in ("mobile", "landline", "local")

    @property
    def dialled(self) -> str:
        """The number as dialled at home: a landline's leading 0 back after +86 (+86 25… → 025…)."""
        if self.kind == "landline" and not self.national.startswith("0"):
            return "0" + self.national
        return self.national


def find_numbers(text: str) -> Iterator[Found]:
    """Every phone, ID-card and bank-card number in `text`, left to right, however it is written."""
    kinds = [_kind(ch) for ch in text]
    classes = "".join(k for k, _ in kinds)
    for run in _RUN.finditer(classes):
        glued = _glued(text, classes, run.start())
        # Digit groups of the run: (positions of their characters). Each Chinese numeral is a group of
        # its own, since numerals are words too: 13912345678三点以后, 一三九一二三四五六七八一下 hold a
        # mobile and something else, not 12 digits.
        groups: list[list[int]] = []
        previous = None
        for i in range(run.start(), run.end()):
            if classes[i] in "dx":
                if previous is None or previous != i - 1 or text[i] in _CHINESE_DIGITS \
                        or text[previous] in _CHINESE_DIGITS:
                    groups.append([])
                groups[-1].append(i)
                previous = i
        plus = classes[run.start()] == "+"
        i = 0
        while i < len(groups):
            length = 0
            ends = []
            for j in range(i, len(groups)):
                length += len(groups[j])
                if length > _LONGEST:
                    break
                ends.append(j + 1)
            # The longest reading first (139 1234 5678 is one number), a mobile after its country code
            # before any other: 8613000000000-01 is a mobile and a suffix, not a 15-digit ID card.
            found = next((f for mobiles in (True, False) for j in reversed(ends)
                          if (f := _read(text, kinds, groups[i:j], plus=plus and i == 0,
                                         start=run.start() if i == 0 else None, glued=glued and i == 0,
                                         mobiles=mobiles)) is not None), None)
            if found is not None:
                yield found
                # on after the reading: the first group end at or past where it ends
                i = next(j for j in ends if groups[j - 1][-1] + 1 >= found.end)
            else:
                i += 1


def _glued(text: str, classes: str, start: int) -> bool:
    """Whether the run is the tail of a word (TS-20261122-0001, a MsgId): then it is no local number."""
    before = start - 1
    if before >= 1 and unicodedata.normalize("NFKC", text[before]) in _GLUE:
        before -= 1
    return before >= 0 and classes[before] in "ax"


def _read(text: str, kinds: list[tuple[str, str]], groups: list[list[int]], *, plus: bool,
          start: int | None, glued: bool, mobiles: bool = False) -> Found | None:
    """The number the groups read as (``mobiles``: only a mobile after its country code)."""
    positions = [p for g in groups for p in g]
    digits = "".join(kinds[p][1] for p in positions)
    if mobiles:  # no ID card or bank card starts 86 or 0086
        for code in _COUNTRY:
            if digits.startswith(code) and _MOBILE.fullmatch(digits[len(code):]):
                return _found(text, kinds, start, positions, len(code), "mobile", digits[len(code):])
        return None
    if "X" in digits[:-1] or "x" in digits[:-1]:
        return None
    if digits[-1] in "xX":
        if _ID_18.fullmatch(digits[:-1] + "X"):  # the check letter kept as typed in the masked form
            return _found(text, kinds, start, positions, 0, "id_card", digits)
        positions, digits = positions[:-1], digits[:-1]  # a letter after a number (13912345678X)
        if not digits:
            return None
    for code in _COUNTRY:  # +86 139…, 0086 25 …, 86139…
        if digits.startswith(code) and (plus or code == "0086" or len(digits) - len(code) >= 10):
            national = digits[len(code):]
            if _MOBILE.fullmatch(national):
                return _found(text, kinds, start, positions, len(code), "mobile", national)
            if _LANDLINE_ABROAD.fullmatch(national):
                return _found(text, kinds, start, positions, len(code), "landline", national)
    if _ID_18.fullmatch(digits) or _ID_15.fullmatch(digits):
        return _found(text, kinds, start, positions, 0, "id_card", digits)
    if _MOBILE.fullmatch(digits):  # also after a + with no country code (+139…)
        return _found(text, kinds, start, positions, 0, "mobile", digits)
    if plus:
        return None
    if digits.startswith("0") and _MOBILE.fullmatch(digits[1:]):  # 0 dialled before a mobile
        return _found(text, kinds, start, positions, 1, "mobile", digits[1:])
    if _LANDLINE.fullmatch(digits):
        return _found(text, kinds, start, positions, 0, "landline", digits)
    if _BANK_CARD.fullmatch(digits):
        return _found(text, kinds, start, positions, 0, "bank_card", digits)
    if _LOCAL.fullmatch(digits) and not glued and not _date_like(groups, kinds):
        return _found(text, kinds, start, positions, 0, "local", digits)
    return None


def _date_like(groups: list[list[int]], kinds: list[tuple[str, str]]) -> bool:
    """2026-11-22, 2026.1.5, 2026/11/2: a year, a month and a day, not a phone. (2019-2023 may be a
    local number written 4-4: masked.)"""
    values = ["".join(kinds[p][1] for p in g if kinds[p][0] == "d") for g in groups]
    if len(values) != 3 or not all(v.isdigit() for v in values):
        return False
    year, month, day = values
    return (len(year) == 4 and 1900 <= int(year) <= 2099 and len(month) <= 2 and 1 <= int(month) <= 12
            and len(day) <= 2 and 1 <= int(day) <= 31)


def _found(text: str, kinds: list[tuple[str, str]], start: int | None, positions: list[int], skip: int,
           kind: str, national: str) -> Found:
    # The prefix (+86, 0086, a 0 dialled first) kept, in ASCII; the number itself masked.
    begin = positions[0] if start is None else start
    prefix = "".join(kinds[p][1] if kinds[p][0] in "d+" else text[p] for p in range(begin, positions[skip]))
    return Found(begin, positions[-1] + 1, kind, national, prefix + _mask(kind, national))


def _mask(kind: str, digits: str) -> str:
    if kind == "id_card":
        return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]
    if kind == "bank_card":
        return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]
    if kind == "landline" and not digits.startswith("0"):  # after +86: 25 8456 7890
        return digits[:2 if digits[0] in "12" else 3] + "****" + digits[-4:]
    return mask_phone(digits)


# --- the centre's own numbers ----------------------------------------------------------------------

_published: frozenset[str] = frozenset()
# Texts that ``mask_text`` left as they were under the published numbers (none of them holds a personal
# number, so keeping them is harmless). Rasa's tracker store masks every event of a conversation at each
# save; the assistant's long answers full of figures were read digit by digit again at every turn.
_unchanged: dict[str, None] = {}
_UNCHANGED_MAX = 4096


def publish(numbers: Iterable[str]) -> frozenset[str]:
    """The centre's published numbers (as written anywhere: 025-83626620) are left in clear by
    ``mask_text`` from now on in this process; called once at start with ``load_published``'s result.
    A landline is kept with and without its area code."""
    global _published
    kept: set[str] = set()
    for number in numbers:
        for found in find_numbers(number):
            if found.phone:
                kept.add(found.dialled)
                if found.kind == "landline":
                    kept.add(_local_part(found.dialled))
    _published = frozenset(kept)
    _unchanged.clear()
    return _published


def _local_part(landline: str) -> str:
    """02583626620 → 83626620."""
    return landline[3 if landline[1] in "12" else 4:]


def published_numbers() -> frozenset[str]:
    return _published


def load_published(session) -> list[str]:
    """The phone numbers the store holds as facts (the centre's 电话, 传真: 025-83626620): values that
    are not figures and read as a phone."""
    from sqlalchemy import select

    from knowledge.models import Fact

    values = session.scalars(select(Fact.value).where(Fact.number.is_(None)).distinct())
    return sorted(v for v in values if normalise_phone(v) is not None)


# --- the rules ------------------------------------------------------------------------------------

def normalise_phone(value: str) -> str | None:
    """The phone number in `value` as digits (13912345678, 02584567890, 84567890), or None when it
    holds none. A +86 / 0086 / 86 country prefix is dropped; any digits are read as digits."""
    if not isinstance(value, str):
        return None
    for found in find_numbers(value):
        if found.phone:
            return found.dialled
        return None  # the first number is an ID or bank card, not a phone
    return None


def mask_phone(phone: str) -> str:
    """13912345678 → 139****5678; 02584567890 → 025****7890; anything else is left as it is."""
    if re.fullmatch(_MOBILE_DIGITS, phone):
        return phone[:3] + "****" + phone[-4:]
    if re.fullmatch(r"0\d{9,11}", phone):
        return phone[:3 if phone[1] in "12" else 4] + "****" + phone[-4:]
    if re.fullmatch(_LOCAL_DIGITS, phone):
        return "****" + phone[-4:]
    return phone


def mask_text(text: str, *, keep: frozenset[str] | None = None) -> str:
    """Every phone, ID-card and bank-card number in a text masked, except the centre's published
    numbers (`keep`, by default those of ``publish``)."""
    if len(_DIGIT_LIKE.findall(text)) < _FEWEST:
        return text  # most texts: no number of any kind has fewer than 7 digits
    remember = keep is None
    if remember and text in _unchanged:
        return text
    keep = _published if keep is None else keep
    out, last = [], 0
    for found in find_numbers(text):
        if found.phone and found.dialled in keep:
            continue
        out.append(text[last:found.start])
        out.append(found.masked)
        last = found.end
    if not out:
        if remember:
            if len(_unchanged) >= _UNCHANGED_MAX:
                _unchanged.clear()
            _unchanged[text] = None
        return text
    out.append(text[last:])
    return "".join(out)


def describe_error(exc: BaseException) -> str:
    """An error as logs and /healthz show it: its type and where it was raised, never its text (a
    database error's text may quote what a resident wrote)."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ is not None else []
    where = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    cause = exc.__cause__ if exc.__cause__ is not None else (
        None if exc.__suppress_context__ else exc.__context__)
    inner = f" (from {type(cause).__name__})" if cause is not None else ""
    return f"{type(exc).__name__}{where}{inner}"


def pseudonym(key: bytes, identifier: str, *, length: int = 16, prefix: str = "") -> str:
    """`prefix` + the first `length` hex digits of HMAC-SHA256(key, identifier): the same person
    always gets the same pseudonym, and nobody without the key can tell whose it is."""
    digest = hmac.new(key, identifier.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return prefix + digest[:length]
