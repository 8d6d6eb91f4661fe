"""The normaliser as Rasa runs it (bot/normaliser.py): first in the pipeline, its tables and OpenCC's
dictionaries saved into the model, entity annotations moved with the text they mark."""
from __future__ import annotations

import json

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

import bot.normaliser
from bot.normaliser import TextNormaliser


@pytest.fixture
def trained(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    config = TextNormaliser.get_default_config()
    component = TextNormaliser.create(config, storage, Resource("norm"), context)
    component.train(TrainingData())
    return storage, context, config


@pytest.fixture
def normaliser(trained, monkeypatch):
    storage, context, config = trained

    # Loaded, it needs nothing of the installed package's data: OpenCC's dictionaries are in the model.
    def no_share():
        raise AssertionError("the loaded normaliser read OpenCC's dictionaries from the package")

    monkeypatch.setattr(bot.normaliser, "_opencc_share", no_share)
    return TextNormaliser.load(config, storage, Resource("norm"), context)


def _text(normaliser, text):
    message = Message(data={TEXT: text})
    normaliser.process([message])
    return message.get(TEXT)


@pytest.mark.parametrize("text,expected", [
    ("請問鼓樓醫院怎麼預約", "请问鼓楼医院怎么预约"),  # traditional characters
    ("１２３２０热线是干嘛的？？？", "12320热线是干嘛的?"),  # full-width digits, repeated punctuation
    ("谢谢谢谢！！！[强][强]", "谢谢谢谢!"),  # WeChat's codes
    ("在吗😊😊   我想问下挂号", "在吗 我想问下挂号"),  # emoji, whitespace
    ("嗯，那个，二零一九年十月，预约挂号，前三的医院？", "嗯,那个,2019年10月,预约挂号,前3的医院?"),
    ("一九年十二月份的数据", "19年12月份的数据"),
    ("排名前二十的医院", "排名前20的医院"),
    ("我电话是幺三九一二三四五六七八", "我电话是13912345678"),
    ("打一二三二零问问", "打12320问问"),
])
def test_messages_read_as_the_components_need_them(normaliser, text, expected):
    assert _text(normaliser, text) == expected


@pytest.mark.parametrize("text", [
    "三个月前挂的号",  # a span, not a month
    "前三天一直发烧",  # a span, not a ranking
    "二三级医院的检查能互认吗",  # not a number
    "我要去省人医",  # nothing to do
])
def test_words_that_only_look_like_numbers_are_left_alone(normaliser, text):
    assert _text(normaliser, text) == text


@pytest.mark.parametrize("text", ["👍", "[OK]"])
def test_an_emoji_alone_is_the_message(normaliser, text):
    # (nothing else to read: dropping it would leave the classifiers an empty message)
    assert _text(normaliser, text) == text


def test_the_intent_syntax_of_buttons_is_left_alone(normaliser):
    payload = '/inform{"hospital": "江蘇省人民醫院"}'
    assert _text(normaliser, payload) == payload


def test_training_entities_move_with_their_text(normaliser):
    text = "嗯😊，二零二三年  在鼓樓醫院排隊！！！"
    start = text.index("鼓樓醫院")
    message = Message(data={TEXT: text, ENTITIES: [
        {"entity": "hospital", "start": start, "end": start + 4, "value": "南京鼓楼医院"}]})
    data = TrainingData(training_examples=[message])
    normaliser.process_training_data(data)
    (entity,) = message.get(ENTITIES)
    assert message.get(TEXT) == "嗯 ,2023年 在鼓楼医院排队!"
    assert message.get(TEXT)[entity["start"]:entity["end"]] == "鼓楼医院"
    assert entity["value"] == "南京鼓楼医院"


def test_the_tables_are_the_models_not_the_codes(trained, monkeypatch):
    """A model reads text as it was trained to: its saved tables, whatever the code's are now."""
    storage, context, config = trained
    with storage.write_to(Resource("norm")) as directory:
        tables = json.loads((directory / "normaliser.json").read_text(encoding="utf-8"))
        tables["emoji_words"]["😊"] = "笑"
        (directory / "normaliser.json").write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")
    loaded = TextNormaliser.load(config, storage, Resource("norm"), context)
    assert _text(loaded, "好的😊") == "好的笑"
