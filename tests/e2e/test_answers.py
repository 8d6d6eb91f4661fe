"""End to end through the REST channel: figures with their sources, follow-ups, a complaint to
its ticket, and the call log of each turn; no clear phone or ID number in any log or report."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from sqlalchemy.orm import Session

from hotline import calllog, tickets

pytestmark = pytest.mark.e2e

CITE_2023 = "《南京卫生信息化简报》2024年第1期"
PHONE, ID_CARD = "13912345678", "320102199001011234"


async def test_statistics_follow_ups_keep_their_context(system):
    sender = system.new_sender()
    first = system.text(await system.send(sender, "鼓楼医院预约量多少"))
    assert "南京鼓楼医院2023年小计：385480次" in first and CITE_2023 in first, first
    second = system.text(await system.send(sender, "2019年10月的呢"))
    assert "南京鼓楼医院2019年10月小计：165336次" in second, second
    third = system.text(await system.send(sender, "省人医呢"))
    assert "江苏省人民医院2019年10月小计：901次" in third, third


async def test_an_uncovered_year_is_never_answered_with_an_invented_figure(system):
    text = system.text(await system.send(system.new_sender(), "鼓楼医院2021年的预约量是多少"))
    assert "简报中没有2021年" in text and "2019年10月、2023年" in text, text


async def test_a_service_question_is_answered_from_the_store(system):
    text = system.text(await system.send(system.new_sender(), "互联网医院是干什么的"))
    assert "南京市互联网医院" in text and "28万人次" in text and CITE_2023 in text, text


async def test_a_complaint_becomes_a_ticket_and_every_turn_is_logged(system):
    sender = system.new_sender()
    said = ["我要投诉鼓楼医院", "挂号窗口的工作人员态度很差还骂人", "昨天下午三点左右",
            f"我的电话是{PHONE}，身份证{ID_CARD}", "确认"]
    replies = [system.text(await system.send(sender, message)) for message in said]
    assert "139****5678" in replies[3] and PHONE not in replies[3], replies[3]
    number = re.search(r"TS-\d{8}-\d{4}", replies[4])
    assert number, replies[4]

    def logged(session: Session):
        rows = calllog.turns(session, sender=sender, key=system.settings.secret_key)
        return rows if len(rows) == len(said) and rows[-1].ticket else None

    turns = await system.eventually(logged, timeout=10)
    assert [t.category for t in turns] == ["医疗投诉"] * len(said)
    assert turns[0].intent == "complaint" and turns[-1].ticket == number.group(0)
    assert all(PHONE not in t.text and ID_CARD not in t.text for t in turns)
    assert "139****5678" in turns[3].text
    with Session(system.engine) as s:
        ticket = tickets.get_ticket(s, number.group(0))
        assert (ticket.hospital, ticket.phone, ticket.status) == ("南京鼓楼医院", PHONE, "open")
        assert ticket.description == said[1]

    # No clear number in any process's log, nor in any format of the report.
    for name, path in system.logs.items():
        content = path.read_text(errors="replace")
        assert PHONE not in content and ID_CARD not in content, f"clear number in the {name} log"
    env = {"DATABASE_URL": system.database_url, "HOTLINE_VAR_DIR": str(system.var_dir), "PATH": "/usr/bin:/bin"}
    period = ticket.number[3:7]
    for fmt in ("text", "json", "csv"):
        out = subprocess.run([sys.executable, "-m", "hotline.cli", "report", "--period", period,
                              "--format", fmt], capture_output=True, text=True, env=env, check=True).stdout
        assert PHONE not in out and ID_CARD not in out, fmt
    out = subprocess.run([sys.executable, "-m", "hotline.cli", "report", "--period", period, "--format",
                          "json", "--sender", sender], capture_output=True, text=True, env=env, check=True).stdout
    report = json.loads(out)
    assert [t["ticket"] for t in report["turns"]][-1] == number.group(0)
    assert report["counts"].get("医疗投诉") == 1
