"""Short names derived by the rules of ../shared/domain.md, without a store."""
import pytest

from knowledge.names import derive_short_names, district_in_name, hospital_category, load_reference

DISTRICTS = [e.name for e in load_reference().districts]


@pytest.mark.parametrize("name,short", [
    ("江苏省人民医院", "省人医"),
    ("江苏省人民医院", "省人民医院"),
    ("南京市第一医院", "市一医院"),
    ("南京医科大学第二附属医院", "南医大二附院"),
    ("南京医科大学附属眼科医院", "南医大眼科医院"),
    ("东南大学附属中大医院", "中大医院"),
    ("南京市儿童医院", "儿童医院"),
    ("江苏省肿瘤医院", "省肿瘤医院"),
    ("南京市六合区人民医院", "六合人医"),
])
def test_rules_derive_the_names_residents_use(name, short):
    assert short in derive_short_names(name, DISTRICTS)


@pytest.mark.parametrize("name,never", [
    ("江苏省人民医院", "人民医院"),  # every district has one
    ("南京医科大学第二附属医院", "医科大学第二附属医院"),
    ("南京市第一医院", "第一医院"),
])
def test_rules_never_derive_generic_names(name, never):
    assert never not in derive_short_names(name, DISTRICTS)


def test_category_and_district():
    assert hospital_category("南京市口腔医院") == "口腔"
    assert hospital_category("中华门社区卫生服务中心") == "社区卫生服务中心"
    assert hospital_category("江苏省人民医院") == "综合"
    assert district_in_name("南京市高淳人民医院", DISTRICTS) == "高淳区"
    assert district_in_name("南京鼓楼医院南部院区(溧水)", DISTRICTS) == "溧水区"
    assert district_in_name("南京鼓楼医院", DISTRICTS) is None
