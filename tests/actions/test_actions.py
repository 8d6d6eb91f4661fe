"""The answering actions as plain async calls on trackers, against a real store (SQLite and
PostgreSQL, both seed bulletins ingested). Figures asserted here were typed from the bulletins."""
from __future__ import annotations

import json

import re
from datetime import date

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.complaints import ActionSubmitComplaint
from actions.booking import ActionBookingChannels, ActionBookingGuidance
from actions.safety import ActionMedicalAdvice
from actions.services import ActionServiceAnswer
from actions.statistics import ActionStatistics

CITE_2023 = "《南京卫生信息化简报》2024年第1期"
CITE_2019 = "《南京卫生信息化简报》（2019年10月数据，期号未载明）"
CONSOLE = "console-0123456789abcdef"  # an agent's lookup box (hotline/calllog.py CONSOLE_SENDER_PREFIX)


def entity(kind: str, value: str, **extra) -> dict:
    return {"entity": kind, "value": value, **extra}


def tracker(text: str, intent: str, entities=(), slots=None, events=(), sender: str = "resident-1") -> Tracker:
    """A tracker at the message; ``sender`` console-… for an agent's lookup in the console."""
    message = {"text": text, "intent": {"name": intent, "confidence": 0.99},
               "entities": list(entities), "intent_ranking": []}
    return Tracker(sender, dict(slots or {}), message, list(events), False, None, {}, "action_listen")


async def run(action, t: Tracker) -> tuple[list[str], list[dict], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return [m.get("text") or "" for m in dispatcher.messages], events, dispatcher


def slots(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


# --- statistics -----------------------------------------------------------------------------

async def test_a_hospital_figure_without_period_is_the_latest_with_its_source(action_store):
    texts, events, _ = await run(ActionStatistics(), tracker(
        "鼓楼医院预约量多少", "ask_statistics",
        [entity("hospital", "南京鼓楼医院"), entity("measure", "小计")]))
    answer = "\n".join(texts)
    assert "南京鼓楼医院2023年小计：385480次" in answer
    assert "未指定时间" in answer and "2023年" in answer
    assert CITE_2023 in answer and "2023年度12320预约挂号服务统计" in answer
    assert slots(events) == {"stats_subject": "hospital|南京鼓楼医院", "stats_measure": "小计", "stats_period": None}


async def test_follow_ups_change_one_thing_and_keep_the_rest(action_store):
    context = {"stats_subject": "hospital|南京鼓楼医院", "stats_measure": "小计", "stats_period": None}
    texts, events, _ = await run(ActionStatistics(), tracker(
        "2019年10月的呢", "inform", [entity("period", "2019-10")], context))
    assert "南京鼓楼医院2019年10月小计：165336次" in texts[0] and CITE_2019 in texts[0]
    texts, _, _ = await run(ActionStatistics(), tracker(
        "省人医呢", "inform", [entity("hospital", "江苏省人民医院")], slots(events)))
    assert "江苏省人民医院2019年10月小计：901次" in texts[0]
    texts, _, _ = await run(ActionStatistics(), tracker(
        "那电话预约呢", "inform", [entity("measure", "电话预约")], slots(events)))
    assert "南京鼓楼医院2019年10月电话预约：34306次" in texts[0]


async def test_a_month_without_year_takes_the_month_the_bulletins_hold(action_store):
    texts, _, _ = await run(ActionStatistics(), tracker(
        "鼓楼10月份电话预约", "ask_statistics",
        [entity("hospital", "南京鼓楼医院"), entity("period", "month:10"), entity("measure", "电话预约")]))
    assert "2019年10月电话预约：34306次" in texts[0]


async def test_an_uncovered_period_gets_the_periods_held_and_no_invented_number(action_store):
    texts, events, _ = await run(ActionStatistics(), tracker(
        "鼓楼医院2021年预约量", "ask_statistics",
        [entity("hospital", "南京鼓楼医院"), entity("period", "2021"), entity("measure", "小计")]))
    assert texts[0].startswith("简报中没有2021年南京鼓楼医院")
    assert "2019年10月、2023年" in texts[0]
    # no figure of another period in its place: the agent would read it out as 2021's
    assert len(texts) == 1 and not re.search(r"\d{3,}次", texts[0])
    assert slots(events)["stats_period"] is None


async def test_a_relative_period_is_resolved_against_today(action_store):
    texts, _, _ = await run(ActionStatistics(), tracker(
        "12320去年受理了多少电话", "ask_statistics",
        [entity("period", "last_year"), entity("measure", "受理咨询电话")]))
    assert f"去年（{date.today().year - 1}年）" in texts[0]
    assert "2019年10月、2023年" in texts[0] and "527519" not in "".join(texts)  # what is held, no other year's figure


# --- the question read against the store (knowledge/resolve.py): the figure asked, or "not held" --

async def ask(text: str, intent: str = "ask_statistics", entities=(), context=None) -> str:
    texts, _, _ = await run(ActionStatistics(), tracker(text, intent, entities, context))
    return "\n".join(texts)


@pytest.mark.parametrize("text, entities, absent", [
    # another city's hotline: not Nanjing's figure with a citation
    ("无锡2023年12320接了多少电话", [entity("period", "2023")], "527519"),
    ("上海12320去年一年接了多少电话", [entity("period", "last_year")], "527519"),
    # a hospital outside the bulletins: not the platform's total
    ("上海瑞金医院2023年预约量", [entity("period", "2023")], "2604417"),
    ("江苏省妇幼保健院2023年预约挂号多少", [entity("period", "2023")], "4315"),  # not 南京市妇幼保健院's
    # a period the bulletins do not split out, a rate they never print
    ("12320 2023年第一季度受理咨询电话", [entity("period", "2023")], "527519"),
    ("2023年12320医疗投诉的办结率", [entity("period", "2023")], "11807"),
    ("鼓楼医院有多少张床位", [entity("hospital", "南京鼓楼医院")], "385480"),
    # departments, floors and doctors: never printed, whatever the hospital's booking figures
    ("南京脑科医院心理科在几楼", [entity("hospital", "南京脑科医院")], "4570"),
    ("明基医院周六上午有没有眼科门诊", [entity("hospital", "南京明基医院")], "1157"),
    ("省人医看糖尿病哪位医生好", [entity("hospital", "江苏省人民医院")], "1143"),
    # a hospital outside the bulletins that names a Nanjing district
    ("秦淮区妇幼保健所2023年定时数据上传量", [entity("period", "2023")], "68839057"),
    # a fee, a wait on the phone: never printed, not the hotline's or the channels' figures
    ("用12320挂号要不要手续费", [], "527519"),
    ("打12320一般要等几分钟能接通", [], "527519"),
    # the last months of a year are not the year's figure; nor is cancelling a booking a channel's count
    ("12320 2023年最后两个月受理了多少电话", [entity("period", "2023")], "527519"),
    ("我的南京上挂的号如何取消", [], "110085"),
])
async def test_what_the_bulletins_do_not_hold_is_said_and_no_other_figure_given(action_store, text, entities, absent):
    answer = await ask(text, entities=entities)
    assert "简报中没有" in answer
    assert absent not in answer and not re.search(r"\d{4,}(次|个|人次)", answer)


@pytest.mark.parametrize("text, entities, figure", [
    # the WeChat account's followers, not its bookings
    ("南京卫生12320公众号有多少人关注", [], "129万"),
    # a hospital's column of the booking table, not "no such figure"
    ("市一医院2023年12320在线预约多少", [entity("period", "2023")], "16492"),
    ("南京市口腔医院用12320快速预约的有多少", [entity("period", "2023")], "896"),
    # terminals deployed in October 2019, without a hospital named: the table's total
    ("2019年10月一共投放了多少台自助终端", [entity("period", "2019-10")], "1485"),
    # the 12320 number's own phone bookings, written with a space
    ("2019.10 12320 电话预约", [entity("period", "2019-10")], "120730"),
    # a short name that is part of a longer one (泰康仙林鼓楼医院, not 南京鼓楼医院)
    ("仙林鼓楼医院2023年第三方预约量", [entity("period", "2023")], "179"),
    # a printed header read as people say it
    ("鼓楼医院 201910 自助终端挂号金额", [entity("period", "2019-10")], "2717785.00"),
    ("浦口区2019年10月平台糖尿病档案累计上传多少", [entity("period", "2019-10")], "24416"),
    # the bulletin's own slip (采集心电病例心电 120 万份) is the measure asked in the other period's words
    ("2023年远程心电平台采集心电病例多少份", [entity("period", "2023")], "120万"),
    # one part of a dotted header (健康档案累计上传总量·糖尿病) named surely beats more of it named loosely
    ("栖霞区 19年10月 糖尿病档案是多少", [entity("period", "2019-10")], "16459"),
    # 全市一共 holds 市一 (南京市第一医院): no hospital is named
    ("全市一共投入使用了多少台医疗自助终端", [], "2076"),
    # a measure the NLU heard (same-sounding 涧 for 间), not the 预约量 written inside it
    ("鼓楼医院2023年诊涧预约量", [entity("period", "2023", start=4, end=9),
                              entity("measure", "诊间预约", start=9, end=13)], "63946"),
    # 12320 beside a measure the platform prints in full and by who read it: the 12320 part, not the whole
    ("12320一共调阅了多少健康档案", [], "63万"),
    # 同仁 is 南京同仁医院, not a name the store lacks answered with the platform's total
    ("同仁医院2023年小计", [entity("period", "2023")], "2240"),
    ("同仁2023年小计", [entity("period", "2023")], "2240"),
    # an agent's column word: 12320在线 is the column 12320在线预约, not the hospital's 小计 (1143)
    ("省人医 2023 12320在线", [entity("period", "2023")], "951"),
    # the province's hotline named with 江苏省 before 12320热线: not Nanjing's 527519
    ("2023年江苏省的12320热线接听多少人次", [entity("period", "2023")], "693507"),
    # session 16: the 分途径 table's own total, not the booking table's 合计 (385961) beside it
    ("2019年10月分途径预约加起来合计多少", [entity("period", "2019-10")], "93483"),
    # the WeChat account said as 微信平台, not the 第三方 column (75891) its 平台 resembles
    ("2019年10月微信平台预约了多少", [entity("period", "2019-10")], "17551"),
    # 咱们 is no measure: the channel's one figure
    ("江苏省预约挂号网2023年在咱们平台约了多少次", [entity("period", "2023")], "12898"),
    # 电话预约 in 2023 is the hotline's alone (the platform prints it for 2019-10)
    ("2023 电话预约", [entity("period", "2023")], "173204"),
    # terminals counted as 总台数: the ones in use in 2023
    ("自助智能服务终端 总台数 2023", [entity("period", "2023")], "2076"),
])
async def test_the_figure_asked_is_found_in_the_words_people_use(action_store, text, entities, figure):
    answer = await ask(text, entities=entities)
    assert re.search(rf"(?<![\d.]){re.escape(figure)}(?![\d.])", answer), answer
    assert "来源：" in answer


async def test_two_periods_of_one_subject_are_both_answered(action_store):
    answer = await ask("儿童医院2023年和2019年10月的预约总量分别是多少", "compare_statistics",
                       [entity("period", "2023"), entity("period", "2019-10")])
    assert "1983897" in answer and "151503" in answer


async def test_two_measures_of_one_subject_are_both_answered_each_in_the_scope_asked(action_store):
    answer = await ask("心电平台接入的区有几个、医疗机构有多少家", "compare_statistics")
    assert re.search(r"接入区：11个", answer) and re.search(r"接入医疗机构：138家", answer), answer
    answer = await ask("体检系统累计注册了多少用人单位，2023年度生成了多少张电子健康证", "ask_statistics",
                       [entity("period", "2023")])
    # the running total for the first, the year's own for the second: not the other scope of either
    assert "9.8万" in answer and "62.62万" in answer, answer
    assert "191.69万" not in answer and "2.4万" not in answer
    # two measures named in full, one inside the other's name: both, not only the longer
    answer = await ask("南京市妇幼保健院2019年10月自助终端缴费次数和缴费金额是多少？", "compare_statistics",
                       [entity("hospital", "南京市妇幼保健院"), entity("period", "2019-10")])
    assert "16460" in answer and "30013731.04" in answer, answer
    # two measures sharing their last words, written once
    answer = await ask("19年10月 省12345和市12345工单", "compare_statistics", [entity("period", "2019-10")])
    assert "省12345工单：297件" in answer and "市12345工单：882件" in answer, answer
    # a head word read on with the parts after it: the parts are asked, not the head's total
    answer = await ask("自助终端 投入使用 区数 医院数", "compare_statistics")
    assert "2076" not in answer, answer
    # one measure in both scopes, the second part naming only its year (session 12)
    answer = await ask("电子健康证累计生成多少张，2023年又生成了多少张", "ask_statistics", [entity("period", "2023", start=13, end=18)])
    assert "191.69万" in answer and "62.62万" in answer, answer
    # a part that is only a period names no measure: 缴费金额 alone, not also 缴费 (次)
    answer = await ask("自助终端 江北新区 缴费金额 19.10", "ask_statistics", [entity("period", "2019-10")])
    assert "3076059.59" in answer and "10656" not in answer, answer
    # spaced, in the order asked; a measure before vs sharing the other's last word
    answer = await ask("19年10月 市12345 和 省12345 工单", "compare_statistics", [entity("period", "2019-10")])
    assert answer.index("市12345工单：882件") < answer.index("省12345工单：297件"), answer
    answer = await ask("鼓楼 23 在线vs快速预约", "compare_statistics", [entity("period", "2023")])
    assert "125224" in answer and "16006" in answer, answer


async def test_two_subjects_each_with_its_own_measure_are_each_answered(action_store):
    answer = await ask("12320公众号关注人数和健康南京APP注册用户各是多少", "compare_statistics")
    assert "129万" in answer and "323.78万" in answer and "没有" not in answer, answer


async def test_a_running_total_asked_of_a_table_total_is_the_running_total(action_store):
    # 截止…底的总预约量: the platform's 总预约挂号量 (printed as a running total), not the period's 合计
    answer = await ask("截止2023年底的总预约量和截止2019年10月底的总预约量各是多少？", "compare_statistics",
                       [entity("period", "2023"), entity("period", "2019-10")])
    assert "33920248" in answer and "17709577" in answer, answer
    assert "2604417" not in answer and "385961" not in answer, answer
    # the period's own, when no running total is asked
    assert "2604417" in await ask("2023年总预约量是多少", "ask_statistics", [entity("period", "2023")])


async def test_a_fee_question_about_a_service_is_not_answered_with_its_figures(action_store):
    texts, _, _ = await run(ActionServiceAnswer(), tracker("签约家庭医生每年收多少钱", "family_doctor"))
    answer = "\n".join(texts)
    assert "简报中没有" in answer and "12320" in answer
    assert "30%" not in answer, answer
    texts, _, _ = await run(ActionServiceAnswer(), tracker("家庭医生签约了有什么好处", "family_doctor"))
    assert "30%" in "\n".join(texts)  # what the bulletins say about it, when that is what is asked


async def test_the_hotlines_call_categories_rank_without_totals_or_work_orders(action_store):
    answer = await ask("2023年12320来电类别前三", "rank_statistics", [entity("period", "2023")])
    lines = [line for line in answer.splitlines() if re.match(r"\d\. ", line)]
    assert [line.split("：")[0][3:] for line in lines] == ["人工服务", "电话预约", "咨询类"]


async def test_a_scope_the_bulletin_does_not_print_is_not_swapped_for_the_other(action_store):
    answer = await ask("互联网医院2023年度线上处方多少份", entities=[entity("period", "2023")])
    assert "累计" in answer and "19万" not in answer  # only the running total is printed


async def test_an_unknown_measure_lists_what_the_subject_has(action_store):
    texts, _, _ = await run(ActionStatistics(), tracker(
        "健康南京APP的门急诊人次", "ask_statistics",
        [entity("channel", "健康南京APP"), entity("measure", "门急诊人次")]))
    assert "简报中没有健康南京APP的“门急诊人次”数据" in texts[0]
    assert "预约数量" in texts[0] and "注册用户" in texts[0]


async def test_a_measure_without_subject_is_the_hotlines(action_store):
    texts, _, _ = await run(ActionStatistics(), tracker(
        "2019年10月心理危机干预多少", "ask_statistics",
        [entity("period", "2019-10"), entity("measure", "心理危机干预")]))
    assert "南京12320卫生热线2019年10月心理危机干预：258个" in texts[0]


async def test_a_figure_the_checks_flagged_says_so(action_store):
    texts, _, _ = await run(ActionStatistics(), tracker(
        "省12345工单2023年多少", "ask_statistics",
        [entity("hotline", "南京12320卫生热线"), entity("measure", "省12345工单"), entity("period", "2023")]))
    assert "15372511件" in texts[0] and "相差悬殊" in texts[0]


async def test_comparison_quotes_both_figures_of_one_period(action_store):
    texts, events, _ = await run(ActionStatistics(), tracker(
        "鼓楼和省人医哪个预约多", "compare_statistics",
        [entity("hospital", "南京鼓楼医院"), entity("hospital", "江苏省人民医院"), entity("measure", "小计")]))
    answer = texts[0]
    assert "南京鼓楼医院2023年小计：385480次" in answer and "江苏省人民医院2023年小计：1143次" in answer
    assert "南京鼓楼医院的小计更多" in answer and CITE_2023 in answer


async def test_ranking_orders_the_table_and_counts_a_duplicated_row_once(action_store):
    texts, _, _ = await run(ActionStatistics(), tracker(
        "2023年预约量前三的医院", "rank_statistics", [entity("period", "2023"), entity("measure", "小计")]))
    lines = texts[0].splitlines()
    assert lines[0] == "2023年小计从多到少前3名："
    assert lines[1].startswith("1. 南京市儿童医院2023年小计：1983897次")
    assert lines[2].startswith("2. 南京鼓楼医院2023年小计：385480次")
    assert len([l for l in lines if re.match(r"\d\. ", l)]) == 3
    texts, _, _ = await run(ActionStatistics(), tracker(
        "2019年10月电话预约最少的5家医院", "rank_statistics",
        [entity("period", "2019-10"), entity("measure", "电话预约")]))
    names = [l.split("2019")[0][3:] for l in texts[0].splitlines() if re.match(r"\d\. ", l)]
    assert len(names) == 5 and len(set(names)) == 5


@pytest.mark.parametrize("said", ["19年10月电话预约 倒数三个", "19年10月电话预约末三位", "19年10月电话预约 后3"])
async def test_the_last_n_are_a_ranking_from_the_bottom(action_store, said):
    """An agent's bottom-N without 排名 (倒数三个, 末三位), under whatever intent: a ranking, smallest first."""
    texts, _, _ = await run(ActionStatistics(), tracker(
        said, "ask_statistics", [entity("period", "2019-10"), entity("measure", "电话预约")]))
    lines = texts[0].splitlines()
    assert "从少到多" in lines[0] and lines[0].endswith("3名："), lines[0]
    assert len([l for l in lines if re.match(r"\d\. ", l)]) == 3


async def test_a_printed_ranking_keeps_the_bulletins_order(action_store):
    texts, _, _ = await run(ActionStatistics(), tracker(
        "互联网医院预约量排名前三", "rank_statistics", [entity("measure", "南京市互联网医院预约量排名")]))
    lines = texts[0].splitlines()
    assert lines[0].endswith("2023年南京市互联网医院预约量排名（简报原排名）：")
    assert lines[1:4] == ["第1名 南京鼓楼医院", "第2名 南京市儿童医院", "第3名 南京市中医院"]


async def test_an_ambiguous_name_is_asked_about(action_store):
    _, events, dispatcher = await run(ActionStatistics(), tracker(
        "口腔医院预约量", "ask_statistics",
        [entity("hospital", "口腔医院", ambiguous=True, candidates=["南京市口腔医院", "江苏省口腔医院"])]))
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["南京市口腔医院", "江苏省口腔医院"]
    assert events == []


async def test_no_subject_and_no_measure_asks_what_to_look_up(action_store):
    texts, _, _ = await run(ActionStatistics(), tracker("帮我查个数据", "ask_statistics"))
    assert texts[0].startswith("请问要查哪家医院")


# --- services and booking ---------------------------------------------------------------------

@pytest.mark.parametrize("intent,entities,expected", [
    ("internet_hospital", [], ["南京市互联网医院截至2023年底：", "线上咨询总量28万人次", CITE_2023]),
    ("centre_contact", [], ["地址：南京市紫竹林3号", "电话：025-83626620", "njwsxx@163.com"]),
    ("about_12320", [], ["受理咨询电话527519个", "关注人数129万人"]),
    ("health_record", [], ["验证码", "累计采集健康档案810万份"]),
    ("health_certificate", [], ["生成电子健康证191.69万张"]),
    ("medical_card", [], ["南京市医疗一卡通", "市民卡2000万张"]),
    ("self_service_terminal", [], ["投入使用2076台"]),
    ("remote_platform", [entity("platform", "南京市远程影像诊断平台")], ["南京市远程影像诊断平台"]),
])
async def test_service_questions_are_answered_from_the_store(action_store, intent, entities, expected):
    texts, _, _ = await run(ActionServiceAnswer(), tracker("问一下", intent, entities))
    answer = "\n".join(texts)
    for part in expected:
        assert part in answer
    assert "来源：" in answer


async def test_a_named_platform_is_the_only_one_answered(action_store):
    texts, _, _ = await run(ActionServiceAnswer(), tracker(
        "远程影像怎么用", "remote_platform", [entity("platform", "南京市远程影像诊断平台")]))
    answer = "\n".join(texts)
    assert "远程心电" not in answer and "会诊6887例" in answer


@pytest.mark.parametrize("text, asked", [
    ("华世佳宝 2019.10 预约小计", "2019-10"),        # a hospital outside the bulletins, no 医院 in its name
    ("2023南京接听量vs全省", "2023"),
])
async def test_an_unknown_name_is_never_answered_with_a_total_and_both_sides_are_compared(action_store, text, asked):
    texts, _, _ = await run(ActionStatistics(), tracker(text, "ask_statistics", [entity("period", asked)]))
    answer = "\n".join(texts)
    if "华世佳宝" in text:
        assert "385961" not in answer and "没有" in answer  # not the platform's 合计
    else:
        assert "527519" in answer and "693507" in answer   # Nanjing's and the province's


async def test_a_year_compared_is_each_subjects_figure_of_that_year(action_store):
    """2023年远程影像会诊和远程心电会诊: 心电 prints its consultations as a running total (超1.3万) and as the
    year's (1003例): the year's is compared, never the running total beside another's year."""
    texts, _, _ = await run(ActionStatistics(), tracker(
        "2023年远程影像会诊和远程心电会诊各是多少例", "compare_statistics", [entity("period", "2023")]))
    answer = "\n".join(texts)
    assert "6887" in answer and "1003" in answer and "1.3万" not in answer


async def test_where_to_get_a_service_is_not_answered_with_its_figures(action_store):
    """健康证去哪家体检机构办: the bulletins do not say where; the certificates issued are no answer."""
    texts, _, _ = await run(ActionServiceAnswer(), tracker("健康证办理要去哪家体检机构", "health_certificate", []))
    answer = "\n".join(texts)
    assert "12320" in answer and "没有写" in answer
    assert "191.69万" not in answer and "来源：" not in answer


async def test_booking_guidance_for_a_hospital_in_the_tables(action_store):
    texts, events, _ = await run(ActionBookingGuidance(), tracker(
        "鼓楼", "inform", slots={"booking_hospital": "南京鼓楼医院"}))
    # a resident asking how to book gets how to book, not the hospital's booking volumes
    assert "南京鼓楼医院在南京市预约挂号平台上" in texts[0] and "12320" in texts[0]
    assert not re.search(r"\d{3,}次", texts[0])
    assert "健康南京APP" in texts[1] and "12320电话预约" in texts[1]
    assert "30%" in texts[2]  # the family-doctor rule
    assert slots(events) == {"booking_hospital": None}


async def test_an_agent_gets_the_hospitals_booking_figures_with_the_guidance(action_store):
    agent = tracker("鼓楼", "inform", slots={"booking_hospital": "南京鼓楼医院"}, sender=CONSOLE)
    texts, _, _ = await run(ActionBookingGuidance(), agent)
    assert "2023年预约挂号小计385480次" in texts[0] and "诊间预约63946次、第三方180304次" in texts[0]
    assert CITE_2023 in texts[0]


async def test_an_agent_asking_how_to_book_gets_the_way_not_the_figures(action_store):
    """来电要约鼓楼医院专家号，怎么操作: how, for the caller on the line; no booking volumes."""
    agent = tracker("来电要约鼓楼医院专家号，怎么操作", "booking_howto", slots={"booking_hospital": "南京鼓楼医院"},
                    sender=CONSOLE)
    texts, _, _ = await run(ActionBookingGuidance(), agent)
    answer = "\n".join(texts)
    assert "385480" not in answer and "南京鼓楼医院" in answer and "12320" in answer


@pytest.mark.parametrize("said", ["脑科医院周末有门诊吗", "儿童医院看病一般要等多久", "省人医坐地铁怎么去"])
async def test_a_booking_question_about_what_the_bulletins_lack_says_so(action_store, said):
    """Opening days, waiting, transport: said not to be held, not answered with the booking guidance."""
    hospital = {"脑": "南京脑科医院", "儿": "南京市儿童医院", "省": "江苏省人民医院"}[said[0]]
    texts, _, _ = await run(ActionBookingGuidance(), tracker(
        said, "booking_channels", [entity("hospital", hospital, start=0, end=2)], slots={"booking_hospital": hospital}))
    answer = "\n".join(texts)
    assert "简报中没有" in answer and "健康南京APP" not in answer, answer


@pytest.mark.parametrize("said,named", [("我想约鼓楼医院心内科的专家号，怎么约", "心内科"),
                                       ("鼓楼医院做胃镜怎么预约", "胃镜"), ("我想挂明天鼓楼医院的专家号，怎么弄", "明天")])
async def test_booking_a_department_says_its_slots_are_not_held_and_how_to_book(action_store, said, named):
    """A department, examination or doctor named: the bulletins hold none of their slots; how to book is
    given, without the platform's figures nobody asked for (115 hospitals, 30 % of expert slots)."""
    texts, events, _ = await run(ActionBookingGuidance(), tracker(
        said, "booking_channels", [entity("hospital", "南京鼓楼医院", start=said.index("鼓楼"), end=said.index("鼓楼") + 2)],
        slots={"booking_hospital": "南京鼓楼医院"}))
    answer = "\n".join(texts)
    assert f"简报里没有南京鼓楼医院{named}的号源" in answer, answer
    assert "健康南京APP" in answer and "12320电话预约" in answer
    assert "115" not in answer and "30%" not in answer, answer
    assert slots(events) == {"booking_hospital": None}


async def test_booking_guidance_for_a_hospital_not_in_the_tables_invents_nothing(action_store):
    texts, _, _ = await run(ActionBookingGuidance(), tracker(
        "某某诊所", "inform", slots={"booking_hospital": "某某诊所"}))
    assert "没有找到“某某诊所”" in texts[0] and not re.search(r"\d", texts[0].replace("12320", ""))


async def test_booking_guidance_without_a_hospital_gives_the_channels(action_store):
    texts, _, _ = await run(ActionBookingGuidance(), tracker("不限", "deny", slots={"booking_hospital": "不限"}))
    assert len(texts) == 2 and "健康南京APP" in texts[0]


def console(text: str, intent: str, entities=(), slots=None) -> Tracker:
    from hotline.calllog import CONSOLE_SENDER_PREFIX

    message = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": list(entities),
               "intent_ranking": []}
    return Tracker(CONSOLE_SENDER_PREFIX + "abc", dict(slots or {}), message, [], False, None, {}, "action_listen")


async def test_booking_channels_for_an_agent_with_their_latest_figures(action_store):
    texts, _, _ = await run(ActionBookingChannels(), console("有哪些挂号渠道", "booking_channels"))
    assert "2023年各渠道预约数量：健康南京APP156287次" in texts[1] and CITE_2023 in texts[1]
    texts, _, _ = await run(ActionBookingChannels(), console(
        "健康南京app能挂号吗", "booking_channels", [entity("channel", "健康南京APP")]))
    assert "健康南京APP截至2023年底注册用户：323.78万人" in texts[1]


@pytest.mark.parametrize("said", ["有哪些挂号渠道", "健康南京app能挂号吗"])
async def test_a_resident_asking_how_to_book_gets_the_channels_not_their_volumes(action_store, said):
    channel = [entity("channel", "健康南京APP")] if "健康" in said else []
    texts, _, _ = await run(ActionBookingChannels(), tracker(said, "booking_channels", channel))
    assert len(texts) == 1 and "健康南京APP" in texts[0] and "12320电话预约" in texts[0]
    assert not re.search(r"\d+次|万人", texts[0]), texts


async def test_a_channel_right_after_a_hospitals_figure_is_its_column(action_store):
    texts, _, _ = await run(ActionBookingChannels(), tracker(
        "快速预约呢", "booking_channels", [entity("channel", "12320快速预约")],
        slots={"stats_subject": "hospital|南京市口腔医院", "stats_measure": "12320在线预约", "stats_period": "2023"}))
    answer = "\n".join(texts)
    assert "南京市口腔医院2023年快速预约：896次" in answer, answer


@pytest.mark.parametrize("last,measure,period,said,channel,figure", [
    ("channel|南京卫生12320网", "预约数量", "2023", "12320快速预约呢？", "12320快速预约", "29239"),
    ("channel|健康南京APP", "预约数量", "2019-10", "江苏省预约挂号网呢？", "江苏省预约挂号网", "5751"),
])
async def test_a_channel_right_after_another_channels_figure_is_its_figure(
        action_store, last, measure, period, said, channel, figure):
    texts, _, _ = await run(ActionBookingChannels(), tracker(
        said, "booking_channels", [entity("channel", channel)],
        slots={"stats_subject": last, "stats_measure": measure, "stats_period": period}))
    answer = "\n".join(texts)
    assert figure in answer and "115家" not in answer, answer


@pytest.mark.parametrize("last, text, figure, other", [
    ("市12345工单", "省的", "15372511", "33531"), ("省12345工单", "那市级的呢", "33531", "15372511")])
async def test_a_follow_up_naming_what_sets_the_next_measure_apart(action_store, last, text, figure, other):
    """省的 right after the city's work orders: the province's, never the city's again."""
    texts, _, _ = await run(ActionStatistics(), tracker(text, "ask_statistics", slots={
        "stats_subject": "hotline|南京12320卫生热线", "stats_measure": last, "stats_period": "2023"}))
    answer = "\n".join(texts)
    assert figure in answer and other not in answer and CITE_2023 in answer


async def test_the_total_rows_column_in_an_agents_words(action_store):
    """2019年10月 预约合计 第三方: the total row's 第三方 column, not the 合计 beside it."""
    texts, _, _ = await run(ActionStatistics(), tracker("2019年10月 预约合计 第三方", "ask_statistics",
                                                        [entity("period", "2019-10")]))
    answer = "\n".join(texts)
    assert "75891" in answer and "385961" not in answer


async def test_another_column_of_the_same_table_named_alone_after_a_figure(action_store):
    """高血压 right after a district's 基本信息 archive count: that district's hypertension archives, not a
    medical answer."""
    from actions.safety import ActionMedicalAdvice

    texts, _, _ = await run(ActionMedicalAdvice(), tracker("高血压", "medical_question", slots={
        "stats_subject": "district|鼓楼区", "stats_measure": "健康档案累计上传总量·基本信息", "stats_period": "2019-10"}))
    assert "41177" in "\n".join(texts) and not texts[0].startswith("具体的病情")


async def test_a_measure_named_alone_after_a_hospitals_figure_is_no_ranking(action_store):
    """实时上传天数 right after 同仁医院's figure, read as a ranking by the classifiers: 同仁医院's days."""
    texts, _, _ = await run(ActionStatistics(), tracker("实时上传天数", "rank_statistics", slots={
        "stats_subject": "hospital|南京同仁医院", "stats_measure": "定时数据上传量", "stats_period": "2023"}))
    answer = "\n".join(texts)
    assert "358" in answer and "363" not in answer and "前5名" not in answer


async def test_all_told_right_after_the_years_figure(action_store):
    """累计呢 after the employers registered in 2023: those registered all told (the other printed name)."""
    texts, _, _ = await run(ActionStatistics(), tracker("累计呢", "ask_statistics", slots={
        "stats_subject": "platform|南京市从业人员体检信息系统", "stats_measure": "注册用人单位", "stats_period": "2023"}))
    assert "9.8万" in "\n".join(texts)


# --- medical questions ------------------------------------------------------------------------

@pytest.mark.parametrize("text,urgent", [
    ("我爸突然胸口疼得厉害 出冷汗", True), ("孩子抽搐了怎么办", True), ("老人叫不醒了", True),
    ("感冒了吃什么药", False), ("布洛芬一次吃几片", False),
])
async def test_medical_questions_get_no_diagnosis_and_120_first_when_urgent(action_store, text, urgent):
    texts, _, _ = await run(ActionMedicalAdvice(), tracker(text, "medical_question"))
    assert texts[-1].startswith("具体的病情和用药需要医生当面判断")  # no diagnosis, no dosage
    assert ("120" in texts[0] and len(texts) == 2) == urgent


@pytest.mark.parametrize("text", ["市一医院看牙齿应该挂哪个科？", "胸科医院做CT要空腹吗？"])
async def test_a_department_or_a_preparation_asked_is_said_to_be_not_held(action_store, text):
    """Which department, whether to fast: a doctor's word, and that the lookup holds no such thing."""
    texts, _, _ = await run(ActionMedicalAdvice(), tracker(text, "medical_question"))
    assert texts[0].startswith("具体的病情和用药需要医生当面判断")
    assert len(texts) == 2 and "没有" in texts[1] and "12320" in texts[1]


@pytest.mark.parametrize("text", ["在医院做一次胃镜大概要多少钱", "中大医院晚上有急诊吗？", "胸科医院 肺结核 定点吗"])
async def test_unsure_of_the_topic_but_sure_it_is_not_held(action_store, text):
    """The classifiers unsure: a question about fees, night hours or designations is told they are not
    held and where to ask, not offered two topics to choose from."""
    from actions.safety import ActionClarify

    texts, _, dispatcher = await run(ActionClarify(), tracker(text, "nlu_fallback"))
    answer = "\n".join(texts)
    assert "简报中没有" in answer and "12320" in answer and not any(m.get("buttons") for m in dispatcher.messages)


# --- complaints -------------------------------------------------------------------------------

COMPLAINT = {"complaint_hospital": "南京鼓楼医院", "complaint_description": "挂号窗口工作人员态度恶劣",
             "complaint_time": "昨天下午", "complaint_phone": "不留",
             "complaint_phone_masked": "139****5678", "complaint_confirmed": True}


def complaint(connection, phone: str = "13912345678", lifetime_minutes: int = 120, **changes) -> dict:
    """The form's slots as the form leaves them: the phone kept under a one-time reference."""
    from datetime import timedelta

    from sqlalchemy.orm import Session

    from hotline import contacts

    with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
        ref = contacts.keep(s, phone, lifetime=timedelta(minutes=lifetime_minutes))
        s.commit()
    return {**COMPLAINT, "complaint_phone": ref, **changes}


def pending_contacts(connection) -> int:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from hotline.models import PendingContact

    with Session(bind=connection) as s:
        return s.scalar(select(func.count()).select_from(PendingContact))


async def test_a_confirmed_complaint_becomes_a_ticket_with_its_number(action_store):
    from sqlalchemy.orm import Session

    from hotline.tickets import get_ticket

    pending = pending_contacts(action_store)
    filled = complaint(action_store)
    assert "13912345678" not in json.dumps(filled)  # the slots hold a reference, not the phone
    texts, events, _ = await run(ActionSubmitComplaint(), tracker("确认", "affirm", slots=filled))
    number = slots(events)["ticket_number"]
    assert re.fullmatch(r"TS-\d{8}-\d{4}", number) and number in texts[0]
    assert "13912345678" not in texts[0] and "通过您留的电话联系您" in texts[0]
    assert pending_contacts(action_store) == pending  # read back once, then gone
    with Session(bind=action_store) as s:
        ticket = get_ticket(s, number)
        assert (ticket.kind, ticket.status, ticket.hospital, ticket.phone) == \
            ("自接工单", "open", "南京鼓楼医院", "13912345678")
        assert ticket.sender and ticket.sender != "resident-1"  # a pseudonym, not the channel's id
    # The form's slots are cleared: the clear phone does not stay in the conversation.
    assert all(slots(events)[k] is None for k in COMPLAINT)


async def test_a_phone_kept_past_the_retention_is_said_to_be_lost_and_the_ticket_still_opened(action_store):
    from sqlalchemy.orm import Session

    from hotline.tickets import get_ticket

    texts, events, _ = await run(ActionSubmitComplaint(), tracker(
        "确认", "affirm", slots=complaint(action_store, lifetime_minutes=-1)))
    number = slots(events)["ticket_number"]
    assert "超过保存时限" in texts[0] and "12320" in texts[0]
    with Session(bind=action_store) as s:
        assert get_ticket(s, number).phone is None


async def test_the_next_complaint_gets_the_next_number(action_store):
    _, first, _ = await run(ActionSubmitComplaint(), tracker("确认", "affirm", slots=complaint(action_store)))
    _, second, _ = await run(ActionSubmitComplaint(), tracker("确认", "affirm",
                                                              slots={**COMPLAINT, "complaint_phone": "不留"}))
    a, b = slots(first)["ticket_number"], slots(second)["ticket_number"]
    assert a[:12] == b[:12] and int(b[-4:]) == int(a[-4:]) + 1


async def test_an_unconfirmed_complaint_makes_no_ticket_and_forgets_the_phone(action_store):
    pending = pending_contacts(action_store)
    texts, events, _ = await run(ActionSubmitComplaint(), tracker(
        "先不提交", "deny", slots=complaint(action_store, complaint_confirmed=False)))
    assert "ticket_number" not in slots(events) and texts == []
    assert pending_contacts(action_store) == pending


def _confirmation(said_at: float, message_id: str) -> list[dict]:
    """The events of a complaint confirmed by 确认提交, as Rasa records them: the conversation so
    far (from the shared tracker store), then the confirming turn a Rasa server makes of the message."""
    asked = [{"event": "session_started", "timestamp": 1764400000.1},
             {"event": "action", "name": "action_listen", "timestamp": 1764400000.2},
             {"event": "user", "text": "我要投诉鼓楼医院", "timestamp": 1764400001.0, "message_id": "m0"},
             {"event": "active_loop", "name": "complaint_form", "timestamp": 1764400001.1},
             {"event": "bot", "text": "请确认您的投诉……确认提交吗？", "timestamp": 1764400009.5},
             {"event": "action", "name": "action_listen", "timestamp": 1764400009.6}]
    return [*asked, {"event": "user", "text": "确认提交", "timestamp": said_at, "message_id": message_id},
            {"event": "slot", "name": "complaint_confirmed", "value": True, "timestamp": said_at + 0.01},
            {"event": "slot", "name": "complaint_confirmed", "value": True, "timestamp": said_at + 0.02}]


async def test_a_failover_replay_of_the_confirmation_makes_one_ticket(action_store):
    """The Rasa server that ran the submission died before saving the conversation: the other server
    takes the same message from the same stored conversation, with a new event (time, id)."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from actions.dialogue import ActionAcknowledge
    from hotline.models import Ticket

    def count() -> int:
        with Session(bind=action_store) as s:
            return s.scalar(select(func.count()).select_from(Ticket))

    before = count()
    filled = complaint(action_store)
    texts, events, _ = await run(ActionSubmitComplaint(), tracker(
        "确认提交", "affirm", slots=filled, events=_confirmation(1764400012.25, "first-server")))
    number = slots(events)["ticket_number"]
    replay, replayed, _ = await run(ActionSubmitComplaint(), tracker(
        "确认提交", "affirm", slots=filled, events=_confirmation(1764400019.75, "second-server")))
    assert slots(replayed)["ticket_number"] == number
    assert "通过您留的电话联系您" in replay[0]  # the phone was read back by the first: the ticket has it
    # The submission's events were lost with its server: a bare yes later submits the same confirmation.
    later = [*_confirmation(1764400012.25, "first-server"),
             {"event": "action", "name": "action_listen", "timestamp": 1764400100.0},
             {"event": "user", "text": "好的", "timestamp": 1764400101.0, "message_id": "m9"}]
    yes, acknowledged, _ = await run(ActionAcknowledge(), tracker("好的", "affirm", slots=COMPLAINT, events=later))
    assert slots(acknowledged)["ticket_number"] == number and number in yes[0]
    assert count() == before + 1
    # Another complaint confirmed later in the conversation is another ticket.
    another = [*later, {"event": "slot", "name": "complaint_confirmed", "value": None, "timestamp": 1764400101.5},
               {"event": "bot", "text": "请确认您的投诉……确认提交吗？", "timestamp": 1764400150.0},
               {"event": "action", "name": "action_listen", "timestamp": 1764400150.1},
               {"event": "user", "text": "确认提交", "timestamp": 1764400155.0, "message_id": "m10"},
               {"event": "slot", "name": "complaint_confirmed", "value": True, "timestamp": 1764400155.1}]
    _, second, _ = await run(ActionSubmitComplaint(), tracker("确认提交", "affirm", slots=COMPLAINT, events=another))
    assert slots(second)["ticket_number"] != number and count() == before + 2


# --- a bare yes ---------------------------------------------------------------------------------

async def test_a_bare_yes_after_an_answer_is_never_silence(action_store):
    from actions.dialogue import ActionAcknowledge

    answered = [{"event": "session_started"}, {"event": "user", "text": "怎么预约挂号"},
                {"event": "bot", "text": "可以通过……"}]
    _, events, dispatcher = await run(ActionAcknowledge(), tracker("好的", "affirm", events=answered))
    assert [m.get("response") for m in dispatcher.messages] == ["utter_anything_else"] and events == []


async def test_a_yes_after_a_failed_submission_submits_the_complaint(action_store):
    """The store was down when the complaint was confirmed; the resident sends 确认 again."""
    from actions.dialogue import ActionAcknowledge

    texts, events, _ = await run(ActionAcknowledge(), tracker("确认", "affirm", slots=COMPLAINT))
    assert re.fullmatch(r"TS-\d{8}-\d{4}", slots(events)["ticket_number"])
    assert slots(events)["ticket_number"] in texts[0]


async def test_a_yes_opening_a_conversation_says_there_is_nothing_to_confirm(action_store):
    """A session that expired, or a conversation store out of reach: the yes refers to nothing known."""
    from rasa_sdk import Tracker

    from actions.dialogue import ActionAcknowledge

    fresh = Tracker("resident-1", {}, {"text": "确认提交", "intent": {"name": "affirm"}},
                    [{"event": "session_started"}, {"event": "user", "text": "确认提交"}], False, None, {}, "")
    _, events, dispatcher = await run(ActionAcknowledge(), fresh)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_nothing_to_confirm"] and events == []


async def test_the_complaint_confirmation_says_every_part_even_an_empty_one(action_store):
    from actions.complaints import ActionAskComplaintConfirmed

    texts, _, dispatcher = await run(ActionAskComplaintConfirmed(), tracker(
        "不留", "deny", slots={"complaint_hospital": "南京鼓楼医院", "complaint_description": None,
                              "complaint_time": "昨天下午", "complaint_phone": "不留"}))
    assert texts == ["请确认您的投诉：医院：南京鼓楼医院；经过：（未填写）；时间：昨天下午；联系电话：不留。确认提交吗？"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/affirm", "/deny"]
    texts, _, _ = await run(ActionAskComplaintConfirmed(), tracker(
        "13912345678", "inform", slots={"complaint_hospital": "南京鼓楼医院", "complaint_description": "态度差",
                                         "complaint_time": "昨天", "complaint_phone": "13912345678",
                                         "complaint_phone_masked": "139****5678"}))
    assert "联系电话：139****5678" in texts[0] and "13912345678" not in texts[0]


@pytest.mark.parametrize("text, intent, entities, said", [
    # a figure question the NLU took for a topic it cannot handle: the figure, or "not held"
    ("12320 2023 接通率", "out_of_scope", [entity("period", "2023")], "简报中没有"),
    ("儿童医院 周末门诊时间", "inform", [entity("hospital", "南京市儿童医院")], "简报中没有"),
])
async def test_a_figure_question_taken_for_another_topic_is_still_answered(action_store, text, intent, entities, said):
    from actions.dialogue import ActionOutOfScope

    texts, _, _ = await run(ActionOutOfScope(), tracker(text, intent, entities))
    assert said in texts[0]


async def test_a_hospital_written_short_after_one_in_full_is_the_one_that_shares_its_beginning(action_store):
    answer = await ask("南京市第一医院和第二医院2023年住院收入各是多少千元", entities=[entity("period", "2023")])
    assert "2449608.89" in answer and "1315415.23" in answer and "江苏省第二中医院" not in answer


async def test_a_lookup_taken_for_a_request_for_a_person_or_a_medical_question_is_answered(action_store, monkeypatch,
                                                                                        tmp_path):
    from actions.safety import ActionHumanHandoff, ActionMedicalAdvice

    _handoff_settings(monkeypatch, tmp_path)
    texts, _, dispatcher = await run(ActionHumanHandoff(), tracker("23人工服务", "human_agent", [entity("period", "2023")]))
    assert "226823" in texts[0] and not any(m.get("custom") for m in dispatcher.messages)
    texts, _, _ = await run(ActionMedicalAdvice(), tracker("2023 心理危机干预", "medical_question", [entity("period", "2023")]))
    assert "4083" in "\n".join(texts)
    # a request for a person that names a year is still one
    texts, _, dispatcher = await run(ActionHumanHandoff(), tracker("2023年的数据看不懂，转人工", "human_agent",
                                                                   [entity("period", "2023")]))
    assert not any("226823" in t for t in texts)


@pytest.mark.parametrize("intent, response", [
    ("out_of_scope", "utter_out_of_scope"), ("other_service", "utter_other_service"), ("deny", "utter_what_is_needed"),
])
async def test_a_topic_the_assistant_does_not_handle_gets_its_honest_response(action_store, intent, response):
    from actions.dialogue import ActionOutOfScope

    _, _, dispatcher = await run(ActionOutOfScope(), tracker("医保卡丢了怎么办", intent))
    assert [m.get("response") for m in dispatcher.messages] == [response]


# --- human handoff ---------------------------------------------------------------------------------

def _handoff_settings(monkeypatch, tmp_path, **env):
    import actions.safety
    from hotline.settings import Settings

    settings = Settings.from_env({"HOTLINE_VAR_DIR": str(tmp_path), **env})
    monkeypatch.setattr(actions.safety, "settings", lambda: settings)
    return settings


async def test_a_handoff_is_a_queue_entry_and_the_marker_names_it(action_store, monkeypatch, tmp_path):
    from sqlalchemy.orm import Session

    from actions.safety import ActionHumanHandoff
    from hotline import handoff

    settings = _handoff_settings(monkeypatch, tmp_path)
    texts, _, dispatcher = await run(ActionHumanHandoff(), tracker("转人工", "human_agent"))
    assert "转接人工坐席" in texts[0]
    marker = next(m["custom"] for m in dispatcher.messages if m.get("custom"))
    with Session(bind=action_store) as s:
        entry = handoff.get(s, marker["entry"])
        assert (entry.state, entry.channel, entry.crisis) == (handoff.WAITING, handoff.REST, False)
        assert entry.sender == handoff.sender_of(settings.secret_key, "resident-1")
    # Asked again: the same entry, not a second one.
    _, _, again = await run(ActionHumanHandoff(), tracker("人工", "human_agent"))
    assert next(m["custom"] for m in again.messages if m.get("custom"))["entry"] == marker["entry"]


async def test_a_handoff_after_a_crisis_keeps_the_numbers_and_is_flagged(action_store, monkeypatch, tmp_path):
    from sqlalchemy.orm import Session

    from actions.safety import ActionHumanHandoff
    from hotline import handoff

    _handoff_settings(monkeypatch, tmp_path)
    crisis = {"event": "user", "text": "不想活了", "parse_data": {"intent": {"name": "crisis"}}}
    texts, _, dispatcher = await run(ActionHumanHandoff(), tracker("转人工", "human_agent", events=[crisis]))
    said = "\n".join(texts)
    assert all(number in said for number in ("12320", "120", "110")), said
    marker = next(m["custom"] for m in dispatcher.messages if m.get("custom"))
    with Session(bind=action_store) as s:
        assert handoff.get(s, marker["entry"]).crisis


async def test_outside_the_hours_the_resident_is_told_and_given_12320(action_store, monkeypatch, tmp_path):
    from datetime import datetime, timedelta, timezone

    from actions.safety import ActionHumanHandoff

    now = datetime.now(timezone(timedelta(hours=8)))
    opens, closes = (now + timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=2)).strftime("%H:%M")
    _handoff_settings(monkeypatch, tmp_path, HOTLINE_HANDOFF_HOURS=f"{opens}-{closes}")
    texts, _, dispatcher = await run(ActionHumanHandoff(), tracker("转人工", "human_agent"))
    assert "不是人工坐席的服务时间" in texts[0] and "12320" in texts[0]
    assert not any(m.get("custom") for m in dispatcher.messages)  # nothing to transfer to


async def test_the_consoles_lookups_are_never_queued(action_store, monkeypatch, tmp_path):
    from actions.safety import ActionHumanHandoff

    _handoff_settings(monkeypatch, tmp_path)
    texts, _, dispatcher = await run(ActionHumanHandoff(), tracker("转人工", "human_agent", sender=CONSOLE))
    assert "转接人工坐席" in texts[0]
    assert [m["custom"] for m in dispatcher.messages if m.get("custom")] == [{"handoff": True}]


async def test_an_agents_bare_measure_in_the_console_is_its_figure(action_store, monkeypatch, tmp_path):
    """人工服务23 typed in the console: the hotline's calls answered by people in 2023, not a request for one."""
    from actions.safety import ActionHumanHandoff

    _handoff_settings(monkeypatch, tmp_path)
    texts, _, dispatcher = await run(ActionHumanHandoff(), tracker("人工服务23", "human_agent", sender=CONSOLE))
    assert "226823" in "\n".join(texts) and not any(m.get("custom") for m in dispatcher.messages)


async def test_a_handoff_breaking_off_a_complaint_forgets_its_phone_and_clears_the_form(action_store, monkeypatch,
                                                                                        tmp_path):
    from actions.safety import ActionHumanHandoff

    _handoff_settings(monkeypatch, tmp_path)
    pending = pending_contacts(action_store)
    filled = complaint(action_store, complaint_confirmed=None)
    assert pending_contacts(action_store) == pending + 1
    _, events, _ = await run(ActionHumanHandoff(), tracker("转人工", "human_agent", slots=filled))
    assert pending_contacts(action_store) == pending
    assert all(slots(events)[k] is None for k in COMPLAINT)
