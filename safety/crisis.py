"""Crisis detection: how much a message says that someone may harm themselves, as one of three tiers.

Pure Python, no Rasa: the NLU pipeline (bot/crisis_guard.py) and the WeChat gateway (web/wechat)
run the same ``assess``, so a person in crisis is answered even when Rasa is down.

How a verdict is reached (docs/crisis.md):
- **Danger signals**, read on the normalised text (language/normalise.py: traditional characters,
  full-width forms, emoji): a stated intent (想死, 自杀, slang such as 紫砂, pinyin, English), a plan
  or means (pills saved up, charcoal and sealed windows, a rope, a lethal dose looked up, a note),
  a place with a jump or a goodbye, a farewell, a third person at risk; and hopelessness (活着没
  意思, 我是累赘, 撑不下去) with a time (今晚) as a modifier. Each pattern is written so that the
  idioms built on the same words (想死你了, 笑死, 跳楼价, 自杀率统计) do not match it.
- **A classifier** of crisis against everything else (safety/classifier.py), trained on the NLU data
  and safety/data (lookalikes as hard negatives), for the phrasings no pattern lists.
- **Exclusions** (idioms, statistics and study questions, titles, death paperwork) lower the
  classifier's score, and only where no signal is present: they never remove a signal's verdict.

Tiers: HIGH (the full protocol) on a danger signal, or on hopelessness with a time or a classifier
score near certainty; POSSIBLE (a caring check-in) on hopelessness alone or a classifier score above
its threshold; the classifier alone raises the full protocol only when it is near certain and no
exclusion is present; NONE otherwise.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from language.normalise import normalise


class Tier(enum.IntEnum):
    NONE = 0
    POSSIBLE = 1  # a short caring check-in, with the numbers; the resident goes on
    HIGH = 2  # the full crisis protocol


def _any(*patterns: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# Relatives a person may say they will "go to" (去找我外公，外公去年去世了).
_ELDERS_RISK = r"外公|外婆|爷爷|奶奶|姥姥|姥爷|爸爸|妈妈|老伴|老公|老婆|儿子|女儿|孩子"

# --- danger signals -------------------------------------------------------------------------------------
# Words that turn 自杀/轻生 into a topic (statistics, prevention, a title), not a person's intent.
_TOPIC_AFTER = (r"(?![\"”’」']?(?:率|干预|预防|热线|俱乐部|研究|统计|数据|新闻|事件|案例|现象|问题|论文|课|讲座|培训|风险|倾向|评估|"
                r"的人数|人数|者家属|小说|电影|高危|未遂|宣传|暗语|史|的学生|的病人|的患者|行为|青少年|的?科普|治疗|口径|量表|门诊|"
                r"患者|病人|病例|占比|和|与|在统计|满))")
_TOPIC_BEFORE = r"(?<!预防)(?<!干预)(?<!防止)(?<!识别)(?<!关于)(?<!研究)(?<!统计)(?<!讨论)(?<!科普)(?<!反)(?<!防)"

# Intent phrases as pinyin typists write them: full syllables (spaces optional) or, for four
# syllables or more, the initials alone (bxhl = 不想活了).
_PINYIN_PHRASES = (
    "bu xiang huo le", "zhen bu xiang huo le", "wo bu xiang huo le", "si le suan le", "bu ru si le", "xiang qu si",
    "huo gou le", "bu xiang huo", "yi liao bai liao", "li kai zhe ge shi jie", "xiang jie tuo", "bu xiang zai xing lai",
    "xiang zi sha", "xiang tiao lou", "huo zhe mei yi si", "bu xiang zai huo le", "jin tian jiu qu si", "jin wan jiu qu si",
    "wo xiang qu si", "zhen de xiang si", "wo xiang si", "hao xiang si",
    # session 19: the slang 去见太奶 typed in pinyin
    "qu jian tai nai", "xiang jian tai nai",
)


def _pinyin(phrases: tuple[str, ...]) -> str:
    spelled = [" ?".join(p.split()) for p in phrases]
    initials = ["".join(w[0] for w in p.split()) for p in phrases if len(p.split()) >= 4]
    # a particle may follow, written on (zhendexiangsile)
    return (r"(?<![a-z])(?:" + "|".join(spelled + sorted(set(initials), key=len, reverse=True))
            + r")(?: ?(?:le|la|a|ya|ba|ne))?(?![a-z])")


_PINYIN = _pinyin(_PINYIN_PHRASES)

INTENT = _any(
    # 想死 but not 想死你了 / 想死我了 (miss you): the idiom has its object right after.
    r"(?:好|真|很|就|我|是|都|只)?(?:(?<!不)想死(?=在)|想死(?!在|你|您|他|她|大家|宝宝|我了|我啦|人了|了你))",
    r"想去死|恨不得(?:现在就|马上|立刻|今天就)?(?:去)?死(?:掉|了算了)|(?<!想)去投胎了|寻死|寻短见|求死|不如死了?|还不如死|[死四4亖]了算了|没能?死成|这次没死|死了就好|死了干净|一死了之|早点死|让我死|(?<![你他她])去死(?!吧你)",
    r"不想活|不打算(?:再)?活|不准备(?:再)?活|活不下去|(?<!笑)不活了|活够了|不想再活|不要活了|没法活了|活不成了|活唔落去|唔想活|唔想再活|死咗(?:就好|算|好过)|谂住死|想死咗",
    r"(?:跟|和|向)这个世界(?:说)?(?:声)?(?:拜拜|再见|告别|道别)|(?:这条|我这条|老子这条)命(?:我)?(?:也|都)?不(?:想)?要了(?![，,]?(?:也|都)(?:要|得|会))|"
    r"(?:是时候|我想|好想|想|我要|我也想)(?:去)?(?:天上)?(?:当|做|变成)(?:一颗)?(?:星星|天使)|(?:躺|住|钻)进(?:小盒子|盒子里|棺材|骨灰盒)|(?:那天|那晚|当天|今晚|明晚|之后|以后)(?:就)?动手(?!术)|"
    r"(?<![蹦伞水远高绳])跳(?:下去)?之前.{0,10}(?:说说话|有人|最后|见)",
    # 自杀 as an act someone means (想自杀, 要轻生, 自杀了吧), not as a topic (自杀率, 自杀守门人培训).
    r"(?:想|要|准备|打算|去|试图|尝试|企图|差点|曾经|又想|总想|一直想|会|计划|决定|宁愿|只能|干脆)(?:要|去)?(?:自杀|轻生|自尽)"
    + _TOPIC_AFTER,
    r"(?:我|就|干脆|还不如)(?:去)?(?:自杀|轻生)(?=了|吧|算了|得了|[，。,.!！?？~…]|$)",
    _TOPIC_BEFORE + r"(?:自尽|自残|自伤)" + _TOPIC_AFTER,
    r"我.{0,8}(?:自杀|轻生)未遂",
    # session 17: 轻生 as voice input writes it (清生), euthanasia booked for oneself, a grave as one's home
    r"(?:想|要|准备|打算)(?:要|去)?(?:清生|青生|氢生)|安乐死[^。]{0,12}(?:给自己|为自己|我自己)|(?:给自己|为自己)(?:预约|安排|做)?(?:一个|一次)?安乐死|"
    r"(?:让|帮|给|替)我(?:去)?安乐死|提前(?:去)?(?:殡仪馆|火葬场)|去(?:殡仪馆|火葬场)排(?:队|号)|(?:我想|我要)(?:去)?(?:做|预约)?安乐死(?!.{0,6}(?:狗|猫|宠物))|(?:墓|坟墓|坟|墓地|骨灰盒|棺材)[^。？?]{0,6}(?:是|才是|就是)?我的(?:归宿|家)|我的归宿(?:是|就是|在)?.{0,4}(?:墓|坟|骨灰|棺材)",  # the person's own attempt (自杀未遂者 as a topic is not)
    r"伤害自己|割腕|割脉|(?:划|割)了?(?:手腕|手臂|胳膊|自己)|又(?:划|割)了|杀了我自己|杀死自己|弄死自己|了结自己|结束自己",
    r"(?:自己)(?:掐|打|撞|咬|烫)(?:出来)?的?(?:淤青|伤|疤)|(?:掐|撞|咬)自己|控制不住.{0,6}(?:伤害|划|割)自己?",
    r"(?:自杀|轻生|寻死|想死|死)的(?:念头|想法|冲动)|(?:怎么|如何|怎样)(?:才能)?(?:自杀|轻生)|(?:自杀|死)(?:才)?(?:不疼|不痛)|"
    r"(?:搜|查|找|问|看)(?:了|过)?(?:一下|很多)?.{0,4}(?:自杀|轻生|怎么死)的?(?:方法|方式|办法|教程)|"
    r"(?:去|该去|要去)天堂(?:报道|报到)|西天.{0,4}报到|我(?:现在)?就?需要(?:帮助|心理危机|危机干预|救命)|"
    r"(?<!不是)(?<!并不是)(?<!没有)(?<!没)想不开|(?:自己|自我)?了断|(?:拿着|拿|揣着)(?:菜)?刀.{0,10}(?:门|等我|找我|砍)|(?<!简直)(?<!真是)(?<!真的)(?<!真的是)要我的命|要杀了我|"
    r"死给(?:你们|你|他们|他|她|大家)看|原地去世.{0,10}(?:不是开玩笑|认真|真的)|今晚就去世|不用吊唁|想早点走|早点走了?(?:好|也好|算了|干净)|(?:走了|离开)算了|"
    # session 18: said to be no joke before the idiom (不是玩梗，真想原地去世); the way already chosen
    r"(?:不是|没(?:有)?|并非)(?:在)?(?:玩梗|开玩笑|说笑|说着玩)[^。？?]{0,10}(?:原地去世|去世|想死|不想活|死了算了)|(?:已经|都)想好(?:了)?(?:要)?怎么(?:做|走|死|结束|动手|了断)|"
    # session 19: a restart chosen (主动重开), no more need of a doctor after tonight, one's own cut asked about
    r"主动(?:重开|下线)|(?:(?:今晚|今天|今夜|明天|这周)(?:之后|以后|过后)|过了(?:今晚|今天))[^。？?]{0,4}(?:就)?(?:再也)?不(?:需要|用)(?:再)?(?:看病|看医生|挂号|吃药|治疗?)|"
    r"自己(?:割|划|弄|烫)的(?:手腕|手臂|胳膊|伤口?|口子)|"
    r"(?:不要|别|不用)(?:再)?(?:救|抢救)我(?!的)|(?:能不能|可不可以|会不会|能)?让我(?:一觉)?(?:睡过去|睡着就不醒|永远睡着?)|"
    r"(?:过马路|开车).{0,8}(?:不躲|想撞|想冲)|(?:冲|开)进(?:江|河|湖|海)里|冲下(?:桥|悬崖)|活不过今晚|活不到(?:明天|那天|下周)|不知道能不能活到",
    # danger from someone else (110): threats to kill, violence at home
    r"(?:要|想|说要|话要|扬言)(?:杀|砍|劈|斩|捅|弄死|打死)(?:死)?(?:我|我们|我全家|我们全家)|家暴.{0,12}(?:不敢回|找我|打我|逃)|(?<!练拳)(?<!比赛)(?<!拳击)被.{0,4}打得.{0,6}(?:血|住院|昏)",
    r"结束(?:我的|自己的|这条)?生命|了结(?:生命|此生|一切)|结束(?:这一切|一切)|离开这个世界|告别这个世界|去另一个世界|不想(?:再)?醒来",
    # passive death wishes: not waking up, ending it all, a way out
    r"想(?:要)?(?:解脱|一了百了|一睡不醒|永远睡|睡过去|永远离开)|(?:再也|永远)不(?:想|要)醒|一了百了|(?:不要|别)再(?:醒过来|醒来|睁开)|"
    r"死了(?:是不是)?(?:就|就能|才能|也就)?(?:解脱|轻松)|让我走吧|今晚就走|没脸活|不配活",
    # a future cut short, inside an ordinary request (不会有明年, 周五我应该已经不需要看医生了)
    r"(?:不会有|没有)(?:明年|以后|将来)|等不到(?:那天|明天|下周|下个月)|"
    r"我(?:也|可能|怕是|恐怕|大概)*等不到(?:周[一二三四五六日天末]|星期[一二三四五六日天]|下次|过年|春节|生日|开学|出结果)|要是我.{0,6}还能来|用不了多久了?|"
    r"(?:那天|明天|周[一二三四五六日天]|下周).{0,6}(?:应该)?(?:已经)?不(?:需要|用)(?:看医生|再看)|没(?:力气|时间)(?:也没(?:力气|时间))?等(?:结果)?|"
    r"(?:之后|以后|过后|明天|今晚|下周|月底)(?:就|也就)?(?:没有?我了|没我这个人了)|世上(?:就)?(?:没有?我了|再没有我)|"
    r"(?:号码|手机号?).{0,6}过(?:两|几)天就(?:注销|停)|省得家里人到时候|提前(?:跟|和)家里交代|过了今天.{0,8}(?:没我什么事|不在)|"
    r"以后带(?:他|她).{0,8}就是(?:他|她)(?:爸|妈)|身后的?(?:医疗)?费用|退出人生|永久隐身|人生也\s?1%|飞一下试试|黄线外",
    # online slang and homophones; emoji read as words (想自🔪 → 想自刀), pinyin inside characters
    r"想自(?:刀|死|杀|s)|(?:想|要)?tiao ?(?:lou|he|jiang|qiao|hai|楼|河|江|桥|海)|想跳(?:lou|he|jiang)|永远关机|直接走掉|会不会走掉|"
    r"ge ?wan|zi ?can|shang ?hai ?zi ?ji|(?:xiang|yao|zhun ?bei|da ?suan) ?chi ?an ?mian ?yao|chi (?:le )?(?:hen duo|yi ping|quan bu|suo you) ?an ?mian ?yao|shao ?tan|shang ?diao|yi ?zheng ?ping|chi le yi ping|"
    r"紫砂|自鲨|紫杀|自沙|紫沙|自撒|自刹|自sha|zisha|zi sha|(?<![a-z])zs(?![a-z])|想s(?![a-z])|想si(?![a-z])|想4(?!\d)|"
    r"(?<![a-z])(?:wbxhl|wxzs|wxsl|wbxh)(?![a-z])|不想\s?huo|(?<![a-z])unaliv(?:e|ing)|(?:研究|查|搜|想)怎么\s?sui(?![a-z])|想\s?sui(?![a-z])|自s(?:未遂|了)",
    r"(?:去|要去|该去)(?:找|见)阎王|(?:去|要去|想去|该去)(?:阴曹)?(?:地府|黄泉|阎王殿)(?!.{0,4}(?:游戏|副本|剧本))|(?:想|要|去)亖|亖了算了|"
    r"领盒饭.{0,8}(?:拜拜|再见|永别|告别)|(?:准备|打算|要)提前下线|(?:人走了|走了以后|去世).{0,20}(?:我)?(?:打算|准备|决定)(?:这个月|这周|今晚|明天|月底|下周)(?:就)?走|"
    r"带着?(?:孩子|宝宝|儿子|女儿|娃).{0,4}一起(?:走|死|跳|去死)|找到(?:了)?解脱的(?:办法|方法|路)|找到(?:了)?出路了?.{0,10}(?:解脱|结束)|(?:要|想|去|说要)(?:去)?喝(?:弄|浓)药|"
    r"(?:门口|楼顶|面前|大厅)喝(?:农)?药|我就(?:去|要)?.{0,8}喝(?:农)?药(?!吗|呢|前|后|的)|唔想做人|烧烤.{0,10}不是吃的|不是吃的那种烧烤|"
    rf"(?:要|想)?去(?:找|陪|见)(?:我)?的?(?:{_ELDERS_RISK})[^。？?]{{0,14}}(?:去世|过世|走了|不在了)|"
    # session 19: 去找我们去世的妈妈 (the death said before the relative)
    rf"去(?:找|陪|见)(?:我们|我|咱|他们|他|她)?的?(?:去世|过世|死去|已故|走了)的?(?:{_ELDERS_RISK})|"
    r"把自己(?:饿|冻|淹|勒|闷|毒|烧|摔|撞)死|(?:饿|冻|淹|勒|闷|毒)死(?:我)?自己|(?:退出|注销|卸载)(?:群聊)?[（(]?(?:人生|地球|这个世界)|[（(]人生版[）)]|(?<![a-z])ctb(?![a-z])|"
    r"我知道(?:哪个|哪种|哪一个|哪一种)(?:最快|最不疼|最不痛)|阎王(?:爷)?(?:那里?|那儿)?(?:报到|报道|喝茶)|润(?:出|离)(?:地球|这个世界|人间)|(?:高点|高一点|高的|最高的)的?地方.{0,8}(?:自由落体|往下跳|飞一下)|"
    r"想(?:进|躺)?墓(?!地|碑价)|自嘎|见太奶|见太奶奶|去见太奶|鼠鼠想鼠|想嘎了?(?:自己)?|想(?:四|死|4|si)一(?:四|死|4|si)|嘎了自己|删号重(?:开|练)(?!.{0,6}(?:游戏|角色|账号))|人生重开|吃我(?:的)?(?:席|白事)|(?:天堂|阴间|那边).{0,8}单程票|单程票.{0,8}(?:天堂|阴间|那边|另一个世界)|桥 ?浪(?!漫|花|潮)|(?<![a-z])bxhl(?![a-z])|(?<![a-z])wxs(?![a-z])|不想活惹",
    # pinyin (normalise() drops the tones): the phrases below, spaced or not, and their initials
    r"bu ?xiang ?huo|xiang ?si(?![a-z])|(?<![a-z])qu ?si(?![a-z])|想\s(?:si|s|die)(?![a-z])|想die(?![a-z])|zi ?sha|qing ?sheng|jie ?shu ?sheng ?ming|huo ?bu ?xia ?qu",
    _PINYIN,
    # English
    r"kill(?:ing)? myself|suicidal|(?:commit|committing|attempt|attempted|thinking (?:about|of)) suicide|end (?:it all|my life|everything|things)|(?:wants?|wanted|wanna|going) to die|(?<![a-z])(?:wanna|wana|gonna) die(?![a-z])|"
    r"don'?t want to (?:live|be alive|be here|exist)|no reason to live|better off dead|take my (?:own )?life|"
    r"hurt(?:ing)? myself|self[- ]harm|cut(?:ting)? myself|not (?:be )?(?:here|alive) (?:anymore|tomorrow)|"
    r"goodbye forever|disappear forever|(?<![a-z])kms(?![a-z])|kill me now|cut again|cut (?:deeper|myself again)|can'?t stop the bleeding",
)
# Medicines people save up (by name, without the word 药: 舍曲林我一直没吃，全都存着)
_PSYCH_DRUGS = (r"舍曲林|氟西汀|帕罗西汀|西酞普兰|文拉法辛|度洛西汀|米氮平|阿普唑仑|艾司唑仑|佐匹克隆|唑吡坦|地西泮|氯硝西泮|"
                r"劳拉西泮|喹硫平|奥氮平|碳酸锂|曲唑酮")
MEANS = _any(
    r"(?:攒|存(?!在)|囤|集|备|(?<!西)藏)(?:了|好|够|下)?(?:(?!过期)[^，。？?]){0,8}(?:安眠药|药片|药|农药|百草枯|敌敌畏)(?!.{0,12}(?:怎么处理|扔|回收|处置))|药.{0,4}攒够|"
    r"(?:安眠药|药片|止痛药|降压药|药|" + _PSYCH_DRUGS + r").{0,14}(?:攒|囤|存(?!放|储|在|疑))(?:着|起来|一些|一点|够|下来)",
    # session 18: a poison bought online (亚硝酸钠到了), a jump asked in English
    r"(?<!腌)(?<!腊)(?:买|收到|到货|到了|快递|囤)[^。？?]{0,8}亚硝酸钠(?![^。？?]{0,10}(?:腌|腊|香肠|肉|食品|添加|超标))|"
    r"亚硝酸钠(?:(?!腌|腊|肉|香肠)[^。？?]){0,6}(?:到了|收到|买到|多少克|几克|致死)(?![^。？?]{0,10}(?:腌|腊|香肠|肉|食品|添加|超标))|"
    r"(?:does it|would it|will it) hurt to (?:jump|hang|die)|jump(?:ing)? (?:off|from) (?:the |a )?(?:\d+(?:st|nd|rd|th) floor|roof|bridge|building)",
    r"(?:过量|药|车库|发车|炭).{0,16}会不会(?:有人|被人)发现|车库.{0,8}(?:关门|关上门).{0,6}(?:发车|打火|发动)|药.{0,24}(?:算|数)了?(?:一下|一遍|好几遍).{0,6}够不够|吃药之前.{0,10}(?:说说话|说句话|聊聊)|"
    r"药[^，。？?]{0,4}(?:全部|全都|一次性?全|全)吞(?:了|下)|我(?:一次|一口气|一下子)(?:性)?(?:全|都)?(?:吃|吞)了.{0,8}(?:洗(?:了)?胃|抢救|救回来)|"
    r"(?:一个月|半个月|一周|一星期|一盒|一瓶|所有|全部)的药.{0,6}(?:一次|一口气|一下子)(?:性)?(?:全|都)?(?:吃|吞)|"
    r"(?:一次|一口气|一下子)(?:性)?(?:全|都)(?:吃|吞)(?:了|掉|光|完)?.{0,6}(?:会怎么样|会怎样|会死|会出事|能死)",
    r"(?<!误)(?<![猫狗])(?<!好像)(?<!不小心)(?<!是不是)(?<!怀疑)(?<!可能)(?:喝|吃|吞)了?.{0,6}(?:敌百虫|敌敌畏|农药|百草枯|老鼠药|鼠药|除草剂|洁厕灵|消毒液)|(?:吃|吞)了(?:很多|好多|一堆|一大把|一把|大量)的?药|"
    r"(?:喝|吃|吞)多少.{0,6}(?:会出事|出事|没命)|(?:几十|几百|一百|上百|整瓶|一整瓶|一瓶)(?:片|粒|颗)?.{0,6}会(?:怎么样|怎样|出事|死)|"
    r"(?:刀片|美工刀|刀).{0,14}不是(?:做|用来|为了|拿来)",
    r"(?:药|处方|片)[^。？?]{0,16}(?:一次性|一口气|一下子)(?:全|都)?(?:吃|吞)(?:完|光)|(?:买|弄|搞)到?[^。？?]{0,8}药[^。？?]{0,12}(?:一次(?:性)?|一下)(?:就)?(?:解决|了结|结束)",
    r"(?:一瓶|整瓶|一整瓶|一把|一盒|一整盒|一堆|几十片|一百片|所有的?药|全部的?药)(?:(?!当糖|当成|误)[^，。？！?!,.]){0,6}(?:吃|吞|喝)(?!错|完了?还|完了?没)",
    r"(?<!误)(?<!不小心)(?:吃|吞)了(?:\d{2,}|[几二三四五六七八九]?十[几多]?|一百|上百)多?(?:片|粒|颗)|(?:吃|吞|喝)了(?:一整盒|一盒|一把|一堆|一瓶|整瓶|一整板|一板|两板|几板)|开了?煤气.{0,10}(?:睡|不关|关窗|关门|死|比较快|快不快|最快|疼不疼|痛不痛|要多久)",
    r"(?:第[二三四五六七八九几两\d]次|又一次|再次|(?<!孩子)又)(?:偷偷)?吞(?:了)?(?:药|安眠药|药片|一把药)",
    r"(?:吃|吞|喝)(?:了|掉|光|下)?.{0,4}(?:一整瓶|整瓶|一把|全部|所有|几十片|一百片)(?:的)?(?:安眠药|药)",
    r"(?:致死|致命)(?:剂)?量|lethal dose|overdose on|how much .{0,24}(?:would|will|to) kill|(?:where|how) (?:can|do) i (?:buy|get) (?:paraquat|cyanide)|"
    r"多少(?:毫克|mg|克|单位|支)?[^，。？！?!,.]{0,8}(?:致死|会死|能死|(?<!得)要命|死人|醒不过来|不会醒|昏迷不醒)|(?:会|能)?(?:要命|致命)吗.{0,6}(?:要|得)?(?:喝|吃)多少|过量.{0,12}(?:要|得)?吃多少|"
    r"(?:掉|跳|下)(?:下)?去.{0,4}(?:能|会)活|(?:多高|几楼|楼层).{0,10}(?:够|能)(?:死|摔死)|(?:几楼|多少层|\d+楼|[一二三四五六七八九十]+楼)(?:够不够|够)高|"
    r"(?:最深|最高).{0,8}(?:没有人|没人)|(?:哪里|哪儿|哪).{0,6}(?:河|江|湖|水).{0,4}最深|(?:楼顶|天台)(?:能|可以)上去|"
    r"(?:一次|一下)(?:吃|吞)(?:\d{2,}|[二三四五六七八九]十|几十)(?:片|粒|颗)|"
    r"(?:不同|几家|好几家|几个)(?:医院|药店|药房).{0,12}(?:开|拿|买)(?:了)?.{0,4}(?:安眠药|药)|多存一些.{0,8}(?:药|片)|怕被问|"
    r"(?:药|除草剂|农药).{0,10}够了吧|效果(?:会)?更彻底|(?:救不回来|睡着不醒|睡了不醒)|药已(?:经)?下肚|找好(?:了)?绳|门窗(?:都)?贴好|"
    r"(?:刀片|美工刀).{0,12}袖子|(?:氯化钾|安眠药|农药|百草枯|刀片|绳子|药瓶).{0,10}(?:看了很久|看了好久|盯着看了|发呆了很久)|"
    r"(?:拿|带)(?:回|回了)(?:家)?.{0,8}氯化钾|氯化钾.{0,8}(?:推|注射|打进)|袖子(?:先)?放下来|(?:药|pills?)\s?[x×]\s?\d{2,}|"
    # session 19: medicines fetched and never taken, kept for a day; cuts in rows explained away
    r"(?:开|拿|买)了?[^。？?]{0,8}(?:药|片)[^。？?]{0,16}(?:没吃|没舍得吃|一直没吃|都没吃)[^。？?]{0,12}(?:为了|等着?|留着|攒|存)|"
    r"(?:手腕|手臂|胳膊|大腿|腿)上.{0,6}(?:一道一道|一条一条|好几道|好多道|一道道|一条条)|说是猫抓的.{0,10}(?:没猫|没有猫|没养猫|不养猫)|"
    # session 19: a time and a means alone (今晚🪢, read 今晚绳)
    r"^\s*(?:今晚|今夜|今天|明天|现在|就今晚)[\s,，]*(?:绳|刀|药|炭)[\s。.!！]*$|"
    r"扎(?:大腿|手臂|胳膊|自己)|(?<!上)(?:划|割)了(?:[一二三四五六七八九十几好]+)?道(?![大小长深浅]?口子)|划的口子|咬.{0,4}(?:手指|自己|手臂).{0,6}肉|"
    r"在(?:腿|手臂|胳膊|手腕)上烫|手上的伤.{0,10}(?:撒谎|说是猫)|搜索记录.{0,10}(?:药|不醒|方法|怎么)|告别信|"
    r"swallowed (?:the )?(?:whole|entire) bottle|drank bleach|final goodbye|sorry mom|(?:he|she) has a (?:knife|gun)|how long does charcoal|"
    r"took (?:all|every)(?: of)? (?:my|the) pills|bu ?xiang ?活|mei ?qi ?kai ?le|jiang ?bian.{0,12}guan ?ji|"
    r"(?:打人|打孩子)的声音.{0,12}(?:孩子|小孩)(?:的)?哭|拿(?:着)?(?:砖头|刀|棍子?|斧头).{0,4}(?:砸|砍|打)人|"
    r"能自由进出的.{0,8}(?:天台|楼顶)|(?:哪里|在哪里|哪儿|在哪|怎么)(?:还)?(?:能|可以)?(?:买|弄)(?:到)?.{0,6}(?:巴拉刈|氰化|百草枯|敌敌畏|毒药)|"
    r"(?:百草枯|巴拉刈|敌敌畏|氰化物?|毒药).{0,8}(?:哪里|在哪里|哪儿|在哪|怎么)(?:还)?(?:能|可以)?(?:买|弄)|"
    r"(?:老鼠药|鼠药|农药|百草枯|敌敌畏)(?:给)?人(?:吃|喝)了|绳子?要多粗|承受.{0,6}(?:一个)?(?:成年人|人)的?重量|"
    r"(?:往|在)自己身上(?:浇|泼)(?:汽油|油)|自焚|(?:悬崖|桥|楼|护栏|栏杆).{0,10}(?:没有?栏杆|好翻|翻过去)|(?:最陡|最高).{0,10}(?:没有?栏杆|好翻)|"
    r"che ku.{0,14}guan|(?:rope|pills|gun|knife).{0,30}(?:ready|plan|tonight|goodbye)|"
    r"(?:开着|开)煤气.{0,6}(?:睡|一夜|还会醒)|先被水淹还是先撞晕|从桥上下去|"
    r"chi duo shao pian.{0,6}(?:hui si|bu hui xing)|bai cao ku.{0,12}(?:mai|na li|nar)|tiao xia qu.{0,6}neng huo|"
    r"致死量|多少(?:片|粒|颗|量|瓶).{0,10}(?:能|会|就|才)?(?:死|致命|没命|醒不过来|不会醒|不醒)|(?:吃|喝|吞)多少.{0,8}(?:会死|能死|致死|没命|醒不过来|不会醒)|"
    r"哪种(?:药|农药|方法|方式).{0,8}(?:死|最快|不痛|不疼|没痛苦)|怎么死(?!活)(?!的(?:[？?。，,！!]|$|吗|呢|啊))|怎样才能死|"
    r"(?:车库|车门|车窗).{0,10}(?:关上|关好|封好?).{0,10}(?:发动机|引擎|尾气|打着火)|尾气.{0,6}(?:自杀|死|车库里)|"
    r"(?:哪里|哪儿|在哪|怎么)(?:能|可以|还能)?买(?:到)?.{0,4}(?:百草枯|敌敌畏|氰化|毒药)|(?:百草枯|敌敌畏|氰化物|毒药).{0,6}(?:哪里|在哪|怎么)(?:能|可以|还能)?买|"
    r"无痛(?:的)?(?:死|自杀|死法)|死法|哪种死|怎么(?:样)?才能不醒",
    r"烧炭(?:的话|死)?(?:会不会|会|是不是)(?:很|特别|非常)?(?:难受|痛苦|疼|痛)|"
    r"烧炭(?!取暖|烧烤|烤|火盆|盆|的[吗呢吧，,。?？]|的$|为什么|为啥|时|的时候|会不会|安全|要注意)|(?:车里|房间|屋里|出租屋|卧室|密闭).{0,8}(?:烧|点)了?炭(?!火盆|盆|取暖|烧烤|烤)|(?:烧|点)了?炭.{0,10}(?:车里|房间|屋里|喘不上|头晕|关好|封)|"
    r"(?:木)?炭(?!炉|火锅|烤|烧烤)[^。？?！!]{0,12}(?:关好|封|密闭|胶带|贴)|(?:门窗|窗户|门缝).{0,10}(?:封|胶带|贴).{0,10}炭",
    r"(?:皮带|腰带|围巾|丝袜|床单|数据线|绳子?).{0,10}(?:挂|系|绑)(?:在)?.{0,3}(?:门把手|门框|暖气管|横梁|房梁|吊扇|晾衣杆|上铺)(?!.{0,6}(?:晒|晾))|"
    r"胰岛素.{0,8}(?:一整支|整支|一整盒|整盒|全部打|全打了|好几支)|"
    r"(?<!向)(?<!杠)(?<!环)(?<!架)上吊(?!着|起|在|灯|顶|篮)|(?<!跳)(?<!跳长)(?<!牵引)(?<!什么)(?<!狗)(?<!猫)(?<!宠物)绳(?:(?![狗猫])[^，。？?！!]){0,8}(?:挂(?!号|什么|哪|个|不|[^，。？?！!]{0,8}(?:晒|晾|风干))|梁|吊(?![^，。？?！!]{0,8}(?:晒|晾|风干|烤))|脖子|准备好|打好结)|(?:挂|套)在(?:脖子|梁|房梁)",
    r"刀.{0,3}血|血.{0,3}刀|刀.{0,8}(?:准备好|磨好|在手|架在|放在枕头)|(?:水果刀|刀片|美工刀|小刀)(?:磨|开刃)了?.{0,4}(?:一下午|一晚上|一整天|一整晚|好久|很久|半天)|"
    r"(?:手腕|手臂|胳膊|大腿)上.{0,8}(?:划|割|刀片|口子)|(?:多高|几米|几楼).{0,6}(?:摔|跳|掉)下(?:来|去).{0,4}(?:就够|能死|会死)|"
    r"(?:致命|致死)(?:的)?(?:浓度|剂量)|过了今晚.{0,8}(?:没人用|用不着|不需要|不在)|"
    r"(?:手腕|手臂|胳膊)(?:上)?(?:(?!被)[^，。]){0,4}(?:划了|割了|划痕|刀痕|割痕|好多伤|都是伤|流血|又划|又割)",
    r"(?<!公证)(?<!法律)遗书|遗言(?:写好|已经写|都写)|写好了?(?:遗|最后的信)|后事(?:都)?(?:安排|交代)好",
    r"(?<!预防)(?<!防止)(?:跳楼(?!价|甩卖|大甩卖|促销|梯|机)|跳河|跳江|跳桥|跳海|跳湖|跳轨|卧轨)(?!事件|的?新闻|案例|现象|率)|(?<!敢)(?<!不会)(?<!跳台)(?<!米台)(?<!跳水)跳下去|纵身|"
    r"(?<![猫狗])(?<!猫咪)从.{0,8}(?:楼(?!梯)|桥|天台|阳台|窗).{0,6}(?:跳|跃|翻)(?!水|绳|舞|伞|远|高|床|着)",
)
PLACE = _any(
    r"(?:站在|坐在|爬上|到了|来到|在)(?:了)?.{0,6}(?:楼顶|天台|顶楼|桥上|大桥|长江|江边|河边|海边|湖边|铁轨|窗台|阳台边)"
    r"[^。？！?!]{0,20}(?:最后|再见|不想|跳(?!绳|舞|操|远|高|伞|水|床|广场舞)|结束|对不起|永别|(?<!摔)(?<!滚)(?<!踩空)下去|告别|没意思|不回|好高|风很大|看一眼)",
    r"(?:窗户|窗)(?:已经)?(?:打开|开着|开了).{0,12}(?:楼|层)",
    r"(?:会|去|要|就)在.{0,6}(?:楼顶|天台|桥上)|(?:楼顶|天台).{0,4}等(?:你们|你)|"
    r"(?:站在|坐在|蹲在)(?:了)?.{0,4}(?:楼顶|天台|顶楼|阳台边|窗台|桥栏|栏杆外|铁轨)|(?:\d+|[一二三四五六七八九十]+)楼(?:的)?(?:窗台|天台|楼顶)|铁轨(?:边|上).{0,8}(?:火车|车快来)",
    r"(?:从|在).{0,6}(?:窗台|楼顶|天台|桥上|江边|河边|阳台).{0,6}(?:拉下来|拉回来|救下来|劝下来|拽回来)",
    r"(?:阳台|窗户|窗台|栏杆|护栏).{0,10}(?:坐上去|爬上去|坐在上面|翻出去|翻过去了)",
    # a place to go to and nothing to do there: 最高的是哪栋楼，我要去楼顶
    r"(?:我|就)?要(?:去|上)(?:楼顶|天台|顶楼)(?:了|吧)?(?:[，。,.!！?？…]|$)|(?:最高|最顶).{0,10}(?:我|就)?要?(?:去|上)(?:楼顶|天台)",
)
FAREWELL = _any(
    r"(?:相册|备忘录|手机|草稿箱)里有?(?:我)?给(?:爸妈|家人|你们|孩子|妈妈|爸爸|老婆|老公)的(?:话|信|留言|遗言)|[桥楼]\s?↓|"
    r"(?:遗体捐献|器官捐献|遗嘱|后事|死亡证明|墓地).{0,24}(?:这个月|这周|这个星期|这星期|本周|几天|今天|明天|下周|月底)(?:之内|以内)?(?:我)?就?(?:要)?(?:用得上|用得着|用上|需要)|"
    r"我的东西.{0,6}(?:分一分|分了|分掉|送人|你们分|大家分)|(?:桥|天台|楼顶|江边)[^。？?]{0,4}再见|"
    r"钥匙.{0,14}(?:你们|你).{0,6}来收拾|(?:你们|你)明天来收拾吧|我走了(?:以后|之后).{0,10}(?:用得上|用得着|用的上|用得到|留给|就靠|没人)|"
    r"永别|来生再见|下辈子(?:再见|再做|见|再)|最后一条(?:消息|微信|朋友圈)|这是我最后|最后(?:一次)?(?:跟|和)(?:你|你们|大家)(?:说|聊)",
    r"再也见不到我|不用(?:再)?找我了|以后不会再(?:打扰|麻烦)|替我(?:照顾|跟|和|向)|帮我(?:跟|和|向).{0,8}(?:说声?对不起|道歉|说再见)",
    r"(?:拜托|托付|找个好人家|送人).{0,16}我(?:要|就要|得)?走了|(?:说完|写完|见完|打完|交代完)就(?:跳|走|去死)|"
    r"(?:事情|后事)(?:都)?安排好.{0,6}(?:然后|就)(?:吃药|走|跳)",
    r"(?:对不起|谢谢)(?:大家|你们|所有人|爸妈|妈妈|爸爸).{0,12}(?:再见|永别|最后|下辈子|先走|保重)",
    r"我走了.{0,6}(?:别|不要)(?:找|难过|哭)|(?:删|清空)了?.{0,8}(?:聊天记录|朋友圈|相册).{0,16}(?:再见|告别|最后)|(?:就剩|只剩)(?:下)?.{0,6}(?:说一?声|道个?)(?:再见|别)|(?:朋友圈|群里).{0,10}(?:告别|永别|遗言)|(?:发|写)了?.{0,6}(?:告别信|遗书|遗言)",
    r"(?:过了|熬过|活过)今晚.{0,6}(?:就)?不在了|(?:我|就)不在了|以后(?:就)?不会再(?:麻烦|打扰|拖累)|(?:说|说了)?以后见不到了|对不起.{0,8}(?:然后|就)关机|"
    r"(?:拜托|托付|交给).{0,10}照顾.{0,12}(?:以后|再也|没人)|以后家里没人了|(?:天台|楼顶|顶楼|桥栏|窗台)边.{0,4}(?:坐|站)|"
    r"交代.{0,8}(?:存折|银行卡|密码|后事|保险|房产证|遗产)|(?:把|将).{0,6}(?:东西|存折|钱|宠物|猫|狗).{0,4}(?:都)?(?:送人|分给|托付)|"
    r"(?:留|写)了?(?:张|封|一张|一封)?(?:纸条|字条|信).{0,10}(?:对不起|再见|别找|永别)|人不见了|"
    r"zai ?jian.{0,8}dui ?bu ?qi|dui ?bu ?qi.{0,8}zai ?jian|给我自己.{0,6}(?:准备|开|办)|(?:死亡证明|遗像|墓地|寿衣).{0,12}(?:我自己|给自己)|"
    r"拜托给你们了.{0,6}再见|再见.{0,4}(?:不要|别)找我|各位保重|真拜拜|(?:江边|河边).{0,10}手机关机|手机关机.{0,10}(?:江|河|桥)|"
    r"(?:这次|这回)我?真的要走了|(?:给|为).{0,8}人生收(?:个)?尾|(?:我走后|我死后|我不在(?:了)?以后).{0,12}|"
    r"(?:遗体捐献|器官捐献|遗嘱|后事).{0,20}(?:这周|这个周|今天|明天|今晚|周末|过几天|下周)就?(?:要)?走了|(?:自杀|我死).{0,12}(?:赔|理赔).{0,24}(?:留给|给孩子|给家人|满)|永远晚安|晚安.{0,3}(?:永远|再也)|(?:东西|遗物)都?送人了|(?:跟|和|向)大家告(?:个)?别|后事都?交代|该交代的都交代|"
    r"(?:银行卡|卡的?)密码.{0,10}(?:告诉|写给|留给)|(?:猫|狗|狗狗|猫咪|宠物)(?:已经)?(?:送给|托付给)(?!.{0,12}(?:几天|一周|出差|旅游|寄养|帮忙|回来))[^。？?]{0,10}(?:会|能)照顾好|(?:托付|拜托|照顾).{0,12}门(?:我)?没锁|门(?:我)?没锁.{0,12}(?:托付|拜托|照顾|直接进)|(?:这么多年|这些年).{0,16}(?:我)?先走一步|以后用不着了|世界再见|goodbye world|see you (?:on|in) the other side|(?:this is|it'?s) (?:my|the) (?:last|final) (?:message|post|text)|永久下线|下线.{0,4}永久|"
    r"信[^。？?]{0,14}(?:[\u4e00-\u9fff]{1,3}一封[，,、]?){2,}|"
    r"定时(?:发送|发布)[^。？?]{0,16}(?:大家|你们|所有人|他们)(?:就)?(?:都)?(?:知道|看到)|"  # a letter for each (爸妈一封，老师一封)
    r"(?:要是|如果)我.{0,6}(?:不在|出事|走了).{0,10}(?:帮忙|照顾|养)|(?:要是|如果).{0,8}打不通.{0,4}(?:就)?报警",
)
# Someone else at risk, as a parent, friend or teacher reports it (the intent patterns above also
# match a report such as 我女儿说不想活了).
THIRD_PERSON = _any(
    r"(?:孩子|儿子|女儿|闺女|朋友|同学|同事|老公|老婆|丈夫|妻子|爸|妈|弟弟|妹妹|哥哥|姐姐|学生|室友|男朋友|女朋友|对象|他|她)"
    r".{0,12}(?:手腕|胳膊|手臂).{0,6}(?:划痕|伤口|疤|刀痕)",
    r"(?:出院|救回来|抢救|洗胃|洗完胃|醒来|醒过来)[^。？?]{0,20}(?:(?:还|又|还是)(?:会|要|想)(?:再)?|(?:会|要|想)再)(?:吃|试|来|做)一次",
    r"(?:孩子|儿子|女儿|闺女|朋友|同学|同事|学生|室友|他|她).{0,10}(?:一直说|总说|说要|扬言|闹着|写了|发了).{0,8}(?:死|告别|遗书|离开这个世界)",
    # violence next door gone quiet; pills taken and no waking (Cantonese: 食咗好多药，叫唔醒)
    r"喊(?:着)?要杀(?:了|死)?.{0,16}(?:没(?:有)?声音|没动静|不出声)|食咗(?:好多|成樽|成瓶|一瓶|成盒)药|叫唔醒",
    # someone's plan for tonight passed on, with the police asked for (粉丝私信说今晚要吃药，怎么报警)
    r"(?:说|私信|留言|发消息|发帖|发朋友圈|发了条)[^。？?]{0,6}(?:今晚|今天晚上|马上|现在)就?要?(?:吃药|喝药|吞药|跳|走|动手)[^。？?]{0,24}(?:报警|110)",
)
HOPELESS = _any(
    r"活着(?:真|还|又)?(?:没|有什么|有啥|还有什么)(?:意思|意义|用|盼头)|活着(?:干嘛|干什么|图什么|图啥|好累|太累|太痛苦)",
    r"没(?:有)?(?:活下去|活着)的(?:意义|理由|勇气|希望|动力)|人生(?:没有|毫无)(?:意义|希望)|看不到(?:任何|一点|一丝|半点)?(?:希望|未来|出路|头|明天)|没有未来|"
    r"没(?:有)?什么(?:值得)?(?:留恋|牵挂)|了无牵挂|不知道(?:为什么|为啥)?(?:还)?(?:要|该)?(?:坚持|活着|撑着?)(?:什么|干嘛|为了什么|下去)",
    r"撑不(?:下去|住了)|熬不(?:下去|过去|住了)|坚持不(?:下去|住了)|不想(?:再)?(?:撑|坚持|继续)(?:下去)?了|"
    r"(?:撑|熬|活)不到(?:下周|明天|下个月|那天|下次)|没(?:有)?出路了?|什么都没(?:有)?了|唯一的?(?:出路|解脱|出口)|没有明天了",
    r"(?:我|自己)(?:是|就是|只是|成了|简直是)(?:个|一个)?(?:大家的|家里的|家人的|所有人的|他们的)?(?:累赘|负担|拖累|废物|多余的人)",
    r"拖累(?:大家|家人|家里|所有人|你们|任何人|儿女|子女|孩子们|孩子)|没人(?:在乎|需要|关心)我|不被需要|拖油瓶|"
    r"(?:没有?|少了)(?:我|他|她).{0,6}(?:更好|轻松|负担会?轻)|消失.{0,8}(?:谁也找不到|再也不|对谁都好)|(?:藏起来|躲起来).{0,6}再也不出现",
    r"(?:我|要是我|如果我)(?:不在了|消失了?|走了|没了|死了|不存在).{0,10}(?:轻松|更好|解脱|开心|负担|清净|没关系|不会难过)",
    r"想(?:要)?消失|早点消失|消失(?:了)?(?:的好|算了|也好|更好)|(?:办法|方法).{0,10}(?:不存在|消失|不醒)|(?:安静|安安静静|悄悄|无痛)地?(?:不存在|消失|离开|走掉)|"
    r"(?:那个|这个)念头|投胎.{0,8}插(?:个)?队|(?:我想|好想|想)(?:早点|快点|赶紧)?(?:去)?(?:重新)?投胎|(?:算好|定好|选好)了.{0,12}(?:那天|那一天|日子)|不想(?:在这个世界上)?留下任何(?:东西|痕迹)|(?<![a-z])xzs(?![a-z])|(?<![a-z])xs(?: ?xs)+(?![a-z])|人都?(?:快|要)没了|(?:不会|没)有以后了|(?:如果|要是)我还能(?:等到|活到|撑到)|不确定我能不能(?:等到|活到|撑到)",
    r"(?:累了|好累)[，,]?不(?:想)?坚持了|(?:如果|要是|假如|万一)(?:我|人)(?:没了|不在了)[^。？?]{0,12}(?:退|钱|费|医保|保险)|再见了[，,]\s?(?:南京|这个城市|世界|人间)|(?:如果|要是|假如|万一)我死了(?:以后|之后)?.{0,16}(?:钱|医保|保险|家里人|家人|孩子)|"
    r"(?:猫|狗|宠物|猫粮|狗粮|小花).{0,12}(?:拜托|托付)给?(?:邻居|楼下|朋友|我姐|姐姐|同事|阿姨)[^。？?]{0,4}(?!.{0,10}(?:几天|一周|出差|旅游|回来|照看))|"
    r"没有我.{0,12}(?:再找个?|另找)|(?<![a-z])hxs(?![a-z])|(?:该|准备)(?:去)?领盒饭了|我(?:打算|准备|决定)(?:这个月|这周|今晚|明天|月底|下周)(?:就)?走了?(?:[。，,.!！]|$)|"
    r"无所谓了.{0,12}(?:不会再|不需要任何|用不着|不需要了)|(?:明天|以后|今晚)(?:开始)?(?:我)?就?不需要任何|(?:楼顶|天台).{0,10}(?:我)?想上去|"
    r"遗嘱(?:我)?(?:已经)?(?:录好|写好|立好)|(?:心理危机|危机干预).{0,16}(?:我)?现在就?(?:需要|要)|"
    r"放弃了?[，,]?对?(?:所有|一切)(?:的)?事?|对(?:所有|一切)(?:的)?事?都?放弃了|"
    r"(?:猫|狗|宠物)[^。？?]{0,8}(?:收养|领养|托付|找个好人家|找个好主人)[^。？?]{0,10}(?:我)?照顾不了(?!.{0,10}(?:出国|搬家|过敏|怀孕|工作))|"
    # relief at last, no regret left, a life short anyway (session 17)
    r"(?:^|[，。,.!?！？])(?:(?!考|下班|放假|毕业|出院|拆线|交差|答辩|项目|加班|作业|论文|工作)[^，。,.!?！？]){0,12}"
    r"终于(?:可以|能)(?:彻底)?解脱了?(?!.{0,8}(?:考|下班|放假|毕业|出院|拆线|交差))|没(?:什么|啥|有)遗憾了|反正我?也?活不了多久|(?:猫粮|狗粮|猫砂|狗绳)[^。？?]{0,16}(?:帮我|替我|请)(?:照顾|喂|养)|(?:困扰|痛苦|烦恼)[^。？?]{0,10}(?:是|填的是|写的是)[:：]?\s?[\"“]?活着|退(?:回来|了)?[^。？?]{0,6}留给(?:我妈|我爸|爸妈|家里|家人|孩子)|自杀(?:满|过了?)(?:两|二|2)年[^。？?]{0,8}赔|(?:可能|怕是|恐怕|大概)等不了(?:那么|这么)?久了|(?:^|[，。,.!?！？])(?:我)?(?:现在)?(?:在)?(?:楼顶|天台|顶楼|桥上|大桥上|江边)(?:上)?(?:好|真|很|挺)(?:安静|好看|美|冷|高|舒服)|(?:我|人)(?:也|都)?(?:用|活|撑)不了几天了|(?:not sure|don'?t know if|doubt) i'?ll (?:make it|be (?:here|around|alive))|i (?:won'?t|will not) (?:make it|be (?:here|around)) (?:to|through|till|until|past)|(?<!忘)(?<!没)(?:煤气|燃气)(?:我)?(?:已经|一直)?(?:打)?开着(?:呢|了)?(?:[。，,.!！…]|$)(?!.{0,12}(?:忘|关|漏|味|怎么办|安全|吗))|"
    # session 19: nothing means anything; who keeps the cat after I go; a widow joining her husband; the
    # insurance after I am gone; an apology to mother in pinyin; no point seeing a doctor; everything cleared first
    r"我(?:要是|如果|万一|假如)(?:没了|不在了|走了|死了)[^。？?]{0,12}(?:退|钱|费|医保|保险|赔)|(?<![a-z])(?:ba )?ma ?dui ?bu ?qi(?![a-z])|"
    r"人都没了还(?:看|治|挂|约|查)|(?:清理|收拾|处理|安排|交代)(?:好|干净|完)(?:了)?(?:再|就)走|"
    r"什么都没(?:有)?(?:意义|意思)了?|一切都没(?:有)?(?:意义|意思)了?|我(?:走了|不在了|死了|没了)(?:以后|之后)[^。？?]{0,10}谁(?:来)?(?:养|照顾|管|喂)|"
    r"(?:老头子|老头儿|老伴儿?|老婆子|老太婆|老爷子)[，,]?\s?我(?:这就|马上|很快|也|就){0,2}(?:来|去)陪你了|"
    r"(?:人生|生命|一切)(?:就)?(?:到此为止|到这里)(?:吧|了)|活着本身就是(?:个)?错|(?:撑|熬|扛)不动了|不想治了|"
    r"活成这样.{0,4}(?:有什么|有啥)意思|人间不值得|活着好累|太累了.{0,6}不想(?:再)?(?:撑|坚持|继续)|"
    # something to see to before one goes (想在走之前看一眼, 走之前把我爸的号挂好)
    r"想在(?:我)?走之前|(?:趁|在)我(?:还)?(?:没走|走)之前|"
    # how much of a medicine brings organ failure: a dose asked as a means, or a pharmacist's question (a check-in)
    r"(?:吃|喝|吞)多少.{0,8}(?:会|能|就)?(?:肝衰竭|肾衰竭|器官衰竭|衰竭|中毒身亡)",
)
TIME = _any(r"今晚|今天晚上|今夜|明天|马上|现在就|等会|一会儿|这周|过几天|就在今|等(?:他们|家人|大家)睡")

SIGNALS: tuple[tuple[str, re.Pattern], ...] = (
    ("intent", INTENT), ("means", MEANS), ("place", PLACE), ("farewell", FAREWELL), ("third_person", THIRD_PERSON),
)

# --- exclusions: they lower the classifier's score where no signal is present ----------------------------
_IDIOM = _any(
    r"笑不活|(?:烦|笑|累|热|饿|气|困|吓|忙|冷|疼|痛|丑|美|帅|急|馋|渴|闷|吵|憋|挤|晒|撑|乐|爽|懒|穷|慢|难|卷|痒|臭|香|辣|酸|咸|苦|贵|远|脏|烫|冻|胖|麻烦|无聊|尴尬|羡慕|开心|可爱)"
    r"(?:死|si)(?:了|我了|人了|啦|人|我|掉)?",
    r"想死(?:你|您|你们|他|她|大家|我们|宝宝)了?|想死我了",
    r"[\u4e00-\u9fff](?:得|的)(?:要死|要命|想死|半死)",
    r"死活(?:不|也|都|没)|出人命|要人命|社死|死机|卡死|死循环|死磕|死心眼|死记硬背|死党|死角|死板|死胡同|要死不活|半死不活|死贵|死沉|死线|死定了|打死也不|打死我也",
    # study and work talk: 复习到死, deadline逼疯, 气到吐血, 躺平
    r"(?:复习|学|干|加班|写|做|忙|熬夜|背书|刷题)到死|逼疯|快疯了|快废了|(?:气|累)到吐血|吐血|躺平|摆烂|deadline|ddl|考研|期末|加班",
)
_STATISTICS = _any(
    r"(?:心理危机|危机干预|自杀|轻生|心理援助).{0,12}(?:多少|几个|几通|数据|统计|数量|排名|占比|比例|同比|环比|电话量|人次|率|研究|论文|预防|资料|课程|培训|讲座|热线|号码)",
    r"(?:多少|几个|几通|数据|统计|数量|排名|比例).{0,12}(?:心理危机|危机干预|自杀|轻生|自伤)",
    r"(?:怎么|如何|怎样).{0,6}(?:识别|发现|预防|干预|判断).{0,10}(?:自杀|轻生|危机|心理问题)",
)
_TITLE = re.compile(r"《[^》]{1,30}》")
# The elders whose will, last words or belongings are theirs, not the writer's.
_ELDERS = r"外公|外婆|爷爷|奶奶|姥姥|姥爷|父亲|母亲|爸爸|妈妈|我妈|我爸|老妈|老爸|老伴|公公|婆婆|岳父|岳母|老人"
# Someone else's words, not the writer's: a title with what follows about its story, a quoted term
# (“紫砂”这类暗语), a news item. Removed before the signals are read, where no 我 is in the span.
_MENTIONS = _any(
    r"《[^》]{1,30}》(?:里|中|的|里面)?[^，。,.!?！？我]{0,8}",
    # the heat, a topic or a plant (session 17): 没空调真的活不下去, 想不开打进来的电话有多少,
    # 烧炭…在自杀方式里占比, 跳桥跳楼这类新闻, 枝条压断了用绳子吊起来
    r"(?:没(?:有)?(?:空调|暖气|冷气)|(?:太|好|真)(?:热|冷|晒))[^，。,.!?！？我]{0,4}活不下去",
    r"(?:多少|几个|几通)个?(?:那种)?想不开(?:的|打进来的)?(?:人|电话|来电)?|想不开(?:的|打进来的)(?:人|电话|来电|案例)(?:有)?多少",
    r"[^，。,.!?！？我]{0,16}(?:自杀方式|自杀手段|死因)[^，。,.!?！？我]{0,6}(?:占比|比例|排名|多少)",
    r"[^，。,.!?！？我]{0,8}(?:这类|这种|之类的?)(?:新闻|报道|事件|案例|话题)",
    r"(?:枝条|果枝|树枝|藤蔓|瓜藤|树苗)(?:太多|压断|压弯|断了|下垂)[^。？?我]{0,10}(?:绳|吊|撑|绑)[^，。？?]{0,8}",
    r"(?:[\"“「'‘][^\"”」'’]{1,8}[\"”」'’][、,，和]?){1,4}(?:这类|这种|这些|等|之类|暗语|的说法|这个词|是一个定义|的定义|定义|概念|的区别|区别|是什么意思|的意思)",
    r"(?:新闻|报道|热搜)(?:上|里|说)?[^，。,.!?！？我]{0,14}",
    rf"(?:{_ELDERS}|先人|祖父|祖母)"
    r"(?:的|(?:去世|过世|临终|生前|走之?前|临走前?|走的时候)[^，。我]{0,8})?遗(?:书|言|嘱)(?:里|中|上)?[^，。,.!?！？]{0,10}",
    # an accident's cut is no self-harm: 手腕被碎玻璃划了一道 (被 with no 我/自己 in between)
    r"被(?:(?!我|自己)[^，。,.!?！？]){1,6}(?:划|割|扎|烫|咬|刮)(?:了|伤|破)?(?:一道|一下|个口子|[一二三两几]道)?",
    # a deceased relative's belongings and what is found in them (整理外婆遗物时发现她写的遗言)
    rf"(?:{_ELDERS}|亲人|家人)的?遗物[^。？！?!我]{{0,24}}",
    r"(?:去世|过世|病逝|走了)(?:后|以后|之后)[^。？！?!我]{0,6}遗物[^。？！?!我]{0,24}",
    r"(?:剧本杀|游戏|小说|电影|电视剧|剧里|角色|人物|主角|凶手)[^。？！?!我]{0,10}遗书",
    # an accident or a pet's meal: 拿错瓶子喝了一小口, 狗好像吃了老鼠药
    r"(?:拿错|拿反|喝错|吃错|吃反|搞错|搞混|弄混|误食|误喝|误服|不小心)[^。？?]{0,16}",
    r"(?:刀|剪刀|美工刀|玻璃|罐头)[^，。？?我]{0,4}(?:一滑|滑了(?:一下)?|没拿稳|脱手)[^。？?]{0,16}",
    r"(?:玻璃|杯子|碗|盘子|瓶子|镜子)[^，。？?我]{0,4}(?:碎了|打碎了?|摔碎了?)[^。？?]{0,16}",
    r"(?:打碎|摔碎|碰碎)了?(?:玻璃杯|杯子|碗|盘子|瓶子|镜子|玻璃)[^。？?]{0,16}",
    # a field's counting, an old body's complaint (session 18)
    r"[^，。？?我]{0,10}当(?:成)?(?:糖|零食|糖豆|糖果)(?:吃|嚼)了?[^。？?]{0,10}|(?:限制|减少|管控)[^。？?]{0,8}可及性[^。？?]{0,20}|"
    r"(?:流行病学|统计学)上?[^。？?]{0,20}|(?:这把)?老骨头(?:可)?(?:撑|熬|扛)不住了?",
    # a story's plot (夏洛克跳楼那集): a character's, not the writer's
    r"[^，。,.!?！？我]{0,8}(?:那集|那一集|那一幕|那场戏|的剧情|的结局)",
    # food and laundry hung up to dry (腊肉用绳子挂在阳台上)
    r"(?:腊肉|香肠|腊肠|咸鱼|腊鱼|腊鸭|板鸭|风鸡|咸肉|衣服|被子|床单|灯笼)[^，。？?我]{0,10}(?:绳|挂|吊|晾|晒)[^，。？?]{0,8}",
    r"(?:猫|狗|宠物)[^，。？?我]{0,12}(?:吃|吞|喝)了?",
    # a dead elder's will (外公留了封遗书，交代房子和存款)
    rf"(?:{_ELDERS})(?:生前|临终前?)?(?:留了?|写了?)(?:一)?(?:封|份|张)?[^，。,.!?！？我]{{0,6}}遗(?:书|言|嘱)[^，。,.!?！？]{{0,10}}",
    # supplements eaten by a child (孩子把一整瓶维生素软糖吃完了): an accident, a question for 120
    r"(?:孩子|小孩|儿子|女儿)把.{0,10}(?:维生素|软糖|钙片|糖果|维c|益生菌|鱼肝油|糖浆|止咳|药水|退烧药|感冒药)[^，。？?]{0,8}(?:吃|吞|喝)",
    # a toddler's swallowing is an accident (a poisoning question for 120), not an intent
    r"(?:宝宝|婴儿|(?:[一二两三四五12345]|一岁半|两岁半)岁(?:的|多的)?(?:宝宝|孩子|小孩|儿子|女儿)?)[^，。？?我]{0,8}(?:把|偷偷?|误)[^，。？?]{0,12}(?:吃|吞|喝)了?",
    # a plant hung up, a pet or a found bird that may not live, charcoal in a fire bucket (session 19)
    r"(?:火桶|火箱|脚炉|手炉|暖炉|炉子|火盆|炭盆)[^。？?我]{0,8}烧炭[^。？?]{0,16}|"
    r"(?:绿萝|吊兰|花盆|盆栽|多肉|花|藤)[^，。？?我]{0,8}(?:绳|吊|挂)[^，。？?]{0,8}|"
    r"(?:小鸟|鸟|小猫|猫咪|猫|小狗|狗狗|狗|仓鼠|兔子|鱼|乌龟|鹦鹉)[^。.!?！？我]{0,16}(?:活不成|活不了|活不下去|不行了)",
    # a pet's fall is the pet's
    r"(?:小猫|猫咪|猫|小狗|狗狗|狗|宠物|兔子|鹦鹉|鸟)[^，。,.!?！？我]{0,10}(?:跳|掉|摔)(?:了)?下(?:去|来)",
)
_PETS = _any(r"(?:猫|狗|宠物|鱼|仓鼠|兔子|鸟|乌龟|花|草|多肉|绿萝|植物|盆栽)")
_NEWS = _any(r"新闻|报道|热搜|电视上|网上说")
_MEDICINE = _any(r"(?:药|片|西泮|唑仑|剂量|医生|急诊|说明书|血压|血糖).{0,24}(?:吗|怎么办|要不要|会怎样|会怎么样|能不能|注意什么|多久|观察)",
                   r"(?:算|会不会|是不是)过量|(?:药|药品).{0,6}(?:怎么管|怎么保管|怎么收|收好|锁起来)")
_STUDY = _any(r"学生|老师|班会|量表|phq|课题|论文|研究|综述|培训|讲座|科普|统计|辅导员|社工|家长会")
_SPORTS = _any(r"跳绳|跳远|跳高|跳水|跳马|跳舞|广场舞|蹦极|跳伞|蹦床|跑步|健身|减肥|篮球|足球|羽毛球|攀岩|滑雪|体测|体育课")
# (No exclusion for angry complaints: a crisis inside a complaint, 投诉…今晚就从七楼下去, often has
# no listed signal, and halving the classifier there turned the full protocol into a check-in.)
_HEATING = _any(r"烤火|电热毯|暖气片")  # not 炭盆 or 火盆: a means in crisis messages
_CAREGIVING = _any(r"养老院|护工|托管|喘息服务|日间照料|托老|陪护|医养结合")
# A clinical question: which department, a tetanus shot, a doctor at home.
_CLINIC = _any(r"心跳声|心跳(?:很|得|有点)?(?:快|重|慢|乱)|心脏(?:跳得|跳的)|早搏|(?:挂|看)(?:哪个|什么|哪一个)科|哪个科室|破伤风|缝针|请医生上门|医生上门|上门(?:看|护理|换药)")
_PAPERWORK = _any(r"死亡(?:医学)?证明|死亡证|去世|过世|病逝|临终|安宁疗护|遗体|遗嘱|殡|火化|追悼|抚恤|注销|扫墓|扫完墓|祭扫")
EXCLUSIONS: tuple[tuple[str, re.Pattern], ...] = (
    ("idiom", _IDIOM), ("statistics", _STATISTICS), ("title", _TITLE), ("paperwork", _PAPERWORK),
    ("pets_plants", _PETS), ("news", _NEWS), ("study", _STUDY), ("medicine", _MEDICINE), ("sports", _SPORTS),
    ("caregiving", _CAREGIVING), ("clinic", _CLINIC), ("heating", _HEATING),
)

# Classifier scores (safety/classifier.py); chosen by 5-fold cross-validation on the training data
# alone (python -m safety.train --cv 5), never on an evaluation set. Recall comes first: at 0.3 recall
# 0.997 with 6.2 % check-ins on the other (mostly hard-negative) lines; 0.35: 0.992 and 5.5 %; 0.4:
# 0.985 and 4.8 %. Session 16's harder training lines (crisis_train7.tsv) give, at 0.2 / 0.25 / 0.3 / 0.35,
# recall 0.989 / 0.987 / 0.979 / 0.976 and check-ins 7.2 / 6.1 / 5.0 / 4.4 %: kept at 0.3, the misses
# this leaves on the seen sets got danger signals instead.
POSSIBLE_SCORE = 0.3
HIGH_SCORE = 0.95
EXCLUDED_FACTOR = 0.5  # an exclusion with no signal beside it halves the score
_CJK = re.compile(r"[\u4e00-\u9fff]")
# A joke marker, not its denial (不是开玩笑 says the opposite).
_JOKE = re.compile(r"哈哈|(?<!不是)(?<!没)(?<!没有)(?<!不)(?:开个?玩笑)|玩笑话|嘻嘻|233|(?<![a-z])lol(?![a-z])|🤣|doge")


@dataclass(frozen=True)
class Assessment:
    tier: Tier
    signals: tuple[tuple[str, str], ...] = ()  # (kind, the words that matched)
    exclusions: tuple[str, ...] = ()
    score: float | None = None  # the classifier's, after exclusions; None without a classifier
    text: str = field(default="", repr=False)  # the normalised text (never logged)


# Everyday words that close or drop a conversation (我先走了, 就这样吧，再见, 那算了算了，不挂了). Crisis
# farewells use them too, always beside something of their own (对不起妈妈, 这个世界, 下辈子, 我决定); a
# message of these words alone is someone leaving the chat, and the classifier, which learnt them from
# farewells, must not read a check-in into it (session 17: a goodbye or a cancel in every 200 messages
# of the realistic sets got one). The signals still read it.
_CLOSING_WORDS = frozenset((
    "我|那|那我|好|好的|好了|行|行吧|嗯|嗯嗯|哦|噢|ok|okay|那就|就|哎|哎呀|唉|啊|呀|吧|啦|了|呢|谢谢|谢谢你|谢谢您|谢了|多谢|感谢"
    "|辛苦了|麻烦了|打扰了|不好意思|晓得了|知道了|明白了|懂了|清楚了|收到|没事了|没事|没问题"
    "|再见|再会|拜拜|拜|bye|byebye|88|886|回见|回头见|下次见|下次再聊|下次再问|下次再说|改天再聊|改天再问|改天再说"
    "|先这样|就这样|先这样吧|就这样吧|那就这样|今天就到这|今天就到这里|今天就到这儿|先到这|先到这里|就到这|就到这里"
    "|先走了|走了|先下了|下了|溜了|撤了|睡了|去忙了|先忙了|不聊了|不说了|不问了|不谈了|不搞了|不港了|不弄了"
    "|算了|算了算了|那算了|不用了|不要了|不挂了|不约了|不办了|不投诉了|不麻烦了|不用处理了|重新来|重来"
    "|自己去问|自己去医院问|我自己去医院问|明天自己去医院问|自己跑一趟|我自己跑一趟"
    # session 18: a cancel said with what it cancels (刚才那个不用查了, 取消吧，不要了, 呃，算了算了)
    "|呃|额|那个|刚才那个|就是了|没有了|不用|不要|不要不要|取消|取消吧|取消了|不查了|不用查了|不用问了|不需要了|不需要").split("|"))
_LONGEST_CLOSING = max(map(len, _CLOSING_WORDS))
_CLOSING_GAPS = frozenset(" ,，.。!！?？~～、…")


def closing_only(norm: str) -> bool:
    """The message is nothing but words that close or drop a conversation. Read left to right, the
    longest word first, never going back: linear in the message's length, whatever it holds (a regular
    expression of these overlapping words backtracked exponentially on 好了好了…好了吗)."""
    text, i = norm.strip(), 0
    if not text:
        return False
    while i < len(text):
        if text[i] in _CLOSING_GAPS:
            i += 1
            continue
        for length in range(min(_LONGEST_CLOSING, len(text) - i), 0, -1):
            if text[i:i + length] in _CLOSING_WORDS:
                i += length
                break
        else:
            return False
    return True


def _enough_words(norm: str) -> bool:
    """Enough text for the classifier to say anything: 4 Chinese characters or 3 Latin words. On less
    (IS, ok, 好的) it is guessing from a few letters; the signals still read every message. Words that
    close a conversation alone say nothing either (closing_only)."""
    if closing_only(norm):
        return False
    return len(_CJK.findall(norm)) >= 4 or len(re.findall(r"[a-z]+", norm)) >= 3


def signals(text: str) -> list[tuple[str, str]]:
    """Every danger signal in a normalised text, titles (someone else's words) left out."""
    text = _MENTIONS.sub(" ", text)
    found = [(kind, m.group(0)) for kind, pattern in SIGNALS for m in pattern.finditer(text)]
    found += [("hopeless", m.group(0)) for m in HOPELESS.finditer(text)]
    return found


def assess(text: str, classifier=None) -> Assessment:
    """The tier of one message (any script, as typed); without a classifier, the signals alone."""
    norm = normalise(text)
    found = signals(norm)
    excluded = tuple(kind for kind, pattern in EXCLUSIONS if pattern.search(norm))
    score = None
    if classifier is not None and _enough_words(norm):
        score = classifier.score(norm)
        if excluded and not found:
            score *= EXCLUDED_FACTOR
    kinds = {kind for kind, _ in found}
    strong = kinds - {"hopeless"}
    if strong == {"intent"} and _JOKE.search(norm):
        # 不想活了哈哈: flagged all the same (a joke can hide the real thing), with the check-in
        tier = Tier.POSSIBLE
    elif strong:
        tier = Tier.HIGH
    elif "hopeless" in kinds and (TIME.search(norm) or (score is not None and score >= HIGH_SCORE)):
        tier = Tier.HIGH
    elif "hopeless" in kinds:
        tier = Tier.POSSIBLE
    elif score is not None and score >= HIGH_SCORE and not excluded and _CJK.search(norm):
        # Near certain, about Chinese text: the classifier has seen too little pinyin and English
        # to raise the full protocol on them alone (the signals do).
        tier = Tier.HIGH
    elif score is not None and score >= POSSIBLE_SCORE:
        tier = Tier.POSSIBLE
    else:
        tier = Tier.NONE
    return Assessment(tier, tuple(found), excluded, score, norm)


# --- the classifier ------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def load_classifier(path: Path):
    from safety.classifier import CrisisClassifier

    return CrisisClassifier.load(path)


# --- what the NLU features and the gateway ask -------------------------------------------------------------

def danger_phrase(text: str) -> str | None:
    """The words of the strongest danger signal, if any (the rules alone, no classifier)."""
    found = signals(normalise(text))
    strong = [phrase for kind, phrase in found if kind != "hopeless"]
    return (strong or [phrase for _, phrase in found] or [None])[0]


def only_looks_like_crisis(text: str) -> bool:
    """An idiom, a statistics question, a title or paperwork, with no danger signal beside it."""
    norm = normalise(text)
    return any(p.search(norm) for _, p in EXCLUSIONS) and not signals(norm)


def statistics_question(text: str) -> bool:
    """A question about crisis statistics or prevention work (2023年心理危机干预多少通)."""
    return bool(_STATISTICS.search(normalise(text)))
