"""Read one bulletin file into figures and findings. Pure: nothing here touches the store."""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import date

from knowledge.bulletin.checks import check_figures
from knowledge.bulletin.figures import Figure, Note, Parsed
from knowledge.bulletin.layout import BulletinError, Paragraph, decode, split_blocks
from knowledge.bulletin.prose import Context, paragraph_figures
from knowledge.names import Reference, load_reference
from knowledge.bulletin.tables import INFO_PLATFORM, table_figures
from knowledge.bulletin.text import tidy

SERIES = "南京卫生信息化简报"
CENTRE = ("organisation", "南京市卫生信息中心")
_ISSUE = re.compile(r"(\d{4})年第(\d+)期\s*[(（](总第\d+期)[)）]")
_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_HEADING_PERIOD = re.compile(r"(\d{4})年(?:度|(\d{1,2})月)")
_CONTACT = re.compile(r"(地址|邮编|电话|传真|E-mail|网址)\s*[:：]\s*(\S+)")
_HOTLINE_SECTION = re.compile(r"12320卫生热线")


def parse_bulletin(data: bytes, source: str, reference: Reference | None = None) -> Parsed:
    reference = reference or load_reference()
    lines = decode(data, source)
    doc = split_blocks(lines)
    series, issue, serial, published = _masthead(lines)
    period = _bulletin_period(doc, source)
    notes: list[Note] = []
    figures: list[Figure] = []
    centres: dict[str, str] = {}
    ctx = Context(_known_names(reference), {e.name for e in reference.cities}, period,
                  frozenset(e.name for e in reference.districts))

    for para in doc.paragraphs:
        default = ("hotline", "南京12320卫生热线") if _HOTLINE_SECTION.search(para.heading) else None
        figures += paragraph_figures(para, ctx, notes, centres, default)
    for table in doc.tables:
        table_period = _period_of(table.title) or period
        found, kind = table_figures(table, table_period, source, notes)
        figures += found
        note_subject = (kind.note_subject if kind else None) or INFO_PLATFORM
        for text, line in table.notes:
            note_ctx = Context(ctx.subjects, ctx.cities, table_period, ctx.districts)
            figures += paragraph_figures(Paragraph(text, line, table.title), note_ctx, notes, centres,
                                         note_subject)
    if not figures:
        raise BulletinError(source, 1, "not a bulletin: no 12320 or health-information statistics found")
    contact = _contact(lines, period)
    if not contact:
        raise BulletinError(
            source, len(lines),
            "truncated: the bulletin ends without the centre's closing contact block (地址/电话)",
        )
    figures += contact
    check_figures(figures, notes)
    return Parsed(
        source=source,
        checksum=hashlib.sha256(data).hexdigest(),
        series=series,
        issue=issue,
        serial=serial,
        published=published,
        period=period,
        figures=figures,
        notes=sorted(notes, key=lambda n: (n.line, n.code)),
        centres=centres,
    )


def _masthead(lines: list[str]):
    series, issue, serial, published = SERIES, None, None, None
    for line in lines[:40]:
        text = tidy(line.lstrip("#").strip())
        m = _ISSUE.search(text)
        if m and not issue:
            issue, serial = f"{m.group(1)}年第{m.group(2)}期", m.group(3)
        m = _DATE.match(text)
        if m and not published:
            try:
                published = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                pass
    return series, issue, serial, published


def _period_of(text: str) -> str | None:
    m = _HEADING_PERIOD.search(tidy(text))
    if not m:
        return None
    return f"{m.group(1)}-{int(m.group(2)):02d}" if m.group(2) else m.group(1)


def _bulletin_period(doc, source: str) -> str:
    """The period most of the statistics headings name (2023年度…, 2019年10月…)."""
    periods = Counter(p for p in (_period_of(t) for t, _ in doc.headings) if p)
    periods.update(p for p in (_period_of(t.title) for t in doc.tables) if p)
    if not periods:
        raise BulletinError(source, 1, "not a bulletin: no statistics heading names a period")
    return periods.most_common(1)[0][0]


def _known_names(reference: Reference) -> dict[str, tuple[str, str]]:
    names: dict[str, tuple[str, str]] = {}
    for kind, entries in reference.kinds().items():
        if kind == "city":
            continue
        for entry in entries:
            for name in (entry.name, *entry.aliases):
                names.setdefault(name, (kind, entry.name))
    return names


def _contact(lines: list[str], period: str) -> list[Figure]:
    out: list[Figure] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        for field, value in _CONTACT.findall(line):
            if field not in seen:
                seen.add(field)
                out.append(Figure(CENTRE[0], CENTRE[1], field, value, None, "", period, "cumulative",
                                  "联系方式", number, role="contact"))
    # Address and phone are what make the block: a cut file loses them first.
    return out if {"地址", "电话"} <= seen else []
