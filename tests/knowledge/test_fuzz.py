"""Bad input, generated (hypothesis): never a crash, never a clear number, nothing half-written.

- The ingest command on broken bulletins (the real seeds cut, shuffled, corrupted; random bytes and
  text): it ingests or refuses with one line naming the file, and a refused file leaves the store
  exactly as it was.
- The masking functions on any text with phone and ID-card numbers in it, in every way residents
  type them: no 11-digit mobile and no 18-character ID card comes out in clear.

The NLU path (random text through the real Rasa) is tests/e2e/test_fuzz_nlu.py (it needs the
running system of tests/e2e). The WeChat gateway's XML handling gets its fuzz test with the gateway.
Example counts are bounded (FUZZ_EXAMPLES) to keep CI's time; HYPOTHESIS_PROFILE=thorough runs more.
"""
from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline import cli
from database.engine import make_engine
from knowledge.bulletin.layout import BulletinError
from hotline.privacy import mask_phone, mask_text
from knowledge.models import Bulletin, Fact, Finding, Subject
from knowledge.bulletin.parser import parse_bulletin

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
FUZZ = settings(max_examples=300 if THOROUGH else 40, deadline=None, derandomize=not THOROUGH,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FAST = settings(FUZZ, max_examples=3000 if THOROUGH else 400)

# Text as residents and PDF exports produce it, and worse: any Unicode, controls, CJK, digits.
ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300)
# What may stand next to a number: mostly the characters that could change how it is read.
EDGE = st.sampled_from(list("0123456789０１２３４５６７８９ -+Xx*86年月日：，电话号码身份证"))
NOISE = st.one_of(st.text(EDGE, max_size=6),
                  st.text(st.one_of(st.characters(codec="utf-8", exclude_categories=["Cs"]), EDGE), max_size=12))


# --- the ingest parser --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed_texts(seeds) -> list[bytes]:
    return [path.read_bytes() for path in seeds]


@st.composite
def broken_bulletin(draw, seed_texts: list[bytes]) -> bytes:
    """One of the real bulletins, damaged the ways files get damaged."""
    lines = draw(st.sampled_from(seed_texts)).decode("utf-8").split("\n")
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["cut", "drop", "swap", "insert", "digits", "repeat", "long"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if how == "cut":
            lines = lines[:i]
        elif how == "drop" and lines:
            del lines[i:i + draw(st.integers(1, 20))]
        elif how == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif how == "insert":
            lines.insert(i, draw(ANY_TEXT))
        elif how == "digits" and lines:
            lines[i] = re.sub(r"\d", lambda _m: draw(st.sampled_from(list("0123456789.,-%O "))), lines[i])
        elif how == "repeat" and lines:
            lines[i:i] = lines[i:i + 10] * draw(st.integers(1, 3))
        elif how == "long":
            lines.insert(i, draw(st.sampled_from(["统计", "1", "表", "　"])) * draw(st.integers(1000, 20000)))
    data = "\n".join(lines).encode("utf-8")
    if draw(st.booleans()):
        # A few raw bytes anywhere: invalid UTF-8, NUL, controls, a BOM.
        pos = draw(st.integers(0, len(data)))
        data = data[:pos] + draw(st.binary(max_size=8)) + data[pos:]
    return data


def store_state(engine) -> tuple:
    with Session(engine) as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Bulletin, Fact, Finding, Subject))


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory, seeds):
    """An SQLite store with the 2023 bulletin in it, for ingest attempts to leave alone or add to."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzzstore') / 'hotline.db'}"
    assert cli.main(["--database-url", url, "ingest", str(seeds[0])]) == 0
    engine = make_engine(url, create=False)
    yield url, engine
    engine.dispose()


@FUZZ
@given(data=st.data())
def test_a_broken_bulletin_is_refused_in_one_line_or_ingested_never_half(data, seed_texts, fuzz_store,
                                                                         tmp_path_factory, capsys):
    url, engine = fuzz_store
    content = data.draw(broken_bulletin(seed_texts))
    path = tmp_path_factory.mktemp("broken") / "broken.txt"
    path.write_bytes(content)
    before = store_state(engine)
    code = cli.main(["--database-url", url, "ingest", str(path)])
    err = capsys.readouterr().err
    event("refused" if code else "ingested")
    if code:
        assert code == 1
        # One line naming the file and the line, then the store's state: nothing else.
        first, *rest = err.strip().splitlines()
        assert re.match(rf"error: {re.escape(str(path))}:\d+: \S", first), err
        assert rest == ["nothing was ingested: the store is unchanged"], err
        assert store_state(engine) == before
    else:
        assert err == "" or "Traceback" not in err
        # Ingested: a bulletin read again (same period and source) replaces its own facts.
        assert store_state(engine)[0] >= before[0]


@FUZZ
@given(content=st.one_of(st.binary(max_size=2000), ANY_TEXT.map(lambda t: t.encode("utf-8")),
                         st.text(max_size=500).map(lambda t: t.encode("utf-16"))))
def test_random_bytes_are_never_a_crash_of_the_parser(content):
    try:
        parsed = parse_bulletin(content, "random.txt")
    except BulletinError as exc:
        assert exc.source == "random.txt" and exc.line >= 0 and exc.message
    else:
        assert parsed.source == "random.txt"


# --- masking ----------------------------------------------------------------------------------------

MOBILE = st.from_regex(r"\A1[3-9][0-9]{9}\Z")
ID_CARD = st.from_regex(r"\A[1-6][0-9]{16}[0-9X]\Z")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@st.composite
def typed(draw, number_strategy, groups: tuple[int, ...]) -> tuple[str, str]:
    """(the number, the number as a resident types it: grouped, full-width, with +86)."""
    number = draw(number_strategy)
    sep = draw(st.sampled_from(["", " ", "-"]))
    parts, start = [], 0
    for size in groups:
        parts.append(number[start:start + size])
        start += size
    written = sep.join(parts)
    if len(number) == 11 and draw(st.booleans()):
        written = draw(st.sampled_from(["+86", "86", "+86 ", "86-"])) + written
    if draw(st.booleans()):
        written = written.translate(FULL_WIDTH)
    return number, written


def clear_numbers(text: str) -> list[str]:
    """Mobiles and ID cards readable in a text, written as residents write them (whole, or in their
    groups with one space or dash: 139 1234 5678, 320102 19900101 1234), full-width digits included."""
    text = text.translate(str.maketrans("０１２３４５６７８９－", "0123456789-"))
    found = re.findall(r"(?<!\d)(1[3-9]\d[ \-]?\d{4}[ \-]?\d{4})(?!\d)", text)
    found += re.findall(r"(?<![0-9Xx])(\d{6}[ \-]?\d{4}[ \-]?\d{4}[ \-]?\d{3}[0-9Xx])(?![0-9Xx])", text)
    return [re.sub(r"[ \-]", "", number) for number in found]


@FAST
@given(before=NOISE, number=typed(MOBILE, (3, 4, 4)), after=NOISE)
def test_a_mobile_number_never_comes_out_in_clear(before, number, after):
    clear, written = number
    # Digits glued to it make another, longer number: not a mobile any more.
    assume(not re.search(r"[0-9０-９]$", before) and not re.match(r"[0-9０-９]", after))
    out = mask_text(before + written + after)
    assert clear not in clear_numbers(out), out
    assert clear[-4:] in out.translate(str.maketrans("０１２３４５６７８９", "0123456789"))  # the tail stays, to tell calls apart


@FAST
@given(before=NOISE, number=typed(ID_CARD, (6, 4, 4, 4)), after=NOISE)
def test_an_id_card_number_never_comes_out_in_clear(before, number, after):
    clear, written = number
    assume(not re.search(r"[0-9０-９Xx]$", before) and not re.match(r"[0-9０-９Xx]", after))
    out = mask_text(before + written + after)
    assert clear not in clear_numbers(out), out


@FAST
@given(text=st.one_of(ANY_TEXT, st.text(st.sampled_from(list("0123456789 -+X８６　号电话")), max_size=80)))
def test_no_text_keeps_a_mobile_or_id_card_in_clear(text):
    out = mask_text(text)
    assert clear_numbers(out) == [], (text, out)


@FAST
@given(phone=st.one_of(MOBILE, ANY_TEXT))
def test_mask_phone_never_fails_and_keeps_only_a_mobiles_ends(phone):
    out = mask_phone(phone)
    if re.fullmatch(r"1[3-9]\d{9}", phone):
        assert out == phone[:3] + "****" + phone[-4:]
    else:
        assert isinstance(out, str)
