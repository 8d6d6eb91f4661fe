"""The masker against thousands of generated ways of writing a number (hypothesis).

Each number (mobile, landline, local, 18- and 15-digit ID card, bank card) is written as residents
write it: in ASCII, full-width or Chinese numerals (幺 for 1, 〇/零 for 0), mixed; split into any
groups with any separators (space, -, ., ·, /, full-width ones); with +86 / 0086 / (+86) / 86; with
the area code in parentheses; the ID card's check letter as x, X, ｘ or Ｘ. Then:
- mask_text leaves none of its digits readable, and keeps a phone's last four (to tell calls apart);
- the complaint form (normalise_phone) reads a written phone as the number it is;
- the centre's published numbers stay as they are written;
- text without such a number is left exactly as it is.
"""
from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from hotline import privacy
from hotline.privacy import find_numbers, mask_text, normalise_phone

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
# Derandomized: the same thousands of forms on every run (a failure is reproducible); THOROUGH explores.
FORMS = settings(max_examples=20000 if THOROUGH else 2500, deadline=None, derandomize=not THOROUGH,
                 suppress_health_check=[HealthCheck.too_slow])

FULL = dict(zip("0123456789", "０１２３４５６７８９"))
CHINESE = dict(zip("0123456789", "〇一二三四五六七八九"))
ALTERNATIVES = {"0": "零", "1": "幺"}
SEPARATORS = [" ", "-", ".", "·", "/", "－", "　", " - ", "—", "・", "．", "／", "  ", "\u00a0"]
# What stands around a number in a message: words and punctuation, no digit and no Latin letter
# (a letter glued to 8 digits makes an identifier such as TS-20261122-0001, not a local number).
WORDS = st.text(st.sampled_from(list("我的电话是号码身份证卡请回拨谢谢，。：；！？、（） \n在医院投诉")), max_size=8)


def _digit(draw, ch: str, script: str) -> str:
    if script == "mixed":
        script = draw(st.sampled_from(["ascii", "full", "chinese"]))
    if script == "full":
        return FULL[ch]
    if script == "chinese":
        if ch in ALTERNATIVES and draw(st.booleans()):
            return ALTERNATIVES[ch]
        return CHINESE[ch]
    return ch


@st.composite
def written(draw, digits: str, *, max_groups: int = 5, check: str | None = None) -> str:
    """`digits` as a resident might write them: a script, groups, separators."""
    script = draw(st.sampled_from(["ascii", "ascii", "full", "chinese", "mixed"]))
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=max_groups - 1)))
    one_separator = draw(st.sampled_from(SEPARATORS))
    mixed = draw(st.booleans())
    out, previous = [], 0
    for cut in [*cuts, len(digits)]:
        if previous:
            out.append(draw(st.sampled_from(SEPARATORS)) if mixed else one_separator)
        out.append("".join(_digit(draw, ch, script) for ch in digits[previous:cut]))
        previous = cut
    text = "".join(out)
    if check is not None:
        text += draw(st.sampled_from(["x", "X", "ｘ", "Ｘ"])) if check == "X" else _digit(draw, check, script)
    return text


PREFIXES = ["+86", "+86 ", "+86-", "0086", "0086 ", "(+86)", "（+86）", "（＋８６）", "86", "86-", "+86 ("]
MOBILE = st.from_regex(r"\A1[3-9][0-9]{9}\Z")
AREA = st.sampled_from(["010", "020", "021", "025", "0516", "0519", "0371", "0755"])


@st.composite
def phones(draw) -> tuple[str, str]:
    """(the number as dialled at home, as written)."""
    kind = draw(st.sampled_from(["mobile", "landline", "local"]))
    if kind == "mobile":
        number = draw(MOBILE)
        text = draw(written(number))
        if draw(st.booleans()):
            text = draw(st.sampled_from(PREFIXES)) + text
        return number, text
    local = draw(st.from_regex(r"\A[2-9][0-9]{6,7}\Z"))
    if kind == "local":
        return local, draw(written(local, max_groups=3))
    area = draw(AREA)
    number = area + local
    style = draw(st.sampled_from(["plain", "parentheses", "abroad"]))
    if style == "parentheses":
        return number, f"({draw(written(area, max_groups=1))}){draw(st.sampled_from(['', ' ']))}" \
                       f"{draw(written(local, max_groups=2))}"
    if style == "abroad":  # +86 25 8456 7890: the area code's 0 dropped
        return number, draw(st.sampled_from(["+86 ", "0086 ", "+86-"])) + draw(written(number[1:]))
    return number, draw(written(number))


ID_18 = st.from_regex(r"\A[1-8][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])[0-2][0-9][0-9]{3}[0-9X]\Z")
ID_15 = st.from_regex(r"\A[1-8][0-9]{5}[0-9]{2}(0[1-9]|1[0-2])[0-2][0-9][0-9]{3}\Z")
BANK = st.from_regex(r"\A[3-6][0-9]{15,18}\Z")


@st.composite
def identity_numbers(draw) -> tuple[str, str]:
    kind = draw(st.sampled_from(["id18", "id15", "bank"]))
    if kind == "id18":
        number = draw(ID_18)
        return number, draw(written(number[:-1], check=number[-1]))
    if kind == "id15":
        number = draw(ID_15)
        return number, draw(written(number))
    number = draw(BANK)  # in groups of four, with spaces or dashes, or not grouped at all
    separator = draw(st.sampled_from(["", " ", "-", "　", " - "]))
    return number, separator.join(number[i:i + 4] for i in range(0, len(number), 4))


def readable_digits(text: str) -> str:
    """Every digit of `text` in ASCII, whatever its script, with what may stand between digit groups
    taken out: a clear number would show in it whole."""
    out = []
    for ch in text:
        kind, value = privacy._kind(ch)
        if kind == "d":
            out.append(value)
        elif kind not in ("s", "+"):
            out.append("|")
    return "".join(out)


def _date_shape(text: str) -> bool:
    """A local number whose groups read as a date (2026-11-22) is left as a date: see the masker."""
    groups = re.findall(r"\d+", "".join(v if k == "d" else " " for k, v in map(privacy._kind, text)))
    return (len(groups) == 3 and len(groups[0]) == 4 and 1900 <= int(groups[0]) <= 2099
            and all(len(g) <= 2 for g in groups[1:]))


@FORMS
@given(before=WORDS, number=phones(), after=WORDS)
@example(before="电话", number=("13912345678", "(+86)139-1234-5678"), after="")
@example(before="", number=("13912345678", "幺三九 幺二三四 五六七八"), after="谢谢")
@example(before="座机", number=("02584567890", "(025)8456 7890"), after="")
def test_a_phone_however_written_is_masked_and_its_tail_kept(before, number, after):
    clear, text = number
    assume(not _date_shape(text))
    out = mask_text(before + text + after, keep=frozenset())
    assert clear not in readable_digits(out) and clear.lstrip("0") not in readable_digits(out), (text, out)
    assert clear[-4:] in readable_digits(out), (text, out)
    assert out.startswith(before) and out.endswith(after)


@FORMS
@given(before=WORDS, number=phones(), after=WORDS)
def test_the_form_accepts_every_phone_the_masker_hides(before, number, after):
    clear, text = number
    assume(not _date_shape(text))
    assert normalise_phone(before + text + after) == clear, text
    found = [f for f in find_numbers(before + text + after) if f.phone]
    assert [f.dialled for f in found] == [clear]


@FORMS
@given(before=WORDS, number=identity_numbers(), after=WORDS)
@example(before="身份证", number=("320102199001011234", "320102 19900101 123４"), after="")
@example(before="老身份证", number=("320102900101123", "320102900101123"), after="")
@example(before="卡号", number=("6222021234567890123", "6222 0212 3456 7890 123"), after="")
def test_id_and_bank_card_numbers_however_written_are_masked(before, number, after):
    clear, text = number
    out = mask_text(before + text + after, keep=frozenset())
    digits = readable_digits(out)
    assert clear.rstrip("X") not in digits, (text, out)
    # Nothing longer than a region code or a card's first/last four is left in a row.
    assert clear[6:14] not in digits
    assert normalise_phone(text) is None  # an ID or a card is no phone for the form


@FORMS
@given(before=WORDS, number=phones(), after=WORDS)
def test_the_centres_published_numbers_stay_as_written(before, number, after):
    clear, text = number
    assume(not _date_shape(text))
    keep = privacy.publish([clear])
    try:
        message = before + text + after
        assert mask_text(message) == message
    finally:
        privacy.publish([])
    assert clear in keep and mask_text(message) != message  # published no more: masked again


NUMBERLESS = st.text(st.one_of(st.sampled_from(list("0123456789０１２３ -./年月日号第次个件元，。")),
                               st.characters(codec="utf-8", exclude_categories=["Cs"])), max_size=60)


@FORMS
@given(text=NUMBERLESS)
def test_text_whose_digits_make_no_number_is_left_exactly_as_it_is(text):
    found = list(find_numbers(text))
    out = mask_text(text, keep=frozenset())
    assert (out == text) == (not found), (text, out)
    assert "*" in out or not found


@FORMS
@given(text=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200))
def test_masking_any_text_never_fails_and_a_masked_text_stays_as_it_is(text):
    once = mask_text(text, keep=frozenset())
    assert mask_text(once, keep=frozenset()) == once


def test_dates_figures_and_ticket_numbers_are_left_as_they_are():
    for text in ("2026-11-22来的", "2026.11.2上午", "2026/1/5", "二〇二三年十一月", "共受理咨询电话527519个",
                 "省12345工单15372511件", "11月20日上午9点",
                 "工单TS-20261122-0001", "msgid wx-23456789abc", "打12320或者120", "第3次，等了45分钟"):
        assert mask_text(text, keep=frozenset()) == text, text
