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
])
def test_a_turn_to_another_request_divides_the_message(text, parts):
    assert split_requests(text) == parts


@pytest.mark.parametrize("text", [
    "顺便问一下谢谢",  # nothing before the turn, too little after it
    "我还想问一下",
    "中大医院的医生态度很差，另外排队也很久，我要投诉",  # a story with two clauses: one request
    '/inform{"measure": "小计"}',  # a button's payload
    "鼓楼医院2023年预约量",
    "",
])
def test_a_message_without_a_turn_stays_whole(text):
    assert split_requests(text) == [text]
