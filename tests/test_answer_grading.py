"""The answer bank's grading (bench/answers.py): what counts as a figure given."""
from __future__ import annotations

import importlib.util
import sys

from evalsets import ROOT

_spec = importlib.util.spec_from_file_location("bench_answers_grading", ROOT / "bench" / "answers.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # its dataclasses look their module up while it loads
_spec.loader.exec_module(bench)

FIGURES = {"30%", "115", "20", "11807", "125224"}
RULE = "在社区卫生服务中心签约家庭医生后，南京已将30%的专家号提前向家庭医生开放。"
GUIDANCE = (bench.squash(RULE), bench.squash("南京市预约挂号平台提供南京都市圈115家医院的号源。"))


def row(kind: str, question: str, expected: str) -> "bench.Row":
    return bench.Row(kind, "resident", question, expected, "", "", "")


def test_a_figure_of_the_store_not_asked_is_wrong():
    assert bench.grade(row("trap_measure", "鼓楼医院有几个护士", "NOT_HELD"), "鼓楼医院2023年12320在线预约：125224次。",
                       FIGURES, {}, GUIDANCE) == "wrong"


def test_the_booking_guidance_quoted_is_no_figure_given():
    """A how-to answer quotes the family-doctor rule (30 %): not an answer to a figure, so not a wrong one."""
    assert bench.grade(row("unanswerable", "家医签约 所需材料", "NOT_HELD"), RULE, FIGURES, {}, GUIDANCE) == "other"
    # asked for, the rule's figure is the answer
    assert bench.grade(row("figure", "专家号有百分之多少给家庭医生", "30%"), RULE, FIGURES, {}, GUIDANCE) == "exact"


def test_a_date_in_a_question_back_is_no_figure():
    reply = "大概是什么时候发生的？（如：昨天下午、11月20日上午）"
    assert bench.grade(row("unanswerable", "在同仁医院被多收了钱怎么办", "NOT_HELD"), reply, FIGURES, {}, GUIDANCE) == "other"


def test_an_expected_figure_with_its_unit_is_exact():
    """The bank writes a figure as printed, unit and all (129万人); the reply gives it once: exact, not extra."""
    figures = FIGURES | {"129万", "812万"}
    reply = "南京卫生12320微信公众号截至2023年底关注人数：129万人。"
    assert bench.grade(row("figure", "公众号多少人关注", "129万人"), reply, figures, {}, GUIDANCE) == "exact"
    # another figure beside it is still extra
    assert bench.grade(row("figure", "公众号多少人关注", "129万人"), reply + "注册用户：812万人。", figures, {},
                       GUIDANCE) == "extra"
