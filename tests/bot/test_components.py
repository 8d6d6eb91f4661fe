"""The custom NLU components as Rasa runs them: created, trained into a model storage, loaded back."""
from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.crisis_guard import CrisisGuard
from bot.entities import DomainEntityExtractor
from bot.tokenizer import DomainJiebaTokenizer


@pytest.fixture
def storage(tmp_path):
    return LocalModelStorage(tmp_path)


@pytest.fixture
def context():
    return ExecutionContext(GraphSchema({}), "test")


def _trained_then_loaded(cls, gazetteer_path, storage, context, name):
    config = {**cls.get_default_config(), "gazetteer_path": str(gazetteer_path)}
    resource = Resource(name)
    component = cls.create(config, storage, resource, context)
    component.train(TrainingData())
    # Loading must not need the gazetteer file any more: what it needs is in the model.
    return cls.load({**config, "gazetteer_path": "/nonexistent"}, storage, resource, context)


@pytest.fixture
def tokenizer(gazetteer_path, storage, context):
    return _trained_then_loaded(DomainJiebaTokenizer, gazetteer_path, storage, context, "tok")


@pytest.fixture
def extractor(gazetteer_path, storage, context):
    return _trained_then_loaded(DomainEntityExtractor, gazetteer_path, storage, context, "ent")


def _tokens(tokenizer, text):
    return [(t.text, t.start, t.end) for t in tokenizer.tokenize(Message(data={TEXT: text}), TEXT)]


def test_hospital_short_names_stay_whole_tokens(tokenizer):
    assert _tokens(tokenizer, "我想挂省人医的号") == [
        ("我", 0, 1), ("想", 1, 2), ("挂", 2, 3), ("省人医", 3, 6), ("的", 6, 7), ("号", 7, 8)]


def test_domain_terms_and_offsets(tokenizer):
    text = "南京鼓楼医院江北国际医院2019年10月诊间预约"
    tokens = _tokens(tokenizer, text)
    assert tokens[0] == ("南京鼓楼医院江北国际医院", 0, 12)
    assert ("诊间预约", 20, 24) in tokens
    assert all(text[s:e] == t for t, s, e in tokens)
    channel = _tokens(tokenizer, "用南京卫生12320微信公众号预约")
    assert ("南京卫生12320微信公众号", 1, 15) in channel


def _entities(extractor, text):
    message = Message(data={TEXT: text})
    extractor.process([message])
    return [(e["entity"], text[e["start"]:e["end"]], e["value"]) for e in message.get(ENTITIES, [])]


@pytest.mark.parametrize("text,expected", [
    ("省人医2019年10月电话预约量多少", [("hospital", "省人医", "江苏省人民医院"), ("period", "2019年10月", "2019-10"),
                                    ("measure", "电话预约量", "电话预约")]),
    ("鼓楼医院去年诊间预约", [("hospital", "鼓楼医院", "南京鼓楼医院"), ("period", "去年", "last_year"),
                          ("measure", "诊间预约", "诊间预约")]),
    ("二附院怎么挂号", [("hospital", "二附院", "南京医科大学第二附属医院")]),
    ("鼓搂医院怎么预约", [("hospital", "鼓搂医院", "南京鼓楼医院")]),
    ("省人民医阮的号好难挂", [("hospital", "省人民医阮", "江苏省人民医院")]),
    ("江宁区19年10月的定时数据上传量", [("district", "江宁区", "江宁区"), ("period", "19年10月", "2019-10"),
                                   ("measure", "定时数据上传量", "定时数据上传量")]),
    ("健康南京app注册用户有多少", [("channel", "健康南京app", "健康南京APP"), ("measure", "注册用户", "注册用户")]),
    ("远程心电平台是哪家医院牵头", [("platform", "远程心电平台", "南京市远程心电诊断监测平台")]),
    ("我的电话13912345678", [("phone", "13912345678", "13912345678")]),
    ("座机025-84567890", [("phone", "025-84567890", "02584567890")]),
    ("十月份的呢", [("period", "十月份", "month:10")]),
    ("患者不用急着跑大医院", []),
    # a measure written with one same-sounding character (pinyin keyboards, voice input) ...
    ("鼓楼医院2023年诊涧预约", [("hospital", "鼓楼医院", "南京鼓楼医院"), ("period", "2023年", "2023"),
                           ("measure", "诊涧预约", "诊间预约")]),
    ("市一医院快束预约量", [("hospital", "市一医院", "南京市第一医院"), ("measure", "快束预约", "快速预约")]),
    # ... but not one that sounds otherwise: another measure, or none the bulletins print
    ("鼓楼医院线下预约", [("hospital", "鼓楼医院", "南京鼓楼医院")]),
    ("市一医院入院人次", [("hospital", "市一医院", "南京市第一医院")]),
])
def test_entities(extractor, text, expected):
    assert _entities(extractor, text) == expected


def test_ambiguous_short_names_are_marked(extractor):
    message = Message(data={TEXT: "口腔医院怎么预约"})
    extractor.process([message])
    (entity,) = message.get(ENTITIES)
    assert entity["value"] == "口腔医院" and entity["ambiguous"] is True
    assert entity["candidates"] == ["南京市口腔医院", "江苏省口腔医院"]


@pytest.mark.parametrize("text,expected", [
    # names heard, not read: as WeChat's voice recognition spells them (same pinyin, tones dropped)
    ("古楼医院怎么挂号", [("hospital", "古楼医院", "南京鼓楼医院")]),
    ("生人医的号好难挂", [("hospital", "生人医", "江苏省人民医院")]),
    ("将宁区的数据", [("district", "将宁区", "江宁区")]),
    # letters in either case
    ("健康南京App能挂号吗", [("channel", "健康南京App", "健康南京APP")]),
    # a branch without the place in brackets
    ("鼓楼医院南部院区怎么走", [("hospital", "鼓楼医院南部院区", "南京鼓楼医院南部院区(溧水)")]),
    # ordinary words that sound or look like a name are not one
    ("外地医保在南京住院能直接结算吗", []),
    ("我想问一下那个古楼", []),
    ("今天天气怎么样", []),
    # a heard name beats a slip of another (一夫 is 逸夫, not 一民); a slip that sounds like nothing
    # of a short name is no name (一下医院 is not 一民医院)
    ("一夫医院的收费窗口中午关门", [("hospital", "一夫医院", "南京医科大学附属逸夫医院")]),
    ("我想反映一下医院的问题", []),
    ("艾尔眼科医院怎么预约", [("hospital", "艾尔眼科医院", "南京爱尔眼科医院")]),
    # names residents give one hospital, and the ordinary words around them (reference.yml ordinary_words)
    ("妇幼的产科号怎么约", [("hospital", "妇幼", "南京市妇幼保健院")]),
    ("江宁妇幼在哪", []),
    ("市民卡在逸夫能刷吗", [("hospital", "逸夫", "南京医科大学附属逸夫医院")]),
    ("逸夫楼几点开门", []),
    ("全市一共完成了多少", []),
    ("职防院 预约", [("hospital", "职防院", "南京市职业病防治院")]),
    # two names of one subject that overlap are one name (not 泰康仙林 and 南京鼓楼医院)
    ("泰康仙林鼓楼怎么预约", [("hospital", "泰康仙林鼓楼", "泰康仙林鼓楼医院")]),
    # letters before 医院 in characters
    ("gl医院专家号咋约", [("hospital", "gl医院", "南京鼓楼医院")]),
    ("gulou医院怎么约", [("hospital", "gulou医院", "南京鼓楼医院")]),
])
def test_names_heard_not_read(extractor, text, expected):
    assert _entities(extractor, text) == expected


def test_a_misheard_name_that_fits_two_hospitals_is_marked_ambiguous(extractor):
    message = Message(data={TEXT: "钟西医结合医院怎么挂号"})
    extractor.process([message])
    (entity,) = message.get(ENTITIES)
    assert entity["ambiguous"] is True and entity["typo"] == "钟西医结合医院"
    assert entity["candidates"] == ["南京市中西医结合医院", "江苏省中西医结合医院"]


def test_alias_to_canonical_accuracy(extractor, gazetteer):
    """Every name of every hospital, alone and inside a sentence, resolves to its hospital (>= 0.97)."""
    cases = [(n, s["name"]) for s in gazetteer["subjects"] if s["kind"] == "hospital" for n in s["names"]]
    ambiguous = {n for n, _ in cases if sum(1 for m, _ in cases if m == n) > 1}
    right = total = 0
    for name, canonical in cases:
        if name in ambiguous:
            continue
        for text in (name, f"请问{name}怎么预约挂号", f"{name}2023年的预约量"):
            total += 1
            found = [v for k, _, v in _entities(extractor, text) if k == "hospital"]
            right += found == [canonical]
    assert total > 400
    assert right / total >= 0.97, f"{right}/{total}"


def _classified(guard, text, intent, ranking):
    message = Message(data={TEXT: text, INTENT: {"name": intent, "confidence": ranking[0][1]},
                            INTENT_RANKING_KEY: [{"name": n, "confidence": c} for n, c in ranking]})
    guard.process([message])
    return message.get(INTENT)["name"]


@pytest.mark.parametrize("text", ["挂不上号 算了 反正我也不想活了", "不想上班 也不想活了",
                                  "看完《活着》我也想结束自己", "我想从楼上跳下去", "吃了一整瓶安眠药",
                                  "我朋友说要自杀怎么办", "想紫砂了", "自sha", "想s", "wo bu xiang huo le",
                                  "I want to kill myself", "活著沒意思，想自殺"])
def test_danger_phrases_are_crises_whatever_the_classifier_says(text):
    guard = CrisisGuard(CrisisGuard.get_default_config())
    assert _classified(guard, text, "booking_howto", [("booking_howto", 0.9), ("crisis", 0.05)]) == "crisis"
    assert _classified(guard, text, "nlu_fallback", [("nlu_fallback", 0.6), ("complaint", 0.3)]) == "crisis"


@pytest.mark.parametrize("text,intent", [("烦死了", "out_of_scope"), ("笑死我了哈哈", "out_of_scope"),
                                         ("2023年心理危机干预多少通", "ask_statistics"),
                                         ("死亡证明怎么开", "out_of_scope"),
                                         ("余华写的书推荐一下 死亡主题的也行", "out_of_scope"),
                                         ("周一了 不想去上班 只想躺平", "out_of_scope")])
def test_idioms_and_statistics_are_not_crises(text, intent):
    guard = CrisisGuard(CrisisGuard.get_default_config())
    assert _classified(guard, text, "crisis", [("crisis", 0.7), (intent, 0.2)]) == intent



@pytest.mark.parametrize("text", ["活着真没意思", "我就是个多余的人"])
def test_hopelessness_alone_gets_the_check_in_whatever_the_classifier_says(text):
    guard = CrisisGuard(CrisisGuard.get_default_config())
    assert _classified(guard, text, "booking_howto", [("booking_howto", 0.9), ("crisis", 0.05)]) == "crisis_checkin"


def test_a_crisis_the_classifiers_are_sure_of_is_never_dropped():
    """The detector sees nothing, the intent classifiers are near certain: a check-in, not silence."""
    guard = CrisisGuard(CrisisGuard.get_default_config())
    assert _classified(guard, "今天的事情就这样吧", "crisis", [("crisis", 0.95), ("goodbye", 0.03)]) == "crisis_checkin"
    assert _classified(guard, "今天的事情就这样吧", "crisis", [("crisis", 0.6), ("goodbye", 0.3)]) == "goodbye"


def test_an_idiom_behind_a_low_confidence_fallback_is_not_offered_as_crisis():
    """The fallback asks the resident to choose between the two likeliest topics: crisis is not one."""
    guard = CrisisGuard(CrisisGuard.get_default_config())
    message = Message(data={TEXT: "累死了 今天排队排了三个小时", INTENT: {"name": "nlu_fallback", "confidence": 0.3},
                            INTENT_RANKING_KEY: [{"name": "nlu_fallback", "confidence": 0.3},
                                                 {"name": "crisis", "confidence": 0.26},
                                                 {"name": "complaint", "confidence": 0.2}]})
    guard.process([message])
    assert message.get(INTENT)["name"] == "nlu_fallback"
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["nlu_fallback", "complaint"]

def test_the_ensemble_averages_diet_with_the_regression(monkeypatch):
    """DIET says thanks 0.6, the regression greet 0.9: the mean says greet 0.65."""
    from bot.ensemble import IntentEnsemble

    monkeypatch.setattr(IntentEnsemble, "regression",
                        lambda self, messages: [{"greet": 0.9, "thanks": 0.1} for _ in messages])
    ensemble = IntentEnsemble.__new__(IntentEnsemble)  # no model storage needed for process()
    ensemble.config = {**IntentEnsemble.get_default_config(), "diet_weight": 0.5}
    message = Message(data={TEXT: "你好", INTENT_RANKING_KEY: [{"name": "thanks", "confidence": 0.6},
                                                             {"name": "greet", "confidence": 0.4}]})
    ensemble.process([message])
    assert message.get(INTENT)["name"] == "greet"
    assert [(r["name"], round(r["confidence"], 2)) for r in message.get(INTENT_RANKING_KEY)] == [
        ("greet", 0.65), ("thanks", 0.35)]


def _featurised(texts_and_intents, storage, context):
    """Messages through Rasa's own word CountVectorsFeaturizer, as in config.yml."""
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer  # tokens here: spaced text

    messages = [Message(data={TEXT: t, INTENT: i}) for t, i in texts_and_intents]
    data = TrainingData(training_examples=messages)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    featurizer = CountVectorsFeaturizer.create(CountVectorsFeaturizer.get_default_config(), storage,
                                               Resource("cv"), context)
    featurizer.train(data)
    featurizer.process_training_data(data)
    return data, (WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()), featurizer)


def test_the_tfidf_regression_is_saved_into_the_model_and_loaded_back(storage, context):
    from bot.ensemble import IntentEnsemble

    # "挂号" in every message is worth nothing; the rare words decide.
    data, (tokenizer, featurizer) = _featurised(
        [("挂号 怎么 预约", "booking_howto"), ("挂号 预约 步骤", "booking_howto"),
         ("挂号 投诉 医生", "complaint"), ("挂号 投诉 态度", "complaint")], storage, context)
    config = {**IntentEnsemble.get_default_config(), "tfidf": True, "C": 30}
    trained = IntentEnsemble.create(config, storage, Resource("ens"), context)
    trained.train(data)
    assert trained.idf is not None
    loaded = IntentEnsemble.load(config, storage, Resource("ens"), context)
    assert list(loaded.idf) == list(trained.idf)

    message = Message(data={TEXT: "挂号 投诉"})
    tokenizer.process([message])
    featurizer.process([message])
    assert max(loaded.regression([message])[0].items(), key=lambda kv: kv[1])[0] == "complaint"
    # The weighting is part of the model: the loaded regression sees what the trained one saw.
    assert loaded.regression([message]) == trained.regression([message])


def test_a_tfidf_model_without_its_idf_is_refused(storage, context, tmp_path):
    from bot.ensemble import IntentEnsemble

    data, _ = _featurised([("挂号 预约", "booking_howto"), ("投诉 医生", "complaint")], storage, context)
    plain = {**IntentEnsemble.get_default_config(), "tfidf": False}
    IntentEnsemble.create(plain, storage, Resource("old"), context).train(data)
    with pytest.raises(FileNotFoundError):
        IntentEnsemble.load({**plain, "tfidf": True}, storage, Resource("old"), context)


@pytest.fixture
def domain_featurizer(gazetteer_path, storage, context):
    from bot.featurizer import DomainFeaturizer

    return _trained_then_loaded(DomainFeaturizer, gazetteer_path, storage, context, "feat")


def _feature_names(featurizer, tokenizer, text):
    """{feature: [tokens carrying it]} of a message, from the features Rasa's classifiers get."""
    message = Message(data={TEXT: text})
    tokenizer.process([message])
    featurizer.process([message])
    sequence, sentence = message.get_sparse_features(TEXT)
    names = featurizer.FEATURES
    tokens = [t.text for t in message.get("text_tokens")]
    on = {names[j] for j in sentence.features.tocsr().indices}
    seq = sequence.features.toarray()
    return {n: [tokens[i] for i in range(len(tokens)) if seq[i, names.index(n)]] for n in sorted(on)}


def test_the_domain_features_tell_a_statistics_question_from_a_follow_up(domain_featurizer, tokenizer):
    assert _feature_names(domain_featurizer, tokenizer, "鼓楼医院2023年缴费金额") == {
        "hospital": ["鼓楼医院"], "period": ["2023", "年"], "measure": ["缴费金额"]}
    assert _feature_names(domain_featurizer, tokenizer, "2023年的呢") == {"period": ["2023", "年"]}


def test_the_domain_features_carry_the_crisis_rules_verdicts(domain_featurizer, tokenizer):
    assert "crisis_phrase" in _feature_names(domain_featurizer, tokenizer, "我不想活了")
    assert set(_feature_names(domain_featurizer, tokenizer, "今天排队累死了")) == {"crisis_lookalike"}
    assert "crisis_statistics" in _feature_names(domain_featurizer, tokenizer, "2023年心理危机干预多少通")
    assert _feature_names(domain_featurizer, tokenizer, "谢谢你") == {}


def test_a_changed_gazetteer_or_classifier_retrains_the_components_that_read_it(tmp_path):
    """Rasa reuses a component's cached training while its config and data are unchanged: names added
    to the store (or a retrained crisis classifier) must change the fingerprint, or the new model would
    keep the old names."""
    from rasa.engine.training.fingerprinting import calculate_fingerprint_key

    from bot.crisis_guard import CrisisGuard
    from bot.entities import DomainEntityExtractor
    from bot.featurizer import DomainFeaturizer
    from bot.tokenizer import DomainJiebaTokenizer

    file = tmp_path / "gazetteer.json"
    for component, key in ((DomainEntityExtractor, "gazetteer_path"), (DomainFeaturizer, "gazetteer_path"),
                           (DomainJiebaTokenizer, "gazetteer_path"), (CrisisGuard, "classifier_path")):
        config = {key: str(file)}
        file.write_text('{"subjects": [{"kind": "hospital", "name": "南京鼓楼医院", "names": ["鼓楼"]}]}', encoding="utf-8")
        before = calculate_fingerprint_key(component, config, {})
        assert calculate_fingerprint_key(component, config, {}) == before  # the same content: the cache holds
        file.write_text('{"subjects": [{"kind": "hospital", "name": "南京鼓楼医院", "names": ["鼓楼", "古楼"]}]}',
                        encoding="utf-8")
        assert calculate_fingerprint_key(component, config, {}) != before, component.__name__


def test_a_changed_rule_or_training_step_retrains_our_components(tmp_path, monkeypatch):
    """Rasa's cache knows a component by its class and config: a changed crisis rule (safety/) or DIET
    training step (bot/) must change every one of our components' fingerprints, or `make model` after
    the change would reuse what the old code trained."""
    from rasa.engine.training.fingerprinting import calculate_fingerprint_key

    from bot import fingerprint
    from bot.crisis_guard import CrisisGuard
    from bot.diet import QuickLoadingDIETClassifier
    from bot.ensemble import IntentEnsemble
    from bot.featurizer import DomainFeaturizer
    from bot.normaliser import TextNormaliser

    (tmp_path / "safety").mkdir()
    rule = tmp_path / "safety" / "crisis.py"
    rule.write_text('INTENT = r"不想活"\n', encoding="utf-8")
    monkeypatch.setattr(fingerprint, "ROOT", tmp_path)
    components = (DomainFeaturizer, CrisisGuard, QuickLoadingDIETClassifier, IntentEnsemble, TextNormaliser)
    fingerprint.source_fingerprint.cache_clear()
    before = {c: calculate_fingerprint_key(c, {}, {}) for c in components}
    rule.write_text('INTENT = r"不想活|活不下去"\n', encoding="utf-8")
    fingerprint.source_fingerprint.cache_clear()
    after = {c: calculate_fingerprint_key(c, {}, {}) for c in components}
    fingerprint.source_fingerprint.cache_clear()
    assert [c.__name__ for c in components if before[c] == after[c]] == []


def test_diet_trains_on_the_sentence_rows_alone_when_nothing_reads_the_tokens():
    """With no transformer layer, no entities and no masked tokens, DIET's loss reads only the sentence
    position: each message's token rows are cut to one (a faster `make model`), its sentence row kept."""
    import numpy as np
    import scipy.sparse
    from rasa.utils.tensorflow.constants import SEQUENCE, SEQUENCE_LENGTH, SENTENCE
    from rasa.utils.tensorflow.model_data import FeatureArray, RasaModelData

    from bot.diet import _first_token_only

    def ragged(matrices):
        rows = np.empty(len(matrices), dtype=object)
        for i, m in enumerate(matrices):
            rows[i] = m
        return FeatureArray(rows, number_of_dimensions=3)

    tokens = [scipy.sparse.coo_matrix(np.eye(n, 6)) for n in (4, 2, 7)]
    sentences = [scipy.sparse.coo_matrix(np.full((1, 6), n)) for n in (4, 2, 7)]
    data = RasaModelData(data={"text": {SEQUENCE: [ragged(tokens)], SENTENCE: [ragged(sentences)]}})
    data.add_lengths("text", SEQUENCE_LENGTH, "text", SEQUENCE)
    _first_token_only(data)
    assert [m.shape for m in data.data["text"][SEQUENCE][0]] == [(1, 6)] * 3
    assert all(m.format == "coo" for m in data.data["text"][SEQUENCE][0])
    assert list(data.data["text"][SEQUENCE_LENGTH][0]) == [1, 1, 1]
    assert [m.toarray()[0, 0] for m in data.data["text"][SENTENCE][0]] == [4, 2, 7]


def test_the_regression_trains_on_the_matrix_rasa_would_build():
    """IntentEnsemble builds its training matrix from the sentence rows directly (a faster `make model`):
    the same matrix as Rasa's own, featurisers side by side, dense features last."""
    import numpy as np
    import scipy.sparse
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
    from rasa.shared.nlu.training_data.features import Features
    from sklearn.linear_model import LogisticRegression

    from bot.ensemble import IntentEnsemble

    rng = np.random.default_rng(12320)
    messages = []
    for n in (3, 1, 6, 2):
        message = Message(data={"text": "x" * n, "intent": "greet"})
        for origin, width in (("words", 7), ("chars", 11)):
            message.add_features(Features(scipy.sparse.coo_matrix(rng.integers(0, 3, (n, width))), "sequence", "text", origin))
            message.add_features(Features(scipy.sparse.coo_matrix(rng.integers(0, 3, (1, width))), "sentence", "text", origin))
        message.add_features(Features(rng.random((1, 4)), "sentence", "text", "domain"))
        messages.append(message)
    ensemble = object.__new__(IntentEnsemble)
    ensemble.clf = LogisticRegression()  # not fitted: the training path
    fast = ensemble._counts(messages)
    rasa = LogisticRegressionClassifier._create_X(ensemble, messages).tocsr()
    assert fast.shape == rasa.shape == (4, 22)
    assert np.allclose(fast.toarray(), rasa.toarray())


class _Score:
    """The detector's classifier reduced to one score: what is tested is how the guard weighs it."""

    def __init__(self, value: float) -> None:
        self.value = value

    def score(self, text: str) -> float:
        return self.value


@pytest.mark.parametrize("text, intent", [("来世再见吧，各位", "goodbye"), ("算了，就这样吧，什么都不想要了", "cancel"),
                                          ("谢谢你们，以后不用再麻烦了", "thanks")])
def test_a_farewell_the_intents_read_as_small_talk_still_gets_the_check_in(text, intent):
    """The classifier alone (no danger signal) gives the check-in; a confident ordinary request clears it,
    a confident goodbye, thanks or never-mind does not: that is how a farewell is worded."""
    guard = CrisisGuard(CrisisGuard.get_default_config(), classifier=_Score(0.5))
    assert _classified(guard, text, intent, [(intent, 0.95), ("crisis", 0.02)]) == "crisis_checkin"
    assert _classified(guard, text, "booking_howto", [("booking_howto", 0.95), ("crisis", 0.02)]) == "booking_howto"


def test_a_fairly_sure_check_in_stands_against_a_confident_ordinary_request():
    """A crisis inside a booking reads as the booking to the intent classifiers: the detector's classifier,
    fairly sure, keeps the check-in; unsure, it yields."""
    text = "明天的专家号还有吗，挂完也就这样了"
    ranking = [("booking_howto", 0.95), ("crisis", 0.02)]
    sure = CrisisGuard(CrisisGuard.get_default_config(), classifier=_Score(0.85))
    unsure = CrisisGuard(CrisisGuard.get_default_config(), classifier=_Score(0.5))
    assert _classified(sure, text, "booking_howto", ranking) == "crisis_checkin"
    assert _classified(unsure, text, "booking_howto", ranking) == "booking_howto"


@pytest.fixture
def detail_guard(gazetteer_path, storage, context):
    from bot.detail_guard import DetailQuestionGuard

    return _trained_then_loaded(DetailQuestionGuard, gazetteer_path, storage, context, "detail")


@pytest.mark.parametrize("text,expected", [
    # a question about a detail the bulletins do not hold: where to get it, not the complaint form
    ("江宁医院住院押金要交多少钱", "other_service"),
    ("同仁医院整形科哪个医生技术好", "other_service"),
    ("鼓楼医院停车方便吗", "other_service"),
    # a grievance stays a complaint, whatever it asks
    ("为什么收费这么贵", "complaint"),
    ("鼓楼医院收费太黑了，哪里能投诉", "complaint"),
    ("一夫医院那个收费窗口中午就关了，让我们等到两点，这合理吗", "complaint"),
    # no unheld detail named: the classifiers' word stands
    ("我要投诉鼓楼医院", "complaint"),
])
def test_a_question_about_an_unheld_detail_is_no_complaint(detail_guard, text, expected):
    message = Message(data={TEXT: text, INTENT: {"name": "complaint", "confidence": 0.7},
                            INTENT_RANKING_KEY: [{"name": "complaint", "confidence": 0.7},
                                                 {"name": "other_service", "confidence": 0.2}]})
    detail_guard.process([message])
    assert message.get(INTENT)["name"] == expected
    assert message.get(INTENT_RANKING_KEY)[0]["name"] == expected
    assert len({r["name"] for r in message.get(INTENT_RANKING_KEY)}) == 2


def test_the_guard_leaves_other_intents_alone(detail_guard):
    message = Message(data={TEXT: "鼓楼医院停车方便吗", INTENT: {"name": "booking_howto", "confidence": 0.6}})
    detail_guard.process([message])
    assert message.get(INTENT)["name"] == "booking_howto"
