"""The rule layer of crisis detection: phrases and patterns that must never be missed, and the
idioms and statistics questions that only look like them.

The classifier alone is not trusted with a life: a message matching a danger pattern is a crisis
whatever the classifier says; a message whose only 'danger' is an idiom (烦死了, 笑死) or a question
about crisis statistics is not, unless it also matches a danger pattern.
"""
from __future__ import annotations

import re

_DANGER = [
    r"不想活|活不下去|活着(真|还)?(没|有什么|有啥)(意思|意义|用)|不如死|还不如死",
    r"想死|去死|寻死|求死|该死的是我|死了算了|死了就好|一死了之|想s(?![a-z])|想si\b",
    r"自杀|自尽|轻生|自残|自伤|伤害自己|割腕|割脉|划手腕|自sha|zisha|zi\s*sha",
    r"跳楼|跳河|跳江|跳桥|跳海|跳下去|从.{0,8}(楼|桥|天台).{0,4}(跳|跃)|站在.{0,6}(天台|楼顶|桥上|窗台|江边)",
    r"上吊|烧炭|喝农药|喝药|吃(了|光|下)?.{0,6}(安眠药|农药|老鼠药|敌敌畏|百草枯|整瓶|一瓶|一把药)|吞.{0,4}(药|刀片)",
    r"结束(我的|自己的|这条)?(生命|一切)|了结(自己|生命|一切)|结束自己|离开这个世界|(再也|永远)不想醒|(睡|闭上眼).{0,6}(别|不要|不想|不再)醒|永远睡(过去|着)",
    r"遗书|遗言|后事都?(安排|交代)好|(撑|熬)不下去了?.{0,6}(解脱|走了|死|活)|想(要)?解脱|一了百了",
    r"(没有我|我(走|死)了).{0,8}(更好|解脱|轻松)|我是(个|大家的)?累赘|拖累(大家|家人|所有人)",
    r"(他|她|孩子|朋友|同学|家人|老公|老婆|妈妈|爸爸|儿子|女儿).{0,8}(要|想|说要|准备|闹着)(自杀|跳楼|轻生|寻死|去死|喝药|割腕)",
    r"(打|要|想)(我|人)?.{0,4}(杀|砍)(了|死)?(我|他|她|人)|有人要杀我|被.{0,4}(打|砍|捅)(得|了).{0,6}(血|死)",
    r"流了?(好多|很多)血|喘不上气.{0,6}(要死|快死)|快不行了",
    r"活着(干嘛|干什么|干啥|有什么用|有啥用|图什么|图啥)|怎么死|死了(就|才|是不是)?.{0,4}(解脱|轻松|一了百了|好)",
    r"(我|要是我|如果我)(不在了|消失了?|走了|死了).{0,10}(轻松|更好|没关系|解脱|没人在乎|开心)|(还是|想|让我)消失(吧|算了|掉)?",
    r"永别了?|告别这个世界|来生再见|下辈子再见|最后(一次|一条)(消息|留言|跟你们)",
    r"(开着?|打开)煤气|煤气.{0,6}(开着|不想关|不关)|除草剂|洗洁精|消毒液.{0,4}(喝|吞)|(喝|吞)了?.{0,6}(消毒液|84|洁厕灵)",
    r"(弄|打|整)死我|(杀|砍|捅)了?我|要杀我|(跟踪|威胁)我.{0,10}(死|杀|砍)",
    r"(我|自己)(就是|只是|是)?(一个|个)?(负担|废物|多余的人)|没(有)?人需要我|不被需要",
    r"(江边|河边|海边|桥上|楼顶|天台|窗台|铁轨).{0,12}(不.{0,3}回|不想活|跳|最后|结束)",
    r"不想(再)?(活|撑|坚持)了?|撑不住了|熬不过去|没有活下去的|不想再痛苦",
]
_NOT_DANGER = [
    # 烦死了, 笑死, 累死了, 热死, 饿死, 气死我了, 困死, 吓死, 忙死, 冷死, 想死你了 (miss you), 死机, 卡死
    r"(烦|笑|累|热|饿|气|困|吓|忙|冷|疼|痛|丑|美|帅|急|馋|渴|闷|吵|憋|挤|晒|撑|乐|爽|懒|穷|慢|难|卷)(死|si)(了|我了|人了|啦|人|我|掉)?",
    r"想死(你|您|你们|他|她|大家|我们)了?",
    r"[\u4e00-\u9fff](得|的)(要死|要命|想死)",  # 差得要死, 疼得要命: intensifiers
    r"(死机|卡死|死循环|死磕|死心眼|死记硬背|死党|死角|死板|死胡同|死活(?=不|没)|要死不活|半死不活|死贵|死沉)",
    r"死亡(医学)?证明|死亡证|死亡率|死因|死亡人数|猝死.{0,6}(原因|怎么|预防)",
    r"跳楼(价|甩卖|大甩卖|促销)|打死我?也|(不敢|不会|不能|没敢)(跳|死)|(花|草|鱼|绿萝|植物|手机|电脑|电池).{0,4}死了",
    r"(电量|电池|手机|信号|网|系统).{0,4}(撑不下去|快不行了|不行了)",
    # Titles of books, films and songs (余华的《活着》), and talk about them.
    r"《[^》]{1,30}》|(书|小说|电影|电视剧|话剧|歌|作者|余华).{0,8}(活着|死)|(活着|死).{0,6}(这本书|那本书|这部|那部|这首|讲的|讲了|作者|读后感)",
    # Weariness of work or school, with no danger beside it: 不想上班, 躺平, 摆烂.
    r"不想(去)?(上班|上学|加班|开会|写作业|考试|工作|干活)|躺平|摆烂|想辞职|想回老家",
]
# Questions about crisis statistics: 2023年心理危机干预多少通, 自杀干预热线的数据.
_STATISTICS = re.compile(
    r"(心理危机|危机干预|自杀干预|轻生干预|心理援助).{0,12}(多少|几个|几通|数据|统计|数量|排名|占比|比例|同比|环比|电话量|人次|通)"
    r"|(多少|几个|几通|数据|统计|数量|排名).{0,12}(心理危机|危机干预|自杀干预)"
)
_DANGER_RE = re.compile("|".join(f"(?:{p})" for p in _DANGER), re.IGNORECASE)
_NOT_DANGER_RE = re.compile("|".join(f"(?:{p})" for p in _NOT_DANGER), re.IGNORECASE)


def _without_idioms(text: str) -> str:
    return _NOT_DANGER_RE.sub(" ", text)


def danger_phrase(text: str) -> str | None:
    """The phrase that makes the message a crisis, if any (idioms and statistics excluded)."""
    if _STATISTICS.search(text):
        text = _STATISTICS.sub(" ", text)
    m = _DANGER_RE.search(_without_idioms(text))
    return m.group(0) if m else None


def only_looks_like_crisis(text: str) -> bool:
    """An idiom or a statistics question, with no danger phrase beside it."""
    looks = bool(_NOT_DANGER_RE.search(text) or _STATISTICS.search(text))
    return looks and danger_phrase(text) is None


def statistics_question(text: str) -> bool:
    """A question about crisis statistics (2023年心理危机干预多少通)."""
    return bool(_STATISTICS.search(text))
