"""The intent catalogue: for each intent the assistant knows, the one place that says how it is
counted (its call category, hotline/taxonomy.py), how it is offered when the assistant is unsure
(its clarifying label, actions/safety.py) and, for a service topic, what answers it (a statement
topic of the store and the subjects whose figures it reads, actions/services.py).

tests/test_catalogue.py checks it against domain.yml and the training data: an intent added to the
domain without an entry here fails there.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Service:
    """What answers a service topic: the store's statement on it (or None) and the subjects whose
    figures it reads (as the store names them), limited to `measures` when given."""

    topic: str | None
    subjects: tuple[str, ...] = ()
    measures: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Intent:
    name: str
    # The call category (the bulletin's six); None for dialogue words (greet, affirm, …), which take
    # their category from the form or the previous turn (hotline/taxonomy.py).
    category: str | None
    label: str | None = None  # how a clarifying question offers it (None: never offered)
    service: Service | None = field(default=None)


_BOOKING, _INFO, _COMPLAINT, _HUMAN, _CRISIS = "电话预约", "咨询类", "医疗投诉", "人工服务", "心理危机干预"

CATALOGUE: tuple[Intent, ...] = (
    # dialogue words
    *(Intent(name, None) for name in ("greet", "goodbye", "thanks", "affirm", "deny", "cancel", "inform")),
    # booking
    Intent("booking_howto", _BOOKING, "怎么预约挂号"),
    Intent("booking_channels", _BOOKING, "预约挂号的渠道"),
    Intent("family_doctor", _BOOKING, "家庭医生优先预约", Service("family_doctor")),
    # services and information
    Intent("health_record", _INFO, "健康档案调阅",
           Service("health_record", ("南京市卫生信息平台",), ("累计采集健康档案", "调阅健康档案", "12320调阅"))),
    Intent("internet_hospital", _INFO, "互联网医院", Service(None, ("南京市互联网医院",))),
    Intent("remote_platform", _INFO, "远程会诊和诊断平台",
           Service(None, ("南京市远程医学会诊平台", "南京市远程影像诊断平台", "南京市远程心电诊断监测平台",
                          "南京市远程临检诊断平台"))),
    Intent("health_certificate", _INFO, "健康证", Service(None, ("南京市从业人员体检信息系统",))),
    Intent("medical_card", _INFO, "医疗一卡通", Service(None, ("南京市医疗一卡通", "南京市医疗一账通系统"))),
    Intent("self_service_terminal", _INFO, "自助机", Service(None, ("医疗自助智能服务终端",))),
    Intent("about_12320", _INFO, "12320热线",
           Service(None, ("南京12320卫生热线", "南京卫生12320微信公众号"),
                   ("受理咨询电话", "咨询类", "医疗投诉", "电话预约", "人工服务", "心理危机干预", "自助语音问答",
                    "关注人数"))),
    Intent("centre_contact", _INFO, "卫生信息中心的联系方式", Service(None, ("南京市卫生信息中心",))),
    Intent("ask_statistics", _INFO, "查数据"),
    Intent("compare_statistics", _INFO, "数据对比"),
    Intent("rank_statistics", _INFO, "数据排名"),
    Intent("medical_question", _INFO, "看病用药咨询"),
    Intent("out_of_scope", _INFO),
    # topics residents bring that the assistant has no answer for (vaccinations, copies of medical
    # records, medical insurance, lost cards): answered with where to go, never forced into a known intent
    Intent("other_service", _INFO, "其他事项（疫苗、病历复印、医保等）"),
    # the rest of the taxonomy
    Intent("complaint", _COMPLAINT, "投诉"),
    Intent("human_agent", _HUMAN, "转人工"),
    Intent("crisis", _CRISIS),  # the full protocol (safety/crisis.py, tier HIGH)
    Intent("crisis_checkin", _CRISIS),  # a check-in (tier POSSIBLE): counted as crisis all the same
)

BY_NAME: dict[str, Intent] = {i.name: i for i in CATALOGUE}
# Rasa's own intents: dialogue words too.
RASA_INTENTS = ("restart", "back", "session_start")
# The intents counted as 心理危机干预 (the full protocol and the check-in).
CRISIS = frozenset(i.name for i in CATALOGUE if i.category == _CRISIS)
DIALOGUE = frozenset([i.name for i in CATALOGUE if i.category is None] + list(RASA_INTENTS))
CATEGORY: dict[str, str] = {i.name: i.category for i in CATALOGUE if i.category is not None}
LABELS: dict[str, str] = {i.name: i.label for i in CATALOGUE if i.label is not None}
SERVICES: dict[str, Service] = {i.name: i.service for i in CATALOGUE if i.service is not None}
