"""`hotline report`: the assistant's conversations, messages and work orders of a period, counted
under the hotline's taxonomy (hotline/taxonomy.py), beside the bulletin's figures for that period.

- Periods are Nanjing time (UTC+8): ``2026-11`` is 2026-11-01 00:00 to 2026-12-01 00:00 there.
- A conversation is counted once, in the period its first message falls in, under the category of
  all its turns (the taxonomy's priority); messages are counted in the period they fall in.
- Work orders are the tickets created in the period, by kind and by their status now.
- Top hospitals: of complaints, the tickets' hospitals; of bookings, the hospitals named (hospital
  entity) in turns counted 电话预约, one count per conversation that named it.
- Bulletin figures: the facts of the store whose period is exactly the report's (``2023``,
  ``2019-10``) about 南京12320卫生热线's call categories and work orders, quoted as printed (value
  and unit) with the bulletin's citation and the checks' flag; nothing when there are none.
- Human handoff (hotline/handoff.py): the requests of the period (an entry each), how many were a
  crisis, taken, answered, expired unanswered or asked outside the centre's hours, and the time from
  the request to the first human answer (median and 90th percentile, nearest rank).
- Formats: text (the bulletin's sentence, then tables), json, csv (English header, one row per
  category: section, category, ours, bulletin_measure, bulletin_value, bulletin_flag, source), png.
- Phone, ID-card and bank-card numbers: the call log holds masked text only, the tickets' phones are
  never read, and the hospitals of the most-complained list are masked (a resident's words).
- Counted in the database (GROUP BY): the app's memory is the same for a day and for a year. Only a
  report about one sender lists turns (theirs).
"""
from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import case, distinct, func, literal_column, select, true
from sqlalchemy.orm import Session

from hotline import handoff, taxonomy
from knowledge import queries
from hotline.calllog import pseudonym
from hotline.privacy import mask_text
from hotline.models import CallConversation, CallTurn, Ticket
from knowledge.models import period_label
from hotline.clock import NANJING, day_start
from hotline.tickets import STATUSES

ASSISTANT = "南京卫生12320智能助手"
STATUS_LABELS = {"open": "待处理", "in_progress": "处理中", "closed": "已办结"}
TOP = 10
# CJK fonts matplotlib may draw with, by file (system-deps installs the first).
CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)


class PeriodError(ValueError):
    """The period asked for cannot be read."""


class FontMissing(RuntimeError):
    """No CJK font to draw Chinese labels with."""


@dataclass(frozen=True)
class Period:
    label: str  # 2026-11, 2026, 2026-11-01..2026-11-22
    start: date
    end: date  # exclusive
    bulletin_period: str | None  # the bulletins' name of the same period (2023, 2019-10), if it is one

    @property
    def title(self) -> str:
        if self.bulletin_period:
            return period_label(self.bulletin_period)
        last = self.end - timedelta(days=1)
        return f"{self.start.year}年{self.start.month}月{self.start.day}日至{last.year}年{last.month}月{last.day}日"

    def utc_bounds(self) -> tuple[datetime, datetime]:
        return day_start(self.start), day_start(self.end)


def parse_period(text: str) -> Period:
    """2026 (a year) or 2026-11 (a month)."""
    text = text.strip()
    if m := re.fullmatch(r"(\d{4})", text):
        year = int(m.group(1))
        return Period(text, date(year, 1, 1), date(year + 1, 1, 1), text)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"{text!r}: no month {month}")
        end = date(year + (month == 12), month % 12 + 1, 1)
        return Period(text, date(year, month, 1), end, text)
    raise PeriodError(f"{text!r}: a period is a year (2026) or a month (2026-11)")


def date_range(first: date, last: date) -> Period:
    """From `first` to `last`, both days included."""
    if last < first:
        raise PeriodError(f"--to {last} is before --from {first}")
    return Period(f"{first.isoformat()}..{last.isoformat()}", first, last + timedelta(days=1), None)


@dataclass(frozen=True)
class BulletinFigure:
    measure: str  # as the bulletin names it
    value: str  # as printed
    unit: str
    ours_key: str | None  # the category, work-order kind or taxonomy.TOTAL it is beside
    ours: int | None
    number: float | None  # the printed value as a number (bar lengths); None when it is not one
    citation: str
    source: str
    flag: str | None

    @property
    def printed(self) -> str:
        return f"{self.value}{self.unit}"


@dataclass
class Report:
    period: Period
    sender: str | None  # pseudonym when the report is about one sender
    conversations: dict[str, int]
    messages: dict[str, int]
    work_orders: dict[str, int]
    work_order_status: dict[str, int]
    top_complaints: list[tuple[str, int]]
    top_bookings: list[tuple[str, int]]
    bulletin: list[BulletinFigure]
    bulletin_note: str | None
    turns: list[dict] = field(default_factory=list)
    handoff: handoff.Stats | None = None  # None in a report about one sender

    @property
    def conversations_total(self) -> int:
        return sum(self.conversations.values())

    @property
    def messages_total(self) -> int:
        return sum(self.messages.values())


def build_report(session: Session, period: Period, *, sender: str | None = None, key: bytes | None = None,
                 top: int = TOP) -> Report:
    """The report of `period`; `sender` (the id as the channel received it, hashed with `key`) narrows
    it to one resident's conversations and tickets.

    Every count is a GROUP BY in the database: a year of turns is never loaded, and the app's memory
    stays the same whatever the period. Only one resident's report lists turns (that resident's)."""
    if sender is not None and key is None:
        raise ValueError("a sender id is looked up by its pseudonym: pass the key")
    name = pseudonym(key, sender) if sender is not None else None
    since, until = period.utc_bounds()
    in_period = (CallTurn.time >= since, CallTurn.time < until, *((CallTurn.sender == name,) if name else ()))
    tickets_in_period = (Ticket.created_at >= since, Ticket.created_at < until,
                         *((Ticket.sender == name,) if name else ()))

    def counted(column, *where) -> list[tuple]:
        return session.execute(select(column, func.count()).where(*where).group_by(column)).all()

    conversations = _by_category(counted(
        CallConversation.category, CallConversation.started >= since, CallConversation.started < until,
        *((CallConversation.sender == name,) if name else ())))
    messages = _by_category(counted(CallTurn.category, *in_period))
    by_kind = dict(counted(Ticket.kind, *tickets_in_period))
    work_orders = {kind: by_kind.get(kind, 0) for kind in taxonomy.WORK_ORDER_KINDS}
    by_status = dict(counted(Ticket.status, *tickets_in_period))
    status = {s: by_status.get(s, 0) for s in STATUSES}
    # A hospital as the ticket names it (the resident's words, when not a known name): masked, and
    # counts of names the same once masked added up.
    complaints: Counter = Counter()
    for hospital, n in counted(Ticket.hospital, *tickets_in_period):
        complaints[mask_text(hospital)] += n
    bookings = Counter(dict(_booked_hospitals(session, in_period)))
    turns = []
    if name is not None:
        turns = [_turn_record(t) for t in session.scalars(
            select(CallTurn).where(*in_period).order_by(CallTurn.time, CallTurn.id))]

    report = Report(
        period=period, sender=name, conversations=conversations, messages=messages,
        work_orders=work_orders, work_order_status=status,
        top_complaints=_top(complaints, top), top_bookings=_top(bookings, top),
        bulletin=[], bulletin_note=None, turns=turns,
        handoff=handoff.stats(session, since, until) if name is None else None,
    )
    if name is not None:
        report.bulletin_note = "单个来访者的报告，不与简报的全市数字对比。"
    elif period.bulletin_period is None:
        report.bulletin_note = f"{period.title}不是简报统计的年度或月份，没有可对比的简报数字。"
    else:
        report.bulletin = _bulletin(session, report)
        if not report.bulletin:
            report.bulletin_note = f"知识库中没有{period.title}的简报数字（{taxonomy.HOTLINE_SUBJECT}）。"
    return report


def _booked_hospitals(session: Session, in_period: tuple) -> list[tuple[str, int]]:
    """The hospitals named (hospital entity, a string) in turns counted 电话预约: per hospital, the
    conversations that named it. The entities are a JSON list: unnested in the database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        entities = func.json_array_elements(
            case((func.json_typeof(CallTurn.entities) == "array", CallTurn.entities),
                 else_=literal_column("'[]'::json"))).table_valued("value").lateral("e")
        kind, value = entities.c.value.op("->>")("entity"), entities.c.value.op("->>")("value")
        is_text = func.json_typeof(entities.c.value.op("->")("value")) == "string"
    else:  # SQLite's JSON1
        entities = func.json_each(CallTurn.entities).table_valued("value").alias("e")
        kind, value = func.json_extract(entities.c.value, "$.entity"), func.json_extract(entities.c.value, "$.value")
        is_text = func.json_type(entities.c.value, "$.value") == "text"
    query = (select(value, func.count(distinct(CallTurn.conversation_id)))
             .select_from(CallTurn).join(entities, true())
             .where(*in_period, CallTurn.category == "电话预约", kind == "hospital", is_text)
             .group_by(value))
    return [(str(hospital), n) for hospital, n in session.execute(query).all()]


def _by_category(rows) -> dict[str, int]:
    counts = {c: 0 for c in (*taxonomy.CATEGORIES, taxonomy.UNCATEGORISED)}
    for category, n in rows:
        counts[category if category in counts else taxonomy.UNCATEGORISED] += n
    return counts


def _top(counter: Counter, n: int) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:n]


def _turn_record(turn: CallTurn) -> dict:
    return {
        "time": turn.time.replace(tzinfo=timezone.utc).isoformat(),
        "sender": turn.sender,
        "channel": turn.channel,
        "text": turn.text,
        "intent": turn.intent,
        "confidence": turn.confidence,
        "category": turn.category,
        "entities": turn.entities,
        "ticket": turn.ticket,
        "loop": turn.loop,
    }


def _bulletin(session: Session, report: Report) -> list[BulletinFigure]:
    try:
        facts = queries.facts(session, subject=taxonomy.HOTLINE_SUBJECT, period=report.period.bulletin_period)
    except queries.NotFound:
        return []
    figures = []
    for fact in facts:
        if fact.scope != "period" or fact.measure not in taxonomy.BULLETIN_MEASURES:
            continue
        key = taxonomy.BULLETIN_MEASURES[fact.measure]
        if key == taxonomy.TOTAL:
            ours = report.conversations_total
        elif key in report.conversations:
            ours = report.conversations[key]
        elif key in report.work_orders:
            ours = report.work_orders[key]
        else:
            ours = None
        number = float(fact.number) if fact.number is not None else None
        figures.append(BulletinFigure(fact.measure, fact.value, fact.unit, key, ours, number,
                                      fact.bulletin.citation, fact.bulletin.source, fact.flag))
    return figures


# --- text -----------------------------------------------------------------------------------------

def to_text(report: Report) -> str:
    p, c, w = report.period, report.conversations, report.work_orders
    who = f"来访者 {report.sender} " if report.sender else ""
    cats = "、".join(f"{k} {c[k]}个" for k in taxonomy.CATEGORIES)
    unclassified = f"（另有未归类 {c[taxonomy.UNCATEGORISED]}个）" if c[taxonomy.UNCATEGORISED] else ""
    lines = [
        f"{ASSISTANT} 报告：{p.title}（北京时间 {p.start} 至 {p.end - timedelta(days=1)}）"
        + (f"，来访者 {report.sender}" if report.sender else ""),
        "",
        f"{p.title}，{ASSISTANT}{who}共受理会话 {report.conversations_total}个，其中{cats}{unclassified}，"
        f"受理市 12345 工单 {w['市12345工单']}件，省 12345 工单 {w['省12345工单']}件，"
        f"自接工单 {w['自接工单']}件。",
        "",
        "一、会话与消息（按类别；会话计入其第一条消息所在的期间）",
    ]
    rows = [[k, str(c[k]), str(report.messages[k])] for k in (*taxonomy.CATEGORIES, taxonomy.UNCATEGORISED)]
    rows.append(["合计", str(report.conversations_total), str(report.messages_total)])
    lines += _table(["类别", "会话", "消息"], rows)
    lines += ["", "二、工单（本期创建）"]
    lines += _table(["类型", "件数"], [[k, str(w[k])] for k in taxonomy.WORK_ORDER_KINDS]
                    + [["合计", str(sum(w.values()))]])
    lines += [""]
    lines += _table(["状态", "件数"], [[f"{STATUS_LABELS[s]}（{s}）", str(report.work_order_status[s])]
                                      for s in STATUSES])
    lines += ["", "三、投诉最多的医院（工单）"]
    lines += _ranking(report.top_complaints, "件")
    lines += ["", "四、预约咨询中提到最多的医院（会话）"]
    lines += _ranking(report.top_bookings, "个会话")
    lines += ["", "五、简报数字（原样引用）"]
    if report.bulletin:
        for citation, figures in _by_citation(report.bulletin).items():
            rows = [[f.measure, f.printed + ("*" if f.flag else ""), "—" if f.ours is None else str(f.ours)]
                    for f in figures]
            lines += _table(["项目", "简报", "本助手"], rows)
            lines += [f"  * {f.measure} {f.printed}：核查标记 {f.flag}（照原样引用，未改动）"
                      for f in figures if f.flag]
            lines.append(f"  来源：{citation}")
    else:
        lines.append("  " + (report.bulletin_note or "没有可对比的简报数字。"))
    if report.handoff is not None:
        lines += ["", "六、人工接入（本期请求）"]
        lines += _table(["项目", "数量"], [[label, str(n)] for label, n in handoff_rows(report.handoff)])
        lines.append(f"  请求到首次人工答复：中位数 {minutes(report.handoff.wait_median)}，"
                     f"第90百分位 {minutes(report.handoff.wait_p90)}")
    if report.sender:
        lines += ["", "六、对话记录（号码已遮盖）"]
        for t in report.turns:
            local = datetime.fromisoformat(t["time"]).astimezone(NANJING).strftime("%Y-%m-%d %H:%M")
            ticket = f" 工单 {t['ticket']}" if t["ticket"] else ""
            lines.append(f"  {local} [{t['category'] or taxonomy.UNCATEGORISED}] {t['intent'] or '-'}: "
                         f"{t['text']}{ticket}")
    return "\n".join(lines) + "\n"


HANDOFF_LABELS = {"requests": "请求人工", "crisis": "其中心理危机", "taken": "坐席接入", "answered": "得到人工答复",
                  "expired": "超时无人接入", "outside_hours": "非服务时间"}


def handoff_rows(stats: handoff.Stats) -> list[tuple[str, int]]:
    """The handoff counts as (label, count), in the report's order."""
    return [(label, getattr(stats, key)) for key, label in HANDOFF_LABELS.items()]


def minutes(seconds: float | None) -> str:
    """A waiting time as the report says it."""
    if seconds is None:
        return "—（无人工答复）"
    return f"{seconds / 60:.1f} 分钟"


def _by_citation(figures: list[BulletinFigure]) -> dict[str, list[BulletinFigure]]:
    grouped: dict[str, list[BulletinFigure]] = defaultdict(list)
    for f in figures:
        grouped[f.citation].append(f)
    return grouped


def _ranking(items: list[tuple[str, int]], unit: str) -> list[str]:
    if not items:
        return ["  （无）"]
    return [f"  {i}. {name} {n}{unit}" for i, (name, n) in enumerate(items, 1)]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    table = [header, *rows]
    widths = [max(_width(r[i]) for r in table) for i in range(len(header))]

    def line(row: list[str]) -> str:
        cells = [row[0] + " " * (widths[0] - _width(row[0]))]
        cells += [" " * (widths[i] - _width(row[i])) + row[i] for i in range(1, len(row))]
        return "  " + "  ".join(cells).rstrip()

    return [line(r) for r in table]


# --- json, csv ------------------------------------------------------------------------------------

def to_dict(report: Report) -> dict:
    p = report.period
    return {
        "period": p.label,
        "from": p.start.isoformat(),
        "to": (p.end - timedelta(days=1)).isoformat(),
        "timezone": "Asia/Shanghai (UTC+8)",
        "sender": report.sender,
        "counts": report.conversations,
        "messages": report.messages,
        "total": {"conversations": report.conversations_total, "messages": report.messages_total},
        "work_orders": {"by_kind": report.work_orders, "by_status": report.work_order_status},
        "top_hospitals": {"complaints": dict(report.top_complaints), "bookings": dict(report.top_bookings)},
        "bulletin": [{"measure": f.measure, "value": f.value, "unit": f.unit, "printed": f.printed,
                      "beside": f.ours_key, "ours": f.ours, "citation": f.citation, "source": f.source,
                      "flag": f.flag} for f in report.bulletin],
        "bulletin_note": report.bulletin_note,
        "turns": report.turns,
        "handoff": None if report.handoff is None else {
            **{key: getattr(report.handoff, key) for key in HANDOFF_LABELS},
            "first_answer_seconds": {"median": report.handoff.wait_median, "p90": report.handoff.wait_p90}},
    }


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), ensure_ascii=False, indent=1) + "\n"


CSV_HEADER = ["section", "category", "ours", "bulletin_measure", "bulletin_value", "bulletin_flag", "source"]


def to_csv(report: Report) -> str:
    """One row per category (conversations, then messages, then work orders), the bulletin beside."""
    beside: dict[str, list[BulletinFigure]] = defaultdict(list)
    unmatched = []
    for f in report.bulletin:
        (beside[f.ours_key] if f.ours_key else unmatched).append(f)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)

    def rows(section: str, key: str, ours: int | None) -> None:
        figures = beside.get(key) or [None]
        for f in figures:
            writer.writerow([section, key, "" if ours is None else ours,
                             f.measure if f else "", f.printed if f else "", (f.flag or "") if f else "",
                             f.citation if f else ""])

    for category, n in report.conversations.items():
        rows("conversations", category, n)
    rows("conversations", taxonomy.TOTAL, report.conversations_total)
    for f in unmatched:  # measures the assistant has no counterpart of (专家在线答疑)
        writer.writerow(["conversations", "", "", f.measure, f.printed, f.flag or "", f.citation])
    for category, n in report.messages.items():
        writer.writerow(["messages", category, n, "", "", "", ""])
    for kind, n in report.work_orders.items():
        rows("work_orders", kind, n)
    for status, n in report.work_order_status.items():
        writer.writerow(["work_order_status", status, n, "", "", "", ""])
    if report.handoff is not None:
        for key in HANDOFF_LABELS:
            writer.writerow(["handoff", key, getattr(report.handoff, key), "", "", "", ""])
        for key, seconds in (("first_answer_median_seconds", report.handoff.wait_median),
                             ("first_answer_p90_seconds", report.handoff.wait_p90)):
            writer.writerow(["handoff", key, "" if seconds is None else round(seconds, 1), "", "", "", ""])
    return out.getvalue()


# --- png ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Chart:
    path: Path
    font: Path  # the font file every label was drawn with


def cjk_font() -> tuple[Path, str]:
    """The first CJK font file there is, registered with matplotlib by path: (file, family name)."""
    from matplotlib import font_manager

    for path in CJK_FONTS:
        if path.is_file():
            font_manager.fontManager.addfont(str(path))
            return path, font_manager.FontProperties(fname=str(path)).get_name()
    raise FontMissing("no CJK font to draw Chinese labels with (looked for "
                      + ", ".join(str(p) for p in CJK_FONTS)
                      + "): run `make system-deps` (apt-get install fonts-wqy-microhei)")


def to_png(report: Report, path: Path) -> Chart:
    """Bar charts of the report's counts (and of the bulletin's figures beside), written to `path`.

    Refuses to write a chart whose Chinese would be drawn as empty boxes: without a CJK font it
    raises FontMissing, and any glyph the font lacks is an error, not a warning.
    """
    import matplotlib
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    font, family = cjk_font()
    cats = [*taxonomy.CATEGORIES] + ([taxonomy.UNCATEGORISED] if report.conversations[taxonomy.UNCATEGORISED]
                                      or report.messages[taxonomy.UNCATEGORISED] else [])
    figures = [f for f in report.bulletin if f.ours_key in taxonomy.CATEGORIES]
    panels = (4 if figures else 3) + (report.handoff is not None)
    with matplotlib.rc_context({"font.family": [family], "axes.unicode_minus": False}), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            found = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            found = None
        if found != str(font):
            raise FontMissing(f"matplotlib does not find {family} at {font} (found {found})")
        fig = Figure(figsize=(11, 3.2 * panels), layout="constrained")
        axes = fig.subplots(panels, 1)
        title = f"{ASSISTANT} {report.period.title}" + (f"（来访者 {report.sender}）" if report.sender else "")
        fig.suptitle(title, fontsize=14)
        _bars(axes[0], cats, [report.conversations[c] for c in cats],
              [str(report.conversations[c]) for c in cats], f"会话（按类别，合计 {report.conversations_total}个）")
        _bars(axes[1], cats, [report.messages[c] for c in cats],
              [str(report.messages[c]) for c in cats], f"消息（按类别，合计 {report.messages_total}条）")
        kinds = list(taxonomy.WORK_ORDER_KINDS)
        status_text = "，".join(f"{STATUS_LABELS[s]} {report.work_order_status[s]}" for s in STATUSES)
        _bars(axes[2], kinds, [report.work_orders[k] for k in kinds], [str(report.work_orders[k]) for k in kinds],
              f"工单（本期创建；{status_text}）")
        if report.handoff is not None:
            rows = handoff_rows(report.handoff)
            _bars(axes[3], [label for label, _ in rows], [n for _, n in rows], [str(n) for _, n in rows],
                  f"人工接入（请求到首次人工答复：中位数 {minutes(report.handoff.wait_median)}，"
                  f"第90百分位 {minutes(report.handoff.wait_p90)}）")
        if figures:
            citations = "；".join(sorted({f.citation for f in figures}))
            _bars(axes[-1], [f.measure for f in figures], [f.number or 0.0 for f in figures],
                  [f.printed for f in figures], f"简报数字（原样引用） 来源：{citations}")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        fig.savefig(tmp, format="png", dpi=110)
    missing = [str(w.message) for w in caught if "missing from" in str(w.message).lower()]
    if missing:
        tmp.unlink(missing_ok=True)
        raise FontMissing(f"{font} lacks glyphs: {missing[0]}")
    tmp.replace(path)
    return Chart(path, font)


def _bars(ax, labels: list[str], values: list[float], texts: list[str], title: str) -> None:
    ax.barh(range(len(labels)), values, color="#3b7dd8")
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_title(title, loc="left", fontsize=11)
    top = max(values) if values and max(values) > 0 else 1
    ax.set_xlim(0, top * 1.25)
    for i, (value, text) in enumerate(zip(values, texts)):
        ax.text(value + top * 0.01, i, text, va="center", fontsize=9)
    ax.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
