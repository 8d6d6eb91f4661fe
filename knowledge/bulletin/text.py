"""Text repair for what PDF extraction does to the bulletins, and exact number reading."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

CJK = r"\u3400-\u9fff\uf900-\ufaff"
_TAGS = re.compile(r"</?[a-zA-Z]+>")
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{CJK}（）()“”\"])\s+|\s+(?=[{CJK}（）()“”\"])")
_WS = re.compile(r"\s+")


def tidy(text: str) -> str:
    """Drop markup and the spaces extraction puts between Chinese characters and numbers."""
    text = _TAGS.sub("", text).replace("\u3000", " ").strip()
    text = _SPACE_NEAR_CJK.sub("", text)
    return _WS.sub(" ", text).strip()


def fold(text: str) -> str:
    """A key for comparing names: no spaces, full-width brackets and colons as ASCII."""
    return (
        tidy(text)
        .replace("（", "(")
        .replace("）", ")")
        .replace("：", ":")
        .replace(" ", "")
    )


@dataclass(frozen=True)
class Number:
    value: str  # as printed, with the extraction's stray spaces removed: 672153.37, 810万
    number: Decimal | None
    repaired: bool = False  # True when a space inside the number was removed


_PLAIN = re.compile(r"\d+(?:\.\d+)?")
_SPLIT = re.compile(r"(\d+)\.\s+(\d+)")  # 672153. 37: split after the decimal point
_MAGNITUDE = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}


def read_cell_number(cell: str) -> Number | None:
    """A table cell that should hold a number; None when it does not."""
    cell = cell.strip()
    if _PLAIN.fullmatch(cell):
        return Number(cell, Decimal(cell))
    m = _SPLIT.fullmatch(cell)
    if m:
        joined = f"{m.group(1)}.{m.group(2)}"
        return Number(joined, Decimal(joined), repaired=True)
    return None


def scaled(digits: str, magnitude: str | None) -> Decimal:
    return Decimal(digits) * _MAGNITUDE.get(magnitude or "", Decimal(1))


def decimal_text(number: Decimal) -> str:
    """Decimal without exponent or trailing zeros after the point, for messages."""
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
