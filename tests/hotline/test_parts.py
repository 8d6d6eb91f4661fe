"""Several requests in one message (hotline/parts.py): divided only where the resident turns to another."""
import pytest

from hotline.parts import split_requests


@pytest.mark.parametrize("text, parts", [
    ("省人医怎么预约？顺便问一下12320可以投诉医院吗", ["省人医怎么预约", "12320可以投诉医院吗"]),
    ("您好，我要投诉市一医院。另外问一下，脑科医院2023年预约了多少", ["您好，我要投诉市一医院", "脑科医院2023年预约了多少"]),
    ("12320公众号多少人关注 还想问下互联网医院能开药吗", ["12320公众号多少人关注", "互联网医院能开药吗"]),
    ("儿童医院预约量多少？順便問一下健康證哪裡辦", ["儿童医院预约量多少", "健康證哪裡辦"]),  # traditional
    ("鼓楼医院电话预约多少？顺便问下公众号多少人关注？还有个问题，怎么投诉",
     ["鼓楼医院电话预约多少", "公众号多少人关注", "怎么投诉"]),
    # looser turns, and a bare question mark, between two requests
    ("健康南京APP能挂号吗？另外鼓楼医院的投诉电话是多少", ["健康南京APP能挂号吗", "鼓楼医院的投诉电话是多少"]),
    ("自助机能打印报告吗，对了，市民卡在省中医院能用吗", ["自助机能打印报告吗", "市民卡在省中医院能用吗"]),
    ("互联网医院能开药吗？我要投诉儿童医院挂号处", ["互联网医院能开药吗", "我要投诉儿童医院挂号处"]),
])
def test_a_turn_to_another_request_divides_the_message(text, parts):
    assert split_requests(text) == parts


@pytest.mark.parametrize("text", [
    "顺便问一下谢谢",  # nothing before the turn, too little after it
    "我还想问一下",
    "中大医院的医生态度很差，另外排队也很久，我要投诉",  # a story with two clauses: one request
    "医生凭什么不给我看？问了好几次都说等着，最后还是回家了",  # rhetorical questions in a story
    "鼓楼医院去年预约了多少？只要这一个数，别的不用",  # the second part asks nothing
    "请问还有人工客服吗？我需要人工帮忙",
    '/inform{"measure": "小计"}',  # a button's payload
    "鼓楼医院2023年预约量",
    "",
])
def test_a_message_without_a_turn_stays_whole(text):
    assert split_requests(text) == [text]
