"""Periods and names as agents type them: short forms of a month, a year right before 12320, a name
written with a space. What the statistics answer is asked for depends on reading these right."""
from __future__ import annotations

import pytest

from bot.entities import extract_entities
from bot.names import NameMatcher, find_periods, measure_vocabulary


@pytest.mark.parametrize("text, periods", [
    ("2019.10 12320电话预约", ["2019-10"]),
    ("2019-10 鼓楼医院小计", ["2019-10"]),
    ("201910第三方", ["2019-10"]),
    ("2023年12320受理咨询电话", ["2023"]),   # the year, then the hotline: not "no period"
    ("23年 12320接听电话", ["2023"]),
    ("19年10月份市儿童医院", ["2019-10"]),
    ("2023年和2019年10月分别多少", ["2023", "2019-10"]),
    ("拨打12320咨询", []),                  # the hotline's number is no year
    ("心电病例采集 23全年 vs 19年10月", ["2023", "2019-10"]),  # a two-digit year with 全年
    ("23医疗投诉", ["2023"]), ("23人工服务", ["2023"]),  # an agent's year in front of the measure
    ("20家医院排名", []), ("24小时有人接吗", []), ("16号线怎么走", []), ("23人来排队", []),  # counts, not years
    ("1910底 总预约挂号量", ["2019-10"]),     # an agent's year and month up to the month's end
    ("那年十月（2019）预约小计", ["month:10", "2019"]),  # a month after a year said in words; the resolver joins them
    ("2010年", ["2010"]), ("1500家", []),
    ("自助语音问答 23/19.10", ["2023", "2019-10"]), ("23/100", []),  # two periods set side by side; a ratio
])
def test_periods_in_the_forms_agents_type(text, periods):
    assert [f.value for f in find_periods(text)] == periods


def test_a_name_typed_with_a_space_is_read_not_a_crash(gazetteer):
    # spaCy matches 12320电话 across the space: the lookup must not fail on the spaced span
    entities = extract_entities("2019.10 12320 电话预约", NameMatcher(gazetteer), measure_vocabulary(gazetteer))
    assert ("period", "2019-10") in [(e["entity"], e["value"]) for e in entities]
