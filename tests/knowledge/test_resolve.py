"""Reading a statistics question against the store's names and measures (knowledge/resolve.py)."""
from __future__ import annotations

import pytest

from knowledge.resolve import Vocabulary


@pytest.fixture
def vocab(session) -> Vocabulary:
    return Vocabulary.load(session)


def names(question) -> list[str]:
    return [s.name for s in question.subject_list]


@pytest.mark.parametrize("text, foreign", [
    ("上海瑞金医院2023年预约量", "上海瑞金医院"),
    ("江苏省妇幼保健院预约挂号多少", "江苏省妇幼保健院"),   # not 南京市妇幼保健院
    ("苏州大学附属第一医院的预约量", "苏州大学附属第一医院"),  # not the city 苏州
    ("吴忠市12320热线接了多少电话", "吴忠市"),
    ("北京协和医院2023年预约量", "北京协和医院"),
    ("省老年医院 2023 预约小计", "省老年医院"),          # 年 of an age group, not of a period
])
def test_names_the_store_does_not_hold_are_foreign(vocab, text, foreign):
    question = vocab.read(text)
    # what the foreign name is part of is not asked about (the city 苏州, 南京市妇幼保健院)
    assert foreign in question.foreign and not set(names(question)) - {"南京12320卫生热线"}


@pytest.mark.parametrize("text, subject", [
    ("仙林鼓楼医院2023年第三方", "泰康仙林鼓楼医院"),      # the longer name the short one is part of
    ("泰康仙林鼓楼 第三方预约", "泰康仙林鼓楼医院"),
    ("南京市一医院的预约量", "南京市第一医院"),
    ("东部战区总院 自助机挂号", "东部战区总医院"),
    ("鼓楼23年第三方", "南京鼓楼医院"),                  # 鼓楼: the hospital residents mean
    ("鼓楼区门急诊人次", "鼓楼区"),
    ("19年10月份市儿童医院在线预约", "南京市儿童医院"),   # 份 is not part of the name
    ("2023年鼓楼医院预约量", "南京鼓楼医院"),             # 年 of a period is not part of the name
])
def test_hospital_names_as_people_write_them(vocab, text, subject):
    question = vocab.read(text)
    assert names(question) == [subject] and not question.foreign


def test_a_generic_hospital_is_no_name(vocab):
    question = vocab.read("2023年通过江苏省预约挂号网约南京医院的有多少")
    assert not question.foreign and names(question) == ["江苏省预约挂号网"]


def test_a_printed_header_beats_a_shorter_alias_it_overlaps(vocab):
    question = vocab.read("鼓楼医院 自助终端挂号金额")
    assert [family[0] for _, family in question.measures] == ["挂号金额"]


def test_scope_and_parts_of_a_year(vocab):
    assert vocab.read("截至2023年底累计采集健康档案").cumulative is True
    assert vocab.read("2023年度注册用人单位").cumulative is False
    assert vocab.read("2023年第一季度电话量").sub_period == "第一季度"
    assert vocab.read("2023年上半年预约量").sub_period == "上半年"
    assert vocab.read("2023年中大医院门急诊").sub_period is None   # 年中 here is 2023年 + 中大医院


def test_never_printed_measures_and_rates(vocab):
    assert vocab.read("鼓楼医院有多少张床位").unheld == ["床位"]
    assert vocab.read("12320医疗投诉的办结率").unheld == ["办结率"]


def test_a_hospital_name_one_character_off_another_is_not_taken_for_it(vocab):
    # 南京钟山医院 is one character off 南京梅山医院: answering with 梅山医院's figures would be a wrong
    # figure with a citation, so whatever the NLU heard, the name is not held
    heard = [{"entity": "hospital", "value": "南京梅山医院", "start": 0, "end": 6, "typo": "南京钟山医院"}]
    question = vocab.read("南京钟山医院2023年在线预约", heard)
    assert "南京钟山医院" in question.foreign and not names(question)


def test_a_misspelt_hospital_the_nlu_heard_replaces_the_city_inside_it(vocab):
    """南京市中医远 is 南京市中医院 with a slip, not the city 南京 and an unknown word (which was answered
    with the platform's total); 约南京医院 stays Nanjing's hospitals, whatever the NLU matched."""
    hint = {"entity": "hospital", "value": "南京市中医院", "start": 0, "end": 6, "typo": "南京市中医远"}
    assert names(vocab.read("南京市中医远2023年预约小计一共多少", [hint])) == ["南京市中医院"]
    text = "2023年通过江苏省预约挂号网约南京医院的有多少"
    start = text.index("南京医院")
    hint = {"entity": "hospital", "value": "南京市第一医院", "start": start, "end": start + 4, "typo": "南京医院"}
    assert "南京市第一医院" not in names(vocab.read(text, [hint]))


def test_the_province_set_against_nanjing_is_asked_too(vocab):
    """南京接听量vs全省: two subjects compared; 苏州12320 is Suzhou's row of the province's table."""
    assert set(names(vocab.read("2023南京接听量vs全省"))) == {"南京", "江苏省12320卫生热线"}


def test_the_vocabulary_outlives_the_session_that_read_it(engine):
    from sqlalchemy.orm import Session

    with Session(engine) as s:  # expires its instances on close: the vocabulary keeps plain values
        vocab = Vocabulary.load(s)
    question = vocab.read("鼓楼医院2023年预约量")
    assert [(s.kind, s.name) for s in question.subject_list] == [("hospital", "南京鼓楼医院")]


def test_a_hospital_heard_by_voice_input_is_that_hospital_never_a_total(vocab):
    """The NLU's same-sounding match (高纯 for 高淳, marked heard) beats reading it as a hospital outside
    the bulletins; a heard name the store does not hold leaves it foreign (no subject, no total)."""
    text = "高纯人民医院2023年预约量"
    hint = {"entity": "hospital", "start": 0, "end": 6, "typo": "高纯人民医院", "heard": True}
    assert "高纯人民医院" in vocab.read(text).foreign  # read alone: foreign
    question = vocab.read(text, [{**hint, "value": "南京市高淳人民医院"}])
    assert names(question) == ["南京市高淳人民医院"] and not question.foreign
    question = vocab.read(text, [{**hint, "value": "南京市火星人民医院"}])
    assert question.foreign == ["高纯人民医院"] and not names(question)
    question = vocab.read(text, [{**hint, "value": "南京市高淳人民医院", "heard": False}])  # a typo, not heard
    assert question.foreign == ["高纯人民医院"] and not names(question)


@pytest.mark.parametrize("text, measures", [
    ("19年10月 市12345 和 省12345 工单", ["市12345工单", "省12345工单"]),  # spaced, in the order asked
    ("鼓楼 23 在线vs快速预约", ["12320在线预约", "快速预约"]),            # vs, the tail 预约 shared
])
def test_measures_written_once_for_two(vocab, text, measures):
    assert [found[0] for _, found in vocab.read(text).measures] == measures


@pytest.mark.parametrize("text", ["12320人工服务平均等待时长 2023", "远程会诊平均多长时间能出结果"])
def test_durations_are_never_printed(vocab, text):
    assert vocab.read(text).unheld


def test_a_service_named_like_a_column_is_not_that_column(vocab):
    # 12320在线咨询 is no 12320在线预约 (an alias 12320在线 took it for the column: a figure for a service)
    assert not vocab.read("12320在线咨询怎么用").measures


@pytest.mark.parametrize("text, measure", [
    ("23年诊间预约合计", "诊间预约"),          # that column's total, not also the table's 合计
    ("2023预约表 第三方合计", "第三方"),
    ("2019年10月预约挂号合计里诊间预约是多少", "诊间预约"),
    ("2019年10月江苏省人民医院自助机投放多少台", "投放台数"),  # 放多少 is no question about slots here
])
def test_a_column_asked_with_its_total_is_that_column(vocab, text, measure):
    question = vocab.read(text)
    assert [found[0] for _, found in question.measures] == [measure] and not question.unheld


def test_a_district_and_hospital_is_none_of_its_hospitals_in_particular(vocab):
    """浦口医院: 浦口中医院 needs the fewest characters added, but three hospitals of 浦口 fit it: asked which."""
    question = vocab.read("浦口医院 23年 出院人次")
    [(mention, found)] = question.ambiguous
    assert mention.text == "浦口医院" and {s.name for s in found} == {
        "南京市浦口人民医院", "南京市浦口区中医院", "南京市浦口区中心医院"}
    assert names(vocab.read("江宁医院 出院人次")) == ["南京市江宁医院"]  # a name the store holds stays


def test_two_measures_sharing_their_first_words_are_both_asked(vocab):
    question = vocab.read("2019年10月自助机挂号和缴费合计各多少次？")
    assert [found[0] for _, found in question.measures] == ["挂号", "缴费"]


def test_all_told_with_no_period_is_the_running_total(vocab):
    assert vocab.read("南京一共生成过多少张电子健康证呀").cumulative is True
    assert vocab.read("2023年一共生成多少张电子健康证").cumulative is None


def test_a_month_and_a_year_named_apart_are_that_month(vocab):
    hints = [{"entity": "period", "value": "month:10"}, {"entity": "period", "value": "2019"}]
    question = vocab.read("南医大二附院那年十月（2019）预约小计是多少", hints)
    assert question.period == "2019-10" and question.periods == ["2019-10"]


@pytest.mark.parametrize("text", ["鼓楼医院江北国际医院怎么去", "南京鼓楼医院平均住院日是几天",
                                  "胸科医院 住院 要不要陪护证", "同仁医院的体检中心周六上班吗"])
def test_getting_there_stays_and_weekends_are_never_printed(vocab, text):
    assert vocab.read(text).unheld


def test_a_hospitals_12320_bookings_are_its_12320_column(vocab):
    question = vocab.read("鼓楼 23年 12320预约")
    assert names(question) == ["南京鼓楼医院"] and [f[0] for _, f in question.measures] == ["12320在线预约"]
    # the hotline's own bookings stay the hotline's question
    assert [f[0] for _, f in vocab.read("2023年12320预约多少").measures] != ["12320在线预约"]


@pytest.mark.parametrize("text, foreign", [("301医院2023年在12320上预约了多少", "301医院")])
def test_a_hospital_named_by_its_number_is_foreign_unless_held(vocab, text, foreign):
    assert foreign in vocab.read(text).foreign
    assert names(vocab.read("81医院 23年 预约")) == ["中国人民解放军第八一医院"]


def test_a_rank_before_hospitals_is_no_name_and_no_famous_doctor(vocab):
    question = vocab.read("19年10月电话预约最多的前三名医院")
    assert not question.foreign and not question.unheld and not question.subjects


def test_what_is_left_out_is_not_asked(vocab):
    question = vocab.read("2023年线上预约一共有多少（不算电话预约和诊间预约的）")
    assert [f[0] for _, f in question.measures] == ["线上预约数量合计"]


def test_an_amount_of_a_count_the_store_prints_is_not_held(vocab):
    assert vocab.read("23 互联网医院 线上处方金额").unheld == ["线上处方金额"]
    assert not vocab.read("2019年10月自助机挂号金额").unheld  # printed


@pytest.mark.parametrize("text", ["鼓楼 vs 儿童 23年 12320在线预约", "儿童 23 小计"])
def test_children_alone_in_a_lookup_is_the_childrens_hospital(vocab, text):
    assert "南京市儿童医院" in names(vocab.read(text))
    assert not names(vocab.read("儿童 疫苗 怎么约"))


def test_all_bookings_through_12320_are_the_total(vocab):
    question = vocab.read("请问南京市中医院2023年通过12320预约挂号一共有多少呀？")
    assert [f[0] for _, f in question.measures] != ["12320在线预约"]


# --- session 19 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, city", [
    ("2023年苏洲市12320接听了多少人次", "苏州"),   # a pinyin keyboard's 洲 for 州
    ("杨州市12320 2023接听", "扬州"),
    ("南同市2023年12320接听了多少人次", "南通"),    # a year between the city and 12320
])
def test_a_held_city_typed_by_its_sound_is_that_city(vocab, text, city):
    question = vocab.read(text)
    assert names(question) == [city] and not question.foreign


def test_an_unknown_city_before_12320_with_a_year_between_is_foreign(vocab):
    question = vocab.read("梧州市2023年12320接听了多少")
    assert question.foreign == ["梧州市"] and not set(names(question)) - {"南京12320卫生热线"}


def test_money_asked_of_a_printed_amount_is_held(vocab):
    question = vocab.read("鼓楼医院的自助机2019年10月挂号金额多少钱")
    assert not question.unheld and [f[0] for _, f in question.measures] == ["挂号金额"]
    assert vocab.read("在医院做一次胃镜大概要多少钱").unheld  # no amount printed: not held


def test_the_measure_a_question_word_is_bound_to_is_the_one_asked(vocab):
    question = vocab.read("南京的市民卡能在多少家医疗机构通用？")
    assert [f[0] for _, f in question.measures] == ["通用医疗机构"]
    both = vocab.read("市民卡和通用医疗机构各多少")  # two measures set side by side: both asked
    assert [f[0] for _, f in both.measures] == ["市民卡", "通用医疗机构"]


@pytest.mark.parametrize("text, measure", [
    ("南医大二附院2019年10月检验数据上传量是多少", "南京市远程临检诊断平台数据上传量"),  # not the hospital's 数据上传量
    ("2019年10月江苏省人民医院心电数据上传了多少份", "南京市远程心电诊断监测平台数据上传量"),
])
def test_a_remote_platforms_column_by_its_kind_of_record(vocab, text, measure):
    assert [f[0] for _, f in vocab.read(text).measures] == [measure]


@pytest.mark.parametrize("text", ["中大医院晚上有急诊吗？", "胸科医院 肺结核 定点吗", "省肿瘤体检中心电话", "省肿瘤放疗科在几号楼"])
def test_what_a_hospital_does_and_where_is_not_held(vocab, text):
    assert vocab.read(text).unheld


@pytest.mark.parametrize("text, subject", [
    ("您好，想知道江苏省肿瘤医院2023年走第三方渠道的预约量", "江苏省肿瘤医院"),  # 知道 is no part of the name
    ("咨询鼓楼医院的地址", "南京鼓楼医院"),
])
def test_a_verb_right_before_a_name_is_no_part_of_it(vocab, text, subject):
    question = vocab.read(text)
    assert names(question) == [subject] and not question.foreign


@pytest.mark.parametrize("text", ["2023年全部医院诊间预约加起来是多少呀", "19年10月全省各市12320接听最少两个",
                                  "截止2019年10月底区及医院累计校验入库多少数据"])
def test_every_hospital_or_city_is_no_place_the_store_lacks(vocab, text):
    assert not vocab.read(text).foreign


def test_a_year_before_hospital_is_no_hospitals_number(vocab):
    question = vocab.read("2023医院住院收入前三")
    assert not question.foreign and [f[0] for _, f in question.measures] == ["住院收入"]


def test_a_place_word_ends_the_place_before_a_name(vocab):
    question = vocab.read("溧水那边鼓楼医院南部院区2023年12320在线约了多少号？")
    assert not question.foreign and "南京鼓楼医院" in names(question)[-1]
