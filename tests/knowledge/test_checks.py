"""Every check the ingester makes, on the seeds' known flaws and on flaws planted in copies."""
from __future__ import annotations

from knowledge.bulletin.parser import parse_bulletin


def _codes(parsed, code):
    return [n for n in parsed.notes if n.code == code]


def test_2019_duplicate_rows_are_reported(parsed_2019):
    messages = " ".join(n.message for n in _codes(parsed_2019, "duplicate_row"))
    assert "南京市江宁医院" in messages and "南京市青龙山精神病院" in messages
    assert len(_codes(parsed_2019, "duplicate_row")) == 2


def test_2023_work_orders_out_of_scale(parsed_2023):
    (note,) = [n for n in _codes(parsed_2023, "out_of_scale") if "省12345工单" in n.message]
    assert note.severity == "warning" and "15372511" in note.message and note.line == 65


def test_printed_totals_of_the_seeds(parsed_2023, parsed_2019):
    # The 2023 booking table, its channel table and call categories all add up.
    assert not [n for n in _codes(parsed_2023, "total_mismatch")]
    mismatches = {n.line: n.message for n in _codes(parsed_2019, "total_mismatch")}
    # 2019: the categories add up to 424 fewer calls than the printed total; the listed cities
    # to 1791 fewer than the province; the terminal table's 缴费 columns do not add up to 合计.
    assert "145285" in mismatches[41] and "424" in mismatches[41]
    assert "174501" in mismatches[43]
    assert sum("缴费" in m for m in mismatches.values()) == 1
    assert len([n for n in _codes(parsed_2019, "total_mismatch")]) == 4


def test_a_wrong_row_total_is_reported(seeds):
    text = seeds[0].read_text(encoding="utf-8")
    bad = text.replace("41208\t5678\t1924980\t12031\t1983897", "41208\t5678\t1924980\t12031\t1983898")
    parsed = parse_bulletin(bad.encode(), "bad_row.txt")
    notes = _codes(parsed, "total_mismatch")
    lines = {n.line for n in notes}
    assert any("南京市儿童医院" in n.message and "1983897" in n.message for n in notes)
    # and its column no longer adds up to the printed 合计 either
    assert any("小计" in n.message or "合计" in n.message for n in notes if n.line != 72)
    flagged = [f for f in parsed.figures if f.subject == "南京市儿童医院" and f.measure == "小计"]
    assert flagged[0].flags == ["total_mismatch"] and flagged[0].value == "1983898"
    assert len(lines) == 2


def test_a_wrong_column_total_is_reported(seeds):
    text = seeds[1].read_text(encoding="utf-8").replace("\t74551\n", "\t74552\n")
    parsed = parse_bulletin(text.encode(), "bad_total.txt")
    (note,) = [n for n in _codes(parsed, "total_mismatch") if "12320在线预约" in n.message]
    assert "74551" in note.message and "74552" in note.message


def test_extraction_damage_is_reported_not_hidden(parsed_2023):
    garbled = _codes(parsed_2023, "header_garbled")
    assert [n.line for n in garbled] == [140, 157]
    repaired = _codes(parsed_2023, "number_repaired")
    assert any("672153.37" in n.message for n in repaired)
    assert all(n.severity == "info" for n in garbled + repaired)
