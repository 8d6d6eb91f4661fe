"""The answering actions as plain async calls on trackers, against a real store (SQLite and
PostgreSQL, both seed bulletins ingested). Figures asserted here were typed from the bulletins."""
from __future__ import annotations

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


def entity(kind: str, value: str, **extra) -> dict:
    return {"entity": kind, "value": value, **extra}


def tracker(text: str, intent: str, entities=(), slots=None, events=()) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": 0.99},
               "entities": list(entities), "intent_ranking": []}
    return Tracker("resident-1", dict(slots or {}), message, list(events), False, None, {}, "action_listen")


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
    assert not re.search(r"\d{4,}次", texts[0])  # the refusal itself quotes no figure
    assert "2023年小计：385480次" in texts[1] and CITE_2023 in texts[1]  # then what is known
    assert slots(events)["stats_period"] is None


async def test_a_relative_period_is_resolved_against_today(action_store):
    texts, _, _ = await run(ActionStatistics(), tracker(
        "12320去年受理了多少电话", "ask_statistics",
        [entity("period", "last_year"), entity("measure", "受理咨询电话")]))
    assert f"去年（{date.today().year - 1}年）" in texts[0]
    assert "527519个" in texts[1]  # the latest the bulletins hold, said as such


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


async def test_booking_guidance_for_a_hospital_in_the_tables(action_store):
    texts, events, _ = await run(ActionBookingGuidance(), tracker(
        "鼓楼", "inform", slots={"booking_hospital": "南京鼓楼医院"}))
    assert "南京鼓楼医院在简报的预约挂号统计表中" in texts[0]
    assert "2023年预约挂号小计385480次" in texts[0] and "诊间预约63946次、第三方180304次" in texts[0]
    assert "健康南京APP" in texts[1] and "12320电话预约" in texts[1]
    assert "30%" in texts[2]  # the family-doctor rule
    assert slots(events) == {"booking_hospital": None}


async def test_booking_guidance_for_a_hospital_not_in_the_tables_invents_nothing(action_store):
    texts, _, _ = await run(ActionBookingGuidance(), tracker(
        "某某诊所", "inform", slots={"booking_hospital": "某某诊所"}))
    assert "没有找到“某某诊所”" in texts[0] and not re.search(r"\d", texts[0].replace("12320", ""))


async def test_booking_guidance_without_a_hospital_gives_the_channels(action_store):
    texts, _, _ = await run(ActionBookingGuidance(), tracker("不限", "deny", slots={"booking_hospital": "不限"}))
    assert len(texts) == 2 and "健康南京APP" in texts[0]


async def test_booking_channels_with_their_latest_figures(action_store):
    texts, _, _ = await run(ActionBookingChannels(), tracker("有哪些挂号渠道", "booking_channels"))
    assert "2023年各渠道预约数量：健康南京APP156287次" in texts[1] and CITE_2023 in texts[1]
    texts, _, _ = await run(ActionBookingChannels(), tracker(
        "健康南京app能挂号吗", "booking_channels", [entity("channel", "健康南京APP")]))
    assert "健康南京APP截至2023年底注册用户：323.78万人" in texts[1]


# --- medical questions ------------------------------------------------------------------------

@pytest.mark.parametrize("text,urgent", [
    ("我爸突然胸口疼得厉害 出冷汗", True), ("孩子抽搐了怎么办", True), ("老人叫不醒了", True),
    ("感冒了吃什么药", False), ("布洛芬一次吃几片", False),
])
async def test_medical_questions_get_no_diagnosis_and_120_first_when_urgent(action_store, text, urgent):
    texts, _, _ = await run(ActionMedicalAdvice(), tracker(text, "medical_question"))
    assert texts[-1].startswith("具体的病情和用药需要医生当面判断")  # no diagnosis, no dosage
    assert ("120" in texts[0] and len(texts) == 2) == urgent


# --- complaints -------------------------------------------------------------------------------

COMPLAINT = {"complaint_hospital": "南京鼓楼医院", "complaint_description": "挂号窗口工作人员态度恶劣",
             "complaint_time": "昨天下午", "complaint_phone": "13912345678",
             "complaint_phone_masked": "139****5678", "complaint_confirmed": True}


async def test_a_confirmed_complaint_becomes_a_ticket_with_its_number(action_store):
    from sqlalchemy.orm import Session

    from hotline.tickets import get_ticket

    texts, events, _ = await run(ActionSubmitComplaint(), tracker("确认", "affirm", slots=COMPLAINT))
    number = slots(events)["ticket_number"]
    assert re.fullmatch(r"TS-\d{8}-\d{4}", number) and number in texts[0]
    assert "13912345678" not in texts[0]
    with Session(bind=action_store) as s:
        ticket = get_ticket(s, number)
        assert (ticket.kind, ticket.status, ticket.hospital, ticket.phone) == \
            ("自接工单", "open", "南京鼓楼医院", "13912345678")
        assert ticket.sender and ticket.sender != "resident-1"  # a pseudonym, not the channel's id
    # The form's slots are cleared: the clear phone does not stay in the conversation.
    assert all(slots(events)[k] is None for k in COMPLAINT)


async def test_the_next_complaint_gets_the_next_number(action_store):
    _, first, _ = await run(ActionSubmitComplaint(), tracker("确认", "affirm", slots=COMPLAINT))
    _, second, _ = await run(ActionSubmitComplaint(), tracker("确认", "affirm",
                                                              slots={**COMPLAINT, "complaint_phone": "不留"}))
    a, b = slots(first)["ticket_number"], slots(second)["ticket_number"]
    assert a[:12] == b[:12] and int(b[-4:]) == int(a[-4:]) + 1


async def test_an_unconfirmed_complaint_makes_no_ticket(action_store):
    texts, events, _ = await run(ActionSubmitComplaint(), tracker(
        "先不提交", "deny", slots={**COMPLAINT, "complaint_confirmed": False}))
    assert "ticket_number" not in slots(events) and texts == []


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
