"""Whole tables of both bulletins against values copied by hand from the printed bulletins.

These literals were typed from ../shared/seeds (not produced by the parser): a change in how a
table is read that alters any cell fails here.
"""
from decimal import Decimal

import pytest

# 2023 年度 12320 预约挂号服务统计: 单位, 12320在线预约, 快速预约, 诊间预约, 第三方, 小计
BOOKING_2023 = [
    ("南京市儿童医院", 41208, 5678, 1924980, 12031, 1983897),
    ("南京鼓楼医院", 125224, 16006, 63946, 180304, 385480),
    ("南京鼓楼医院江北国际医院", 15643, 1202, 10394, 20849, 48088),
    ("南京市第一医院", 16492, 1455, 0, 9020, 26967),
    ("南京市口腔医院", 12427, 896, 0, 9833, 23156),
    ("南京市中医院", 14416, 724, 0, 5793, 20933),
    ("江苏省中西医结合医院", 9658, 210, 0, 4810, 14678),
    ("南京市高淳人民医院", 7684, 948, 0, 5161, 13793),
    ("中国医学科学院皮肤病研究所", 12698, 593, 0, 29, 13320),
    ("南京市胸科医院", 11625, 193, 0, 1112, 12930),
    ("东南大学附属中大医院", 7579, 233, 0, 4376, 12188),
    ("南京医科大学第二附属医院", 2907, 83, 0, 4209, 7199),
    ("南京市中西医结合医院", 4577, 57, 0, 170, 4804),
    ("南京市妇幼保健院", 3711, 249, 0, 355, 4315),
    ("江苏省第二中医院", 2652, 163, 0, 934, 3749),
    ("南京市江宁医院(湖山路)", 1127, 40, 0, 2194, 3361),
    ("江苏省肿瘤医院", 2402, 247, 0, 571, 3220),
    ("南京市第二医院", 1996, 66, 0, 949, 3011),
    ("南京明基医院", 1570, 32, 0, 1132, 2734),
    ("南京市高淳中医院", 1636, 29, 0, 665, 2330),
    ("南京同仁医院", 1181, 19, 0, 1040, 2240),
    ("东部战区空军医院", 1255, 13, 0, 852, 2120),
    ("南京医科大学附属眼科医院", 1752, 22, 0, 299, 2073),
    ("南京雨花口腔医院", 1500, 4, 0, 280, 1784),
    ("江苏省人民医院", 951, 8, 0, 184, 1143),
    ("南京医科大学附属逸夫医院", 1024, 25, 0, 68, 1117),
    ("南京市六合区人民医院", 495, 2, 2, 490, 989),
    ("江苏省省级机关医院", 476, 9, 0, 222, 707),
    ("泰康仙林鼓楼医院", 448, 4, 0, 179, 631),
    ("南京鼓楼医院南部院区(溧水)", 367, 16, 0, 0, 383),
    ("南京江北医院", 113, 2, 0, 222, 337),
    ("南京市中心医院", 174, 0, 0, 5, 179),
    ("南京市栖霞区医院", 30, 2, 0, 54, 86),
    ("南京仁品耳鼻喉专科医院", 77, 1, 0, 0, 78),
    ("南京医科大学友谊整形外科医院", 48, 2, 0, 22, 72),
    ("南京市职业病防治院", 69, 1, 0, 0, 70),
    ("南京市溧水区中医院", 14, 0, 0, 50, 64),
    ("江苏省口腔医院", 0, 1, 0, 62, 63),
    ("南京市秦淮区中医医院", 48, 1, 0, 0, 49),
    ("南京梅山医院", 23, 0, 0, 13, 36),
    ("中央门社区卫生服务中心", 10, 0, 0, 0, 10),
    ("南京固生堂宁西中医", 8, 1, 0, 0, 9),
    ("南京市雨花医院", 9, 0, 0, 0, 9),
    ("南京医科大学第四附属医院(京新)", 4, 2, 0, 0, 6),
    ("宝塔桥社区卫生服务中心", 2, 0, 0, 0, 2),
    ("挹江门社区卫生服务中心", 2, 0, 0, 0, 2),
    ("南京市六合区中医院", 2, 0, 0, 0, 2),
    ("南京市浦口人民医院", 2, 0, 0, 0, 2),
    ("南京百年世家中医医院", 1, 0, 0, 0, 1),
]
BOOKING_2023_TOTAL = (307317, 29239, 1999322, 268539, 2604417)

# 2019年10月预约挂号服务统计表: 单位, 12320在线预约, 电话预约, 诊间预约, 第三方, 小计
BOOKING_2019 = [
    ("南京鼓楼医院", 43519, 34306, 23720, 63791, 165336),
    ("南京市儿童医院", 9513, 53938, 85602, 2450, 151503),
    ("南京市第一医院", 3332, 12003, 0, 492, 15827),
    ("南京市中医院", 1844, 2446, 4175, 1322, 9787),
    ("南京鼓楼医院江北国际医院", 2137, 1023, 471, 3084, 6715),
    ("南京市高淳人民医院", 1009, 4931, 0, 72, 6012),
    ("江苏省肿瘤医院", 1350, 3084, 0, 593, 5027),
    ("南京脑科医院", 2041, 1515, 796, 218, 4570),
    ("南京市妇幼保健院", 1986, 811, 0, 1326, 4123),
    ("东南大学附属中大医院", 1589, 1649, 0, 403, 3641),
    ("江苏省中西医结合医院", 1318, 1063, 0, 263, 2644),
    ("江苏省第二中医院", 595, 1316, 0, 170, 2081),
    ("南京市中西医结合医院", 571, 824, 0, 59, 1454),
    ("南京市第二医院", 600, 279, 0, 226, 1105),
    ("江苏省人民医院", 507, 199, 0, 195, 901),
    ("南医大二附院", 601, 173, 0, 118, 892),
    ("泰康仙林鼓楼医院", 405, 239, 0, 206, 850),
    ("南京市胸科医院", 392, 200, 0, 80, 672),
    ("东部战区总医院", 255, 266, 0, 151, 672),
    ("南京同仁医院", 168, 80, 0, 259, 507),
    ("八一医院", 139, 120, 0, 129, 388),
    ("南京市口腔医院", 204, 40, 0, 10, 254),
    ("东部战区空军医院", 78, 40, 0, 68, 186),
    ("南京市六合人民医院", 39, 53, 25, 49, 166),
    ("南京市浦口区中心医院", 87, 27, 0, 10, 124),
    ("南京市江宁区中医医院", 31, 13, 0, 56, 100),
    ("南京市栖霞区医院", 23, 40, 0, 36, 99),
    ("南京市江宁医院", 85, 13, 0, 0, 98),
    ("江苏省省级机关医院", 24, 13, 0, 6, 43),
    ("南京市高淳中医院", 21, 13, 0, 9, 43),
    ("南京博大肾科医院", 11, 13, 0, 11, 35),
    ("南京市江宁医院", 16, 0, 0, 9, 25),
    ("南京爱尔眼科医院", 20, 0, 0, 0, 20),
    ("南京市中心医院", 15, 0, 0, 1, 16),
    ("南京医科大学友谊整形外科医院", 8, 0, 0, 5, 13),
    ("南京市红十字医院", 4, 0, 0, 5, 9),
    ("南京市栖霞区妇幼保健院", 2, 0, 0, 5, 7),
    ("南京理工大学医院", 6, 0, 0, 0, 6),
    ("第二军医大学长征医院南京分院", 2, 0, 0, 3, 5),
    ("南京市青龙山精神病院", 2, 0, 0, 1, 3),
    ("南京邦德骨科医院", 1, 0, 0, 0, 1),
    ("南京市青龙山精神病院", 1, 0, 0, 0, 1),
]
BOOKING_2019_TOTAL = (74551, 120730, 114789, 75891, 385961)

CALLS_2023 = {  # 南京 12320 卫生热线 2023 年度数据统计
    "受理咨询电话": ("527519", "个"),
    "咨询类": ("103427", "个"),
    "医疗投诉": ("11807", "个"),
    "电话预约": ("173204", "个"),
    "人工服务": ("226823", "通"),
    "心理危机干预": ("4083", "通"),
    "自助语音问答": ("8175", "个"),
    "市12345工单": ("33531", "件"),
    "省12345工单": ("15372511", "件"),
    "自接工单": ("11807", "件"),
}
PROVINCE_2023 = {"南京": "527519", "苏州": "158679", "南通": "7309"}

CALLS_2019 = {
    "受理咨询电话": "145709",
    "咨询类（不含专家咨询）": "22333",
    "医疗服务投诉": "136",
    "电话预约": "120730",
    "专家在线答疑": "237",
    "心理危机干预": "258",
    "医院满意度调查（呼入）": "125",
    "自助语音问答": "1466",
    "市12345工单": "882",
    "省12345工单": "297",
}
PROVINCE_2019 = {"南京": "145709", "苏州": "20587", "南通": "2583", "镇江": "2137", "扬州": "2132",
                 "泰州": "957", "连云港": "276", "无锡": "120"}

CHANNELS_2023 = {"健康南京": "156287", "南京卫生12320微信": "145230", "我的南京客户端": "110085",
                 "12320快速预约": "29239", "江苏省预约挂号网": "12898", "南京卫生12320网": "5800",
                 "就医160": "731"}
CHANNELS_2019 = {"健康南京客户端": "45333", "南京卫生12320微信平台": "17551", "我的南京客户端": "12946",
                 "12320快速预约": "9083", "江苏省预约挂号网": "5751", "南京卫生12320网": "2584",
                 "就医160": "147", "微脉科技": "87", "电信手机": "1"}

COLUMNS_2023 = ("12320在线预约", "快速预约", "诊间预约", "第三方", "小计")
COLUMNS_2019 = ("12320在线预约", "电话预约", "诊间预约", "第三方", "小计")


def _table(parsed, section_part):
    return [f for f in parsed.figures
            if section_part in f.section and f.role in ("cell", "row_total") and "#" in f.group]


def _rows(figures, columns):
    """(subject, five values) in the table's order, as the bulletin prints them."""
    rows, current, line = [], None, None
    for fig in figures:
        if fig.line != line:
            current = [fig.subject, {}]
            rows.append(current)
            line = fig.line
        current[1][fig.measure] = fig.value
    return [(name, *(int(values[c]) for c in columns)) for name, values in rows]


def test_booking_table_2023_every_cell(parsed_2023):
    figures = _table(parsed_2023, "2023年度12320预约挂号服务统计")
    assert _rows(figures, COLUMNS_2023) == BOOKING_2023
    assert {f.unit for f in figures} == {"次"}
    assert {f.period for f in figures} == {"2023"}


def test_booking_table_2023_total_row(parsed_2023):
    totals = [f for f in parsed_2023.figures if f.role == "column_total" and "12320预约挂号" in f.section]
    assert [f.subject for f in totals] == ["南京市预约挂号平台"] * 5
    assert tuple(int(f.value) for f in totals) == BOOKING_2023_TOTAL
    assert [f.measure for f in totals] == ["12320在线预约", "快速预约", "诊间预约", "第三方", "合计"]


def test_booking_table_2019_every_cell(parsed_2019):
    figures = _table(parsed_2019, "2019年10月预约挂号服务统计表")
    assert _rows(figures, COLUMNS_2019) == BOOKING_2019
    assert {f.period for f in figures} == {"2019-10"}


def test_booking_table_2019_total_row(parsed_2019):
    totals = [f for f in parsed_2019.figures if f.role == "column_total" and "预约挂号服务统计表" in f.section]
    assert tuple(int(f.value) for f in totals) == BOOKING_2019_TOTAL


def test_call_statistics_2023(parsed_2023):
    calls = {f.measure: (f.value, f.unit) for f in parsed_2023.figures
             if f.subject == "南京12320卫生热线" and f.period == "2023"}
    assert calls == CALLS_2023
    province = {f.subject: f.value for f in parsed_2023.figures
                if f.subject_kind == "city" and f.measure == "接听电话"}
    assert province == PROVINCE_2023
    total = next(f for f in parsed_2023.figures if f.subject == "江苏省12320卫生热线")
    assert (total.measure, total.value, total.unit) == ("接听电话", "693507", "人次")


def test_call_statistics_2019(parsed_2019):
    calls = {f.measure: f.value for f in parsed_2019.figures if f.subject == "南京12320卫生热线"}
    assert calls == CALLS_2019
    province = {f.subject: f.value for f in parsed_2019.figures
                if f.subject_kind == "city" and f.measure == "接听电话"}
    assert province == PROVINCE_2019


@pytest.mark.parametrize("fixture,expected,total", [
    ("parsed_2023", CHANNELS_2023, "460270"),
    ("parsed_2019", CHANNELS_2019, "93483"),
])
def test_online_channel_tables(request, fixture, expected, total):
    parsed = request.getfixturevalue(fixture)
    figures = [f for f in parsed.figures if f.subject_kind == "channel" and f.measure == "预约数量"]
    assert {f.subject: f.value for f in figures} == expected
    # Side by side in print, in 序号 order in the store.
    assert [f.value for f in figures] == sorted((f.value for f in figures), key=int, reverse=True)
    (line,) = [f for f in parsed.figures if f.measure == "线上预约数量合计"]
    assert (line.subject, line.value) == ("南京市预约挂号平台", total)


def test_every_cell_of_every_table_is_a_figure(parsed_2023, parsed_2019):
    def cells(parsed, section):
        return sum(1 for f in parsed.figures if f.section.endswith(section) and "#" in f.group)
    # rows x value columns, plus the total rows
    assert cells(parsed_2023, "12320预约挂号服务统计") == 49 * 5 + 5
    assert cells(parsed_2023, "线上预约情况统计") == 7 + 1
    assert cells(parsed_2023, "数据采集情况(区)") == 12 * 7
    assert cells(parsed_2023, "数据采集情况(医院)") == 39 * 7
    assert cells(parsed_2019, "预约挂号服务统计表") == 42 * 5 + 5
    assert cells(parsed_2019, "分途径预约情况统计") == 9 + 1
    assert cells(parsed_2019, "数据采集情况（区）") == 12 * 9
    assert cells(parsed_2019, "数据采集情况（医院）") == 25 * 6
    assert cells(parsed_2019, "终端医院使用情况表") == (37 + 12) * 5 + 5


def test_upload_tables_with_garbled_headers_and_split_numbers(parsed_2023):
    row = {f.measure: f.value for f in parsed_2023.figures
           if f.subject == "溧水区" and "数据采集情况(区)" in f.section}
    assert row == {"定时数据上传量": "105492608", "实时数据上传天数": "337", "实时数据表单上传情况": "11/11",
                   "门急诊人次": "261011", "门急诊收入": "672153.37", "出院人次": "2508",
                   "住院收入": "1172199.23"}
    qinhuai = {f.measure: (f.value, f.number) for f in parsed_2023.figures
               if f.subject == "秦淮区" and "数据采集情况(区)" in f.section}
    assert qinhuai["门急诊收入"] == ("/", None)
    last = {f.measure: f.value for f in parsed_2023.figures
            if f.subject == "南京市一民医院" or f.subject == "南京一民医院"}
    assert last["定时数据上传量"] == "1398258" and last["住院收入"] == "127871.71"


def test_upload_tables_2019_merged_header(parsed_2019):
    row = {f.measure: (f.value, f.unit) for f in parsed_2019.figures
           if f.subject == "雨花台区" and "数据采集情况" in f.section}
    assert row == {
        "声明上传表/规定上传表": ("55/129", ""), "已上传表(CDA文档)": ("51", "份"),
        "数据上传量": ("14294412", "条"), "数据上传天数": ("23", "天"),
        "门急诊信息上传人次": ("114352", "人次"), "出院信息上传人次": ("479", "人次"),
        "健康档案累计上传总量·基本信息": ("601688", "份"), "健康档案累计上传总量·高血压": ("37074", "份"),
        "健康档案累计上传总量·糖尿病": ("11970", "份"),
    }
    pending = [f for f in parsed_2019.figures if f.subject == "江苏省人民医院" and f.measure == "声明上传表/规定上传表"]
    assert [f.value for f in pending] == ["未反馈/83"]


def test_self_service_terminals_2019(parsed_2019):
    terminals = [f for f in parsed_2019.figures if "终端" in f.section]
    first = {f.measure: f.value for f in terminals if f.subject == "江苏省人民医院"}
    assert first == {"投放台数": "200", "挂号": "52586", "挂号金额": "1230425.00", "缴费": "34580",
                     "缴费金额": "12672403.70"}
    assert {f.subject_kind for f in terminals if f.subject == "江宁区"} == {"district"}
    totals = {f.measure: f.value for f in terminals if f.role == "column_total"}
    assert totals == {"投放台数": "1485", "挂号": "799461", "挂号金额": "13924820", "缴费": "589253",
                      "缴费金额": "184666282"}


def test_prose_figures_2023(parsed_2023):
    def value(subject, measure, scope="cumulative"):
        (fig,) = [f for f in parsed_2023.figures
                  if f.subject == subject and f.measure == measure and f.scope == scope]
        return fig.value + fig.unit
    assert value("南京市卫生信息平台", "累计采集健康档案") == "810万份"
    assert value("南京市卫生信息平台", "居民主索引") == "2698万人次"
    assert value("南京市卫生信息平台", "调阅健康档案") == "404万次"
    assert value("南京市卫生信息平台", "调阅健康档案", "period") == "30万次"
    assert value("南京市卫生信息平台", "12320调阅", "period") == "3万次"
    assert value("南京市预约挂号平台", "累计完成预约挂号") == "3392万次"
    assert value("南京市预约挂号平台", "总预约挂号量") == "33920248次"
    assert value("南京市远程临检诊断平台", "上传检验报告") == "4.5亿份"
    assert value("南京市远程心电诊断监测平台", "会诊") == "超1.3万例"
    assert value("南京市远程影像诊断平台", "累计检查人次") == "603余万"
    assert value("南京市互联网医院", "线上处方") == "19万份"
    assert value("南京市从业人员体检信息系统", "生成电子健康证") == "191.69万张"
    assert value("南京市从业人员体检信息系统", "生成电子健康证", "period") == "62.62万张"
    assert value("南京市医疗一卡通", "通用医疗机构") == "140多家"
    assert value("医疗自助智能服务终端", "投入使用") == "2076台"
    assert value("健康南京APP", "注册用户") == "323.78万人"
    assert value("南京卫生12320微信公众号", "关注人数") == "129万人"
    assert value("南京市卫生信息平台", "区及医院累计校验入库数据") == "233.96亿条"


def test_platform_centres_and_rankings(parsed_2023, parsed_2019):
    assert parsed_2023.centres == {
        "南京市远程医学会诊平台": "南京鼓楼医院",
        "南京市远程临检诊断平台": "南京市第一医院",
        "南京市远程心电诊断监测平台": "省人民医院",
        "南京市远程影像诊断平台": "南京鼓楼医院",
    }
    ranks = [(f.subject, f.value) for f in parsed_2023.figures if f.measure == "南京市互联网医院预约量排名"]
    assert ranks == [("南京鼓楼医院", "1"), ("南京市儿童医院", "2"), ("南京市中医院", "3"),
                     ("南京市妇幼保健院", "4"), ("南京明基医院", "5"), ("健康网医师会第一诊所", "6")]
    uploads = {f.subject: f.value for f in parsed_2019.figures if f.measure == "南京市远程临检诊断平台数据上传量"}
    assert uploads == {"南京市第一医院": "218689", "南京医科大学第二附属医院": "108190", "高淳人民医院": "82441"}


def test_contact_block(parsed_2023, parsed_2019):
    for parsed in (parsed_2023, parsed_2019):
        contact = {f.measure: f.value for f in parsed.figures if f.role == "contact"}
        assert contact == {"地址": "南京市紫竹林3号", "邮编": "210003", "电话": "025-83626620",
                           "传真": "025-83626621", "E-mail": "njwsxx@163.com", "网址": "www.nj12320.org"}


def test_bulletin_metadata(parsed_2023, parsed_2019):
    assert (parsed_2023.series, parsed_2023.issue, parsed_2023.serial, str(parsed_2023.published),
            parsed_2023.period) == ("南京卫生信息化简报", "2024年第1期", "总第143期", "2024-01-28", "2023")
    # The 2019 file has no masthead: its issue number is unknown, and not made up.
    assert (parsed_2019.issue, parsed_2019.published, parsed_2019.period) == (None, None, "2019-10")


def test_numbers_are_exact(parsed_2023):
    fig = next(f for f in parsed_2023.figures if f.subject == "江苏省中医院" and f.measure == "门急诊收入")
    assert (fig.value, fig.number) == ("3958820.33", Decimal("3958820.33"))
    big = next(f for f in parsed_2023.figures if f.measure == "标准化入库数据")
    assert (big.value, big.number) == ("152亿", Decimal("15200000000"))
