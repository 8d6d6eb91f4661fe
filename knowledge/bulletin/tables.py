"""Tables of a bulletin to figures: every cell one figure, columns named as the bulletin names them.

The kinds of table the centre prints recur issue after issue, so each known kind lists the column
layouts it has been printed with. The header printed above a table picks the layout; where text
extraction garbled the header (2024 issues), the layout with the right number of columns that
resembles the header most is used, and a finding says so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from knowledge.bulletin.figures import Figure, Note
from knowledge.bulletin.layout import BulletinError, Row, Table
from knowledge.bulletin.text import fold, read_cell_number, tidy


@dataclass(frozen=True)
class Column:
    name: str
    unit: str = ""
    type: str = "number"  # number, ratio
    scope: str = "period"
    header: str = ""  # how the header prints it, when that differs from the name

    @property
    def printed(self) -> str:
        return self.header or self.name


@dataclass(frozen=True)
class TableKind:
    key: str
    title: re.Pattern
    label_kind: str  # the kind of subject each row is about
    layouts: tuple[tuple[Column, ...], ...]  # value columns only; rows also carry 序号/名称
    numbered: bool = False  # rows start with 序号
    pairs: bool = False  # two tables side by side: 序号 名称 数量 | 序号 名称 数量
    groups: tuple[tuple[str, str], ...] = ()  # merged group cell → subject kind (医疗单位 → hospital)
    total_subject: tuple[str, str] | None = None  # whom the 合计 row is about
    total_measure: str | None = None  # name of the 合计 figure when not the column's own
    row_total: str | None = None  # column that adds up the others (小计)
    note_subject: tuple[str, str] | None = None  # whom a note printed under the table is about


def _c(name, unit="", **kw) -> Column:
    return Column(name, unit, **kw)


BOOKING_PLATFORM = ("platform", "南京市预约挂号平台")
INFO_PLATFORM = ("platform", "南京市卫生信息平台")

_UPLOAD_2024 = (
    _c("定时数据上传量", "条"),
    _c("实时数据上传天数", "天"),
    _c("实时数据表单上传情况", type="ratio"),
    _c("门急诊人次", "人次", header="门急诊信息人次"),
    _c("门急诊收入", "千元", header="门急诊信息收入(千元)"),
    _c("出院人次", "人次", header="出院信息人次"),
    _c("住院收入", "千元", header="出院信息住院收入(千元)"),
)

KINDS: tuple[TableKind, ...] = (
    TableKind(
        key="booking_by_hospital",
        title=re.compile(r"预约挂号服务统计"),
        label_kind="hospital",
        numbered=True,
        layouts=(
            tuple(_c(n, "次") for n in ("12320在线预约", "快速预约", "诊间预约", "第三方", "小计")),
            tuple(_c(n, "次") for n in ("12320在线预约", "电话预约", "诊间预约", "第三方", "小计")),
        ),
        total_subject=BOOKING_PLATFORM,
        row_total="小计",
        note_subject=BOOKING_PLATFORM,
    ),
    TableKind(
        key="booking_by_channel",
        title=re.compile(r"(线上|分途径)预约情况统计"),
        label_kind="channel",
        numbered=True,
        pairs=True,
        layouts=((_c("预约数量", "次"),),),
        total_subject=BOOKING_PLATFORM,
        total_measure="线上预约数量合计",
    ),
    TableKind(
        key="upload_by_district",
        title=re.compile(r"数据采集情况\s*[(（]区[)）]"),
        label_kind="district",
        note_subject=INFO_PLATFORM,
        layouts=(
            _UPLOAD_2024,
            (
                _c("声明上传表/规定上传表", type="ratio"),
                _c("已上传表(CDA文档)", "份"),
                _c("数据上传量", "条"),
                _c("数据上传天数", "天"),
                _c("门急诊信息上传人次", "人次"),
                _c("出院信息上传人次", "人次"),
                _c("健康档案累计上传总量·基本信息", "份", scope="cumulative",
                   header="健康档案累计上传总量基本信息"),
                _c("健康档案累计上传总量·高血压", "份", scope="cumulative", header="高血压"),
                _c("健康档案累计上传总量·糖尿病", "份", scope="cumulative", header="糖尿病"),
            ),
        ),
    ),
    TableKind(
        key="upload_by_hospital",
        title=re.compile(r"数据采集情况\s*[(（]医院[)）]"),
        label_kind="hospital",
        note_subject=INFO_PLATFORM,
        layouts=(
            _UPLOAD_2024,
            (
                _c("声明上传表/规定上传表", type="ratio", header="声明上传表/规定上传"),
                _c("已上传表(CDA文档)", "份", header="已上传表/CDA文档(份)"),
                _c("数据上传量", "条"),
                _c("数据上传天数", "天"),
                _c("门急诊信息上传人次", "人次"),
                _c("出院信息上传人次", "人次"),
            ),
        ),
    ),
    TableKind(
        key="self_service_terminals",
        title=re.compile(r"自助.*终端.*使用情况"),
        label_kind="hospital",
        groups=(("医疗单位", "hospital"), ("各区", "district")),
        layouts=(
            (
                _c("投放台数", "台", scope="cumulative"),
                _c("挂号", "次", header="挂号(次)"),
                _c("挂号金额", "元", header="挂号金额(元)"),
                _c("缴费", "次", header="缴费(次)"),
                _c("缴费金额", "元", header="缴费金额(元)"),
            ),
        ),
        total_subject=("platform", "医疗自助智能服务终端"),
    ),
)

_TOTAL = re.compile(r"^合\s*计\s*[:：]?\s*(.*)$")
_RATIO = re.compile(r"(\d+|未反馈)/\d+")


def kind_for(title: str) -> TableKind | None:
    return next((k for k in KINDS if k.title.search(title)), None)


def table_figures(
    table: Table, period: str, source: str, notes: list[Note]
) -> tuple[list[Figure], TableKind | None]:
    kind = kind_for(table.title)
    if kind is None:
        notes.append(Note("warning", "unknown_table", table.title_line,
                          f"table 「{table.title}」 is of no known kind: its cells were not read"))
        return [], None
    header_rows, data_rows = _split_header(table.rows, kind)
    if not data_rows:
        raise BulletinError(source, table.title_line, f"table 「{table.title}」 has no rows")
    width = len(kind.layouts[0]) if kind.pairs else _data_width(data_rows, kind)
    layout = _pick_layout(kind, header_rows, width, table, notes, source)
    section = table.title
    figures: list[Figure] = []
    group_kind = kind.label_kind
    if kind.pairs:
        return _pair_figures(kind, layout, data_rows, period, section, source), kind
    for row in data_rows:
        cells = list(row.cells)
        total = _TOTAL.match(cells[0]) or (len(cells) > 1 and _TOTAL.match(cells[1]) and not cells[0])
        if total:
            cells = [c for c in cells if c and not _TOTAL.match(c)]
            figures += _row(kind, layout, row, cells, None, "column_total", period, section, source)
            continue
        if kind.groups:
            group = next((g for g in kind.groups if cells[0] == g[0]), None)
            if group:
                group_kind = group[1]
            if group or cells[0] == "":
                cells = cells[1:]
        if kind.numbered:
            if not cells or not re.fullmatch(r"\d+", cells[0]):
                raise BulletinError(source, row.line, f"row of 「{section}」 does not start with its 序号")
            cells = cells[1:]
        if not cells or read_cell_number(cells[0]) is not None:
            raise BulletinError(source, row.line, f"row of 「{section}」 has no name")
        label, values = cells[0], cells[1:]
        figures += _row(kind, layout, row, values, (group_kind, label), "cell", period, section, source)
    return figures, kind


def _row(kind, layout, row: Row, values, subject, role, period, section, source) -> list[Figure]:
    if len(values) != len(layout):
        raise BulletinError(
            source, row.line,
            f"row of 「{section}」 has {len(values)} values where the table has {len(layout)} columns"
            " (truncated or corrupted?)",
        )
    subject_kind, subject_name = subject or kind.total_subject or ("platform", section)
    out = []
    for index, (column, cell) in enumerate(zip(layout, values)):
        value, number, repaired = _cell_value(column, cell, source, row.line, section)
        measure = column.name
        if role == "column_total":
            measure = kind.total_measure or ("合计" if column.name == kind.row_total else column.name)
        fig = Figure(
            subject_kind, subject_name, measure, value, number, column.unit, period, column.scope,
            section, row.line, group=f"{section}#{index}", role=role, column=index,
        )
        if kind.row_total and column.name == kind.row_total and role == "cell":
            fig.role = "row_total"
        if repaired:
            fig.flags.append("number_repaired")
        out.append(fig)
    return out


def _cell_value(column: Column, cell: str, source: str, line: int, section: str):
    cell = cell.strip()
    if cell == "/":  # printed as not applicable: kept as printed, no number
        return "/", None, False
    if column.type == "ratio":
        compact = cell.replace(" ", "")
        if _RATIO.fullmatch(compact):
            return compact, None, False
    else:
        number = read_cell_number(cell)
        if number is not None:
            return number.value, number.number, number.repaired
    raise BulletinError(
        source, line, f"「{section}」 column {column.name}: '{cell}' is not a {'ratio' if column.type == 'ratio' else 'number'}"
    )


def _pair_figures(kind, layout, rows, period, section, source) -> list[Figure]:
    (column,) = layout
    out: list[Figure] = []
    numbered: list[tuple[int, Figure]] = []
    for row in rows:
        cells = row.cells
        total_cell = next((c for c in cells if _TOTAL.match(c)), None)
        if len(cells) == 1 or total_cell:
            m = _TOTAL.match(total_cell or cells[0])
            if not m:
                raise BulletinError(source, row.line, f"「{section}」: unexpected cell '{cells[0]}'")
            value, number, repaired = _cell_value(column, m.group(1), source, row.line, section)
            subject_kind, subject_name = kind.total_subject
            out.append(Figure(subject_kind, subject_name, kind.total_measure, value, number, column.unit,
                              period, column.scope, section, row.line, group=f"{section}#0",
                              role="column_total"))
            continue
        for half in (cells[0:3], cells[3:6]):
            if not any(half):
                continue
            if len(half) != 3 or not re.fullmatch(r"\d+", half[0]):
                raise BulletinError(source, row.line, f"「{section}」: row is not 序号, 名称, {column.name}")
            value, number, repaired = _cell_value(column, half[2], source, row.line, section)
            fig = Figure(kind.label_kind, half[1], column.name, value, number, column.unit, period,
                         column.scope, section, row.line, group=f"{section}#0")
            if repaired:
                fig.flags.append("number_repaired")
            numbered.append((int(half[0]), fig))
        if len(cells) > 6:
            raise BulletinError(source, row.line, f"「{section}」: row has {len(cells)} cells, expected 6")
    # Side by side, reading order is not the table's order: 序号 is.
    return [fig for _, fig in sorted(numbered, key=lambda p: p[0])] + out


def _is_data_row(row: Row, kind: TableKind) -> bool:
    numeric = sum(1 for c in row.cells if read_cell_number(c) is not None or _RATIO.fullmatch(c.replace(" ", "")))
    if kind.pairs:
        return numeric >= 2 or any(_TOTAL.match(c) for c in row.cells)
    return numeric >= 2


def _split_header(rows: list[Row], kind: TableKind) -> tuple[list[Row], list[Row]]:
    header: list[Row] = []
    data: list[Row] = []
    for row in rows:
        if _is_data_row(row, kind):
            data.append(row)
        elif not data:
            header.append(row)
        # else: the header printed again after a page break: skipped
    return header, data


def _data_width(rows: list[Row], kind: TableKind) -> int:
    """How many value columns the rows have (the most common count among ordinary rows)."""
    counts: dict[int, int] = {}
    for row in rows:
        cells = [c for c in row.cells]
        if _TOTAL.match(cells[0]) or (len(cells) > 1 and _TOTAL.match(cells[1])):
            continue
        if kind.groups and (cells[0] == "" or any(cells[0] == g for g, _ in kind.groups)):
            cells = cells[1:]
        n = len(cells) - 1 - (1 if kind.numbered else 0)
        counts[n] = counts.get(n, 0) + 1
    return max(counts, key=counts.get)


def _pick_layout(kind, header_rows, width, table: Table, notes, source) -> tuple[Column, ...]:
    candidates = [layout for layout in kind.layouts if len(layout) == width]
    if not candidates:
        raise BulletinError(source, table.rows[0].line,
                            f"table 「{table.title}」 has {width} value columns: no known layout fits")
    header_text = fold("".join(c for r in header_rows for c in r.cells))

    def score(layout) -> float:
        printed = fold("".join(c.printed for c in layout))
        return SequenceMatcher(None, header_text, printed, autojunk=False).ratio()

    best = max(candidates, key=score)
    # A clean header contains every column name as printed; anything else was garbled.
    missing = [c.printed for c in best if fold(c.printed) not in header_text]
    if missing:
        line = header_rows[0].line if header_rows else table.title_line
        shown = tidy(" | ".join(" ".join(c for c in r.cells) for r in header_rows))[:120]
        notes.append(Note("info", "header_garbled", line,
                          f"header of 「{table.title}」 is garbled by text extraction ({shown}); "
                          f"columns read as the known layout: {', '.join(c.name for c in best)}"))
    return best
