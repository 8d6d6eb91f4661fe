"""What can be checked in a bulletin's own figures: printed totals, duplicated rows, values out of scale.

Nothing is changed: a suspect figure is kept and flagged, and a finding says why.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from knowledge.bulletin.figures import Figure, Note
from knowledge.bulletin.text import decimal_text

SCALE = Decimal(100)  # a cell 100 times larger or smaller than both neighbours is out of scale


def check_figures(figures: list[Figure], notes: list[Note]) -> None:
    tables: dict[str, list[Figure]] = defaultdict(list)
    for fig in figures:
        if fig.role in ("cell", "row_total", "column_total") and fig.group:
            tables[fig.section].append(fig)
        if fig.role == "cell" and "number_repaired" in fig.flags:
            notes.append(Note("info", "number_repaired", fig.line,
                              f"「{fig.section}」 {fig.subject} {fig.measure}: a number split by a space "
                              f"was read as {fig.value}"))
    for section, figs in tables.items():
        _row_totals(section, figs, notes)
        _column_totals(section, figs, notes)
        _duplicates(section, figs, notes)
        _out_of_scale_columns(section, figs, notes)
    _out_of_scale_lists(figures, notes)


def _row_totals(section: str, figs: list[Figure], notes: list[Note]) -> None:
    rows: dict[tuple[int, str], list[Figure]] = defaultdict(list)
    for fig in figs:
        if fig.role in ("cell", "row_total"):
            rows[(fig.line, fig.subject)].append(fig)
    for (line, subject), cells in rows.items():
        totals = [f for f in cells if f.role == "row_total"]
        parts = [f for f in cells if f.role == "cell" and f.number is not None]
        if len(totals) != 1 or totals[0].number is None:
            continue
        added = sum((f.number for f in parts), Decimal(0))
        if added != totals[0].number:
            totals[0].flags.append("total_mismatch")
            notes.append(Note("warning", "total_mismatch", line,
                              f"「{section}」 {subject}: the row's cells add up to {decimal_text(added)}, "
                              f"its printed {totals[0].measure} is {totals[0].value}"))


def _column_totals(section: str, figs: list[Figure], notes: list[Note]) -> None:
    columns: dict[int, list[Figure]] = defaultdict(list)
    totals: dict[int, Figure] = {}
    for fig in figs:
        if fig.role == "column_total":
            totals[fig.column] = fig
        else:
            columns[fig.column].append(fig)
    for column, total in totals.items():
        cells = [f for f in columns[column] if f.number is not None]
        if total.number is None or not cells:
            continue
        added = sum((f.number for f in cells), Decimal(0))
        if added != total.number:
            total.flags.append("total_mismatch")
            notes.append(Note("warning", "total_mismatch", total.line,
                              f"「{section}」 {total.measure}: the column adds up to {decimal_text(added)}, "
                              f"the printed 合计 is {total.value}"))


def _duplicates(section: str, figs: list[Figure], notes: list[Note]) -> None:
    lines_by_subject: dict[str, list[int]] = defaultdict(list)
    for fig in figs:
        if fig.role in ("cell", "row_total") and fig.line not in lines_by_subject[fig.subject]:
            lines_by_subject[fig.subject].append(fig.line)
    for subject, lines in lines_by_subject.items():
        if len(lines) < 2:
            continue
        for fig in figs:
            if fig.subject == subject and fig.role in ("cell", "row_total"):
                fig.flags.append("duplicate_row")
        notes.append(Note("warning", "duplicate_row", lines[1],
                          f"「{section}」 lists {subject} {len(lines)} times (lines "
                          f"{', '.join(map(str, lines))}) with different figures: all kept, flagged"))


def _out_of_scale_columns(section: str, figs: list[Figure], notes: list[Note]) -> None:
    columns: dict[int, list[Figure]] = defaultdict(list)
    for fig in figs:
        if fig.role in ("cell", "row_total"):
            columns[fig.column].append(fig)
    for cells in columns.values():
        # In the table's own order; empty (0, /) cells are no neighbours.
        numbers = [c for c in cells if c.number]
        for i, fig in enumerate(numbers):
            if i == 0 or i + 1 == len(numbers):
                continue
            neighbours = [numbers[i - 1].number, numbers[i + 1].number]
            if all(_ratio(fig.number, n) >= SCALE for n in neighbours):
                _flag_scale(fig, notes, "its neighbours in the column",
                            ", ".join(decimal_text(n) for n in neighbours))


def _out_of_scale_lists(figures: list[Figure], notes: list[Note]) -> None:
    """In a sentence's breakdown, an item that dwarfs every figure of its unit beside it."""
    groups: dict[str, list[Figure]] = defaultdict(list)
    for fig in figures:
        if fig.role in ("parent", "item") and fig.group:
            groups[fig.group].append(fig)
    for figs in groups.values():
        for fig in figs:
            if fig.role != "item" or not fig.number:
                continue
            others = [f.number for f in figs if f is not fig and f.unit == fig.unit and f.number]
            if len(others) >= 2 and fig.number > 10 * max(others):
                _flag_scale(fig, notes, "the other figures of its sentence",
                            ", ".join(decimal_text(n) for n in others))


def _ratio(a: Decimal, b: Decimal) -> Decimal:
    return max(a, b) / min(a, b)


def _flag_scale(fig: Figure, notes: list[Note], against: str, values: str) -> None:
    fig.flags.append("out_of_scale")
    notes.append(Note("warning", "out_of_scale", fig.line,
                      f"{fig.subject} {fig.measure} {fig.value}{fig.unit} is out of scale with "
                      f"{against} ({values}): kept, flagged as suspect"))
