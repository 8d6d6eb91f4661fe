"""From a bulletin's text to blocks: headings, paragraphs and tables with their rows.

Two layouts come out of the centre's PDF export (see ../shared/seeds/README.md):
- rows of TAB-separated cells, one row a line (2024 issues);
- one cell a line, each led by a TAB, rows separated by blank lines, a vertically merged cell
  spelled one character a line (2019 issues).
Both become ``Table`` objects with rows of cells and the line each row started on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.bulletin.text import tidy


class BulletinError(Exception):
    """A file that cannot be read as a bulletin. Its text names the file and the line."""

    def __init__(self, source: str, line: int, message: str):
        super().__init__(f"{source}:{line}: {message}")
        self.source, self.line, self.message = source, line, message


@dataclass
class Row:
    cells: list[str]
    line: int


@dataclass
class Table:
    title: str
    title_line: int
    rows: list[Row] = field(default_factory=list)
    notes: list[tuple[str, int]] = field(default_factory=list)  # (text, line) printed under it
    one_cell_per_line: bool = False


@dataclass
class Paragraph:
    text: str
    line: int
    heading: str


@dataclass
class Document:
    lines: list[str]
    tables: list[Table]
    paragraphs: list[Paragraph]  # the statistics part only
    headings: list[tuple[str, int]]


def decode(data: bytes, source: str) -> list[str]:
    if not data.strip():
        raise BulletinError(source, 1, "empty file: no bulletin text")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise BulletinError(source, line, "binary data (NUL byte): not a text bulletin")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BulletinError(
            source, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    # splitlines() would also split on form feeds and other separators PDF text keeps inside lines.
    lines = [line.rstrip("\r") for line in text.split("\n")]
    bad = next((i for i, line in enumerate(lines) if _CONTROL.search(line)), None)
    if bad is not None:
        raise BulletinError(source, bad + 1, "control characters in the text: corrupted file")
    return lines


_CONTROL = re.compile(r"[\x01-\x08\x0b\x0e-\x1f\x7f]")
_STATS_START = re.compile(r"^#*\s*统计数据\s*$")
_STATS_END = re.compile(r"^#*\s*简\s*讯\s*$")
_FOOTER = re.compile(r"^\s*(地址|邮编|电话|传真|E-mail|网址)\s*[:：]")
_CONTINUATION = re.compile(r"^[\u4e00-\u9fff]{1,2}$")  # 疗 / 单 / 位 of a vertical cell


def _is_tab_line(line: str) -> bool:
    return "\t" in line


def _is_note(line: str) -> bool:
    text = tidy(line.lstrip("#").strip())
    return text.startswith(("(", "（"))


def _heading_text(line: str) -> str:
    return tidy(line.lstrip("#").strip())


def split_blocks(lines: list[str]) -> Document:
    tables: list[Table] = []
    paragraphs: list[Paragraph] = []
    headings: list[tuple[str, int]] = []
    in_stats = False
    last_heading = ""
    last_heading_line = 0
    para: list[str] = []
    para_line = 0
    i = 0

    def flush_paragraph():
        nonlocal para
        if para and in_stats:
            paragraphs.append(Paragraph("".join(para), para_line, last_heading))
        para = []

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if _STATS_START.match(stripped):
            flush_paragraph()
            in_stats = True
            i += 1
            continue
        if _STATS_END.match(stripped) or _FOOTER.match(stripped):
            flush_paragraph()
            in_stats = False
        if _is_tab_line(line) and in_stats:
            flush_paragraph()
            table, i = _read_table(lines, i, last_heading, last_heading_line)
            tables.append(table)
            # Notes printed right under a table, such as （截止10月底，总预约挂号量为17709577次）.
            while i < len(lines) and (not lines[i].strip() or _is_note(lines[i])):
                if lines[i].strip():
                    table.notes.append((_heading_text(lines[i]), i + 1))
                i += 1
            continue
        if not stripped:
            # A paragraph cut by a page break goes on after the blank line: join it.
            if para and not para[-1].rstrip().endswith(("。", "!", "！", "?", "？", ")", "）")):
                i += 1
                continue
            flush_paragraph()
            i += 1
            continue
        if in_stats and _looks_like_heading(stripped):
            flush_paragraph()
            last_heading, last_heading_line = _heading_text(stripped), i + 1
            headings.append((last_heading, i + 1))
            i += 1
            continue
        if not para:
            para_line = i + 1
        para.append(tidy(stripped))
        if stripped.endswith(("。", "！", "？")):
            flush_paragraph()  # a finished sentence at the end of a line ends its paragraph
        i += 1
    flush_paragraph()
    return Document(lines, tables, paragraphs, headings)


def _looks_like_heading(line: str) -> bool:
    if line.startswith("#"):
        return not _is_note(line)
    text = tidy(line)
    # 2019 headings carry no markdown: short lines naming a table or a statistics section.
    return len(text) <= 40 and not re.search(r"[，。,；;]", text) and bool(
        re.search(r"(统计表?|情况表?|情况[(（].+[)）])$", text)
    )


def _read_table(lines: list[str], start: int, title: str, title_line: int) -> tuple[Table, int]:
    tab_rows = any(lines[j].count("\t") >= 2 for j in range(start, min(start + 3, len(lines))))
    table = Table(title=title, title_line=title_line, one_cell_per_line=not tab_rows)
    i = start
    if tab_rows:
        while i < len(lines):
            line = lines[i]
            if _is_tab_line(line):
                table.rows.append(_trim(Row(_cells(line.split("\t")), i + 1)))
            elif line.strip():
                # A text line inside a TAB table is a header wrapped onto a line of its own.
                if i + 1 < len(lines) and _is_tab_line(lines[i + 1]):
                    table.rows.append(Row([tidy(line)], i + 1))
                else:
                    break
            elif not _resumes_after_blank(lines, i):
                break
            i += 1
        return table, i
    row: list[str] = []
    row_line = start + 1
    while i < len(lines):
        line = lines[i]
        if line.startswith("\t"):
            if not row:
                row_line = i + 1
            row.append(tidy(line[1:]))
        elif _is_continuation(line) and row:
            # 医 / 疗 / 单 / 位, one character a line: one merged cell, 医疗单位.
            row[-1] += line.strip()
        elif not line.strip():
            nxt = _next_nonblank(lines, i)
            if nxt is not None and _is_continuation(lines[nxt]) and row:
                i += 1
                continue
            if row:
                table.rows.append(Row(row, row_line))
                row = []
            if nxt is None or not lines[nxt].startswith("\t"):
                i = nxt if nxt is not None else len(lines)
                break
        else:
            break
        i += 1
    if row:
        table.rows.append(Row(row, row_line))
    table.rows = [_trim(r) for r in table.rows if any(c for c in r.cells)]
    return table, i


def _is_continuation(line: str) -> bool:
    return not line.startswith("\t") and bool(_CONTINUATION.match(line.strip()))


def _cells(raw: list[str]) -> list[str]:
    return [tidy(c) if not re.fullmatch(r"[\d.\s]+", c) else c.strip() for c in raw]


def _trim(row: Row) -> Row:
    cells = list(row.cells)
    while cells and not cells[-1]:
        cells.pop()
    return Row(cells, row.line)


def _next_nonblank(lines: list[str], i: int) -> int | None:
    j = i + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    return j if j < len(lines) else None


def _resumes_after_blank(lines: list[str], i: int) -> bool:
    """A table broken across a page goes on after a blank line, often with its header again."""
    j = _next_nonblank(lines, i)
    return j is not None and _is_tab_line(lines[j]) and lines[j].count("\t") >= 2
