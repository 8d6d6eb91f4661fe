"""The store on SQLite and on PostgreSQL: canonical subjects, aliases, idempotent ingest, periods."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge import queries
from database.engine import make_engine
from knowledge.models import Bulletin, Fact, Finding, Hospital, Platform
from knowledge.bulletin.parser import parse_bulletin
from knowledge.names import load_reference
from knowledge.ingest import ingest


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_every_parsed_figure_is_a_fact(session, parsed_2023, parsed_2019):
    assert _count(session, Fact) == len(parsed_2023.figures) + len(parsed_2019.figures)
    citations = sorted(b.citation for b in queries.bulletins(session))
    assert citations == ["《南京卫生信息化简报》2024年第1期", "《南京卫生信息化简报》（2019年10月数据，期号未载明）"]


def test_ingesting_the_same_bulletin_again_changes_nothing(session, parsed_2023):
    before = (_count(session, Fact), _count(session, Finding), _count(session, Hospital))
    result = ingest(session, parsed_2023, load_reference())
    assert result.status == "unchanged"
    assert (_count(session, Fact), _count(session, Finding), _count(session, Hospital)) == before


def test_a_later_issue_adds_its_period(session, seeds):
    text = seeds[0].read_text(encoding="utf-8")
    later = text.replace("2023", "2024").replace("2024年第1期", "2025年第1期").replace("41208", "51208")
    parsed = parse_bulletin(later.encode("utf-8"), "002_later.txt")
    result = ingest(session, parsed, load_reference())
    assert result.status == "added"
    figures = {f.period: f.value for f in queries.facts(session, subject="儿童医院", measure="12320在线预约")}
    assert figures == {"2019-10": "9513", "2023": "41208", "2024": "51208"}


def test_a_corrected_file_replaces_its_earlier_version(session, seeds):
    text = seeds[0].read_text(encoding="utf-8").replace("41208", "41209")
    parsed = parse_bulletin(text.encode("utf-8"), seeds[0].name)
    assert ingest(session, parsed, load_reference()).status == "replaced"
    values = [f.value for f in queries.facts(session, subject="南京市儿童医院", measure="12320在线预约",
                                             period="2023")]
    assert values == ["41209"]
    assert _count(session, Bulletin) == 2


@pytest.mark.parametrize("alias,canonical", [
    ("省人医", "江苏省人民医院"), ("省人民医院", "江苏省人民医院"), ("鼓楼", "南京鼓楼医院"),
    ("鼓楼医院", "南京鼓楼医院"), ("省中医院", "江苏省中医院"), ("省中医", "江苏省中医院"),
    ("中大医院", "东南大学附属中大医院"), ("市一医院", "南京市第一医院"), ("儿童医院", "南京市儿童医院"),
    ("二附院", "南京医科大学第二附属医院"), ("南医大二附院", "南京医科大学第二附属医院"),
    ("脑科医院", "南京脑科医院"), ("省肿瘤", "江苏省肿瘤医院"), ("同仁医院", "南京同仁医院"),
    ("高淳人民医院", "南京市高淳人民医院"), ("高淳人医", "南京市高淳人民医院"),
    ("南京江北人民医院", "南京市江北人民医院"), ("八一医院", "中国人民解放军第八一医院"),
    ("中科院皮研所", "中国医学科学院皮肤病研究所"), ("南医大眼科医院", "南京医科大学附属眼科医院"),
])
def test_short_names_resolve_to_one_hospital(session, alias, canonical):
    assert [h.name for h in queries.resolve(session, alias, kind="hospital")] == [canonical]


@pytest.mark.parametrize("alias,names", [
    ("口腔医院", ["南京市口腔医院", "江苏省口腔医院"]),
    ("江北", ["南京江北医院", "南京鼓楼医院江北国际医院"]),
    ("中医院", ["南京市中医院", "江苏省中医院"]),
])
def test_ambiguous_short_names_are_marked(session, alias, names):
    assert sorted(h.name for h in queries.resolve(session, alias, kind="hospital")) == sorted(names)
    assert queries.ambiguous_aliases(session)[("hospital", alias)] == sorted(names)


def test_a_curated_alias_taken_out_of_the_reference_leaves_the_store(session, parsed_2023):
    """reference.yml is the one place curated aliases live: an alias removed there (it named the
    wrong thing) must stop resolving after the next ingest, not linger in the store."""
    import dataclasses

    reference = load_reference()
    assert [h.name for h in queries.resolve(session, "南医大眼科", kind="hospital")] == ["南京医科大学附属眼科医院"]
    hospitals = tuple(dataclasses.replace(e, aliases=tuple(a for a in e.aliases if a != "南医大眼科"))
                      for e in reference.hospitals)
    ingest(session, parsed_2023, dataclasses.replace(reference, hospitals=hospitals), refresh=True)
    with pytest.raises(queries.NotFound):
        queries.resolve(session, "南医大眼科", kind="hospital")
    ingest(session, parsed_2023, reference, refresh=True)  # listed again: back
    assert [h.name for h in queries.resolve(session, "南医大眼科", kind="hospital")] == ["南京医科大学附属眼科医院"]


def test_unknown_name_raises_not_found(session):
    with pytest.raises(queries.NotFound):
        queries.resolve(session, "火星人民医院")


def test_variants_printed_in_both_bulletins_are_one_hospital(session):
    """南医大二附院 (2019 table) and 南京医科大学第二附属医院 (2023 table): one subject, both periods."""
    periods = {f.period for f in queries.facts(session, subject="南医大二附院", measure="12320在线预约")}
    assert periods == {"2019-10", "2023"}
    gulou = {f.period: f.value for f in queries.facts(session, subject="鼓楼", measure="小计")}
    assert gulou == {"2019-10": "165336", "2023": "385480"}


def test_hospital_dimension(session):
    hospitals = {h.name: h for h in queries.hospitals(session)}
    assert hospitals["南京市高淳人民医院"].district.name == "高淳区"
    assert hospitals["南京市口腔医院"].category == "口腔"
    assert hospitals["南京鼓楼医院"].district is None  # named after a place, not located by its name
    centres = {p.name: p.centre.name for p in session.scalars(select(Platform)) if p.centre}
    assert centres["南京市远程心电诊断监测平台"] == "江苏省人民医院"
    assert centres["南京市远程影像诊断平台"] == "南京鼓楼医院"


def test_facts_keep_value_unit_number_and_source(session):
    (fact,) = queries.facts(session, subject="南京市卫生信息平台", measure="累计采集健康档案")
    assert (fact.value, fact.unit, fact.number, fact.period, fact.scope) == (
        "810万", "份", Decimal("8100000"), "2023", "cumulative")
    assert fact.bulletin.source == "000_68f205511abf21ee.txt"


def test_suspect_figures_are_stored_flagged(session):
    (orders,) = queries.facts(session, subject="南京12320卫生热线", measure="省12345工单", period="2023")
    assert (orders.value, orders.flag) == ("15372511", "out_of_scale")
    jiangning = list(queries.facts(session, subject="南京市江宁医院", measure="小计", period="2019-10"))
    assert sorted(f.value for f in jiangning) == ["25", "98"]
    assert {f.flag for f in jiangning} == {"duplicate_row"}


def test_store_on_a_fresh_database_is_created_by_ingest(tmp_path, parsed_2019):
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'dir' / 'fresh.db'}", create=True)
    try:
        with Session(engine) as session, session.begin():
            ingest(session, parsed_2019, load_reference())
        with Session(engine) as session:
            assert _count(session, Fact) == len(parsed_2019.figures)
    finally:
        engine.dispose()
